"""Document → Discord embeds, never over Discord's limits.

Discord rejects the whole message (HTTP 400) when one embed breaks a limit, so nothing
here trusts the document: every part is cut to its limit, long descriptions and field
values are split at line boundaries (code blocks are closed and reopened), and what does
not fit one embed moves to the next page. Limits are in ``bot._document``.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from .._document import (
    DESCRIPTION_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FIELDS_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    Document,
)
from .._safe import truncate

FENCE = "```"
BLANK = "\u200b"
# Room kept in the footer for " · page 12/12"; more pages than 99 are not rendered.
_PAGE_MARK_ROOM = 16
MAX_PAGES = 99


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece of an embed body: the description or one field."""

    name: str | None  # None for a description chunk
    value: str
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.value) + (len(self.name) if self.name is not None else 0)


def render_embeds(doc: Document) -> list[discord.Embed]:
    """Pages of embeds for ``doc`` and its continuation pages, each within every limit."""
    pages: list[discord.Embed] = []
    for part_doc in (doc, *doc.pages):
        pages.extend(_render_one(part_doc))
    pages = pages[:MAX_PAGES]
    if len(pages) > 1:
        for number, embed in enumerate(pages, start=1):
            footer = embed.footer.text or ""
            mark = f"page {number}/{len(pages)}"
            embed.set_footer(text=f"{footer} · {mark}" if footer else mark)
    return pages


def _render_one(doc: Document) -> list[discord.Embed]:
    title = truncate(doc.title, TITLE_LIMIT) or "fitbot"
    footer = truncate(doc.footer, FOOTER_LIMIT - _PAGE_MARK_ROOM)
    room = TOTAL_LIMIT - len(title) - len(footer) - _PAGE_MARK_ROOM
    parts = [_Part(None, chunk) for chunk in split_text(doc.description, min(DESCRIPTION_LIMIT, room))]
    for f in doc.fields:
        # Discord rejects blank field names and values; a zero-width space stands in.
        name = truncate(f.name, FIELD_NAME_LIMIT) if f.name.strip() else BLANK
        chunks = split_text(f.value, FIELD_VALUE_LIMIT) if f.value.strip() else [BLANK]
        for n, chunk in enumerate(chunks):
            shown = name if n == 0 else truncate(f"{name} (cont.)", FIELD_NAME_LIMIT)
            parts.append(_Part(shown, chunk, f.inline))
    embeds: list[discord.Embed] = []
    current = _new_embed(doc, title)
    used, fields_used, has_description = 0, 0, False
    for part in parts:
        fits = used + part.size <= room and (
            (part.name is None and not has_description and fields_used == 0)
            or (part.name is not None and fields_used < FIELDS_LIMIT)
        )
        if not fits and (used or has_description or fields_used):
            embeds.append(current)
            current = _new_embed(doc, title)
            used, fields_used, has_description = 0, 0, False
        if part.name is None:
            current.description = part.value
            has_description = True
        else:
            current.add_field(name=part.name, value=part.value, inline=part.inline)
            fields_used += 1
        used += part.size
    embeds.append(current)
    for embed in embeds:
        if footer:
            embed.set_footer(text=footer)
    return embeds


def _new_embed(doc: Document, title: str) -> discord.Embed:
    return discord.Embed(title=title, url=doc.url or None, colour=doc.colour)


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at line ends where possible.

    A chunk that starts or ends inside a ``` block gets the fence closed and reopened, so
    the table in each chunk still renders as a table.
    """
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    in_code = False
    opened_in_code = False
    fence_room = len(FENCE) * 2 + 2  # a reopened and a closing fence, with their newlines
    for line in _lines_within(text, limit - fence_room):
        toggles = line.count(FENCE) % 2 == 1
        extra = len(line) + (1 if current else 0)
        if current and size + extra + fence_room > limit:
            chunks.append(_close(current, opened_in_code, in_code))
            current, size, opened_in_code = [], 0, in_code
            extra = len(line)
        current.append(line)
        size += extra
        if toggles:
            in_code = not in_code
    if current:
        chunks.append(_close(current, opened_in_code, in_code))
    return [c for c in chunks if c.strip()]


def _close(lines: list[str], opened_in_code: bool, in_code: bool) -> str:
    body = "\n".join(lines)
    if opened_in_code:
        body = FENCE + "\n" + body
    if in_code:
        body = body + "\n" + FENCE
    return body


def _lines_within(text: str, limit: int) -> list[str]:
    """Lines of ``text``, with any line longer than ``limit`` cut into pieces."""
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            cut = limit
            # Never leave a markdown escape's backslash at the end of a piece.
            while cut > 1 and line[cut - 1] == "\\":
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return out
