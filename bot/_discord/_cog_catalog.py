"""/new and /about: what changed in the catalog, how fresh it is, what the bot stores."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from .._commands import (
    COMMANDS,
    NEW_DAYS_DEFAULT,
    NEW_DAYS_MAX,
    CommandContext,
    Surface,
    run_about,
    run_help,
    run_new,
)
from .._service import CatalogService
from ._cog_lookup import COOLDOWN_RATE, COOLDOWN_SECONDS
from ._reply import send_document

NEW, ABOUT, HELP = COMMANDS["new"], COMMANDS["about"], COMMANDS["help"]


class CatalogCog(commands.Cog):
    def __init__(self, service: CatalogService, *, source_url: str) -> None:
        self.service = service
        self.source_url = source_url

    @property
    def context(self) -> CommandContext:
        return CommandContext(self.service, self.source_url, Surface.DISCORD)

    @app_commands.command(name=NEW.name, description=NEW.summary)
    @app_commands.describe(**NEW.describe())
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def new(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, NEW_DAYS_MAX] = NEW_DAYS_DEFAULT,
    ) -> None:
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_new(self.context, days))

    @app_commands.command(name=ABOUT.name, description=ABOUT.summary)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def about(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await send_document(interaction, await run_about(self.context), ephemeral=True)

    @app_commands.command(name=HELP.name, description=HELP.summary)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await send_document(interaction, await run_help(self.context), ephemeral=True)
