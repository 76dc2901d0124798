"""Item 4, hostile input to the bot: thousands of interactions through the local Discord
stand-in, into the bot that ``fitbot bot`` runs (``serve()``), with hostile values in every
option (see ``_hostile_values``).

What counts as a failure:

* an interaction with no reply (the callback for autocomplete or a button, the followup
  after "thinking…" for a command) within 20 s, or a first callback after Discord's 3 s;
* any request body over one of Discord's limits, without ``allowed_mentions={"parse": []}``,
  or with an unescaped mention or a control character in its text;
* any ERROR log record, with one exception: the single error handler's "command … failed"
  for an interaction carrying a value Discord itself would refuse (an integer outside the
  option's range, a string longer than its max_length, a value off its choices). Discord
  never delivers those, so the bot answering them with its generic "something went wrong"
  reply is tolerated and listed, not failed. The same reply to any other interaction fails.

Refusals (a budget the parser rejects, an unknown model, the cooldown) are expected: the
handler logs them at INFO and answers ephemerally.

Clicks on buttons whose view is gone (the bot restarted since, or the press raced an
edit that replaced the button) are a separate check, ``stale_clicks``.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ._common import Deadline, ItemResult, loopback_only
from ._discord_load import (
    Exchange,
    Interaction,
    LogCapture,
    TrackingStandin,
    drive,
    latency_figures,
)
from ._hostile_values import PLAUSIBLE, PayloadMaker, next_interaction

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord.gateway
    import discord.http

    from bot._discord import command_payload
    from bot.app._database import open_database
    from bot.app._settings import Settings
    from tests.bot.discord.conftest import running_bot

FALLBACK_MARK = "Something went wrong on my side"
TOLERATED = ("bot._discord._errors", "command %s failed")
FIRST_CALLBACK_LIMIT_S = 3.0  # Discord drops an interaction not acknowledged within 3 s


@dataclass
class Session:
    """One bot session's exchanges and what was captured around them."""

    exchanges: list[Exchange]
    violations: list[str]
    capture: LogCapture
    elapsed_s: float
    unmatched: int


async def seeded_database(path: Path) -> Path:
    """A database with the bundled catalog, made through the composition root."""
    async with open_database(Settings(db_path=path)):
        pass
    return path


class captured_logs:
    """Capture every log record (the bot's INFO lines included) for the block's duration."""

    def __enter__(self) -> LogCapture:
        self.capture = LogCapture()
        self.bot = logging.getLogger("bot")
        self.level = self.bot.level
        self.bot.setLevel(logging.INFO)
        logging.getLogger().addHandler(self.capture)
        return self.capture

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.capture)
        self.bot.setLevel(self.level)


class restored_endpoints:
    """serve() points discord.py's class attributes at the stand-in; put them back after."""

    def __enter__(self) -> None:
        self.saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY

    def __exit__(self, *exc: object) -> None:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.saved


async def hostile_session(count: int, *, seed: int, deadline: Deadline, workdir: Path) -> Session:
    """Run ``count`` hostile interactions through a bot on a fresh seeded database."""
    db = await seeded_database(workdir / "fitbot.sqlite")
    standin = TrackingStandin()
    await standin.start()
    loopback_only(standin.api_base, standin.gateway_url)
    rng = random.Random(seed)
    try:
        with captured_logs() as capture, restored_endpoints():
            async with running_bot(standin, db) as bot:
                maker = PayloadMaker(standin, command_payload(bot.tree), rng)
                started = time.monotonic()
                exchanges = await drive(standin, lambda n: next_interaction(standin, maker, rng),
                                        count=count, deadline=deadline)
                elapsed = time.monotonic() - started
    finally:
        await standin.stop()
    return Session(exchanges, standin.violations, capture, elapsed, len(standin.unmatched))


def judge(session: Session) -> tuple[list[str], list[Exchange]]:
    """(problems, tolerated fallbacks) of one session, as the module docstring defines them."""
    problems = [f"{e.kind} {e.label!r}: {p}" for e in session.exchanges for p in e.problems]
    problems += session.violations
    late = [e for e in session.exchanges if e.first_at and e.first_at - e.sent_at > FIRST_CALLBACK_LIMIT_S]
    problems += [f"{e.kind} {e.label!r}: first callback after {e.first_at - e.sent_at:.2f} s" for e in late]
    fallbacks = [e for e in session.exchanges if any(FALLBACK_MARK in t for t in e.texts())]
    problems += [f"{e.kind} {e.label!r}: the generic error reply to a value Discord would deliver"
                 for e in fallbacks if not e.interaction.past_discord]
    errors = session.capture.errors()
    tolerated = [r for r in errors if (r.name, r.msg) == TOLERATED]
    problems += [f"ERROR {r.name}: {r.getMessage()[:200]}" for r in errors if (r.name, r.msg) != TOLERATED]
    if len(tolerated) > len(fallbacks):
        problems.append(f"{len(tolerated)} 'command failed' records but only {len(fallbacks)} generic replies")
    return problems, [e for e in fallbacks if e.interaction.past_discord]


