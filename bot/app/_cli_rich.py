"""Documents drawn with ``rich`` on a terminal: styles, real tables, the "How to run" commands.

Text from the Hub or from users goes into ``rich.text.Text`` objects, never into markup
strings, so a repo name such as "[red]x" prints as typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.style import Style as RichStyle
from rich.table import Table as RichTable
from rich.text import Text

from .._document import HOW_TO_RUN, Block, Document, Run, Style, Table, Tone, plain_run
from ._cli_render import one_page

__all__ = ["print_documents", "render_rich"]

_TONE_STYLES = {
    Tone.INFO: "bold",
    Tone.GOOD: "bold green",
    Tone.CAUTION: "bold yellow",
    Tone.WARN: "bold dark_orange",
    Tone.BAD: "bold red",
}
_RUN_STYLES = {
    Style.PLAIN: "",
    Style.STRONG: "bold",
    Style.EMPHASIS: "italic",
    Style.CODE: "cyan",
    Style.LINK: "underline",
    Style.CHANNEL: "",
}


@dataclass(frozen=True, slots=True)
class _Command:
    """A launch command line: printed whole, however wide the terminal."""

    text: Text


def _rich_line(line: tuple[Run | str, ...]) -> Text:
    text = Text()
    for run in line:
        if isinstance(run, str):
            text.append(run)
        elif run.style is Style.LINK and run.target:
            text.append(run.text, style=RichStyle(underline=True, link=run.target))
        else:
            text.append(plain_run(run), style=_RUN_STYLES[run.style])
    return text


def _rich_table(table: Table) -> RichTable:
    out = RichTable(box=box.SIMPLE_HEAD, show_header=table.header, show_edge=False, pad_edge=False)
    for column in table.columns:
        out.add_column(Text(column.name), justify="right" if column.align == ">" else "left", no_wrap=True)
    for row in table.rows:
        out.add_row(*(Text(cell) for cell in row))
    return out


def _rich_block(block: Block) -> RenderableType:
    return _rich_table(block) if isinstance(block, Table) else _rich_line(block)


def _rich_parts(doc: Document) -> list[RenderableType | _Command]:
    doc = one_page(doc)
    parts: list[RenderableType | _Command] = [Text(doc.title, style=_TONE_STYLES[doc.tone])]
    if doc.url:
        parts.append(Text(doc.url, style=RichStyle(dim=True, link=doc.url)))
    if doc.lines:
        parts += [Text(), *(_rich_block(line) for line in doc.lines)]
    for section in doc.sections:
        parts += [Text(), Text(section.heading, style="bold underline"), *map(_rich_block, section.blocks)]
    if doc.actions:
        parts += [Text(), Text(HOW_TO_RUN, style="bold underline")]
        for action in doc.actions:
            parts.append(_Command(Text.assemble((f"  {action.label}: ", "bold"), (action.command, "cyan"))))
    if doc.notes:
        parts += [Text(), Text(" ".join(doc.notes), style="dim")]
    for page in doc.pages:
        parts += [Text(), *_rich_parts(page)]
    return parts


def render_rich(doc: Document, console: Console) -> None:
    """Draw ``doc`` on ``console`` with styles, tables and the "How to run" commands."""
    for part in _rich_parts(doc):
        if isinstance(part, _Command):
            # Soft-wrapped by the terminal, never broken by rich: a copied command stays one line.
            console.print(part.text, soft_wrap=True)
        else:
            console.print(part)


def print_documents(stream: TextIO, docs: Iterable[Document]) -> None:
    """Draw each document on a console writing to ``stream``, a blank line between them."""
    console = Console(file=stream, highlight=False)
    for i, doc in enumerate(docs):
        if i:
            console.print()
        render_rich(doc, console)
