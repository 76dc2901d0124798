"""The daily listing: one post per subscribed channel per day, never two.

``post_due_listings`` is a plain coroutine (the scheduler only calls it hourly), so it
is testable without a scheduler or a gateway. A post is due once the channel's hour has
passed today, or — after downtime — for the most recent day whose hour has passed. The
store's claim commits before the post is sent, so a restart never posts twice; a post
that fails for a passing reason releases its claim and is retried the next hour.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import discord

from store import (
    Database,
    GuildSettings,
    claim_listing_post,
    list_subscriptions,
    list_updated_since,
    release_listing_post,
)

from .._answer_misc import (
    LISTING_MAX_MODELS,
    ListingEntry,
    render_listing,
    smallest_fitting_gpu,
)
from .._document import Document
from .._logging import log_event

log = logging.getLogger(__name__)

Send = Callable[[int, Document], Awaitable[None]]
Clock = Callable[[], datetime]
FETCH_LIMIT = 100
DRAIN_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class ListingRun:
    """What one check did: posts sent, channels not due, posts that failed."""

    posted: int = 0
    not_due: int = 0
    failed: int = 0


def due_day(now: datetime, hour_utc: int) -> date:
    """The latest day whose post time (``hour_utc``) is not in the future."""
    now = now.astimezone(UTC)
    return now.date() if now.hour >= hour_utc else now.date() - timedelta(days=1)


def listing_since(settings: GuildSettings, day: date) -> datetime:
    """Models changed after the last post; a first post (or a retry) covers the day before.

    A retry after a failed post cannot see the post before it: ``release_listing_post``
    leaves ``last_posted_on`` at the failed day, so the retry falls back to one day.
    """
    posted = settings.last_posted_on
    last = date.fromisoformat(posted) if posted and posted < day.isoformat() else day - timedelta(days=1)
    return datetime.combine(last, time(settings.post_hour_utc), tzinfo=UTC)


async def build_listing(db: Database, since: datetime, day: date) -> Document | None:
    """The post for models changed since ``since``, or None when there are none."""
    records = await list_updated_since(db, since, limit=FETCH_LIMIT)
    if not records:
        return None
    shown = records[:LISTING_MAX_MODELS]
    entries = [ListingEntry(r, smallest_fitting_gpu(r)) for r in shown]
    return render_listing(entries, since, day, more=len(records) - len(shown))


async def post_due_listings(
    db: Database, send: Send, now: datetime, done: set[tuple[int, date]] | None = None
) -> ListingRun:
    """Post every listing that is due at ``now``; each is claimed before it is sent.

    ``done`` remembers the (guild, day) pairs settled in this process, so the hourly check
    does not open a write transaction per subscription once the day's post is out.
    """
    done = set() if done is None else done
    posted = not_due = failed = 0
    for sub in await list_subscriptions(db):
        assert sub.channel_id is not None
        day = due_day(now, sub.post_hour_utc)
        # The claim decides, not last_posted_on: a released claim leaves last_posted_on set.
        if (sub.guild_id, day) in done or (sub.last_posted_on or "") > day.isoformat():
            not_due += 1
            continue
        since = listing_since(sub, day)
        if not await claim_listing_post(db, sub.guild_id, sub.channel_id, day):
            done.add((sub.guild_id, day))
            not_due += 1
            continue
        outcome = await _post(db, send, sub, since, day)
        if outcome != "retry":
            done.add((sub.guild_id, day))
        posted += outcome == "posted"
        failed += outcome in ("failed", "retry")
    run = ListingRun(posted, not_due, failed)
    log_event(log, "daily listing check", posted=run.posted, not_due=run.not_due, failed=run.failed)
    return run


async def _post(db: Database, send: Send, sub: GuildSettings, since: datetime, day: date) -> str:
    """Build and send one claimed post: "posted", "empty", "failed" (kept) or "retry" (released)."""
    assert sub.channel_id is not None
    doc = await build_listing(db, since, day)
    if doc is None:  # the claim stays: the next post covers from this day on
        return "empty"
    try:
        await send(sub.channel_id, doc)
    except (discord.Forbidden, discord.NotFound) as e:
        # Retrying will not help until an admin fixes the channel; /listing status shows it.
        log.warning("daily listing for channel %s not posted: %s", sub.channel_id, e)
        return "failed"
    except discord.HTTPException as e:
        await release_listing_post(db, sub.guild_id, day)
        log.warning("daily listing for channel %s failed, retrying next hour: %s", sub.channel_id, e)
        return "retry"
    return "posted"


class DailyListing:
    """The scheduler's job: ``run`` checks once; ``runs`` counts finished checks.

    APScheduler cancels a running coroutine job when it shuts down. A check cancelled
    between its claim and its post would lose that day's post, so the work runs shielded
    and ``drain`` lets the bot wait for it before it closes Discord and the database.
    """

    def __init__(self, db: Database, send: Send, clock: Clock) -> None:
        self.db = db
        self.send = send
        self.clock = clock
        self.runs: list[ListingRun] = []
        self._done: set[tuple[int, date]] = set()
        self._current: asyncio.Task[ListingRun] | None = None

    async def run(self) -> ListingRun:
        if self._current is None or self._current.done():
            self._current = asyncio.create_task(self._check(), name="daily-listing-check")
        return await asyncio.shield(self._current)

    async def _check(self) -> ListingRun:
        result = await post_due_listings(self.db, self.send, self.clock(), self._done)
        self.runs.append(result)
        return result

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for a check in progress to finish (or give up after ``timeout``)."""
        if self._current is not None and not self._current.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._current), timeout)
            except (TimeoutError, Exception) as e:  # noqa: BLE001 - shutting down: report, don't raise
                log.warning("daily listing check did not finish before shutdown: %s", type(e).__name__)
