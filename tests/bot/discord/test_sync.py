"""The command-set hash: stable for the same commands, different when anything a sync sends changes."""

from __future__ import annotations

import warnings

import pytest

from bot._discord import FitBot, command_hash, command_payload, warn_if_unsynced
from bot._service import CatalogService
from store import Database, set_meta


async def _bot(db: Database) -> FitBot:
    bot = FitBot(service=CatalogService(db), listing_hour_utc=9, source_url="https://example.invalid", serving=False, freeze_gc=False)
    await bot.setup_hook()
    return bot


@pytest.fixture
async def db(db_path):
    database = await Database.open(db_path)
    yield database
    await database.close()


async def test_hash_is_stable_and_tracks_changes(db: Database, caplog) -> None:
    """Two builds hash alike; a changed description changes the hash, and the bot then warns."""
    first, second = await _bot(db), await _bot(db)
    try:
        assert command_hash(first.tree) == command_hash(second.tree)
        names = [c["name"] for c in command_payload(first.tree)]
        assert names == sorted(["fit", "model", "compare", "define", "rank", "new", "about", "help", "listing"])
        await set_meta(db, "discord_commands_hash", command_hash(first.tree))
        assert await warn_if_unsynced(first.tree, db)
        command = second.tree.get_command("fit")
        assert command is not None
        command.description = "changed"
        assert command_hash(second.tree) != command_hash(first.tree)
        assert not await warn_if_unsynced(second.tree, db)
        assert "changed since the last sync" in caplog.text
    finally:
        with warnings.catch_warnings():
            await first.close()
            await second.close()
