"""Document → Discord embeds, never over Discord's limits.

Discord rejects the whole message (HTTP 400) when one embed breaks a limit, so nothing
here trusts the document: every part is cut to its limit, long descriptions and field
values are split at line boundaries (code blocks are closed and reopened), and what does
not fit one embed moves to the next page. Limits are in ``bot._document``.

Why a compact embed and not Components V2: discord.py 2.7.1 ships ``LayoutView``,
``Container``, ``Section`` and ``MediaGallery`` and serialises them (checked: a Container with a
TextDisplay and a MediaGallery of ``attachment://fit.png`` gives Discord's type 17/10/12 payload).
But a V2 message carries no embed and no content, Discord never lets the V2 flag be removed
from a message again, and it caps all of a message's text at 4,000 characters; every other
answer, the paging below and the daily listing posts are embeds. One renderer for every
command gives the same phone answer (verdict first, details behind buttons; see
``bot._discord._fit_card``) without a second, V2-only path for /fit.

Every table is narrowed to phone width (``_phone.narrow_table``: at most 40 characters a row,
no emoji in monospace), and every command is wrapped with shell continuations.
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
    Action,
    Block,
    Document,
    Line,
    Run,
    Style,
    Table,
    Tone,
    table_lines,
)
from .._safe import clean, defuse_mentions, escape_markdown, truncate
from ._phone import narrow_table, wrap_command

FENCE = "```"
ACTIONS_HEADING = "How to run"
BLANK = "\u200b"
TONE_COLOURS = {
    Tone.INFO: 0x5865F2,
    Tone.GOOD: 0x2ECC71,
    Tone.CAUTION: 0xF1C40F,
    Tone.WARN: 0xE67E22,
    Tone.BAD: 0xE74C3C,
}


@dataclass(frozen=True, slots=True)
class EmbedField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class EmbedContent:
    """One document as Discord markdown, before it is cut to Discord's limits."""

    title: str
    description: str = ""
    fields: tuple[EmbedField, ...] = ()
    footer: str = ""
    url: str | None = None
    colour: int = TONE_COLOURS[Tone.INFO]


def markdown_run(run: Run | str) -> str:
    """One run as Discord markdown: plain text escaped, mentions defused."""
    if isinstance(run, str):
        return escape_markdown(run)
    if run.style is Style.STRONG:
        return f"**{escape_markdown(run.text)}**"
    if run.style is Style.EMPHASIS:
        return f"_{escape_markdown(run.text)}_"
    if run.style is Style.CODE:
        return f"`{_verbatim(run.text.replace('`', ''))}`"
    if run.style is Style.LINK:  # the URL was percent-encoded where it was built (hub_url)
        return f"[{escape_markdown(run.text)}]({run.target})"
    if run.style is Style.CHANNEL:
        return f"<#{int(run.text)}>"
    return escape_markdown(run.text)


def _verbatim(text: str) -> str:
    """Code keeps its characters, but no mention survives even there (a second lock behind
    ``allowed_mentions=none``)."""
    return defuse_mentions(text)


def code_block(lines: list[str] | tuple[str, ...]) -> str:
    """Lines in a code block: no escapes inside, no fence can be closed early."""
    rows = (_verbatim(row.replace("`", "'")) for row in lines)
    return FENCE + "\n" + "\n".join(rows) + "\n" + FENCE


def markdown_block(block: Block) -> str:
    if isinstance(block, Table):
        return "\n".join(code_block(table_lines(t)) for t in narrow_table(block))
    return "".join(markdown_run(r) for r in block)


def markdown_actions(actions: tuple[Action, ...]) -> str:
    """Each action as its label, then its command wrapped to phone width in a code block."""
    return "\n".join(f"{escape_markdown(a.label)}\n{code_block(wrap_command(a.command))}" for a in actions)


def _markdown_lines(lines: tuple[Line, ...] | tuple[Block, ...]) -> str:
    return "\n".join(markdown_block(b) for b in lines)


def to_markdown(doc: Document) -> EmbedContent:
    """The document as Discord markdown; every plain run is escaped here, and only here."""
    fields = [
        EmbedField(escape_markdown(s.heading), _markdown_lines(s.blocks), s.inline) for s in doc.sections
    ]
    if doc.actions:
        fields.append(EmbedField(ACTIONS_HEADING, markdown_actions(doc.actions)))
    return EmbedContent(
        title=escape_markdown(doc.title),
        description=_markdown_lines(doc.lines),
        fields=tuple(fields),
        footer=defuse_mentions(clean(" ".join(doc.notes), FOOTER_LIMIT)),  # footers show no markdown
        url=doc.url,
        colour=TONE_COLOURS[doc.tone],
    )


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


def render_embeds(doc: Document | EmbedContent) -> list[discord.Embed]:
    """Pages of embeds for ``doc`` and its continuation pages, each within every limit."""
    pages: list[discord.Embed] = []
    parts = [to_markdown(d) for d in (doc, *doc.pages)] if isinstance(doc, Document) else [doc]
    for part_doc in parts:
        pages.extend(_render_one(part_doc))
    pages = pages[:MAX_PAGES]
    if len(pages) > 1:
        for number, embed in enumerate(pages, start=1):
            footer = embed.footer.text or ""
            mark = f"page {number}/{len(pages)}"
            embed.set_footer(text=f"{footer} · {mark}" if footer else mark)
    return pages


def _render_one(doc: EmbedContent) -> list[discord.Embed]:
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


def _new_embed(doc: EmbedContent, title: str) -> discord.Embed:
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
