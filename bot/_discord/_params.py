"""Slash-command parameters: transformers that validate at the edge, and autocomplete choices.

A budget or context the estimator cannot read fails here, before the command runs, with
the parser's own message (the error handler unwraps ``TransformerError``). Autocomplete
answers from memory only: Discord gives it 3 seconds and it cannot be deferred, so it
never touches the database and returns nothing while the index is cold.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

import discord
from discord import app_commands

from store import GlossaryIndex

from .._commands import BUDGET, CONTEXT, KV_CACHE, MODEL, SPECULATIVE, TERM, USE, ParamKind
from .._parsers import MODEL_TEXT_LIMIT, TERM_TEXT_LIMIT
from .._service import CatalogService

CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
CACHED_QUERIES = 4096


class TableTransformer(app_commands.Transformer):
    """A string option read by the command table's parser for its kind (``ParamKind``).

    The same parser runs on the terminal and in ``fitbot ask``, so a bad value gets the same
    message everywhere; discord.py wraps the parser's error in ``TransformerError``.
    """

    kind: ClassVar[ParamKind]
    max_length: ClassVar[int | None] = None

    async def transform(self, interaction: discord.Interaction[Any] | None, value: str, /) -> Any:
        return self.kind.parse(value)

    @property
    def min_value(self) -> int | None:
        return 1 if self.max_length else None

    @property
    def max_value(self) -> int | None:
        return self.max_length

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        return [app_commands.Choice[int | float | str](name=c, value=c) for c in self.kind.choices] or None


class ModelTransformer(TableTransformer):
    """A catalog name or repo id → a ``ModelRef`` (never a path on Discord)."""

    kind = MODEL
    max_length = MODEL_TEXT_LIMIT


class BudgetTransformer(TableTransformer):
    """ "24GB", "2x3090", "M3 Max 128GB" → a ``Budget``, or the parser's message."""

    kind = BUDGET


class ContextTransformer(TableTransformer):
    """ "32k", "8192" → a token count, or the parser's message."""

    kind = CONTEXT


class KvCacheTransformer(TableTransformer):
    """One of the KV cache types, offered as choices."""

    kind = KV_CACHE


class SpeculativeTransformer(TableTransformer):
    """Speculative decoding with the MTP draft, offered as choices."""

    kind = SPECULATIVE


class TermTransformer(TableTransformer):
    """A glossary term as typed."""

    kind = TERM
    max_length = TERM_TEXT_LIMIT


class UseTransformer(TableTransformer):
    """What /rank is for: chat, code, long_context or vision, offered as choices."""

    kind = USE


TRANSFORMERS: dict[str, type[TableTransformer]] = {
    t.kind.name: t
    for t in (
        ModelTransformer,
        BudgetTransformer,
        ContextTransformer,
        KvCacheTransformer,
        SpeculativeTransformer,
        TermTransformer,
        UseTransformer,
    )
}


def _name(text: str) -> str:
    """A choice name Discord accepts: 1 to 100 characters."""
    text = " ".join(text.split())
    return text if len(text) <= CHOICE_NAME_LIMIT else text[: CHOICE_NAME_LIMIT - 1] + "…"


def model_choices(service: CatalogService, current: str) -> list[app_commands.Choice[str]]:
    """Repo ids for a partly typed model name; empty while the index is cold."""
    return _choices(_model_names(service, current))


def _model_names(service: CatalogService, current: str) -> tuple[str, ...]:
    # The value has the same 1-100 character limit as the name.
    return tuple(
        r for r in service.complete_model(current)[:CHOICES_LIMIT] if 1 <= len(r) <= CHOICE_NAME_LIMIT
    )


def _choices(names: tuple[str, ...]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in names]


class ModelChoices:
    """``model_choices`` remembered per name index, least recently used out first.

    Discord sends one autocomplete request per keystroke, and people type the same
    prefixes ("q", "qw", "qwen", "qwen2.5"): with 100,000 names an uncached lookup takes
    up to ~20 ms (bench/bot_bench.py), a remembered one microseconds. A rebuilt index
    empties the cache, so answers never outlive a catalog change.
    """

    def __init__(self, service: CatalogService, size: int = CACHED_QUERIES) -> None:
        self.service = service
        self.size = size
        self._index: object = None
        # Repo ids, not Choice objects: the strings are shared with the index, so 4,096
        # entries cost about 1 MB.
        self._cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def __call__(self, current: str) -> list[app_commands.Choice[str]]:
        index = self.service.index
        if index is None:
            return []
        if index is not self._index:  # holding the index keeps its id from being reused
            self._cache.clear()
            self._index = index
        key = " ".join(current.lower().split())
        names = self._cache.get(key)
        if names is None:
            names = self._cache[key] = _model_names(self.service, current)
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return _choices(names)


def term_choices(glossary: GlossaryIndex | None, current: str) -> list[app_commands.Choice[str]]:
    """Glossary titles and aliases for a partly typed term; the value is the entry key."""
    if glossary is None:
        return []
    out = []
    for label, key in glossary.complete(current, CHOICES_LIMIT)[:CHOICES_LIMIT]:
        name = _name(label)
        if name and 1 <= len(key) <= CHOICE_NAME_LIMIT:
            out.append(app_commands.Choice(name=name, value=key))
    return out
