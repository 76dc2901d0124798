"""The terminal's rendering of a ``Document``: rich on a terminal, plain text in pipes and tests.

Plain text is the stable form (scripts and tests read it): the same title, lines, sections,
notes and "How to run" commands, with tables whose columns grow to fit their content so a
value of 1,000 or more never runs into its neighbour. On a TTY the same document is drawn
with ``rich`` (``_cli_rich``, imported only then, so a piped answer never loads it).
"""

from __future__ import annotations

import sys
from typing import TextIO

from .._document import Action, Block, Column, Document, Run, Style, Table

__all__ = ["HOW_TO_RUN", "content_table_lines", "echo_document", "plain_run", "render_plain"]

HOW_TO_RUN = "How to run"


def content_table_lines(table: Table) -> list[str]:
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


def plain_run(run: Run | str) -> str:
    if isinstance(run, str):
        return run
    return f"#{run.text}" if run.style is Style.CHANNEL else run.text


def _plain_block(block: Block) -> str:
    if isinstance(block, Table):
        return "\n".join(content_table_lines(block))
    return "".join(plain_run(r) for r in block)


def _plain_actions(actions: tuple[Action, ...]) -> list[str]:
    return [f"{HOW_TO_RUN}:", *(f"  {a.label}: {a.command}" for a in actions)]


def render_plain(doc: Document) -> str:
    """Plain terminal text: title, lines, sections, how to run, notes; pages follow."""
    lines = [doc.title, "=" * min(len(doc.title), 79)]
    if doc.url:
        lines.append(doc.url)
    if doc.lines:
        lines += ["", "\n".join(_plain_block(line) for line in doc.lines)]
    for section in doc.sections:
        lines += ["", f"{section.heading}:", "\n".join(_plain_block(b) for b in section.blocks)]
    if doc.actions:
        lines += ["", *_plain_actions(doc.actions)]
    if doc.notes:
        lines += ["", " ".join(doc.notes)]
    text = "\n".join(lines)
    for page in doc.pages:
        text += "\n\n" + render_plain(page)
    return text


def echo_document(doc: Document, *extra: Document, stream: TextIO | None = None) -> None:
    """Print documents to stdout: rich when it is a terminal, plain text otherwise."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        from ._cli_rich import print_documents

        print_documents(out, (doc, *extra))
        return
    out.write("\n\n".join(render_plain(item) for item in (doc, *extra)) + "\n")
    out.flush()
