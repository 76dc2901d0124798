"""Make text from the Hub (or from users) safe to show: no markdown tricks, no pings.

Repo ids, card data and config values come from strangers. They are escaped for
Discord markdown, their mentions are defused, control and zero-width characters are
dropped, and they are truncated to fit. ``allowed_mentions=none`` is the second lock.
"""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#-])")
_INVISIBLE = {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"}


def clean(text: object, limit: int = 200) -> str:
    """Plain text: printable characters only, single-spaced, at most ``limit`` characters."""
    raw = str(text)
    kept = "".join(ch if unicodedata.category(ch) not in _INVISIBLE else " " for ch in raw[: limit * 4])
    kept = " ".join(kept.split())
    return truncate(kept, limit)


def escape(text: object, limit: int = 200) -> str:
    """Text safe inside Discord markdown: cleaned, escaped, mentions defused; at most
    ``limit`` characters with the escapes counted, so it still fits where it is put."""
    plain = clean(text, limit)
    escaped = _escape_all(plain)
    if len(escaped) <= limit:
        return escaped
    # Escapes can double the length; cut between escaped characters, never inside one.
    kept, size = [], 0
    for ch in plain:
        piece = _escape_all(ch)
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept).rstrip() + "…"


_INLINE_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LEADING_MARKDOWN = re.compile(r"^(\s*)([#>-])")


def defuse_mentions(text: str) -> str:
    """A zero-width space after every "@" and "<": @everyone, <@id>, <@&id> and <#id> stay text."""
    return text.replace("@", "@\u200b").replace("<", "<\u200b")


def escape_markdown(plain: str) -> str:
    """Discord markdown escapes and defused mentions for one run of a line, without
    cleaning or cutting (``plain`` was cleaned when the answer was built).

    Emphasis, code, spoiler and link brackets are escaped anywhere; heading, quote and
    list markers only where they could start a line. "(" and "-" inside text stay as
    they are, so titles and footers (which Discord shows without markdown) stay clean.
    """
    plain = defuse_mentions(plain)
    return _LEADING_MARKDOWN.sub(r"\1\\\2", _INLINE_MARKDOWN.sub(r"\\\1", plain))


def _escape_all(plain: str) -> str:
    # A zero-width space after every "@" and "<" defuses @everyone, <@id>, <@&id> and <#id>.
    plain = plain.replace("@", "@\u200b").replace("<", "<\u200b")
    return _MARKDOWN.sub(r"\\\1", plain)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"
