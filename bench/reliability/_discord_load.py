"""Driving a bot through the local Discord stand-in: interactions in, replies tracked and checked.

``TrackingStandin`` subclasses the test suite's stand-in: every request the bot makes is
filed under its interaction token, checked against Discord's limits the moment it
arrives, and its attachments are cut to their first bytes, so a run of 20,000
interactions keeps a bounded amount of memory. ``drive`` injects interactions with a
bounded number in flight and waits for each one's reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.bot.discord.discord_standin import DiscordStandin, Recorded

from ._common import Deadline, bounded, percentile
from ._discord_limits import (
    CALLBACK_AUTOCOMPLETE,
    CALLBACK_DEFERRED,
    CALLBACK_MESSAGE,
    body_problems,
)

KEPT_MESSAGES = 2000  # the stand-in's message store, trimmed oldest first
KEPT_CLICKABLE = 200
# A person presses a button a moment after it appears. The bot registers a view once its
# own request returns, which is after the stand-in has recorded it: pressing at once
# could beat the bot to it, a race no person can run.
REACTION_S = 0.3


@dataclass(frozen=True, slots=True)
class Interaction:
    """One interaction to send."""

    kind: str  # "command", "autocomplete" or "component"
    label: str  # the command, or the clicked custom_id
    user_id: int
    payload: dict
    past_discord: bool = False  # a value Discord itself would refuse (off its schema)
    message_id: str | None = None  # the message whose button is pressed


@dataclass
class Exchange:
    """One interaction and what the bot sent for it."""

    interaction: Interaction
    sent_at: float
    first_at: float | None = None  # the first callback
    done_at: float | None = None  # the reply the user sees
    requests: list[Recorded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, recorded: Recorded, now: float) -> None:
        self.requests.append(recorded)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if recorded.path.endswith("/callback"):
            self.first_at = self.first_at or now
            if body.get("type") in (*CALLBACK_MESSAGE, CALLBACK_AUTOCOMPLETE):
                self._finish(now)
        elif recorded.method in ("POST", "PATCH"):  # the followup, or the "thinking…" message edited
            self._finish(now)

    def _finish(self, now: float) -> None:
        if self.done_at is None:
            self.done_at = now
            self.done.set()

    @property
    def kind(self) -> str:
        return self.interaction.kind

    @property
    def label(self) -> str:
        return self.interaction.label

    def texts(self) -> list[str]:
        """The content of every message the bot sent for this interaction."""
        out = []
        for r in self.requests:
            body = r.body if isinstance(r.body, dict) else {}
            data = body.get("data") if r.path.endswith("/callback") else body
            if isinstance(data, dict) and data.get("content"):
                out.append(data["content"])
        return out

    @property
    def deferred(self) -> bool:
        return any(r.path.endswith("/callback") and (r.body or {}).get("type") in CALLBACK_DEFERRED for r in self.requests)


def token_of(path: str) -> str | None:
    """The interaction token in a callback or webhook path."""
    parts = path.split("/")
    if "interactions" in parts and path.endswith("/callback"):
        return parts[parts.index("interactions") + 2]
    if "webhooks" in parts and len(parts) > parts.index("webhooks") + 2:
        return parts[parts.index("webhooks") + 2]
    return None


class TrackingStandin(DiscordStandin):
    """The Discord stand-in with per-interaction bookkeeping and limit checks."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: dict[str, Exchange] = {}
        self.violations: list[str] = []
        self.checked = 0
        self.channel_posts: list[Recorded] = []
        self.unmatched: list[Recorded] = []  # requests no interaction accounts for
        self.clickable: OrderedDict[str, tuple[dict, int, float]] = OrderedDict()  # id -> (message, owner, shown at)
        self.busy: set[str] = set()  # messages with a press in flight: a client shows the edit first
        self.fail_paths: Callable[[web.Request], int | None] = lambda request: None
        self.commands_schema: list[dict] = []  # what `fitbot sync-commands` registered

    async def _record(self, request: web.Request) -> Recorded:
        recorded = await super()._record(request)
        self.requests.clear()  # everything is filed below; the base list would grow without end
        recorded.files = [(name, data[:8]) for name, data in recorded.files]
        self.checked += 1
        for problem in body_problems(recorded.method, recorded.path, recorded.body):
            self.violations.append(f"{recorded.method} {_short(recorded.path)}: {problem}")
        token = token_of(request.path)
        exchange = self.exchanges.get(token) if token else None
        if exchange is not None:
            exchange.take(recorded, time.monotonic())
        elif "/channels/" in request.path:
            self.channel_posts.append(recorded)
        elif request.method == "PUT" and request.path.endswith("/commands"):
            self.commands_schema = list(recorded.body or [])
        elif request.method != "GET" and "/commands" not in request.path:
            self.unmatched.append(recorded)
        while len(self.messages) > KEPT_MESSAGES:
            self.messages.pop(next(iter(self.messages)))
        return recorded

    async def _followup(self, request: web.Request) -> web.Response:
        status = self.fail_paths(request)
        if status is not None:  # an injected Discord failure (item 7's error paths)
            await self._record(request)
            return web.Response(body=b'{"message": "injected failure", "code": 0}', status=status,
                                headers={"Content-Type": "application/json"})
        return await super()._followup(request)

    def open_exchange(self, interaction: Interaction) -> Exchange:
        if interaction.message_id:
            self.busy.add(interaction.message_id)
        exchange = Exchange(interaction, time.monotonic())
        self.exchanges[interaction.payload["token"]] = exchange
        return exchange

    def forget(self, exchange: Exchange) -> None:
        """Drop a settled interaction's bookkeeping (a soak keeps only its figures)."""
        self.exchanges.pop(exchange.interaction.payload["token"], None)

    def remember_clickable(self, exchange: Exchange) -> None:
        """Keep the bot's messages that carry buttons, as a Discord client shows them: a
        press that updates a message (type 7) changes its buttons, never its id."""
        pressed = exchange.interaction.message_id
        self.busy.discard(pressed)
        for recorded in exchange.requests:
            body = recorded.body if isinstance(recorded.body, dict) else {}
            if pressed and recorded.path.endswith("/callback") and body.get("type") == 7:
                if pressed in self.clickable and "components" in (body.get("data") or {}):
                    message, owner, _ = self.clickable[pressed]
                    updated = {**message, "components": body["data"]["components"]}
                    self.clickable[pressed] = (updated, owner, time.monotonic() + REACTION_S)
                continue
            message = _message_of(recorded)
            if message and message.get("components"):
                self.clickable[message["id"]] = (message, exchange.interaction.user_id, time.monotonic() + REACTION_S)
        while len(self.clickable) > KEPT_CLICKABLE:
            self.clickable.popitem(last=False)


