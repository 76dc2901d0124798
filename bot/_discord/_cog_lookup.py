"""/fit, /model, /compare and /rank: the model lookups.

Each command validates at the edge (transformers), resolves the model names before it
defers (so a name that matches nothing is answered privately, never after a public
"thinking…"), calls the same code as ``fitbot ask`` and sends the shared ``Document``.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from estimator import Budget, KvCacheType, Use

from .._commands import COMMANDS, CommandContext, Surface, run_compare, run_model
from .._parsers import ModelRef
from .._service import CatalogService
from ._fit_view import Chart, Explain, FitView
from ._params import (
    BudgetTransformer,
    ContextTransformer,
    KvCacheTransformer,
    ModelChoices,
    ModelTransformer,
    UseTransformer,
)
from ._rank_answers import RankAnswers
from ._reply import send_document, send_view

# Per user: a handful of answers in a burst, then a pause. The estimate is cheap; this
# protects the channel (and Discord's rate limits) more than the CPU.
COOLDOWN_RATE = 5
COOLDOWN_SECONDS = 30.0
FIT, MODEL, COMPARE, RANK = COMMANDS["fit"], COMMANDS["model"], COMMANDS["compare"], COMMANDS["rank"]
Model = app_commands.Transform[ModelRef, ModelTransformer]


class LookupCog(commands.Cog):
    def __init__(
        self, service: CatalogService, *, chart: Chart | None = None, explain: Explain | None = None
    ) -> None:
        self.service = service
        self.choices = ModelChoices(service)
        self.chart = chart
        self.explain = explain
        self.ranks = RankAnswers()

    async def cog_unload(self) -> None:
        self.ranks.close()  # the ranking's worker process ends with the bot

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
    ) -> None:
        resolved = await self.service.resolve(model)
        await interaction.response.defer(thinking=True)
        answer = await self.service.fit(resolved, budget, context=context, kv_type=kv_cache)
        view = FitView(interaction.user.id, self.service, answer, chart=self.chart, explain=self.explain)
        await send_view(interaction, view)  # the chart comes on request (its button)

    @app_commands.command(name=MODEL.name, description=MODEL.summary)
    @app_commands.describe(**MODEL.describe())
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def model(self, interaction: discord.Interaction, model: Model) -> None:
        await self.service.resolve(model)  # an unknown name fails here, privately
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_model(self.context, model))

    @app_commands.command(name=COMPARE.name, description=COMPARE.summary)
    @app_commands.describe(**COMPARE.describe())
    @app_commands.autocomplete(a=model_autocomplete, b=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def compare(self, interaction: discord.Interaction, a: Model, b: Model) -> None:
        await self.service.resolve(a)  # an unknown name fails here, privately
        await self.service.resolve(b)
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_compare(self.context, a, b))

    @app_commands.command(name=RANK.name, description=RANK.summary)
    @app_commands.describe(**RANK.describe())
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def rank(
        self,
        interaction: discord.Interaction,
        budget: app_commands.Transform[Budget, BudgetTransformer],
        use: app_commands.Transform[Use, UseTransformer] | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        # Five models a page, with page buttons (Document.pages); the signals are named on each page.
        await send_document(interaction, await self.ranks(self.context, budget, use))
