"""Phone width: monospace blocks of at most ``PHONE_COLUMNS`` characters, and no emoji inside them.

A phone shows about 40 monospace characters across an embed before a row wraps in two, and
a wrapped table row is unreadable. So every ``Table`` any document carries is narrowed here,
generically: cells lose their emoji, each column is as wide as its widest cell, and a table
still too wide is split into tables of fewer columns, each repeating the first (key) column.
Nothing is cut: a single column wider than the limit stays as it is. Shell commands are wrapped
with ``\\`` line continuations, which bash and zsh join again when the text is pasted, even
inside a word.
"""

from __future__ import annotations

import unicodedata

from .._document import Column, Table

__all__ = ["PHONE_COLUMNS", "narrow_table", "no_emoji", "wrap_command"]

PHONE_COLUMNS = 40
_GAP = 1
_JOINERS = {"\ufe0f", "\ufe0e", "\u200d", "\u20e3"}  # variation selectors, ZWJ, keycap


def no_emoji(text: str) -> str:
    """``text`` without pictographs (Unicode "other symbol" and their joiners), trimmed."""
    kept = (c for c in text if c not in _JOINERS and unicodedata.category(c) != "So")
    return " ".join("".join(kept).split())


def narrow_table(table: Table, width: int = PHONE_COLUMNS) -> tuple[Table, ...]:
    """``table`` as one or more tables of at most ``width`` characters a row, without emoji."""
    rows = tuple(tuple(no_emoji(cell) for cell in row) for row in table.rows)
    widths = [
        max([len(c.name) if table.header else 0, *(len(row[n]) for row in rows)])
        for n, c in enumerate(table.columns)
    ]
    if not table.columns:
        return (table,)
    groups: list[list[int]] = [[0]]
    for n in range(1, len(table.columns)):
        group = groups[-1]
        used = sum(widths[i] for i in group) + _GAP * len(group)
        if used + widths[n] > width and len(group) > 1:
            groups.append([0])
        groups[-1].append(n)
    return tuple(
        Table(
            tuple(
                Column(table.columns[i].name, widths[i], table.columns[i].align, gap=_GAP if k else 0)
                for k, i in enumerate(group)
            ),
            tuple(tuple(row[i] for i in group) for row in rows),
            table.header,
        )
        for group in groups
    )


def wrap_command(command: str, width: int = PHONE_COLUMNS) -> tuple[str, ...]:
    """A shell command as lines of at most ``width`` characters, joined by ``\\`` continuations.

    A flag stays with its value; a word longer than a line is cut with a bare ``\\`` (the shell
    removes backslash-newline anywhere outside single quotes).
    """
    words = _pairs(command.split())
    lines: list[str] = []
    current = ""
    room = width - 2  # " \\" ends every line but the last
    for word in words:
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= room:
            current = candidate
            continue
        if current:
            lines.append(current + " \\")
            current = "  "
        piece = current + word
        while len(piece) > room + 1:
            lines.append(piece[: room + 1] + "\\")
            piece = piece[room + 1 :]
        current = piece
    if current.strip():
        lines.append(current)
    return tuple(lines)


def _pairs(words: list[str]) -> list[str]:
    """Words with each ``-flag`` joined to the value that follows it."""
    out: list[str] = []
    n = 0
    while n < len(words):
        word = words[n]
        following = words[n + 1] if n + 1 < len(words) else None
        if word.startswith("-") and following is not None and not following.startswith("-"):
            out.append(f"{word} {following}")
            n += 2
        else:
            out.append(word)
            n += 1
    return out
