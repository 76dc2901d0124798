"""The /help answer: every command of the table, its summary and examples."""

from __future__ import annotations

from dataclasses import dataclass

from ._document import Document, Line, Section, code


@dataclass(frozen=True, slots=True)
class HelpLine:
    """One command as help shows it, with examples already written for the surface."""

    name: str
    summary: str
    examples: tuple[str, ...]


def render_help(lines: tuple[HelpLine, ...], *, terminal: bool) -> Document:
    """The list of commands; ``terminal`` names them as ``fitbot NAME``, else ``/NAME``."""
    sections = tuple(
        Section(
            f"fitbot {line.name}" if terminal else f"/{line.name}",
            ((line.summary,), *((code(example),) for example in line.examples)),
        )
        for line in lines
    )
    intro: Line = ("Will this model run on my GPU? Exact parameter counts, honest memory estimates.",)
    return Document(
        title="fitbot commands",
        lines=(intro,),
        sections=sections,
        notes=('A typed "24GB" is a 24 GB card: 24 GiB (2^30 bytes).',),
    )
