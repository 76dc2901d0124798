"""The glossary: bundled entries, stored in SQLite, looked up by key, title or alias.

Lookup forgives case, plurals and typos, and suggests the nearest terms when nothing
matches. Exact names win over fuzzy ones, so "fp16" never lands on "bf16".
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources

from rapidfuzz import fuzz, process

from ._db import Database
from ._records import GlossaryEntry
from .errors import TermNotFoundError

_SPACES = re.compile(r"[\s_\-]+")


def load_bundled_glossary() -> tuple[GlossaryEntry, ...]:
    """The glossary shipped with fitbot (store/data/glossary.toml)."""
    text = resources.files("store").joinpath("data/glossary.toml").read_text(encoding="utf-8")
    return parse_glossary(text)


def parse_glossary(text: str) -> tuple[GlossaryEntry, ...]:
    raw = tomllib.loads(text)
    return tuple(
        GlossaryEntry(
            key=entry["key"],
            title=entry["title"],
            text=entry["text"].strip(),
            aliases=tuple(entry.get("aliases", ())),
            related=tuple(entry.get("related", ())),
            example=entry.get("example"),
            example_model=entry.get("example_model"),
            example_quant=entry.get("example_quant"),
            example_gpu=entry.get("example_gpu"),
        )
        for entry in raw.get("term", ())
    )


async def replace_glossary(db: Database, entries: tuple[GlossaryEntry, ...]) -> None:
    async with db.write():
        await db.execute("DELETE FROM glossary")
        await db.executemany(
            """INSERT INTO glossary (key, title, text, aliases_json, related_json, example, example_model,
            example_quant, example_gpu) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    e.key,
                    e.title,
                    e.text,
                    json.dumps(e.aliases),
                    json.dumps(e.related),
                    e.example,
                    e.example_model,
                    e.example_quant,
                    e.example_gpu,
                )
                for e in entries
            ],
        )


async def list_glossary(db: Database) -> tuple[GlossaryEntry, ...]:
    rows = await db.fetchall(
        "SELECT key, title, text, aliases_json, related_json, example, example_model, example_quant, "
        "example_gpu FROM glossary ORDER BY key"
    )
    return tuple(
        GlossaryEntry(k, t, x, tuple(json.loads(a)), tuple(json.loads(r)), e, m, q, g)
        for k, t, x, a, r, e, m, q, g in rows
    )


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


def _singular(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + replacement
    return word


class GlossaryIndex:
    """Term lookup over the glossary entries."""

    def __init__(self, entries: tuple[GlossaryEntry, ...]) -> None:
        self.entries = {e.key: e for e in entries}
        self._names: dict[str, str] = {}
        for e in entries:
            for name in (e.key, e.key.replace("-", " "), e.title, *e.aliases):
                self._names.setdefault(_normalise(name), e.key)
        self._choices = sorted(self._names)

    def lookup(self, text: str) -> GlossaryEntry:
        """The entry ``text`` names.

        Raises:
            TermNotFoundError: no entry is close enough; carries the nearest terms.
        """
        query = _normalise(text)
        for candidate in (query, _singular(query), " ".join(_singular(w) for w in query.split())):
            if candidate in self._names:
                return self.entries[self._names[candidate]]
        best = process.extractOne(query, self._choices, scorer=fuzz.ratio, score_cutoff=85)
        if best is not None:
            return self.entries[self._names[best[0]]]
        raise TermNotFoundError(text.strip()[:100], self.suggest(query))

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        matches = process.extract(
            _normalise(text), self._choices, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=50
        )
        keys = dict.fromkeys(self._names[m] for m, _, _ in matches)
        return tuple(self.entries[k].title for k in keys)[:limit]

    def complete(self, text: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, key) pairs for autocomplete: titles and aliases that start with or contain ``text``."""
        query = _normalise(text)
        if not query:
            return [(e.title, e.key) for e in list(self.entries.values())[:limit]]
        starts = [n for n in self._choices if n.startswith(query)]
        contains = [n for n in self._choices if query in n and n not in starts]
        out, seen = [], set()
        for name in starts + contains:
            key = self._names[name]
            if key not in seen:
                seen.add(key)
                title = self.entries[key].title
                out.append((title if _normalise(title) == name else f"{title} ({name})", key))
        return out[:limit]
