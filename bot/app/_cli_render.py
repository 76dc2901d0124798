"""The terminal's rendering of a ``Document``: rich on a terminal, plain text in pipes and tests.

Plain text is the stable form (scripts and tests read it): the same title, lines, sections,
notes and "How to run" commands, with tables whose columns grow to fit their content so a
value of 1,000 or more never runs into its neighbour. On a TTY the same document is drawn
with ``rich`` (``_cli_rich``, imported only then, so a piped answer never loads it).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TextIO

from .._document import Action, Block, Document, Run, Style, Table, table_lines

__all__ = ["HOW_TO_RUN", "echo_document", "one_page", "plain_run", "render_plain"]

HOW_TO_RUN = "How to run"


def plain_run(run: Run | str) -> str:
    if isinstance(run, str):
        return run
    return f"#{run.text}" if run.style is Style.CHANNEL else run.text


def _plain_block(block: Block) -> str:
    if isinstance(block, Table):
        return "\n".join(table_lines(block))
    return "".join(plain_run(r) for r in block)


def _plain_actions(actions: tuple[Action, ...]) -> list[str]:
    return [f"{HOW_TO_RUN}:", *(f"  {a.label}: {a.command}" for a in actions)]


def one_page(doc: Document) -> Document:
    """``doc`` with its continuation pages joined in: a terminal scrolls, so it shows one title.

    A page under the same title adds its lines, sections, commands and notes (each once); a page
    with a title of its own stays a page.
    """
    same = [p for p in doc.pages if p.title == doc.title]
    if not same:
        return doc
    return replace(
        doc,
        lines=doc.lines + tuple(line for p in same for line in p.lines),
        sections=doc.sections + tuple(section for p in same for section in p.sections),
        actions=tuple(dict.fromkeys(doc.actions + tuple(a for p in same for a in p.actions))),
        notes=tuple(dict.fromkeys(doc.notes + tuple(n for p in same for n in p.notes))),
        pages=tuple(p for p in doc.pages if p.title != doc.title),
    )


def render_plain(doc: Document) -> str:
    """Plain terminal text: title, lines, sections, how to run, notes (continuation pages joined in)."""
    doc = one_page(doc)
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
