"""Models and their aliases: the catalog tables."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import datetime

from estimator import ConfigError, parse_model_config

from ._codec import decode_accounting, decode_time, encode_accounting, encode_time
from ._db import Database
from ._name_tables import reindex_names
from ._records import HubFacts, ModelRecord

log = logging.getLogger(__name__)

_COLUMNS = (
    "repo_id, sha, provenance, status, status_reason, author, created_at, last_modified, downloads, "
    "likes, trending_score, gated, pipeline_tag, library_name, tags_json, hub_total_params, "
    "config_json, accounting_json, popularity, read_at, first_seen_at, updated_at"
)


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
            row = await db.fetchone("SELECT provenance FROM models WHERE repo_key = ?", (record.repo_id.lower(),))
            if (row is None or row[0] == "config") and await _upsert(db, record, now):
                changed += 1
        if changed:
            await bump_catalog_version(db)
    return changed


# What makes a row different; read_at, first_seen_at and updated_at alone do not.
_COMPARED = (
    "sha, provenance, status, status_reason, author, created_at, last_modified, downloads, likes, trending_score, "
    "gated, pipeline_tag, library_name, tags_json, hub_total_params, config_json, accounting_json, popularity, "
    "model_type, total_params, active_params, stored_bytes"
)


async def _upsert(db: Database, r: ModelRecord, now: datetime) -> bool:
    """Insert or update one row and its name-index rows; False when nothing differed."""
    stored = await db.fetchone("SELECT repo_id FROM models WHERE repo_key = ?", (r.repo_id.lower(),))
    if stored and stored[0] != r.repo_id:  # one repo, spelt with other capitals: keep the stored id
        r = replace(r, repo_id=stored[0])
    h = r.hub
    accounting = r.accounting
    changed = await db.execute(
        f"""INSERT INTO models ({_COLUMNS}, repo_key, model_type, total_params, active_params, stored_bytes)
        VALUES ({", ".join("?" * 22)}, ?, ?, ?, ?, ?)
        ON CONFLICT (repo_id) DO UPDATE SET
            sha = excluded.sha, provenance = excluded.provenance, status = excluded.status,
            status_reason = excluded.status_reason, author = excluded.author,
            created_at = excluded.created_at, last_modified = excluded.last_modified,
            downloads = excluded.downloads, likes = excluded.likes,
            trending_score = excluded.trending_score, gated = excluded.gated,
            pipeline_tag = excluded.pipeline_tag, library_name = excluded.library_name,
            tags_json = excluded.tags_json, hub_total_params = excluded.hub_total_params,
            config_json = excluded.config_json, accounting_json = excluded.accounting_json,
            popularity = excluded.popularity, read_at = excluded.read_at,
            updated_at = excluded.updated_at, model_type = excluded.model_type,
            total_params = excluded.total_params, active_params = excluded.active_params,
            stored_bytes = excluded.stored_bytes
        WHERE ({_COMPARED}) IS NOT ({", ".join(f"excluded.{c.strip()}" for c in _COMPARED.split(","))})""",
        (
            r.repo_id,
            r.sha,
            r.provenance,
            r.status,
            r.status_reason,
            h.author,
            encode_time(h.created_at),
            encode_time(h.last_modified),
            h.downloads,
            h.likes,
            h.trending_score,
            h.gated,
            h.pipeline_tag,
            h.library_name,
            json.dumps(list(h.tags)),
            h.hub_total_params,
            r.config_json,
            encode_accounting(accounting) if accounting else None,
            r.popularity,
            encode_time(r.read_at),
            encode_time(r.first_seen_at or now),
            encode_time(now),
            r.repo_id.lower(),
            r.config.model_type if r.config else None,
            accounting.total_params if accounting else None,
            accounting.active_params if accounting else None,
            accounting.stored_bytes if accounting else None,
        ),
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
            "INSERT INTO aliases (alias, repo_id) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET repo_id = excluded.repo_id",
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
    aliases = await db.fetchall("SELECT alias FROM aliases WHERE repo_id = ? ORDER BY alias", (rows[0][0],))
    return _record(rows[0], tuple(a[0] for a in aliases))


async def list_models(
    db: Database, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[ModelRecord, ...]:
    """Models by popularity, optionally those whose repo id contains ``search``."""
    where, params = "", ()
    if search:
        where, params = "WHERE repo_key LIKE ? ESCAPE '\\'", (f"%{_escape_like(search.lower())}%",)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM models {where} ORDER BY popularity DESC, repo_id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return tuple(_record(row) for row in rows)


async def list_updated_since(db: Database, since: datetime, *, limit: int = 100) -> tuple[ModelRecord, ...]:
    """Models added or re-read since ``since``, newest first (for /new and daily listings)."""
    rows = await db.fetchall(
        f"""SELECT {_COLUMNS} FROM models
        WHERE updated_at > ? AND status = 'ok' AND provenance = 'header'
        ORDER BY updated_at DESC LIMIT ?""",
        (encode_time(since), limit),
    )
    return tuple(_record(row) for row in rows)


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


def _record(row: tuple, aliases: tuple[str, ...] = ()) -> ModelRecord:
    (repo_id, sha, provenance, status, reason, author, created, modified, downloads, likes, trending,
     gated, pipeline, library, tags, hub_total, config_json, accounting_json, popularity, read_at,
     first_seen, updated) = row
    config = None
    if config_json:
        try:
            config = parse_model_config(json.loads(config_json))
        except (ConfigError, ValueError) as e:
            log.warning("stored config of %s no longer parses: %s", repo_id, e)
    return ModelRecord(
        repo_id=repo_id,
        sha=sha,
        provenance=provenance,
        status=status,
        status_reason=reason,
        config=config,
        accounting=decode_accounting(accounting_json) if accounting_json else None,
        hub=HubFacts(
            author=author,
            created_at=decode_time(created),
            last_modified=decode_time(modified),
            downloads=downloads,
            likes=likes,
            trending_score=trending,
            gated=gated,
            pipeline_tag=pipeline,
            library_name=library,
            hub_total_params=hub_total,
            tags=tuple(json.loads(tags or "[]")),
        ),
        config_json=config_json,
        read_at=decode_time(read_at),
        first_seen_at=decode_time(first_seen),
        updated_at=decode_time(updated),
        aliases=aliases,
        popularity=float(popularity or 0),
    )


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
            f"SELECT {_COLUMNS} FROM models {where} ORDER BY popularity DESC, repo_id LIMIT ?", (*params, batch)
        )
        if not rows:
            return
        page = tuple(_record(row) for row in rows)
        yield page
        after = (page[-1].popularity, page[-1].repo_id)
