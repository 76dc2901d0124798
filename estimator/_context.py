"""Read a context length a user types: "8192", "32k", "128K", "1m"."""

from __future__ import annotations

import re

from .errors import ContextParseError

MAX_CONTEXT = 10 * 1024 * 1024
_CONTEXT = re.compile(r"^(\d+(?:\.\d+)?)\s*([km]?)(?:\s*tokens?)?$")


def parse_context(text: str | int) -> int:
    """Tokens of context; "32k" is 32,768 tokens, as model cards and llama.cpp use it.

    Raises:
        ContextParseError: not a positive number of tokens up to 10M.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _CONTEXT.match(str(text).strip().lower().replace(",", "").replace("_", ""))
        if not match:
            raise ContextParseError(str(text)[:40])
        scale = {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2)]
        value = int(float(match.group(1)) * scale)
    if not 1 <= value <= MAX_CONTEXT:
        raise ContextParseError(
            str(text)[:40], f"'{str(text)[:40]}' is out of range: give 1 to 10M tokens, e.g. 8192 or 32k"
        )
    return value
