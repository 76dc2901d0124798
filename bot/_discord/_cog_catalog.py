"""/new and /about: what changed in the catalog, how fresh it is, what the bot stores."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from .._commands import NEW_DAYS_DEFAULT, NEW_DAYS_MAX, run_about, run_new
from .._service import CatalogService
from ._cog_lookup import COOLDOWN_RATE, COOLDOWN_SECONDS
from ._reply import send_document


class CatalogCog(commands.Cog):
    def __init__(self, service: CatalogService, *, source_url: str) -> None:
        self.service = service
        self.source_url = source_url

    @app_commands.command(name="new", description="Models newly listed or re-read from their checkpoints.")
    @app_commands.describe(days=f"How many days back (1-{NEW_DAYS_MAX}, default {NEW_DAYS_DEFAULT})")
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def new(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, NEW_DAYS_MAX] = NEW_DAYS_DEFAULT
    ) -> None:
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_new(self.service, days))

    @app_commands.command(name="about", description="Data freshness, what fitbot stores (privacy) and its source.")
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await send_document(interaction, await run_about(self.service, self.source_url), ephemeral=True)
