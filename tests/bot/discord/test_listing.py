"""The daily listing job, without a scheduler or a gateway: due days, catch-up, no double posts."""

from __future__ import annotations

from bot._document import render_text

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot._discord import due_day, post_due_listings
from bot._document import Document
from store import (
    Database,
    claim_listing_post,
    get_guild_settings,
    get_model,
    upsert_model,
    upsert_subscription,
)

GUILD, CHANNEL = 11, 22


def _early_today(db: Database) -> datetime:
    """01:00 UTC today: the hours a test steps through stay on one day whenever it runs."""
    return datetime.combine(db.clock().date(), time(1), tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2001, 1, 2), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)), st.integers(0, 23))
def test_due_day_is_the_latest_post_time_not_in_the_future(now: datetime, hour: int) -> None:
    """The due post time is at most now, and the next one is after now."""
    post_time = datetime.combine(due_day(now, hour), time(hour), tzinfo=UTC)
    assert post_time <= now < post_time + timedelta(days=1)


class Recorder:
    """A send() that records what would be posted, or raises what it is told to."""

    def __init__(self) -> None:
        self.posts: list[tuple[int, Document]] = []
        self.fail_with: BaseException | None = None

    async def __call__(self, channel_id: int, doc: Document) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.posts.append((channel_id, doc))


def _http_error(kind: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return kind(SimpleNamespace(status=status, reason="standin"), "standin")


@pytest.fixture
async def db(db_path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    base = await get_model(database, "Qwen/Qwen2.5-7B-Instruct")
    assert base is not None
    await upsert_model(database, replace(base, repo_id="org/Fresh-7B", provenance="header", sha="b" * 40, aliases=()))
    yield database
    await database.close()


async def test_a_missed_week_is_caught_up_once(db: Database) -> None:
    """After days offline, one post covers everything since the last one; a second check posts nothing."""
    now = _early_today(db)
    today = due_day(now, 0)
    await upsert_subscription(db, GUILD, CHANNEL, 0)
    assert await claim_listing_post(db, GUILD, CHANNEL, today - timedelta(days=7))
    send = Recorder()
    first = await post_due_listings(db, send, now)
    second = await post_due_listings(db, send, now + timedelta(minutes=5))
    assert (first.posted, second.posted, second.not_due) == (1, 0, 1)
    channel, doc = send.posts[0]
    assert channel == CHANNEL and "org/Fresh-7B" in render_text(doc)
    assert (today - timedelta(days=7)).isoformat() in " ".join(doc.notes)
    stored = await get_guild_settings(db, GUILD)
    assert stored is not None and stored.last_posted_on == today.isoformat()


async def test_not_due_before_the_hour(db: Database) -> None:
    """A channel already posted yesterday waits for today's hour."""
    now = datetime.combine(db.clock().date(), time(8), tzinfo=UTC)
    await upsert_subscription(db, GUILD, CHANNEL, 9)
    await claim_listing_post(db, GUILD, CHANNEL, now.date() - timedelta(days=1))
    send = Recorder()
    run = await post_due_listings(db, send, now)
    assert (run.posted, run.not_due, send.posts) == (0, 1, [])


async def test_a_passing_failure_is_retried_next_hour(db: Database) -> None:
    """A 5xx releases the claim, so the next check posts; nothing is posted twice."""
    now = _early_today(db)
    await upsert_subscription(db, GUILD, CHANNEL, 0)
    send = Recorder()
    send.fail_with = _http_error(discord.DiscordServerError, 503)
    failed = await post_due_listings(db, send, now)
    send.fail_with = None
    retried = await post_due_listings(db, send, now + timedelta(hours=1))
    again = await post_due_listings(db, send, now + timedelta(hours=2))
    assert (failed.failed, retried.posted, again.posted, len(send.posts)) == (1, 1, 0, 1)


async def test_a_forbidden_channel_is_not_retried_every_hour(db: Database) -> None:
    """Missing access keeps the claim: retrying cannot help until an admin acts."""
    now = _early_today(db)
    await upsert_subscription(db, GUILD, CHANNEL, 0)
    send = Recorder()
    send.fail_with = _http_error(discord.Forbidden, 403)
    failed = await post_due_listings(db, send, now)
    send.fail_with = None
    later = await post_due_listings(db, send, now + timedelta(hours=1))
    assert (failed.failed, later.posted, later.not_due) == (1, 0, 1)
