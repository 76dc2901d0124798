"""/fit, /model and /compare: the model lookups.

Each command validates at the edge (transformers), defers, calls the same code as
``fitbot ask`` and sends the shared ``Document`` as embeds.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from estimator import Budget, KvCacheType

from .._answer_misc import render_compare
from .._answer_model import render_model
from .._commands import COMMANDS, CommandContext, Speculative, Surface
from .._parsers import ModelRef
from .._service import CatalogService, Requester
from ._fit_view import Chart, Explain, FitView
from ._params import (
    BudgetTransformer,
    ContextTransformer,
    KvCacheTransformer,
    ModelChoices,
    ModelTransformer,
    SpeculativeTransformer,
)
from ._reply import send_document, send_view

# Per user: a handful of answers in a burst, then a pause. The estimate is cheap; this
# protects the channel (and Discord's rate limits) more than the CPU.
COOLDOWN_RATE = 5
COOLDOWN_SECONDS = 30.0
FIT, MODEL, COMPARE = COMMANDS["fit"], COMMANDS["model"], COMMANDS["compare"]
Model = app_commands.Transform[ModelRef, ModelTransformer]


class LookupCog(commands.Cog):
    def __init__(
        self, service: CatalogService, *, chart: Chart | None = None, explain: Explain | None = None
    ) -> None:
        self.service = service
        self.choices = ModelChoices(service)
        self.chart = chart
        self.explain = explain

    @property
    def context(self) -> CommandContext:
        return CommandContext(self.service, surface=Surface.DISCORD)

    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self.choices(current)

    @app_commands.command(name=FIT.name, description=FIT.summary)
    @app_commands.describe(**FIT.describe())
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def fit(
        self,
        interaction: discord.Interaction,
        model: Model,
        budget: app_commands.Transform[Budget, BudgetTransformer],
        context: app_commands.Transform[int, ContextTransformer] | None = None,
        kv_cache: app_commands.Transform[KvCacheType, KvCacheTransformer] = KvCacheType.F16,
        speculative: app_commands.Transform[Speculative, SpeculativeTransformer] | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)  # first: a repo id may be read from the Hub
        resolved = await self.service.resolve(model, _requester(interaction))
        mtp = speculative is Speculative.MTP
        answer = await self.service.fit(resolved, budget, context=context, kv_type=kv_cache, mtp_draft=mtp)
        view = FitView(interaction.user.id, self.service, answer, chart=self.chart, explain=self.explain)
        await send_view(interaction, view, png=view.png())

    @app_commands.command(name=MODEL.name, description=MODEL.summary)
    @app_commands.describe(**MODEL.describe())
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def model(self, interaction: discord.Interaction, model: Model) -> None:
        await interaction.response.defer(thinking=True)
        resolved = await self.service.resolve(model, _requester(interaction))
        await send_document(interaction, render_model(resolved))

    @app_commands.command(name=COMPARE.name, description=COMPARE.summary)
    @app_commands.describe(**COMPARE.describe())
    @app_commands.autocomplete(a=model_autocomplete, b=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def compare(self, interaction: discord.Interaction, a: Model, b: Model) -> None:
        await interaction.response.defer(thinking=True)
        requester = _requester(interaction)
        first, second = await self.service.resolve(a, requester), await self.service.resolve(b, requester)
        await send_document(interaction, render_compare(first, second))


def _requester(interaction: discord.Interaction) -> Requester:
    """Who asked: reads of uncatalogued repos from the Hub are limited per user and per server."""
    return Requester(interaction.user.id, interaction.guild_id)