async def stale_clicks(presses: int = 10, *, workdir: Path) -> tuple[int, int]:
    """(answered, pressed): presses on /fit buttons after the bot that sent them restarted."""
    db = await seeded_database(workdir / "stale.sqlite")
    standin = TrackingStandin()
    await standin.start()
    try:
        with restored_endpoints():
            async with running_bot(standin, db):
                payload = standin.command("fit", [{"name": "model", "type": 3, "value": "qwen2.5-32b"},
                                                  {"name": "budget", "type": 3, "value": "24GB"}], user_id=4242)
                await drive(standin, lambda n: Interaction("command", "fit", 4242, payload), count=1,
                            deadline=Deadline(30))
            message, owner, _ = next(iter(standin.clickable.values()))
            async with running_bot(standin, db):  # a new process would see the same: no views
                buttons = [c["custom_id"] for row in message["components"] for c in row["components"]
                           if not c.get("disabled")]
                exchanges = await drive(standin, lambda n: Interaction(
                    "component", buttons[n % len(buttons)], owner,
                    standin.component(message, buttons[n % len(buttons)], user_id=owner), message_id=message["id"]),
                    count=presses, deadline=Deadline(60), reply_timeout_s=5.0)
    finally:
        await standin.stop()
    return sum(e.done_at is not None for e in exchanges), len(exchanges)


async def run_item(count: int = 10_000, *, seed: int = 4, deadline: Deadline | None = None,
                   stale: bool = True) -> ItemResult:
    started = time.monotonic()
    deadline = deadline or Deadline(600)
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-4-") as tmp:
        session = await hostile_session(count, seed=seed, deadline=deadline, workdir=Path(tmp))
        with captured_logs():
            answered, pressed = await stale_clicks(workdir=Path(tmp)) if stale else (0, 0)
    problems, tolerated = judge(session)
    if len(session.exchanges) < count:
        problems.append(f"only {len(session.exchanges)} of {count} interactions were sent before the time limit")
    if answered < pressed:
        problems.append(f"{pressed - answered} of {pressed} presses on buttons sent before a restart got no reply")
    return ItemResult(4, "Hostile input to the bot", tuple(problems), _figures(session, tolerated, answered, pressed),
                      _details(session, tolerated), time.monotonic() - started,
                      {"session": session, "tolerated": tolerated, "stale": (answered, pressed)})


def _figures(session: Session, tolerated: list[Exchange], answered: int, pressed: int) -> tuple[tuple[str, str], ...]:
    ex = session.exchanges
    kinds = Counter(e.kind for e in ex)
    lat = latency_figures(ex)
    outcomes = session.capture.outcomes
    ok = sum(n for (_, outcome), n in outcomes.items() if outcome == "ok")
    return (
        ("interactions (commands / autocomplete / button presses)",
         f"{len(ex):,} ({kinds['command']:,} / {kinds['autocomplete']:,} / {kinds['component']:,}) in {session.elapsed_s:.0f} s"),
        ("carrying a value Discord itself would refuse", f"{sum(e.interaction.past_discord for e in ex):,}"),
        ("answered", f"{sum(e.done_at is not None for e in ex):,} of {len(ex):,}"),
        ("commands answered ok / refused with a message", f"{ok:,} / {sum(outcomes.values()) - ok:,}"),
        ("request bodies checked against Discord's limits / over a limit or pinging",
         f"{_checked(session):,} / {len(session.violations)}"),
        ("first callback p50 / p99 / max", f"{lat['first_p50'] * 1e3:.0f} / {lat['first_p99'] * 1e3:.0f} / "
                                            f"{lat['first_max'] * 1e3:.0f} ms (Discord allows 3 s)"),
        ("final reply p50 / p99 / max", f"{lat['final_p50'] * 1e3:.0f} / {lat['final_p99'] * 1e3:.0f} / "
                                         f"{lat['final_max'] * 1e3:.0f} ms"),
        ("ERROR records (tolerated: generic reply to off-schema values)",
         f"{len(session.capture.errors())} ({len(tolerated)})"),
        ("presses on buttons from before a restart answered", f"{answered} of {pressed}"),
    )


def _checked(session: Session) -> int:
    return sum(len(e.requests) for e in session.exchanges)


def _details(session: Session, tolerated: list[Exchange]) -> str:
    refused = Counter(outcome for (_, outcome), n in session.capture.outcomes.items() for _ in range(n) if outcome != "ok")
    lines = ["Refusals by error type: " + ", ".join(f"{k.removeprefix('error:')} {v:,}" for k, v in refused.most_common()) + "."]
    if tolerated:
        lines.append("Tolerated generic replies (values Discord would refuse): "
                     + ", ".join(f"{label} ×{n}" for label, n in Counter(e.label for e in tolerated).most_common()) + ".")
    warned = Counter(f"{r.name}: {r.msg}" for r in session.capture.records if r.levelno == logging.WARNING)
    if warned:
        lines.append("WARNING records: " + "; ".join(f"{k} ×{v}" for k, v in warned.most_common(5)) + ".")
    lines.append(f"Plausible-value pools for a fifth of the commands: {', '.join(PLAUSIBLE)}.")
    return "\n\n".join(lines)
