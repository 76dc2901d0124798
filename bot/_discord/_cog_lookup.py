"""/fit, /model and /compare: the model lookups.

Each command validates at the edge (transformers), defers, calls the same code as
``fitbot ask`` and sends the shared ``Document`` as embeds.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from estimator import Budget

from .._commands import run_compare, run_model
from .._service import CatalogService
from ._fit_view import Chart, Explain, FitView
from ._params import BudgetTransformer, ContextTransformer, KvCache, ModelChoices
from ._reply import send_document, send_view

# Per user: a handful of answers in a burst, then a pause. The estimate is cheap; this
# protects the channel (and Discord's rate limits) more than the CPU.
COOLDOWN_RATE = 5
COOLDOWN_SECONDS = 30.0


class LookupCog(commands.Cog):
    def __init__(self, service: CatalogService, *, chart: Chart | None = None, explain: Explain | None = None) -> None:
        self.service = service
        self.choices = ModelChoices(service)
        self.chart = chart
        self.explain = explain

    async def model_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return self.choices(current)

    @app_commands.command(name="fit", description="Will a model fit in your GPU memory? Memory per quantization and the best choice.")
    @app_commands.describe(
        model="Model name or repo id, e.g. qwen2.5-32b",
        budget="Your GPU memory: 24GB, 2x3090, RTX 4090, M3 Max 128GB, 4090 + 64GB RAM",
        context="Context length in tokens, e.g. 8192 or 32k (default 8192)",
        kv_cache="KV cache type (default f16)",
    )
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def fit(
        self,
        interaction: discord.Interaction,
        model: app_commands.Range[str, 1, 200],
        budget: app_commands.Transform[Budget, BudgetTransformer],
        context: app_commands.Transform[int, ContextTransformer] | None = None,
        kv_cache: KvCache = "f16",
    ) -> None:
        await interaction.response.defer(thinking=True)
        answer = await self.service.fit(model, budget.text, context=context, kv_type=kv_cache)
        view = FitView(interaction.user.id, self.service, answer, chart=self.chart, explain=self.explain)
        await send_view(interaction, view, png=view.png())

    @app_commands.command(name="model", description="Exact parameter count, components, MoE layout and storage of a model.")
    @app_commands.describe(model="Model name or repo id, e.g. deepseek v3")
    @app_commands.autocomplete(model=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def model(self, interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_model(self.service, model))

    @app_commands.command(name="compare", description="Two models side by side: size, layout, memory at Q4_K_M.")
    @app_commands.describe(a="First model, e.g. qwen2.5-32b", b="Second model, e.g. llama 3.3 70b")
    @app_commands.autocomplete(a=model_autocomplete, b=model_autocomplete)
    @app_commands.checks.cooldown(COOLDOWN_RATE, COOLDOWN_SECONDS)
    async def compare(
        self, interaction: discord.Interaction, a: app_commands.Range[str, 1, 200], b: app_commands.Range[str, 1, 200]
    ) -> None:
        await interaction.response.defer(thinking=True)
        await send_document(interaction, await run_compare(self.service, a, b))

