"""Item 5, hostile data from the Hub: the stand-in serves repos whose ids, tags, config values
and tensor names carry markdown, mentions, zero-width and bidi characters, or 10 KB
(``_hostile_hub_data``). They are crawled, then:

* stored safely: every value read back from SQLite equals what the Hub served, byte for
  byte (ids, tags, the config.json object, the counts);
* rendered escaped and truncated in every answer the bot sends (/model, /fit, /compare,
  /new, autocomplete and the daily listing, through the local Discord stand-in): within
  Discord's limits, mentions disabled, embed URLs well formed, no hostile marker left as
  it was (``**PWN**``, ``@everyone``, ``<@…>``…), no zero-width or bidi character, and
  never more than 400 characters of the 10 KB value;
* and in the terminal twin (``fitbot ask``): no control, zero-width or bidi character and
  the same 400-character bound, on stdout and on the one-line error on stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shlex
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from crawler import CrawlOptions, HubConfig, crawl_once, open_hub, parse_sources
from store import Database, upsert_subscription
from tests.bot.discord.discord_standin import CHANNEL_ID, GUILD_ID
from tests.crawler.hub_standin import HubStandIn

from ._common import Deadline, ItemResult, loopback_only, quiet
from ._discord_limits import embed_texts
from ._discord_load import Exchange, Interaction, TrackingStandin, drive
from ._hostile_hub_data import (
    INVISIBLES,
    LONG,
    LONGEST_RUN,
    RAW_MARKERS,
    HostileRepo,
    hostile_repos,
    served_tags,
)
from ._hostile_input import (
    captured_logs,
    restored_endpoints,
    running_bot,
    seeded_database,
)

SOURCES = '[[source]]\nname = "hostile"\nkind = "top"\nlimit = 100\n'
TERMINAL_BAD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# A markdown link's target is a URL, where "~~" or "@" format and ping nothing; the
# link text before it is what must be escaped.
LINK_TARGET = re.compile(r"\]\((https?://[^)\s]*)\)")
# What each check is about, so that tests can hold each to its own condition.
STORED, LIMITS, LENGTH, URLS, SHOWN, NO_REPLY, ERRORS, TERMINAL_INVISIBLE, TERMINAL_LENGTH = (
    "stored exactly", "Discord limits and mentions", "reply over 2,000 characters", "embed URLs",
    "escaped and truncated", "answered", "no ERROR logged", "terminal: no control or invisible characters",
    "terminal: truncated")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One answer as a person sees it: where it came from and its text."""

    where: str
    text: str


