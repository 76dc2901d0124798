"""Per-server settings for the daily listing. Only server and channel ids: nothing about members."""

from __future__ import annotations

from datetime import date

from ._codec import encode_time
from ._db import Database
from ._records import GuildSettings


async def get_guild_settings(db: Database, guild_id: int) -> GuildSettings | None:
    row = await db.fetchone(
        "SELECT guild_id, channel_id, post_hour_utc, last_posted_on FROM guild_settings WHERE guild_id = ?",
        (guild_id,),
    )
    return GuildSettings(*row) if row else None


async def list_subscriptions(db: Database) -> tuple[GuildSettings, ...]:
    rows = await db.fetchall(
        "SELECT guild_id, channel_id, post_hour_utc, last_posted_on FROM guild_settings WHERE "
        "channel_id IS NOT NULL ORDER BY guild_id"
    )
    return tuple(GuildSettings(*r) for r in rows)


async def upsert_subscription(db: Database, guild_id: int, channel_id: int, post_hour_utc: int) -> None:
    async with db.write():
        await db.execute(
            """INSERT INTO guild_settings (guild_id, channel_id, post_hour_utc) VALUES (?, ?, ?)
            ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, post_hour_utc =
            excluded.post_hour_utc""",
            (guild_id, channel_id, post_hour_utc),
        )


async def delete_subscription(db: Database, guild_id: int) -> bool:
    async with db.write():
        return await db.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,)) > 0


async def claim_listing_post(db: Database, guild_id: int, channel_id: int, day: date) -> bool:
    """Claim the right to post ``day``'s listing; False when it was already posted.

    The claim and the "last posted" mark commit together, so a restart never posts twice.
    """
    async with db.write():
        claimed = await db.execute(
            "INSERT OR IGNORE INTO listing_posts (guild_id, posted_on, channel_id, claimed_at) "
            "VALUES (?, ?, ?, ?)",
            (guild_id, day.isoformat(), channel_id, encode_time(db.clock())),
        )
        if claimed:
            await db.execute(
                "UPDATE guild_settings SET last_posted_on = ? WHERE guild_id = ?", (day.isoformat(), guild_id)
            )
    return claimed > 0


async def release_listing_post(db: Database, guild_id: int, day: date) -> None:
    """Undo a claim whose post failed, so the next attempt can post."""
    async with db.write():
        await db.execute(
            "DELETE FROM listing_posts WHERE guild_id = ? AND posted_on = ?", (guild_id, day.isoformat())
        )
        # "last posted" must name a post that happened, so status and catch-up stay true.
        await db.execute(
            "UPDATE guild_settings SET last_posted_on = (SELECT MAX(posted_on) FROM listing_posts "
            "WHERE guild_id = ?) WHERE guild_id = ?",
            (guild_id, guild_id),
        )


async def get_meta(db: Database, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
    return row[0] if row else None


async def set_meta(db: Database, key: str, value: str) -> None:
    async with db.write():
        await db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
            "excluded.value",
            (key, value),
        )
