"""Item 7, secrets: with DISCORD_TOKEN and HF_TOKEN set to distinctive values, crawls that fail
(401, 403, 500) and bot sessions with errors (a rejected token among them), then every log
line and every reply searched for the tokens.

Searched: the stdout and stderr of every ``fitbot`` process (``crawl -v``, ``crawler`` with
JSON logs, ``bot`` at debug level, ``bot`` and ``sync-commands`` with a token Discord
rejects, ``config show``); every log record of an in-process crawl and bot session with
every logger at DEBUG and no redaction filter (so a leak the filter would hide still
shows); every request body the bot sent to Discord; the crawl's stored reasons and run
errors (they reach answers); the URLs the Hub stand-in was asked for. Each token is
searched as itself, by its random core (a cut-off token still leaks), and base64-encoded
alone or as the ``Authorization`` value it travels in (``Bearer …``, ``Bot …``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from tests.crawler.corpus import corpus, sources_toml
from tests.crawler.hub_standin import RESOLVERS, Faults, HubStandIn

from ._common import Deadline, ItemResult, clean_env, fitbot_argv, loopback_only
from ._discord_load import Interaction, LogCapture, TrackingStandin, drive
from ._hostile_input import restored_endpoints, running_bot, seeded_database

PROCESS_LIMIT_S = 90.0


def make_tokens() -> dict[str, str]:
    """Distinctive token values, fresh each run."""
    return {"DISCORD_TOKEN": f"MTA-fitbot-secret-discord-{secrets.token_hex(12)}.Gx-{secrets.token_hex(8)}",
            "HF_TOKEN": f"hf_fitbotsecret{secrets.token_hex(14)}"}


def forms(token: str) -> dict[str, str]:
    """Every spelling of ``token`` that would count as a leak."""
    core = max(token.replace("_", "-").replace(".", "-").split("-"), key=len)  # the random part
    out = {"token": token, "its random core": core}
    for prefix in ("", "Bot ", "Bearer "):
        raw = (prefix + token).encode()
        out[f"base64({prefix}token)"] = base64.b64encode(raw).decode().rstrip("=")
        out[f"urlsafe base64({prefix}token)"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return out


def leaks(where: str, text: str, tokens: dict[str, str]) -> list[str]:
    return [f"{where}: {name} ({form})" for name, token in tokens.items()
            for form, value in forms(token).items() if value and value in text]


def _run(argv: list[str], env: dict[str, str], *, limit_s: float = PROCESS_LIMIT_S) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=limit_s)


def crawl_processes(workdir: Path, tokens: dict[str, str]) -> tuple[list[tuple[str, str]], dict]:
    """``fitbot crawl`` (500s, 401s, 403s), a crawl whose listings are refused 401, and the
    ``fitbot crawler`` service with JSON logs: (where, text) of everything they printed."""
    repos, _, pinned = corpus(heavy=False, malformed=True)
    sources, listed_only = workdir / "sources.toml", workdir / "listed-only.toml"
    sources.write_text(sources_toml(pinned), encoding="utf-8")
    listed_only.write_text(sources_toml(()), encoding="utf-8")
    faults = Faults(rate_500=1.0, only_first=True, buckets=frozenset({RESOLVERS}))  # every resolve fails once
    texts: list[tuple[str, str]] = []
    with HubStandIn(repos, faults=faults) as standin:  # the token opens nothing: gated repos answer 403
        loopback_only(standin.url)
        env = clean_env(workdir, HF_ENDPOINT=standin.url, FITBOT_SOURCES=str(sources), FITBOT_LOG_LEVEL="debug",
                        FITBOT_DB=str(workdir / "crawl.sqlite"), **tokens)
        done = _run(fitbot_argv("-v", "crawl"), env)
        texts.append(("fitbot -v crawl (500s, 401s, 403s)", done.stdout + done.stderr))
        standin.refuse = {"list": 401, "model_info": 401}
        refused = _run(fitbot_argv("-v", "crawl", "--json"),
                       {**env, "FITBOT_DB": str(workdir / "refused.sqlite"), "FITBOT_SOURCES": str(listed_only)})
        texts.append(("fitbot -v crawl --json (every listing 401: the crawl fails)", refused.stdout + refused.stderr))
        standin.refuse = {}
        texts.append(("fitbot crawler (JSON logs), until SIGTERM", _service(env, workdir / "service.sqlite")))
        paths = "\n".join(h.path for h in standin.snapshot())
    texts.append(("URLs the Hub stand-in was asked for", paths))
    texts += _stored_reasons(workdir / "crawl.sqlite") + _stored_reasons(workdir / "refused.sqlite")
    return texts, {"crawl_rc": done.returncode, "refused_rc": refused.returncode}


def _service(env: dict[str, str], db: Path) -> str:
    """The long-lived crawler: its catch-up crawl at start, then a clean stop."""
    env = {**env, "FITBOT_DB": str(db), "FITBOT_LOG_FORMAT": "json"}
    log = db.with_suffix(".log")
    with open(log, "w") as out:  # a file: a debug log fills a pipe nobody reads yet, and the crawler blocks
        process = subprocess.Popen(fitbot_argv("crawler"), env=env, stdout=out, stderr=out)
        deadline = Deadline(PROCESS_LIMIT_S)
        while not deadline.passed and process.poll() is None and not _completed(db):
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=PROCESS_LIMIT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return log.read_text()


def _completed(db: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return bool(conn.execute("SELECT COUNT(*) FROM crawl_runs WHERE status != 'running'").fetchone()[0])
    except sqlite3.Error:
        return False


def _stored_reasons(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        reasons = "\n".join(r or "" for (r,) in conn.execute("SELECT status_reason FROM models"))
        errors = "\n".join(e or "" for (e,) in conn.execute("SELECT error FROM crawl_runs"))
    return [(f"{db.name}: stored status reasons", reasons), (f"{db.name}: crawl run errors", errors)]


async def in_process_crawl(tokens: dict[str, str]) -> LogCapture:
    """crawl_once with every logger at DEBUG and no redaction: what would anything log?"""
    from crawler import HubConfig, RetryPolicy, crawl_once, open_hub
    from store import Database
    from tests.crawler.conftest import options_for

    repos, _, pinned = corpus(heavy=False, malformed=True)
    policy = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)
    with HubStandIn(repos, faults=Faults(rate_500=0.3, seed=9)) as standin, debug_logs() as capture:
        async with await Database.open(":memory:") as db, \
                open_hub(HubConfig(endpoint=standin.url, token=tokens["HF_TOKEN"], policy=policy)) as hub:
            await crawl_once(hub, db, options_for(pinned))
    return capture


class debug_logs:
    """Every logger at DEBUG into a capture that keeps every formatted line (and nowhere
    else: libraries' own handlers, such as huggingface_hub's, are detached meanwhile)."""

    def __enter__(self) -> LogCapture:
        self.capture = LogCapture()
        self.capture.keep_lines = True
        root = logging.getLogger()
        loggers = [logging.getLogger(name) for name in logging.root.manager.loggerDict]
        self.saved = (root.level, [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in loggers])
        for lg in loggers:
            lg.setLevel(logging.NOTSET)
            lg.handlers[:] = []
            lg.propagate = True
        root.setLevel(logging.DEBUG)
        root.addHandler(self.capture)
        return self.capture

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.capture)
        root.setLevel(self.saved[0])
        for lg, level, handlers, propagate in self.saved[1]:
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate = propagate


def _error_interactions(standin: TrackingStandin) -> list[Interaction]:
    """Interactions that fail: a bad budget, an unknown model, a cooldown, a missing permission,
    an answer Discord refuses (500, injected), and a plain one."""
    def fit(model: str, budget: str, user: int) -> Interaction:
        options = [{"name": "model", "type": 3, "value": model}, {"name": "budget", "type": 3, "value": budget}]
        return Interaction("command", f"fit {model} {budget}", user, standin.command("fit", options, user_id=user))

    out = [fit("qwen2.5-32b", "24 gigs", 601), fit("zzzz qqqq", "24GB", 602), fit("qwen2.5-32b", "24GB", 603)]
    out += [fit("llama 3.1 8b", "8GB", 604) for _ in range(7)]  # the sixth and seventh hit the cooldown
    listing = [{"name": "status", "type": 1, "options": []}]
    out.append(Interaction("command", "listing status", 605, standin.command("listing", listing, user_id=605)))
    out.append(fit("deepseek v3", "2x3090", 606))  # its followup gets a 500 from "Discord"
    return out


async def bot_sessions(workdir: Path, tokens: dict[str, str]) -> tuple[list[tuple[str, str]], dict]:
    """``fitbot bot`` answering failing interactions, then with a rejected token; ``sync-commands``
    with the rejected token; ``config show``."""
    db = await seeded_database(workdir / "bot.sqlite")
    standin = TrackingStandin()
    await standin.start()
    standin.fail_paths = lambda request: 500 if request.path.endswith(_failing_token(standin)) else None
    env = clean_env(workdir, FITBOT_DB=str(db), FITBOT_LOG_LEVEL="debug", FITBOT_DISCORD_API_BASE=standin.api_base,
                    FITBOT_DISCORD_GATEWAY=standin.gateway_url, **tokens)
    texts: list[tuple[str, str]] = []
    try:
        texts.append(("fitbot -v bot (errors), until SIGTERM", await _bot_process(standin, env, answer=True)))
        standin.rejected_token = tokens["DISCORD_TOKEN"]
        texts.append(("fitbot bot (token rejected)", await _bot_process(standin, env, answer=False)))
        synced = await asyncio.to_thread(_run, fitbot_argv("sync-commands", "--guild", "1"), env)
        texts.append(("fitbot sync-commands (token rejected)", synced.stdout + synced.stderr))
        shown = await asyncio.to_thread(_run, fitbot_argv("config", "show"), env)
        texts.append(("fitbot config show", shown.stdout + shown.stderr))
    finally:
        await standin.stop()
    bodies = "\n".join(repr(r.body) for e in standin.exchanges.values() for r in e.requests)
    texts.append(("every request body the bot sent to Discord", bodies + "\n".join(standin.violations)))
    return texts, {"exchanges": len(standin.exchanges), "answered": sum(e.done_at is not None for e in standin.exchanges.values())}


def _failing_token(standin: TrackingStandin) -> str:
    """The interaction token of the last "deepseek v3" /fit, whose followup is refused."""
    for token, exchange in reversed(list(standin.exchanges.items())):
        if "deepseek" in exchange.label:
            return token
    return "\0none"


async def _bot_process(standin: TrackingStandin, env: dict[str, str], *, answer: bool) -> str:
    log = Path(env["HF_HOME"]).parent / f"bot-{int(time.monotonic() * 1000)}.log"
    standin.identified.clear()
    with open(log, "w") as out:
        process = await asyncio.create_subprocess_exec(*fitbot_argv("-v", "bot"), env=env, stdout=out, stderr=out)
        try:
            if answer:
                await asyncio.wait_for(standin.identified.wait(), PROCESS_LIMIT_S)
                todo = _error_interactions(standin)
                await drive(standin, lambda n: todo[n], count=len(todo), deadline=Deadline(60), in_flight=1,
                            reply_timeout_s=10)
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), PROCESS_LIMIT_S)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    return log.read_text()


async def in_process_bot(workdir: Path, tokens: dict[str, str]) -> LogCapture:
    """The bot's own serve() with every logger at DEBUG, answering failing interactions."""
    from tests.bot.discord import conftest

    db = await seeded_database(workdir / "bot-in-process.sqlite")
    standin = TrackingStandin()
    await standin.start()
    saved = conftest.TOKEN
    conftest.TOKEN = tokens["DISCORD_TOKEN"]  # standin_settings() reads it when the bot starts
    try:
        with restored_endpoints(), debug_logs() as capture:
            async with running_bot(standin, db):
                todo = _error_interactions(standin)
                await drive(standin, lambda n: todo[n], count=len(todo), deadline=Deadline(60), in_flight=1,
                            reply_timeout_s=10)
            standin.rejected_token = tokens["DISCORD_TOKEN"]
            try:
                async with running_bot(standin, db):
                    pass
            except Exception as e:  # the expected SettingsError: it goes into the searched text
                capture.lines.append(f"raised {type(e).__name__}: {e}")
    finally:
        conftest.TOKEN = saved
        await standin.stop()
    return capture