def longest_long_run(text: str) -> int:
    """The longest piece of the 10 KB value that appears in ``text`` as it is."""
    best, unit = 0, 64
    for start in range(0, len(text), unit // 2):
        piece = text[start:start + unit]
        if len(piece) == unit and piece in LONG:
            stop = start + unit
            while stop < len(text) and text[start:stop + 1] in LONG:
                stop += min(64, len(text) - stop) if text[start:stop + 64] in LONG else 1
            best = max(best, stop - start)
    return best


def text_problems(item: Rendered, *, terminal: bool) -> list[tuple[str, str]]:
    """(check, problem) pairs for one rendered text."""
    problems = []
    if terminal:
        if match := TERMINAL_BAD.search(item.text):
            problems.append((TERMINAL_INVISIBLE, f"{item.where}: a control or invisible character {match.group(0)!r}"))
    else:
        text = LINK_TARGET.sub("](…)", item.text)
        problems += [(SHOWN, f"{item.where}: {marker!r} as it was") for marker in RAW_MARKERS if marker in text]
        problems += [(SHOWN, f"{item.where}: invisible {ch!r}") for ch in INVISIBLES if ch in text]
    if (run := longest_long_run(item.text)) > LONGEST_RUN:
        problems.append((TERMINAL_LENGTH if terminal else SHOWN, f"{item.where}: {run} characters of the 10 KB value"))
    return problems


def violation_check(violation: str) -> str:
    """Which check a Discord limit violation belongs to."""
    if "not a well-formed URL" in violation:
        return URLS
    return LENGTH if "content of" in violation else LIMITS


async def crawl_hostile(db_path: Path, hostile: list[HostileRepo]) -> tuple[str, list[str]]:
    """Crawl the hostile repos into ``db_path``; (run status, stand-in errors)."""
    with HubStandIn([h.repo for h in hostile]) as standin, quiet("crawler"):
        loopback_only(standin.url)
        async with await Database.open(db_path) as db, open_hub(HubConfig(endpoint=standin.url)) as hub:
            summary = await crawl_once(hub, db, CrawlOptions(parse_sources(SOURCES)))
            await upsert_subscription(db, GUILD_ID, CHANNEL_ID, 0)  # a daily listing due at the bot's start
        return summary.status, list(standin.errors)


def round_trip_problems(db_path: Path, hostile: list[HostileRepo]) -> list[str]:
    """Every stored value equals what was served, exactly."""
    problems = []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT repo_id, status, total_params, tags_json, config_json FROM models")}
    for h in hostile:
        repo_id = h.repo.repo_id
        if repo_id not in rows:
            problems.append(f"{repo_id[:60]!r}: not stored under its exact id")
            continue
        status, total, tags, config = rows[repo_id]
        if json.loads(tags) != served_tags(h.repo):
            problems.append(f"{repo_id[:60]!r}: tags changed on the way")
        if h.readable and (status != "ok" or total != h.total):
            problems.append(f"{repo_id[:60]!r}: {status}, {total} parameters, want ok, {h.total}")
        if h.readable and (config is None or json.loads(config) != h.config):
            problems.append(f"{repo_id[:60]!r}: config.json changed on the way")
        if not h.readable and status != "error":
            problems.append(f"{repo_id[:60]!r}: {status}, want error (its files cannot be served)")
    return problems


def _commands(standin: TrackingStandin, hostile: list[HostileRepo]) -> list[Interaction]:
    """/model, /fit and autocomplete for each repo, /compare for neighbours, /new once."""
    def opt(name: str, value: object, kind: int = 3, **extra) -> dict:
        return {"name": name, "type": kind, "value": value, **extra}

    out, user = [], 5_000_000
    ids = [h.repo.repo_id[:200] for h in hostile]  # Discord caps the option at 200 characters
    for n, repo_id in enumerate(ids):
        for name, options, kind in (
            ("model", [opt("model", repo_id)], 2),
            ("fit", [opt("model", repo_id), opt("budget", "24GB")], 2),
            ("compare", [opt("a", repo_id), opt("b", ids[(n + 1) % len(ids)])], 2),
            ("model", [opt("model", repo_id[:40], focused=True)], 4),
        ):
            user += 1
            payload = standin.command(name, options, user_id=user, kind=kind)
            label = f"{'autocomplete ' * (kind == 4)}/{name} {repo_id[:30]!r}"
            out.append(Interaction("command" if kind == 2 else "autocomplete", label, user, payload))
    payload = standin.command("new", [opt("days", 1, 4)], user_id=user + 1)
    out.append(Interaction("command", "new", user + 1, payload))
    return out


async def render_discord(db_path: Path, hostile: list[HostileRepo]) -> tuple[list[Rendered], list[str], list[Exchange]]:
    """Every answer the bot sends about the hostile repos, and the stand-in's limit violations."""
    standin = TrackingStandin()
    await standin.start()
    try:
        with restored_endpoints(), captured_logs() as capture:
            async with running_bot(standin, db_path) as bot:
                await _wait_for_listing(bot)
                todo = _commands(standin, hostile)
                exchanges = await drive(standin, lambda n: todo[n], count=len(todo), deadline=Deadline(120))
    finally:
        await standin.stop()
    rendered = [Rendered(f"{e.label}", t) for e in exchanges for r in e.requests for t in _texts(r.body)]
    rendered += [Rendered("daily listing", t) for r in standin.channel_posts for t in _texts(r.body)]
    problems = list(standin.violations) + [f"{e.label}: {p}" for e in exchanges for p in e.problems]
    if not standin.channel_posts:
        problems.append("the daily listing was not posted")
    problems += [f"ERROR logged: {r.name}: {r.getMessage()[:200]}" for r in capture.errors()]
    return rendered, problems, exchanges


async def _wait_for_listing(bot) -> None:
    deadline = Deadline(15)
    while not bot.listing.runs and not deadline.passed:
        await asyncio.sleep(0.02)


def _texts(body: object) -> list[str]:
    """The text a person reads in a message: content and embed texts. Embed URLs are checked
    as URLs (``_discord_limits``); autocomplete choices are plain text that Discord never
    renders as markdown, and their value must be the exact repo id, so only their limits
    are checked."""
    if not isinstance(body, dict):
        return []
    data = body.get("data") if "type" in body and isinstance(body.get("data"), dict) else body
    if not isinstance(data, dict):
        return []
    out = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        out += embed_texts(embed)
    return [t for t in out if t]


def render_terminal(db_path: Path, hostile: list[HostileRepo]) -> tuple[list[Rendered], list[str]]:
    """``fitbot ask`` for each repo (in this process, through click's runner)."""
    from bot.cli import main

    rendered, problems = [], []
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        for n, h in enumerate(hostile):
            other = hostile[(n + 1) % len(hostile)].repo.repo_id
            for text in (f"/model {shlex.quote(h.repo.repo_id)}", f"/fit {shlex.quote(h.repo.repo_id)} 24GB",
                         f"/compare {shlex.quote(h.repo.repo_id)} {shlex.quote(other)}"):
                result = CliRunner().invoke(main, ["--db", str(db_path), "ask", text], env={"FITBOT_CONFIG": None})
                where = f"fitbot ask {text[:40]!r}"
                rendered.append(Rendered(where, result.stdout + result.stderr))
                if result.exception and not isinstance(result.exception, SystemExit):
                    problems.append(f"{where}: {type(result.exception).__name__}: {result.exception}"[:300])
        result = CliRunner().invoke(main, ["--db", str(db_path), "ask", "/new 1"], env={"FITBOT_CONFIG": None})
        rendered.append(Rendered("fitbot ask '/new 1'", result.stdout + result.stderr))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    return rendered, problems


async def run_item(deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    hostile = hostile_repos()
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-5-") as tmp:
        db_path = await seeded_database(Path(tmp) / "fitbot.sqlite")
        status, standin_errors = await crawl_hostile(db_path, hostile)
        stored = round_trip_problems(db_path, hostile)
        discord_rendered, discord_problems, exchanges = await render_discord(db_path, hostile)
        terminal_rendered, terminal_problems = await asyncio.to_thread(render_terminal, db_path, hostile)
    checks: dict[str, list[str]] = {name: [] for name in (
        STORED, NO_REPLY, ERRORS, LIMITS, LENGTH, URLS, SHOWN, TERMINAL_INVISIBLE, TERMINAL_LENGTH)}
    checks[STORED] += [f"crawl ended {status}"] * (status != "completed") + standin_errors + stored
    for problem in discord_problems:
        if problem.startswith("ERROR logged"):
            checks[ERRORS].append(problem)
        elif "no reply" in problem or "not posted" in problem:
            checks[NO_REPLY].append(problem)
        else:
            checks[violation_check(problem)].append(problem)
    checks[TERMINAL_INVISIBLE] += terminal_problems
    for item in discord_rendered + terminal_rendered:
        for check, problem in text_problems(item, terminal=item.where.startswith("fitbot ask")):
            checks[check].append(problem)
    problems = tuple(f"{check}: {p}" for check, found in checks.items() for p in found)
    rows = [(f"{check}", "ok" if not found else f"{len(found)} problems, e.g. {found[0][:150]}")
            for check, found in checks.items()]
    figures = (
        ("hostile repos served (ids, tags, config values, tensor names)", str(len(hostile))),
        ("bot answers checked: interactions / listing posts / texts", f"{len(exchanges)} / 1 / {len(discord_rendered)}"),
        ("terminal answers checked", str(len(terminal_rendered))),
        ("longest piece of the 10 KB value shown: Discord / terminal",
         f"{max((longest_long_run(r.text) for r in discord_rendered), default=0)} / "
         f"{max((longest_long_run(r.text) for r in terminal_rendered), default=0)} characters"),
        *rows,
    )
    return ItemResult(5, "Hostile data from the Hub", problems, figures, "", time.monotonic() - started,
                      {"checks": checks, "discord": discord_rendered, "terminal": terminal_rendered})
