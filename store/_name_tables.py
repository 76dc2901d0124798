"""The name index as SQLite tables, kept up to date on every write (schema: migration 3).

Every process reads the same tables, so nothing is rebuilt per process or per catalog
version: a CLI call costs the same at 74 and at 300,000 models, and the bot holds no
index in memory.

* ``name_models``: one row per model: its rank (``-popularity``), compacted name part,
  its own tokens (name first, then the organisation's) and every word that points at it;
* ``name_postings``: (word, rank, repo_id) with the model's words beside it, so a word's
  models come out in popularity order and the other query words are tested on the same
  row, inside SQLite (a join or a probe per word cost 100x more at 300,000 models);
* ``name_words``: the vocabulary with its posting counts (the rarest query word is walked);
* ``name_keys``: exact keys (a full repo id, an alias, a bare name part) in that priority;
* ``name_bits`` (migration 5, ``_name_bits``): each word's models as a bitmap over
  ``name_models`` rowids, for words that are common alone and rare together.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._name_bits import STALE_KEY as BITS_STALE_KEY
from ._name_bits import add_bits, clear_bits, fill_bits

if TYPE_CHECKING:  # _db imports the schema, which imports this module's DDL
    from ._db import Database

_TOKEN = re.compile(r"[a-z]+|\d+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")

# Exact key kinds, in the order they win: "llama3.1 8b" (an alias of the instruct model)
# beats the base model's bare name "Llama-3.1-8B".
KEY_REPO, KEY_ALIAS, KEY_NAME = 0, 1, 2
STALE_KEY = "name_tables"  # meta key present while the tables need a full rebuild

DDL: tuple[str, ...] = (
    """CREATE TABLE name_models (
        repo_id TEXT PRIMARY KEY,
        rank REAL NOT NULL,
        name TEXT NOT NULL,
        tokens TEXT NOT NULL,
        name_tokens INTEGER NOT NULL,
        terms TEXT NOT NULL,
        keys TEXT NOT NULL
    )""",
    "CREATE INDEX name_models_rank ON name_models (rank, repo_id)",
    """CREATE TABLE name_postings (
        word TEXT NOT NULL, rank REAL NOT NULL, repo_id TEXT NOT NULL, terms TEXT NOT NULL,
        name TEXT NOT NULL, name_tokens INTEGER NOT NULL, PRIMARY KEY (word, rank, repo_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE name_words (
        word TEXT PRIMARY KEY, postings INTEGER NOT NULL, fuzzy INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE name_keys (
        key TEXT NOT NULL, kind INTEGER NOT NULL, rank REAL NOT NULL, repo_id TEXT NOT NULL,
        PRIMARY KEY (key, kind, rank, repo_id)
    ) WITHOUT ROWID""",
    "CREATE TABLE name_count (n INTEGER NOT NULL)",
    "INSERT INTO name_count (n) VALUES (0)",
    "CREATE TRIGGER name_models_added AFTER INSERT ON name_models BEGIN UPDATE name_count SET n = n + 1; END",
    "CREATE TRIGGER name_models_removed AFTER DELETE ON name_models BEGIN UPDATE name_count SET n = "
    "n - 1; END",
)


def compact(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True, slots=True)
class NameEntry:
    """What the name tables hold for one model."""

    repo_id: str
    rank: float
    name: str
    tokens: tuple[str, ...]
    name_tokens: int
    terms: tuple[str, ...]  # every posting word: its tokens, then its aliases' tokens
    keys: tuple[tuple[str, int], ...]

    def postings(self) -> list[tuple[str, float, str, str, str, int]]:
        """(word, rank, repo_id, " all words ", name, name_tokens) rows: spaces around every
        word, for instr(); the name and its token count, so ranking needs no second read."""
        words = f" {' '.join(self.terms)} "
        return [(w, self.rank, self.repo_id, words, self.name, self.name_tokens) for w in self.terms]

    def model_row(self) -> tuple[str, float, str, str, int, str, str]:
        keys = " ".join(f"{kind}{key}" for key, kind in self.keys)
        return (
            self.repo_id,
            self.rank,
            self.name,
            " ".join(self.tokens),
            self.name_tokens,
            " ".join(self.terms),
            keys,
        )


def name_entry(repo_id: str, popularity: float, aliases: Iterable[str] = ()) -> NameEntry:
    """The name-table rows of one model (pure)."""
    org, _, name = repo_id.rpartition("/")
    own = tuple(dict.fromkeys(sys.intern(t) for t in tokens(name)))
    org_only = tuple(t for t in dict.fromkeys(sys.intern(t) for t in tokens(org)) if t not in own)
    terms = dict.fromkeys(own + org_only)
    keys = {(compact(repo_id), KEY_REPO): None}
    for alias in aliases:
        keys.setdefault((compact(alias), KEY_ALIAS), None)
        terms.update(dict.fromkeys(tokens(alias)))
    keys.setdefault((compact(name), KEY_NAME), None)
    return NameEntry(
        repo_id=repo_id,
        rank=-float(popularity),
        name=compact(name),
        tokens=own + org_only,
        name_tokens=len(own),
        terms=tuple(terms),
        keys=tuple((k, kind) for k, kind in keys if k),
    )


def _fuzzy(word: str) -> int:
    return int(word.isalpha() and len(word) >= 3)


def _stored_entry(row: Sequence[Any]) -> NameEntry:
    repo_id, rank, name, toks, n_name, terms, keys = row
    return NameEntry(
        repo_id=str(repo_id),
        rank=float(rank),
        name=str(name),
        tokens=tuple(str(toks).split()),
        name_tokens=int(n_name),
        terms=tuple(str(terms).split()),
        keys=tuple((k[1:], int(k[0])) for k in str(keys).split()),
    )


# The rowid is the model's bit in name_bits: given explicitly, and kept when its rows are rewritten.
_INSERT_MODEL = (
    "INSERT INTO name_models (rowid, repo_id, rank, name, tokens, name_tokens, terms, keys) VALUES (?, "
    "?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_POSTING = (
    "INSERT OR IGNORE INTO name_postings (word, rank, repo_id, terms, name, name_tokens) VALUES "
    "(?, ?, ?, ?, ?, ?)"
)
_INSERT_KEY = "INSERT OR IGNORE INTO name_keys (key, kind, rank, repo_id) VALUES (?, ?, ?, ?)"
_ADD_WORD = (
    "INSERT INTO name_words (word, postings, fuzzy) VALUES (?, 1, ?) "
    "ON CONFLICT (word) DO UPDATE SET postings = postings + 1"
)
_DROP_WORD = "UPDATE name_words SET postings = postings - 1 WHERE word = ?"


def fill_tables(conn: sqlite3.Connection, entries: Iterable[NameEntry]) -> None:
    """Bulk-load empty name tables (a fresh in-memory index, or a full rebuild)."""
    models, postings, keys, bits = [], [], [], []
    counts: dict[str, int] = {}
    for bit, e in enumerate(entries, start=1):
        models.append((bit, *e.model_row()))
        bits += [(w, bit) for w in e.terms]
        postings += e.postings()
        keys += [(k, kind, e.rank, e.repo_id) for k, kind in e.keys]
        for w in e.terms:
            counts[w] = counts.get(w, 0) + 1
    conn.executemany(_INSERT_MODEL, models)
    conn.executemany(_INSERT_POSTING, sorted(postings))
    conn.executemany(_INSERT_KEY, sorted(keys))
    conn.executemany(
        "INSERT INTO name_words (word, postings, fuzzy) VALUES (?, ?, ?)",
        sorted((w, n, _fuzzy(w)) for w, n in counts.items()),
    )
    fill_bits(conn, bits)


async def reindex_names(db: Database, repo_ids: Iterable[str]) -> int:
    """Bring the name rows of ``repo_ids`` up to date with ``models`` and ``aliases``;
    call inside ``db.write()``. Unchanged models cost two reads and no write.
    Returns how many models' rows changed."""
    changed = 0
    for repo_id in dict.fromkeys(repo_ids):
        row = await db.fetchone("SELECT repo_id, popularity FROM models WHERE repo_id = ?", (repo_id,))
        old = await db.fetchone(
            "SELECT repo_id, rank, name, tokens, name_tokens, terms, keys, rowid FROM name_models "
            "WHERE repo_id = ?",
            (repo_id,),
        )
        new = None
        if row is not None:
            aliases = await db.fetchall(
                "SELECT alias FROM aliases WHERE repo_id = ? ORDER BY rowid", (repo_id,)
            )
            new = name_entry(str(row[0]), float(row[1] or 0), [str(a[0]) for a in aliases])
        before = _stored_entry(old[:7]) if old else None
        if before == new:
            continue
        bit = int(old[7]) if old else await _next_bit(db)
        if before is not None:
            await _remove(db, before, bit)
        if new is not None:
            await _add(db, new, bit)
        changed += 1
    return changed


async def _next_bit(db: Database) -> int:
    row = await db.fetchone("SELECT COALESCE(MAX(rowid), 0) + 1 FROM name_models")
    return int(row[0]) if row else 1


async def _remove(db: Database, e: NameEntry, bit: int) -> None:
    await db.execute("DELETE FROM name_models WHERE repo_id = ?", (e.repo_id,))
    await clear_bits(db, [(w, bit) for w in e.terms])
    await db.executemany(
        "DELETE FROM name_postings WHERE word = ? AND rank = ? AND repo_id = ?",
        [(w, e.rank, e.repo_id) for w in e.terms],
    )
    await db.executemany(
        "DELETE FROM name_keys WHERE key = ? AND kind = ? AND rank = ? AND repo_id = ?",
        [(k, kind, e.rank, e.repo_id) for k, kind in e.keys],
    )
    await db.executemany(_DROP_WORD, [(w,) for w in e.terms])
    await db.executemany("DELETE FROM name_words WHERE word = ? AND postings <= 0", [(w,) for w in e.terms])


async def _add(db: Database, e: NameEntry, bit: int) -> None:
    await db.execute(_INSERT_MODEL, (bit, *e.model_row()))
    await add_bits(db, [(w, bit) for w in e.terms])
    await db.executemany(_INSERT_POSTING, e.postings())
    await db.executemany(_INSERT_KEY, [(k, kind, e.rank, e.repo_id) for k, kind in e.keys])
    await db.executemany(_ADD_WORD, [(w, _fuzzy(w)) for w in e.terms])


async def rebuild_name_tables(db: Database) -> int:
    """Rebuild every name row from ``models`` and ``aliases`` in one transaction: for stores
    migrated from before the name tables, and for bulk loads. Returns the model count."""
    async with db.write():
        models = await db.fetchall("SELECT repo_id, popularity FROM models")
        alias_rows = await db.fetchall("SELECT alias, repo_id FROM aliases ORDER BY rowid")
        aliases: dict[str, list[str]] = {}
        for alias, repo in alias_rows:
            aliases.setdefault(str(repo), []).append(str(alias))
        entries = [name_entry(str(r), float(p or 0), aliases.get(str(r), ())) for r, p in models]
        for table in ("name_models", "name_postings", "name_words", "name_keys", "name_bits"):
            await db.execute(f"DELETE FROM {table}")
        await add_new_names(db, entries)
        await db.executemany("DELETE FROM meta WHERE key = ?", [(STALE_KEY,), (BITS_STALE_KEY,)])
    return len(entries)


async def add_new_names(db: Database, entries: list[NameEntry]) -> None:
    """Add the name rows of models that have none yet (a bulk load); call inside ``db.write()``."""
    counts: dict[str, int] = {}
    for e in entries:
        for w in e.terms:
            counts[w] = counts.get(w, 0) + 1
    first = await _next_bit(db)
    await db.executemany(_INSERT_MODEL, [(first + n, *e.model_row()) for n, e in enumerate(entries)])
    await add_bits(db, [(w, first + n) for n, e in enumerate(entries) for w in e.terms])
    await db.executemany(_INSERT_POSTING, sorted(row for e in entries for row in e.postings()))
    await db.executemany(
        _INSERT_KEY, sorted((k, kind, e.rank, e.repo_id) for e in entries for k, kind in e.keys)
    )
    await db.executemany(
        "INSERT INTO name_words (word, postings, fuzzy) VALUES (?, ?, ?) "
        "ON CONFLICT (word) DO UPDATE SET postings = postings + excluded.postings",
        sorted((w, n, _fuzzy(w)) for w, n in counts.items()),
    )
