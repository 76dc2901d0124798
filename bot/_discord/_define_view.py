"""Related-term buttons under a /define answer: one press shows that entry in place."""

from __future__ import annotations

import functools

import discord

from store import GlossaryIndex

from .._commands import CommandContext, Surface, run_define
from .._safe import clean
from .._service import CatalogService
from ._views import NONE, PagedView

MAX_RELATED_BUTTONS = 10  # two rows of five; the rest are listed in the embed
BUTTON_LABEL_LIMIT = 80


class DefineView(PagedView):
    """Buttons for an entry's related terms, usable by whoever ran /define."""

    def __init__(
        self,
        owner_id: int,
        service: CatalogService,
        glossary: GlossaryIndex,
        key: str,
        pages: list[discord.Embed],
    ) -> None:
        super().__init__(owner_id, pages)
        self.service = service
        self.glossary = glossary
        self._buttons: list[discord.ui.Button[DefineView]] = []
        self._show_related(key)

    def _show_related(self, key: str) -> None:
        for button in self._buttons:
            self.remove_item(button)
        self._buttons = []
        entry = self.glossary.entries.get(key)
        related = [k for k in (entry.related if entry else ()) if k in self.glossary.entries]
        for n, related_key in enumerate(related[:MAX_RELATED_BUTTONS]):
            related_button: discord.ui.Button[DefineView] = discord.ui.Button(
                label=clean(self.glossary.entries[related_key].title, BUTTON_LABEL_LIMIT),
                custom_id=f"define:{related_key}"[:100],
                row=n // 5,
                style=discord.ButtonStyle.secondary,
            )
            related_button.callback = functools.partial(self._on_related, key=related_key)  # type: ignore[method-assign]
            self.add_item(related_button)
            self._buttons.append(related_button)

    async def _on_related(self, interaction: discord.Interaction, *, key: str) -> None:
        self.set_document(await run_define(CommandContext(self.service, surface=Surface.DISCORD), key))
        self._show_related(key)
        await interaction.response.edit_message(embed=self.embed, view=self, allowed_mentions=NONE)