def _message_of(recorded: Recorded) -> dict | None:
    """The new message a callback (type 4) or followup created."""
    response = recorded.response
    if isinstance(response, dict) and "resource" in response:
        return response["resource"].get("message") if response["resource"].get("type") == 4 else None
    return response if isinstance(response, dict) and "components" in response else None


def _short(path: str) -> str:
    return "/".join(p if len(p) < 24 else p[:8] + "…" for p in path.split("/"))


async def drive(
    standin: TrackingStandin,
    make: Callable[[int], Interaction | None],
    *,
    count: int,
    deadline: Deadline,
    in_flight: int = 8,
    reply_timeout_s: float = 20.0,
    on_done: Callable[[int, Exchange], None] | None = None,
    keep: bool = True,
) -> list[Exchange]:
    """Inject up to ``count`` interactions made by ``make(n)``, at most ``in_flight``
    unanswered at a time, stopping at the deadline. With ``keep=False`` each settled
    exchange goes to ``on_done`` and is then dropped (for long soaks)."""
    slots = asyncio.Semaphore(in_flight)
    exchanges: list[Exchange] = []
    waiting: set[asyncio.Task] = set()

    async def settle(n: int, exchange: Exchange) -> None:
        try:
            await asyncio.wait_for(exchange.done.wait(), reply_timeout_s)
        except TimeoutError:
            exchange.problems.append(f"no reply within {reply_timeout_s:.0f} s")
        finally:
            slots.release()
        standin.remember_clickable(exchange)
        if on_done is not None:
            on_done(n, exchange)
        if not keep:
            standin.forget(exchange)

    for n in bounded(count, deadline):
        await slots.acquire()
        interaction = make(n)
        if interaction is None:
            slots.release()
            continue
        exchange = standin.open_exchange(interaction)
        if keep:
            exchanges.append(exchange)
        await standin.inject(interaction.payload)
        task = asyncio.create_task(settle(n, exchange))
        waiting.add(task)
        task.add_done_callback(waiting.discard)
    if waiting:
        await asyncio.wait(waiting, timeout=reply_timeout_s + 5)
    return exchanges


def latency_figures(exchanges: list[Exchange]) -> dict[str, float]:
    """p50/p99/max of the first callback and of the final reply, in seconds."""
    first = [e.first_at - e.sent_at for e in exchanges if e.first_at]
    final = [e.done_at - e.sent_at for e in exchanges if e.done_at]
    return {"first_p50": percentile(first, 50), "first_p99": percentile(first, 99), "first_max": max(first, default=0),
            "final_p50": percentile(final, 50), "final_p99": percentile(final, 99), "final_max": max(final, default=0)}


class LogCapture(logging.Handler):
    """Every record at WARNING or above, and a count of the rest by logger and message."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (command, outcome) of the bot's "command" lines
        self.lines: list[str] = []  # every record formatted, for secret searches
        self.keep_lines = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.records.append(record)
        self.counts[(record.name, str(record.msg))] += 1
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "outcome" in fields:
            self.outcomes[(str(fields.get("command")), str(fields["outcome"]))] += 1
        if self.keep_lines:
            self.lines.append(self._text(record))

    def _text(self, record: logging.LogRecord) -> str:
        text = f"{record.name} {record.levelname} {record.getMessage()} {getattr(record, 'fields', '')}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return text

    def errors(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]
