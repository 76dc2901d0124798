"""Command sync, on demand only, and the hash that tells when it is needed.

Discord allows 200 command creates per day per guild, and a global sync takes up to an
hour to reach every client, so ``fitbot sync-commands`` syncs and records a hash of the
payload; ``fitbot bot`` compares it at start and only warns.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from store import Database, get_meta, set_meta

log = logging.getLogger(__name__)

HASH_KEY = "discord_commands_hash"
SCOPE_KEY = "discord_commands_scope"


def command_payload(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """What a sync would send for the global commands, in a stable order."""
    return sorted(
        (command.to_dict(tree) for command in tree.get_commands()),
        key=lambda c: (c["name"], c.get("type", 1)),
    )


def command_hash(tree: app_commands.CommandTree) -> str:
    text = json.dumps(command_payload(tree), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def sync_commands(tree: app_commands.CommandTree, db: Database, guild_id: int | None = None) -> int:
    """Sync globally, or to one guild (instant, for testing); record the hash. Returns the count."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    synced = await tree.sync(guild=guild)
    await set_meta(db, HASH_KEY, command_hash(tree))
    await set_meta(db, SCOPE_KEY, f"guild {guild_id}" if guild_id is not None else "global")
    return len(synced)


async def warn_if_unsynced(tree: app_commands.CommandTree, db: Database) -> bool:
    """Log a warning when the local commands differ from the last sync; True when in sync."""
    stored = await get_meta(db, HASH_KEY)
    if stored == command_hash(tree):
        return True
    if stored is None:
        log.warning("slash commands were never synced from this database: run `fitbot sync-commands`")
    else:
        scope = await get_meta(db, SCOPE_KEY) or "unknown scope"
        log.warning("slash commands changed since the last sync (%s): run `fitbot sync-commands`", scope)
    return False
