"""Buttons under answers: page turning, and the base every answer view builds on.

Every view belongs to the person who ran the command (others get a short ephemeral
note) and stops answering after ``VIEW_TIMEOUT_SECONDS``, when its buttons are disabled
in place so nobody presses a dead button. The timeout stays under the 15 minutes an
interaction token lives, so the final edit still goes through.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from .._document import Document
from ._embeds import render_embeds

log = logging.getLogger(__name__)

VIEW_TIMEOUT_SECONDS = 600.0
NONE = discord.AllowedMentions.none()
CLAIMED_BY_VIEW = "claimed_by_view"


class OwnedView(discord.ui.View):
    """A view only its owner may use; failures go to the tree's single error handler."""

    def __init__(self, owner_id: int, *, timeout: float = VIEW_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.Message | discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        interaction.extras[CLAIMED_BY_VIEW] = True  # see FitBot.on_interaction
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "These buttons belong to whoever ran the command: run it yourself to explore.",
            ephemeral=True,
            allowed_mentions=NONE,
        )
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, (discord.ui.Button, discord.ui.Select)):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self, allowed_mentions=NONE)
            # Disabling is cosmetic, and discord.py runs this in a task nobody awaits: a lost
            # connection (aiohttp's error, not discord.py's) must not surface as an unretrieved task error.
            except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as e:
                log.debug("could not disable an expired view: %s", e)

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: Any, /) -> None:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[attr-defined]


class PagedView(OwnedView):
    """Previous/next buttons over pages of embeds (shown only when there is more than one)."""

    def __init__(
        self, owner_id: int, pages: list[discord.Embed], *, timeout: float = VIEW_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.pages = pages
        self.page = 0
        if len(pages) <= 1:
            self.remove_item(self.previous_page)
            self.remove_item(self.next_page)
        self._sync_buttons()

    @property
    def embed(self) -> discord.Embed:
        return self.pages[self.page]

    def set_document(self, doc: Document) -> None:
        """Show a new answer from its first page (after a context or KV change)."""
        self.pages = render_embeds(doc)
        self.page = 0
        has_buttons = self.previous_page in self.children
        if len(self.pages) > 1 and not has_buttons:
            self.add_item(self.previous_page)
            self.add_item(self.next_page)
        elif len(self.pages) <= 1 and has_buttons:
            self.remove_item(self.previous_page)
            self.remove_item(self.next_page)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous_page.disabled = self.page == 0
        self.next_page.disabled = self.page >= len(self.pages) - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(0, min(len(self.pages) - 1, self.page + step))
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed, view=self, allowed_mentions=NONE)

    @discord.ui.button(
        label="◀ Previous", style=discord.ButtonStyle.secondary, custom_id="page:previous", row=4
    )
    async def previous_page(
        self, interaction: discord.Interaction, button: discord.ui.Button[PagedView]
    ) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary, custom_id="page:next", row=4)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button[PagedView]) -> None:
        await self._turn(interaction, +1)

    def has_controls(self) -> bool:
        return bool(self.children)
