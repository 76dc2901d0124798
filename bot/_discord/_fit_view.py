"""The controls under a /fit answer: one row of detail buttons and one menu for context and KV cache.

Two rows, not four: Table, Chart, How to run and Why? open one detail at a time below the
verdict (pressing the open one closes it); the menu re-runs the estimate at another context
or KV cache type. A re-run uses the model resolved the first time (no second fuzzy match),
keeps how the name was resolved, keeps the open detail, and edits the message in place.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

import discord

from estimator import KvCacheType

from .._document import Document
from .._service import CatalogService, FitAnswer
from ._fit_card import DETAIL_LABELS, Detail, Explain, fit_card
from ._reply import attach_chart, chart_file
from ._views import NONE, PagedView

__all__ = ["CONTEXT_STEPS", "SETTINGS_ID", "Chart", "Explain", "FitView", "context_label"]

CONTEXT_STEPS = (4096, 8192, 16384, 32768, 131072)
KV_CHOICES = tuple(KvCacheType)
SETTINGS_ID = "fit:settings"
Chart = Callable[[FitAnswer], bytes | None]
Button = discord.ui.Button["FitView"]


def context_label(tokens: int) -> str:
    return f"{tokens // 1024}K"


class FitView(PagedView):
    """Detail buttons and the settings menu for one /fit answer, usable by its owner only."""

    def __init__(
        self,
        owner_id: int,
        service: CatalogService,
        answer: FitAnswer,
        *,
        chart: Chart | None = None,
        explain: Explain | None = None,
    ) -> None:
        self.service = service
        self.answer = answer
        self.chart = chart
        self.explain = explain
        self.detail: Detail | None = None
        super().__init__(owner_id, [])
        self.set_document(self.document())
        self._controls: list[discord.ui.Item[FitView]] = []
        self._build_controls()

    def document(self) -> Document:
        return fit_card(self.answer, self.detail, explain=self.explain)

    def png(self) -> bytes | None:
        """The chart, only while the Chart detail is open."""
        return self.chart(self.answer) if self.chart and self.detail is Detail.CHART else None

    def context_steps(self) -> tuple[int, ...]:
        limit = self.answer.report.model_max_context
        return tuple(c for c in CONTEXT_STEPS if not limit or c <= limit)

    def _build_controls(self) -> None:
        for item in self._controls:
            self.remove_item(item)
        self._controls = []
        for detail in Detail:
            if detail is Detail.CHART and self.chart is None:
                continue
            button: Button = discord.ui.Button(
                label=DETAIL_LABELS[detail],
                custom_id=f"fit:{detail}",
                row=0,
                style=discord.ButtonStyle.primary if detail is self.detail else discord.ButtonStyle.secondary,
            )
            button.callback = functools.partial(self._on_detail, detail=detail)  # type: ignore[method-assign]
            self.add_item(button)
            self._controls.append(button)
        report = self.answer.report
        options = [
            discord.SelectOption(label=f"Context {context_label(t)} tokens", value=f"ctx:{t}")
            for t in self.context_steps()
            if t != report.context
        ] + [
            discord.SelectOption(label=f"KV cache {kv}", value=f"kv:{kv}")
            for kv in KV_CHOICES
            if kv != report.kv_type
        ]
        menu: discord.ui.Select[FitView] = discord.ui.Select(
            custom_id=SETTINGS_ID,
            placeholder=f"{report.context:,} tokens, KV {report.kv_type}: change…",
            options=options,
            row=1,
        )
        menu.callback = functools.partial(self._on_setting, menu=menu)  # type: ignore[method-assign]
        self.add_item(menu)
        self._controls.append(menu)

    async def _on_detail(self, interaction: discord.Interaction, *, detail: Detail) -> None:
        self.detail = None if self.detail is detail else detail
        await self._show(interaction)

    async def _on_setting(
        self, interaction: discord.Interaction, *, menu: discord.ui.Select[FitView]
    ) -> None:
        kind, _, value = menu.values[0].partition(":")
        report = self.answer.report
        context = int(value) if kind == "ctx" else report.context
        kv_type = KvCacheType(value) if kind == "kv" else KvCacheType(report.kv_type)
        old = self.answer
        # The parsed budget and the model as first resolved (its files too): nothing the user typed is
        # read twice, and the footnote about a fuzzy match stays true.
        self.answer = await self.service.fit(
            old.model, old.budget, context=context, kv_type=kv_type, mtp_draft=old.mtp_draft is not None
        )
        await self._show(interaction)

    async def _show(self, interaction: discord.Interaction) -> None:
        self.set_document(self.document())
        self._build_controls()
        if self.detail is not Detail.CHART or self.chart is None:
            await interaction.response.edit_message(
                embed=self.embed, view=self, attachments=[], allowed_mentions=NONE
            )
            return
        # Drawing takes ~0.35 s idle and seconds on a loaded machine (the hostile-input soak
        # measured 5.6 s): acknowledge first, inside Discord's 3 s, then draw off the event loop.
        await interaction.response.defer()
        png = await asyncio.to_thread(self.png)
        file = chart_file(png)
        await interaction.edit_original_response(
            embed=attach_chart(self.embed, png),
            view=self,
            attachments=[file] if file else [],
            allowed_mentions=NONE,
        )
