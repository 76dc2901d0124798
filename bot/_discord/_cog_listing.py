"""/listing subscribe|unsubscribe|status: the daily post of new models, for server admins.

``default_permissions`` hides the group from members without Manage Server in the
client; the ``has_permissions`` check enforces it, because server admins can override
the default per role and Discord clients are not a security boundary.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from store import Database, delete_subscription, get_guild_settings, upsert_subscription

from .._document import Document, Line, Section, code
from .._document import channel as channel_run
from .._parsers import parse_whole_number
from ._reply import send_document

ADMIN = discord.Permissions(manage_guild=True)


def _can_post(permissions: discord.Permissions) -> bool:
    """The bot's permissions in the invoking channel (sent with every interaction)."""
    return permissions.send_messages and permissions.embed_links


class ListingCog(commands.Cog):
    listing = app_commands.Group(
        name="listing",
        description="The daily post of new and updated models (Manage Server only).",
        guild_only=True,
        default_permissions=ADMIN,
        # A server's own setting: only where the bot is installed to the server, never in DMs.
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
    )

    def __init__(self, db: Database, *, default_hour_utc: int) -> None:
        self.db = db
        self.default_hour_utc = default_hour_utc

    @listing.command(name="subscribe", description="Post new and updated models in a channel once a day.")
    @app_commands.describe(channel="Where to post (default: this channel)", hour="UTC hour of the post, 0-23")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        hour: app_commands.Range[int, 0, 23] | None = None,
    ) -> None:
        if hour is not None:
            hour = parse_whole_number(hour, 0, 23, what="an hour of the day (UTC)", example="hour:9")
        await interaction.response.defer(thinking=True, ephemeral=True)
        assert interaction.guild_id is not None  # guild_only
        channel_id = channel.id if channel is not None else interaction.channel_id
        assert channel_id is not None
        post_hour = self.default_hour_utc if hour is None else hour
        await upsert_subscription(self.db, interaction.guild_id, channel_id, post_hour)
        lines: list[Line] = [
            (
                "New and updated models will be posted in ",
                channel_run(channel_id),
                f" every day at {post_hour:02d}:00 UTC.",
            )
        ]
        if channel is None and not _can_post(interaction.app_permissions):
            lines.append(
                ("⚠️ I cannot post embeds here yet: give me Send Messages and Embed Links in this channel.",)
            )
        elif channel is not None:
            lines.append(("Make sure I can send messages and embed links there.",))
        doc = Document(
            title="Daily listing on",
            lines=tuple(lines),
            notes=("Stored: this server's id, the channel id and the hour. Nothing about members.",),
        )
        await send_document(interaction, doc, ephemeral=True)

    @listing.command(name="unsubscribe", description="Stop the daily post and delete this server's settings.")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        assert interaction.guild_id is not None
        removed = await delete_subscription(self.db, interaction.guild_id)
        text = (
            "Daily listing stopped; this server's settings are deleted."
            if removed
            else "This server had no daily listing."
        )
        await send_document(
            interaction, Document(title="Daily listing off", lines=((text,),)), ephemeral=True
        )

    @listing.command(name="status", description="Where and when the daily post goes, and when it last went.")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        assert interaction.guild_id is not None
        settings = await get_guild_settings(self.db, interaction.guild_id)
        if settings is None or settings.channel_id is None:
            doc = Document(
                title="Daily listing off", lines=(("Turn it on with ", code("/listing subscribe"), "."),)
            )
        else:
            doc = Document(
                title="Daily listing on",
                sections=(
                    Section("Channel", ((channel_run(settings.channel_id),),), inline=True),
                    Section("Hour", ((f"{settings.post_hour_utc:02d}:00 UTC",),), inline=True),
                    Section("Last post", ((settings.last_posted_on or "not yet",),), inline=True),
                ),
            )
        await send_document(interaction, doc, ephemeral=True)
