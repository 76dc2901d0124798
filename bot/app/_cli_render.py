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

from .._document import Document, render_text

__all__ = ["echo_document", "one_page", "render_plain"]


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
    """Plain terminal text (``render_text``) with the continuation pages joined in."""
    return render_text(one_page(doc))


def echo_document(doc: Document, *extra: Document, stream: TextIO | None = None) -> None:
    """Print documents to stdout: rich when it is a terminal, plain text otherwise."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        from ._cli_rich import print_documents

        print_documents(out, (doc, *extra))
        return
    out.write("\n\n".join(render_plain(item) for item in (doc, *extra)) + "\n")
    out.flush()