async def run_item(deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    tokens = make_tokens()
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-7-") as tmp:
        workdir = Path(tmp)
        crawl_texts, crawl_facts = await asyncio.to_thread(crawl_processes, workdir, tokens)
        bot_texts, bot_facts = await bot_sessions(workdir, tokens)
        crawl_capture = await in_process_crawl(tokens)
        bot_capture = await in_process_bot(workdir, tokens)
    texts = crawl_texts + bot_texts + [("in-process crawl log records (DEBUG, unfiltered)", "\n".join(crawl_capture.lines)),
                                      ("in-process bot log records (DEBUG, unfiltered)", "\n".join(bot_capture.lines))]
    problems = [leak for where, text in texts for leak in leaks(where, text, tokens)]
    expected = {"crawl_rc": 0, "refused_rc": 1}  # a crawl with failed repos exits 0; one that lists nothing, 1
    problems += [f"{k} was {crawl_facts[k]}, expected {v}" for k, v in expected.items() if crawl_facts[k] != v]
    rows = [(where, f"{len(text.splitlines()):,} lines, {len(text):,} characters: "
                    + ("no token" if not leaks(where, text, tokens) else "LEAK")) for where, text in texts]
    figures = (("token spellings searched per token", str(len(forms(tokens["HF_TOKEN"])))),
               ("places searched", str(len(texts))), ("leaks", str(len(problems))), *rows)
    data = {"texts": texts, "tokens": tokens, "bot": bot_facts, "crawl": crawl_facts}
    return ItemResult(7, "Secrets", tuple(problems), figures, "", time.monotonic() - started, data)
