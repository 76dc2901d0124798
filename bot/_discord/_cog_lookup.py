"""/fit, /model, /compare and /rank: the model lookups.

Each command validates at the edge (transformers), resolves the model names before it
defers (so a name that matches nothing is answered privately, never after a public
"thinking…"), calls the same code as ``fitbot ask`` and sends the shared ``Document``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from estimator import Budget, KvCacheType, Use

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
        speculative: app_commands.Transform[Speculative, SpeculativeTransformer] | None = None,
    ) -> None:
        # Resolve before deferring, so an unknown name is answered privately with nothing posted in
        # the channel; a repo id the catalog lacks is read from the Hub, and only then is it deferred.
        resolved = await self.service.resolve(model, *_asker(interaction))
        await _defer(interaction)
        mtp = speculative is Speculative.MTP
        answer = await self.service.fit(resolved, budget, context=context, kv_type=kv_cache, mtp_draft=mtp)
        view = FitView(interaction.user.id, self.service, answer, chart=self.chart, explain=self.explain)
        await send_view(interaction, view)  # the chart comes on request (its button)

    @app_commands.command(name=MODEL.name, description=MODEL.summary)
    @app_commands.describe(**MODEL.describe())
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def model(self, interaction: discord.Interaction, model: Model) -> None:
        resolved = await self.service.resolve(model, *_asker(interaction))  # unknown: fails privately
        await _defer(interaction)
        await send_document(interaction, render_model(resolved))

    @app_commands.command(name=COMPARE.name, description=COMPARE.summary)
    @app_commands.describe(**COMPARE.describe())
    @app_commands.autocomplete(a=model_autocomplete, b=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def compare(self, interaction: discord.Interaction, a: Model, b: Model) -> None:
        first = await self.service.resolve(a, *_asker(interaction))  # unknown: fails privately
        second = await self.service.resolve(b, *_asker(interaction))
        await _defer(interaction)
        await send_document(interaction, render_compare(first, second))

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


def _asker(interaction: discord.Interaction) -> tuple[Requester, Callable[[], Awaitable[None]]]:
    """Who asked (reads of uncatalogued repos from the Hub are limited per user and per server), and
    how to acknowledge before such a read, which can outlast Discord's 3 s."""
    return Requester(interaction.user.id, interaction.guild_id), functools.partial(_defer, interaction)


async def _defer(interaction: discord.Interaction) -> None:
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
