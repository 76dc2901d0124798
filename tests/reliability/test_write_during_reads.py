"""The bot's writes while it reads and the crawler writes (found by the soak, item 6)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from store import Database, list_models, upsert_model, upsert_subscription

pytestmark = pytest.mark.slow
# A fixed amount of work, not a time window: on a loaded machine a window holds fewer
# races, and the test would prove less without saying so.
CRAWL_WRITES = 600
BOT_WRITES = 300


async def test_a_write_while_reads_are_in_flight_waits_instead_of_failing(tmp_path):
    """/listing subscribe's write, with other reads on the bot's connection and the crawler writing, succeeds."""
    path = tmp_path / "fitbot.sqlite"
    bot, crawler = await Database.open(path), await Database.open(path)
    try:
        await upsert_model(crawler, _record("x/seed"))
        errors = await _race(bot, crawler)
    finally:
        await bot.close()
        await crawler.close()
    assert errors == []


async def _race(bot: Database, crawler: Database) -> list[str]:
    """Bot reads and bot writes against crawler writes, until both writers are done or the first failure."""
    errors: list[str] = []
    writers_done = asyncio.Event()

    async def crawl() -> None:
        for n in range(CRAWL_WRITES):
            if errors:
                return
            await upsert_model(crawler, _record(f"x/r{n % 50}"))

    async def read() -> None:
        while not errors and not writers_done.is_set():
            await list_models(bot, limit=20)

    async def write() -> None:
        for hour in range(BOT_WRITES):
            if errors:
                return
            try:
                await upsert_subscription(bot, 1, 2, hour % 24)
            except sqlite3.OperationalError as e:
                errors.append(str(e))
            await asyncio.sleep(0)  # let the readers and the crawler in between writes

    async def writers() -> None:
        try:
            await asyncio.gather(crawl(), write())
        finally:
            writers_done.set()

    await asyncio.gather(writers(), read(), read())
    return errors


def _record(repo_id: str):
    from store import ModelRecord

    return ModelRecord(repo_id=repo_id, sha="a" * 40, provenance="header", status="error",
                       status_reason="test", config=None, accounting=None)
