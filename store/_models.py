"""Models and their aliases: the catalog tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import datetime

from ._codec import (
    INSERT_ONLY_COLUMNS,
    MODEL_COLUMNS,
    QUERY_COLUMNS,
    encode_time,
    model_row,
    record_from_row,
    row_by_name,
)
from ._db import Database
from ._name_tables import reindex_names
from ._records import ModelRecord

_COLUMNS = ", ".join(MODEL_COLUMNS)


async def upsert_model(db: Database, record: ModelRecord) -> None:
    """Write one model (and its aliases) in its own short transaction.

    Writing what is already stored changes nothing, not even the catalog version."""
    async with db.write():
        if await _upsert(db, record, db.clock()):
            await bump_catalog_version(db)


async def replace_config_models(db: Database, records: Iterable[ModelRecord]) -> int:
    """Refresh bundled, config-derived rows; rows read from headers are never overwritten."""
    changed = 0
    now = db.clock()
    async with db.write():
        for record in records:
            row = await db.fetchone(
                "SELECT provenance FROM models WHERE repo_key = ?", (record.repo_id.lower(),)
            )
            if (row is None or row[0] == "config") and await _upsert(db, record, now):
                changed += 1
        if changed:
            await bump_catalog_version(db)
    return changed


# What makes a row different; read_at, first_seen_at and updated_at alone do not.
_COMPARED = (
    "sha, provenance, status, status_reason, author, created_at, last_modified, downloads, likes, "
    "trending_score, "
    "gated, pipeline_tag, library_name, tags_json, hub_total_params, config_json, accounting_json, "
    "popularity, "
    "model_type, total_params, active_params, stored_bytes"
)


async def _upsert(db: Database, r: ModelRecord, now: datetime) -> bool:
    """Insert or update one row and its name-index rows; False when nothing differed."""
    stored = await db.fetchone("SELECT repo_id FROM models WHERE repo_key = ?", (r.repo_id.lower(),))
    if stored and stored[0] != r.repo_id:  # one repo, spelt with other capitals: keep the stored id
        r = replace(r, repo_id=stored[0])
    row = model_row(r, now)
    columns = (*MODEL_COLUMNS, *QUERY_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in INSERT_ONLY_COLUMNS)
    compared = [c.strip() for c in _COMPARED.split(",")]
    changed = await db.execute(
        f"""INSERT INTO models ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})
        ON CONFLICT (repo_id) DO UPDATE SET {updates}
        WHERE ({", ".join(compared)}) IS NOT ({", ".join(f"excluded.{c}" for c in compared)})""",
        tuple(row[c] for c in columns),
    )
    owners = await _add_aliases(db, r.repo_id, r.aliases) if r.aliases else set()
    if changed or owners:
        await reindex_names(db, [r.repo_id, *sorted(owners)])
    return bool(changed or owners)


async def _add_aliases(db: Database, repo_id: str, aliases: Iterable[str]) -> set[str]:
    """Point ``aliases`` at ``repo_id``; returns the repos whose aliases changed (both sides)."""
    touched: set[str] = set()
    for alias in aliases:
        key = alias.strip().lower()
        before = await db.fetchone("SELECT repo_id FROM aliases WHERE alias = ?", (key,))
        if before is not None and before[0] == repo_id:
            continue
        await db.execute(
            "INSERT INTO aliases (alias, repo_id) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET "
            "repo_id = excluded.repo_id",
            (key, repo_id),
        )
        touched.update([repo_id, *(before or ())])
    return touched


async def bump_catalog_version(db: Database) -> None:
    """Readers (the bot's name index) refresh when this number moves."""
    await db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalog_version'")


async def get_catalog_version(db: Database) -> int:
    row = await db.fetchone("SELECT value FROM meta WHERE key = 'catalog_version'")
    return int(row[0]) if row else 0


async def get_model(db: Database, repo_id: str) -> ModelRecord | None:
    """One model by repo id (case-insensitive), or None."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM models WHERE repo_key = ?", (repo_id.lower(),))
    if not rows:
        return None
    row = row_by_name(rows[0])
    aliases = await db.fetchall(
        "SELECT alias FROM aliases WHERE repo_id = ? ORDER BY alias", (row["repo_id"],)
    )
    return record_from_row(row, tuple(a[0] for a in aliases))


async def list_models(
    db: Database, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[ModelRecord, ...]:
    """Models by popularity, optionally those whose repo id contains ``search``."""
    where = ""
    params: tuple[str, ...] = ()
    if search:
        where, params = "WHERE repo_key LIKE ? ESCAPE '\\'", (f"%{_escape_like(search.lower())}%",)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM models {where} ORDER BY popularity DESC, repo_id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return tuple(record_from_row(row_by_name(row)) for row in rows)


async def list_updated_since(db: Database, since: datetime, *, limit: int = 100) -> tuple[ModelRecord, ...]:
    """Models added or re-read since ``since``, newest first (for /new and daily listings)."""
    rows = await db.fetchall(
        f"""SELECT {_COLUMNS} FROM models
        WHERE updated_at > ? AND status = 'ok' AND provenance = 'header'
        ORDER BY updated_at DESC LIMIT ?""",
        (encode_time(since), limit),
    )
    return tuple(record_from_row(row_by_name(row)) for row in rows)


async def list_shas(db: Database) -> dict[str, str]:
    """Commit sha per repo, for the crawler's "unchanged costs nothing" check."""
    rows = await db.fetchall("SELECT repo_id, sha FROM models WHERE sha IS NOT NULL")
    return {repo: sha for repo, sha in rows}


async def list_name_rows(db: Database) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """(repo_id, popularity) for every model and (alias, repo_id) pairs: the name index input."""
    models = await db.fetchall("SELECT repo_id, popularity FROM models")
    aliases = await db.fetchall("SELECT alias, repo_id FROM aliases")
    return [(r, float(p)) for r, p in models], [(a, r) for a, r in aliases]


async def count_models(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM models")
    return int(row[0]) if row else 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def iter_models(db: Database, *, batch: int = 1000) -> AsyncIterator[tuple[ModelRecord, ...]]:
    """Every model, a page at a time, by popularity then repo id (keyset pagination: each page
    starts where the last ended, so page k costs what page 1 costs, unlike OFFSET)."""
    after: tuple[float, str] | None = None
    while True:
        where, params = "", ()  # type: tuple[str, tuple[object, ...]]
        if after is not None:
            where = "WHERE popularity <= ? AND NOT (popularity = ? AND repo_id <= ?)"
            params = (after[0], after[0], after[1])
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM models {where} ORDER BY popularity DESC, repo_id LIMIT ?",
            (*params, batch),
        )
        if not rows:
            return
        page = tuple(record_from_row(row_by_name(row)) for row in rows)
        yield page
        after = (page[-1].popularity, page[-1].repo_id)
