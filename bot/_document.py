"""A presentation-neutral answer: the same content becomes a Discord embed or terminal text.

Text in documents is already safe for Discord (escaped); the terminal renderer strips
the markdown escapes again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_LIMIT = 25
TOTAL_LIMIT = 6000


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    description: str = ""
    fields: tuple[Field, ...] = ()
    footer: str = ""
    url: str | None = None
    colour: int = 0x5865F2
    pages: tuple[Document, ...] = field(default=(), compare=False)  # continuation pages


def render_text(doc: Document) -> str:
    """Terminal text for a document: title, description, fields, footer."""
    lines = [_plain(doc.title), "=" * min(len(_plain(doc.title)), 79)]
    if doc.url:
        lines.append(doc.url)
    if doc.description:
        lines += ["", _plain(doc.description)]
    for f in doc.fields:
        lines += ["", f"{_plain(f.name)}:", _plain(f.value)]
    if doc.footer:
        lines += ["", _plain(doc.footer)]
    text = "\n".join(lines)
    for page in doc.pages:
        text += "\n\n" + render_text(page)
    return text


_CODE_FENCE = re.compile(r"```(?:\w+)?\n?")
_ESCAPE = re.compile(r"\\([*_`~|>\[\]()#-])")


_ITALIC_LINE = re.compile(r"^_(.+)_$", re.MULTILINE)


def _plain(text: str) -> str:
    text = _CODE_FENCE.sub("", text)
    text = _ITALIC_LINE.sub(r"\1", text)
    text = text.replace("**", "")
    return _ESCAPE.sub(r"\1", text).replace("\u200b", "")
