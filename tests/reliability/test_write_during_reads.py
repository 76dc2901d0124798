"""The bot's writes while it reads and the crawler writes (found by the soak, item 6)."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from store import Database, list_models, upsert_model, upsert_subscription

pytestmark = pytest.mark.slow
LIMIT_S = 4.0


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
    """Bot reads and bot writes against crawler writes, for LIMIT_S or until the first failure."""
    errors: list[str] = []
    deadline = time.monotonic() + LIMIT_S

    async def crawl() -> None:
        for n in range(100_000):
            if errors or time.monotonic() > deadline:
                return
            await upsert_model(crawler, _record(f"x/r{n % 50}"))

    async def read() -> None:
        while not errors and time.monotonic() < deadline:
            await list_models(bot, limit=20)

    async def write() -> None:
        for hour in range(100_000):
            if errors or time.monotonic() > deadline:
                return
            try:
                await upsert_subscription(bot, 1, 2, hour % 24)
            except sqlite3.OperationalError as e:
                errors.append(str(e))
            await asyncio.sleep(0.002)

    await asyncio.gather(crawl(), read(), read(), write())
    return errors


def _record(repo_id: str):
    from store import ModelRecord

    return ModelRecord(repo_id=repo_id, sha="a" * 40, provenance="header", status="error",
                       status_reason="test", config=None, accounting=None)
