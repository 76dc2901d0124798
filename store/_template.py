"""A fresh store made from a shipped copy of the seeded bundled catalog.

Seeding a new database (schema, 168 model rows with their name rows, the glossary) cost a
near-constant 70-85 ms of CPU before a fresh store's first answer, 1.03-1.30x of a warm
answer on the bench machine (issue 13 asks for at most 1.2x). ``python -m store precompute``
writes ``store/data/bundled.sqlite.gz``: a store seeded by the same code, compacted and
gzipped (~150 KB). A new database file starts as a copy of it when it was made from these
bundled files, by this estimator, at this schema version; otherwise it is seeded as before.

The copied rows say they were first seen when the copy was built. Stamping them with the
opening store's clock rewrote every row (~1 MB with their configs) and cost 60 ms, most of
what the copy saves; nothing reads those times for bundled rows (the listings read crawled ones).
"""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
import tempfile
from importlib import resources
from pathlib import Path

from ._catalog import bundled_fingerprint, seed_bundled_data
from ._db import Database
from ._guilds import get_meta, set_meta
from ._precompute import estimator_fingerprint
from ._schema import SCHEMA_VERSION

TEMPLATE_FILE = "bundled.sqlite.gz"
_ESTIMATOR_KEY = "template_estimator"


def start_from_template(path: Path) -> bool:
    """Make ``path`` a copy of the shipped store if it does not exist and the copy is current.

    Returns True when the file was written.
    """
    if str(path) == ":memory:" or path.exists():
        return False
    try:
        data = gzip.decompress(resources.files("store").joinpath("data", TEMPLATE_FILE).read_bytes())
    except (FileNotFoundError, OSError, EOFError):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    if not _is_current(partial):
        partial.unlink()
        return False
    partial.replace(path)  # whole or absent: a crash never leaves half a database
    return True


def _is_current(template: Path) -> bool:
    conn = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return (
        version == SCHEMA_VERSION
        and meta.get("bundled_fingerprint") == bundled_fingerprint()
        and meta.get(_ESTIMATOR_KEY) == estimator_fingerprint()
    )


async def build_template(target: Path) -> None:
    """Seed a new store with the bundled data and write it, compacted and gzipped, to ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        seeded, compact = Path(tmp) / "seeded.sqlite", Path(tmp) / "compact.sqlite"
        db = await Database.open(seeded)
        try:
            await seed_bundled_data(db)
            await set_meta(db, _ESTIMATOR_KEY, estimator_fingerprint())
            assert await get_meta(db, "bundled_fingerprint") == bundled_fingerprint()
        finally:
            await db.close()
        conn = sqlite3.connect(seeded)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("VACUUM INTO ?", (str(compact),))
        finally:
            conn.close()
        target.write_bytes(gzip.compress(compact.read_bytes(), mtime=0))


def write_template(target: Path) -> None:
    asyncio.run(build_template(target))
