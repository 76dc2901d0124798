"""Sending an answer: the first page of embeds, the view, and an optional PNG.

Commands defer first, so answers go out as followups; ``wait=True`` returns the message,
which the view keeps so it can disable its buttons when it times out.
"""

from __future__ import annotations

import io
from typing import Any

import discord

from .._document import Document
from ._embeds import render_embeds
from ._views import NONE, PagedView

CHART_FILENAME = "fit.png"


def chart_file(png: bytes | None) -> discord.File | None:
    return discord.File(io.BytesIO(png), filename=CHART_FILENAME) if png else None


def attach_chart(embed: discord.Embed, png: bytes | None) -> discord.Embed:
    if png:
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embed


async def send_view(
    interaction: discord.Interaction, view: PagedView, *, png: bytes | None = None, ephemeral: bool = False
) -> None:
    """Send ``view``'s current page as the followup to a deferred interaction."""
    embed = attach_chart(view.embed, png) if view.page == 0 else view.embed
    kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": NONE, "wait": True, "ephemeral": ephemeral}
    if view.has_controls():
        kwargs["view"] = view
    file = chart_file(png)
    if file is not None:
        kwargs["file"] = file
    view.message = await interaction.followup.send(**kwargs)
    if not view.has_controls():
        view.stop()


async def send_document(interaction: discord.Interaction, doc: Document, *, ephemeral: bool = False) -> None:
    """Send ``doc`` as a followup, with page buttons when it does not fit one embed."""
    await send_view(interaction, PagedView(interaction.user.id, render_embeds(doc)), ephemeral=ephemeral)
