"""The buttons under a /fit answer: another context, another KV cache type, and (later) "why?".

A press re-runs the estimate for the model that was resolved the first time (no second
fuzzy match), keeps how the name was resolved, and edits the message in place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

import discord

from estimator import KvCacheType

from .._answer_fit import render_fit
from .._document import Document
from .._service import CatalogService, FitAnswer
from ._embeds import render_embeds
from ._reply import attach_chart, chart_file
from ._views import NONE, PagedView

CONTEXT_STEPS = (4096, 8192, 16384, 32768, 131072)
KV_CHOICES = tuple(KvCacheType)
Chart = Callable[[FitAnswer], bytes | None]
Explain = Callable[[FitAnswer], Document]
Press = Callable[..., Coroutine[Any, Any, None]]  # (interaction, *, button) -> None
Button = discord.ui.Button["FitView"]


def context_label(tokens: int) -> str:
    return f"{tokens // 1024}K ctx"


class FitView(PagedView):
    """Context and KV-cache buttons for one /fit answer, usable by its owner only."""

    def __init__(
        self,
        owner_id: int,
        service: CatalogService,
        answer: FitAnswer,
        *,
        chart: Chart | None = None,
        explain: Explain | None = None,
    ) -> None:
        super().__init__(owner_id, render_embeds(render_fit(answer)))
        self.service = service
        self.answer = answer
        self.chart = chart
        self.explain = explain  # issue 6 plugs the "why?" explanation in here
        self._controls: list[discord.ui.Item[FitView]] = []
        self._build_controls()

    def png(self) -> bytes | None:
        return self.chart(self.answer) if self.chart else None

    def context_steps(self) -> tuple[int, ...]:
        limit = self.answer.report.model_max_context
        return tuple(c for c in CONTEXT_STEPS if not limit or c <= limit)

    def _build_controls(self) -> None:
        for item in self._controls:
            self.remove_item(item)
        self._controls = []
        report = self.answer.report
        for tokens in self.context_steps():
            self._add(
                context_label(tokens), f"fit:ctx:{tokens}", 0, tokens == report.context, self._on_context
            )
        for kv in KV_CHOICES:
            self._add(f"KV {kv}", f"fit:kv:{kv}", 1, kv == report.kv_type, self._on_kv)
        if self.explain is not None:
            self._add("Why?", "fit:why", 2, False, self._on_why)

    def _add(self, label: str, custom_id: str, row: int, current: bool, callback: Press) -> None:
        button: Button = discord.ui.Button(
            label=label,
            custom_id=custom_id,
            row=row,
            style=discord.ButtonStyle.primary if current else discord.ButtonStyle.secondary,
            disabled=current,
        )
        button.callback = functools.partial(callback, button=button)  # type: ignore[method-assign]
        self.add_item(button)
        self._controls.append(button)

    async def _on_context(
        self, interaction: discord.Interaction, *, button: discord.ui.Button[FitView]
    ) -> None:
        tokens = int(str(button.custom_id).rsplit(":", 1)[1])
        await self._refit(interaction, context=tokens, kv_type=KvCacheType(self.answer.report.kv_type))

    async def _on_kv(self, interaction: discord.Interaction, *, button: Button) -> None:
        kv = KvCacheType(str(button.custom_id).rsplit(":", 1)[1])
        await self._refit(interaction, context=self.answer.report.context, kv_type=kv)

    async def _on_why(self, interaction: discord.Interaction, *, button: Button) -> None:
        assert self.explain is not None
        embeds = render_embeds(self.explain(self.answer))
        await interaction.response.send_message(embed=embeds[0], ephemeral=True, allowed_mentions=NONE)

    async def _refit(self, interaction: discord.Interaction, *, context: int, kv_type: KvCacheType) -> None:
        old = self.answer
        # The parsed budget and the model as first resolved (its files too): nothing the user typed is
        # read twice, and the footnote about a fuzzy match stays true.
        self.answer = await self.service.fit(
            old.model, old.budget, context=context, kv_type=kv_type, mtp_draft=old.mtp_draft is not None
        )
        self.set_document(render_fit(self.answer))
        self._build_controls()
        png = self.png()
        file = chart_file(png)
        await interaction.response.edit_message(
            embed=attach_chart(self.embed, png),
            view=self,
            attachments=[file] if file else [],
            allowed_mentions=NONE,
        )
