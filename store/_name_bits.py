"""Which models hold a name word, as bitmaps (schema: migration 5), for queries whose words are
each common but rare together.

Why: for "Qwen2.5 3B Co" the posting walk read every posting of its rarest word ("5": 39,275
rows, 12-16 ms CPU at 300,000 models) to find 221 models. ANDing the words' bitmaps finds
those few in about a millisecond; the posting walk stays the answer wherever it is short or
dense. FTS5 (SQLite 3.40, detail=none) was measured first and lost: its AND reads dense terms
("b", "2", "3") near-linearly, 2-6 ms per query even beside one rare word.

A model's bit is its ``name_models`` rowid, which a rewrite of its rows keeps. Bits are stored
in chunks of 4,096 models (512-byte blobs, small enough to stay on their b-tree page), so a
write rewrites a few small rows and a word's bitmap is one range read.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Database

STALE_KEY = "name_bits"  # meta key present while name_bits awaits its backfill from the postings
CHUNK_BITS = 4096
_CHUNK_BYTES = CHUNK_BITS // 8
_NONZERO = re.compile(rb"[^\x00]")

DDL: tuple[str, ...] = (
    """CREATE TABLE name_bits (
        word TEXT NOT NULL, chunk INTEGER NOT NULL, bits BLOB NOT NULL, PRIMARY KEY (word, chunk)
    ) WITHOUT ROWID""",
)
_UPSERT = "INSERT OR REPLACE INTO name_bits (word, chunk, bits) VALUES (?, ?, ?)"
_DELETE = "DELETE FROM name_bits WHERE word = ? AND chunk = ?"


def chunk_masks(postings: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """(word, chunk) -> bits of the chunk, for (word, model bit) pairs (pure)."""
    masks: dict[tuple[str, int], int] = {}
    for word, doc in postings:
        key = (word, doc // CHUNK_BITS)
        masks[key] = masks.get(key, 0) | (1 << (doc % CHUNK_BITS))
    return masks


def _blob(mask: int) -> bytes:
    return mask.to_bytes(_CHUNK_BYTES, "little")


def fill_bits(conn: sqlite3.Connection, postings: Iterable[tuple[str, int]]) -> None:
    """Write the bitmaps of an empty ``name_bits`` (a fresh in-memory index)."""
    conn.executemany(_UPSERT, sorted((w, c, _blob(m)) for (w, c), m in chunk_masks(postings).items()))


async def add_bits(db: Database, postings: Sequence[tuple[str, int]]) -> None:
    """Set the bits of (word, model bit) pairs, merged with what the chunks hold; inside ``db.write()``."""
    await _update(db, postings, set_bits=True)


async def clear_bits(db: Database, postings: Sequence[tuple[str, int]]) -> None:
    """Clear the bits of (word, model bit) pairs; an emptied chunk is deleted. Inside ``db.write()``."""
    await _update(db, postings, set_bits=False)


async def _update(db: Database, postings: Sequence[tuple[str, int]], *, set_bits: bool) -> None:
    masks = chunk_masks(postings)
    if not masks:
        return
    held = await _held(db, masks)
    writes, deletes = [], []
    for key, mask in sorted(masks.items()):
        old = held.get(key, 0)
        new = old | mask if set_bits else old & ~mask
        if new == old:
            continue
        if new:
            writes.append((*key, _blob(new)))
        else:
            deletes.append(key)
    await db.executemany(_UPSERT, writes)
    await db.executemany(_DELETE, deletes)


async def _held(db: Database, keys: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """The stored bits of ``keys``, in one read: their words, over their chunks' range."""
    chunks = [chunk for _, chunk in keys]
    words = json.dumps(sorted({word for word, _ in keys}))
    rows = await db.fetchall(
        "SELECT word, chunk, bits FROM name_bits WHERE word IN (SELECT value FROM json_each(?)) "
        "AND chunk BETWEEN ? AND ?",
        (words, min(chunks), max(chunks)),
    )
    return {(str(w), int(c)): int.from_bytes(b, "little") for w, c, b in rows if (w, c) in keys}


async def backfill_bits(db: Database) -> int:
    """Fill ``name_bits`` from the posting rows, a word at a time (a store migrated to schema 5),
    in one transaction. Returns how many bits were set."""
    total = 0
    async with db.write():
        await db.execute("DELETE FROM name_bits")
        for (word,) in await db.fetchall("SELECT word FROM name_words ORDER BY word"):
            rows = await db.fetchall(
                "SELECT m.rowid FROM name_postings p JOIN name_models m ON m.repo_id = p.repo_id "
                "WHERE p.word = ?",
                (word,),
            )
            masks = chunk_masks((str(word), int(r[0])) for r in rows)
            await db.executemany(_UPSERT, [(w, c, _blob(m)) for (w, c), m in sorted(masks.items())])
            total += len(rows)
        await db.execute("DELETE FROM meta WHERE key = ?", (STALE_KEY,))
    return total


def read_bits(conn: sqlite3.Connection, words: Iterable[str]) -> int:
    """One bitmap: the models that hold any of ``words`` (one read, ORed chunk by chunk)."""
    rows = conn.execute(
        "SELECT chunk, bits FROM name_bits WHERE word IN (SELECT value FROM json_each(?))",
        (json.dumps(list(words)),),
    ).fetchall()
    if not rows:
        return 0
    chunks: dict[int, int] = {}
    for chunk, bits in rows:
        chunks[chunk] = chunks.get(chunk, 0) | int.from_bytes(bits, "little")
    buffer = bytearray((max(chunks) + 1) * _CHUNK_BYTES)
    for chunk, mask in chunks.items():
        buffer[chunk * _CHUNK_BYTES : (chunk + 1) * _CHUNK_BYTES] = _blob(mask)
    return int.from_bytes(buffer, "little")


def members(bits: int) -> list[int]:
    """The model bits set in ``bits``, ascending (fast when few are set)."""
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    out = []
    for match in _NONZERO.finditer(data):
        byte, base = data[match.start()], match.start() * 8
        while byte:
            low = byte & -byte
            out.append(base + low.bit_length() - 1)
            byte ^= low
    return out
