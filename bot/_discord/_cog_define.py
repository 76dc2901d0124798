"""/define: a glossary entry, its live example from the catalog, and related terms as buttons."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from store import GlossaryIndex

from .._commands import COMMANDS, CommandContext, Surface, run_define
from .._service import CatalogService
from ._cog_lookup import COOLDOWN_RATE, COOLDOWN_SECONDS
from ._define_view import DefineView
from ._embeds import render_embeds
from ._params import TermTransformer, term_choices
from ._reply import send_view

DEFINE = COMMANDS["define"]


class DefineCog(commands.Cog):
    def __init__(self, service: CatalogService) -> None:
        self.service = service
        self.glossary: GlossaryIndex | None = None

    async def cog_load(self) -> None:
        # Loaded once, before the gateway connects, so autocomplete never reads the database.
        self.glossary = await self.service.glossary()

    async def term_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return term_choices(self.glossary, current)

    @app_commands.command(name=DEFINE.name, description=DEFINE.summary)
    @app_commands.describe(**DEFINE.describe())
    @app_commands.autocomplete(term=term_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def define(
        self, interaction: discord.Interaction, term: app_commands.Transform[str, TermTransformer]
    ) -> None:
        glossary = self.glossary or await self.service.glossary()
        key = glossary.lookup(term).key  # an unknown term fails here, privately, before "thinking…"
        await interaction.response.defer(thinking=True)
        doc = await run_define(CommandContext(self.service, surface=Surface.DISCORD), term)
        await send_view(
            interaction, DefineView(interaction.user.id, self.service, glossary, key, render_embeds(doc))
        )
