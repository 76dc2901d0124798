"""An answer as data: verdict, key lines, sections with tables, notes, actions.

No markup lives here. Text from the Hub or from users is plain text (cleaned of invisible
characters and cut to length by ``_safe.clean``); emphasis, code and links are runs with
a style. Each surface renders a ``Document`` for its medium and escapes for it:
``bot._discord._embeds`` writes Discord markdown, ``render_text`` plain terminal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "HOW_TO_RUN",
    "Action",
    "Block",
    "Column",
    "Document",
    "Line",
    "Run",
    "Section",
    "Style",
    "Table",
    "Tone",
    "channel",
    "code",
    "em",
    "link",
    "plain_run",
    "render_text",
    "strong",
    "table_lines",
]

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_LIMIT = 25
TOTAL_LIMIT = 6000


class Style(StrEnum):
    PLAIN = "plain"
    STRONG = "strong"
    EMPHASIS = "emphasis"
    CODE = "code"
    LINK = "link"
    CHANNEL = "channel"  # a Discord channel id; the terminal shows "#id"


class Tone(StrEnum):
    """The answer's overall colour: how good the news is."""

    INFO = "info"
    GOOD = "good"
    CAUTION = "caution"
    WARN = "warn"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of text with one style; ``target`` is a link's URL."""

    text: str
    style: Style = Style.PLAIN
    target: str = ""


Line = tuple[Run | str, ...]  # a bare str is a plain run


def strong(text: str) -> Run:
    return Run(text, Style.STRONG)


def em(text: str) -> Run:
    return Run(text, Style.EMPHASIS)


def code(text: str) -> Run:
    return Run(text, Style.CODE)


def link(text: str, url: str) -> Run:
    return Run(text, Style.LINK, url)


def channel(channel_id: int) -> Run:
    return Run(str(channel_id), Style.CHANNEL)


@dataclass(frozen=True, slots=True)
class Column:
    """A fixed-width column: ``align`` is "<" or ">", ``gap`` spaces go before it."""

    name: str
    width: int
    align: str = "<"
    gap: int = 0


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    header: bool = True


Block = Line | Table


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """Something to try next: a label and the command that does it."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lines: tuple[Line, ...] = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()
    url: str | None = None
    tone: Tone = Tone.INFO
    verdict: str | None = None  # the machine-readable verdict, where the answer has one
    actions: tuple[Action, ...] = ()
    pages: tuple[Document, ...] = field(default=(), compare=False)  # continuation pages


def table_lines(table: Table) -> list[str]:
    """The table as fixed-width rows, each column at least as wide as its widest cell.

    A column keeps its declared width when its content fits; where two neighbouring cells
    would touch (a right-aligned value that fills its column after a full one), one space
    is put between the columns.
    """
    rows = ([tuple(c.name for c in table.columns)] if table.header else []) + list(table.rows)
    widths = [max([c.width, *(len(row[i]) for row in rows)]) for i, c in enumerate(table.columns)]
    gaps = [_gap(table.columns, widths, rows, i) for i in range(len(table.columns))]
    return [
        "".join(
            " " * gap + f"{cell:{c.align}{width}}"
            for c, width, gap, cell in zip(table.columns, widths, gaps, row, strict=True)
        ).rstrip()
        for row in rows
    ]


def _gap(columns: tuple[Column, ...], widths: list[int], rows: list[tuple[str, ...]], i: int) -> int:
    """Spaces before column ``i``: its declared gap, or one where a cell would touch the one before."""
    column = columns[i]
    if i == 0 or column.gap > 0:
        return column.gap
    left, left_width = columns[i - 1], widths[i - 1]

    def space_between(row: tuple[str, ...]) -> int:
        trailing = left_width - len(row[i - 1]) if left.align == "<" else 0
        leading = widths[i] - len(row[i]) if column.align == ">" else 0
        return trailing + leading

    return 0 if all(space_between(row) > 0 for row in rows) else 1


HOW_TO_RUN = "How to run"


def plain_run(run: Run | str) -> str:
    """A run as plain text: a link prints its label (a URL labels itself), a channel its #name."""
    if isinstance(run, str):
        return run
    if run.style is Style.CHANNEL:
        return f"#{run.text}"
    return run.text


def _plain_block(block: Block) -> str:
    if isinstance(block, Table):
        return "\n".join(table_lines(block))
    return "".join(plain_run(r) for r in block)


def render_text(doc: Document) -> str:
    """Terminal text for a document: title, lines, sections, notes, actions; no markup."""
    lines = [doc.title, "=" * min(len(doc.title), 79)]
    if doc.url:
        lines.append(doc.url)
    if doc.lines:
        lines += ["", "\n".join(_plain_block(line) for line in doc.lines)]
    for section in doc.sections:
        lines += ["", f"{section.heading}:", "\n".join(_plain_block(b) for b in section.blocks)]
    if doc.actions:
        lines += ["", f"{HOW_TO_RUN}:", *(f"  {a.label}: {a.command}" for a in doc.actions)]
    if doc.notes:
        lines += ["", " ".join(doc.notes)]
    text = "\n".join(lines)
    for page in doc.pages:
        text += "\n\n" + render_text(page)
    return text
