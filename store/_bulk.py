"""The bulk path: many new models in few transactions (benchmarks, imports).

``upsert_model`` compares and re-indexes row by row, which is right for a crawl and far
too slow for 300,000 rows; this path only inserts models the store does not hold yet,
in batches, with their name rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import islice

from ._codec import encode_accounting, encode_time
from ._db import Database
from ._models import bump_catalog_version
from ._name_tables import add_new_names, name_entry, reindex_names
from ._records import ModelRecord

_BATCH = 20_000
_INSERT = (
    "INSERT OR IGNORE INTO models (repo_id, repo_key, sha, provenance, status, status_reason, "
    "author, downloads, "
    "likes, pipeline_tag, library_name, tags_json, hub_total_params, model_type, config_json, "
    "accounting_json, "
    "total_params, active_params, stored_bytes, popularity, read_at, first_seen_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def insert_new_models(db: Database, records: Iterable[ModelRecord]) -> int:
    """Insert the models whose repo id the store lacks (any capitalisation), in batches of
    20,000 per transaction, and bump the catalog version once. Returns how many were added."""
    added = 0
    # Synthetic catalogs share accounting objects: encode each once (the object is kept
    # beside its text, so a recycled id() can never return another object's JSON).
    encoded: dict[int, tuple[object, str]] = {}
    for batch in _batches(records):
        async with db.write():
            keys = [r.repo_id.lower() for r in batch]
            marks = ",".join("?" * len(keys))
            held = {
                str(k)
                for (k,) in await db.fetchall(
                    f"SELECT repo_key FROM models WHERE repo_key IN ({marks})", tuple(keys)
                )
            }
            fresh = list({r.repo_id.lower(): r for r in batch if r.repo_id.lower() not in held}.values())
            now = encode_time(db.clock())
            await db.executemany(_INSERT, [_row(r, now, encoded) for r in fresh])
            owners = await _take_aliases(db, fresh)
            await add_new_names(db, [name_entry(r.repo_id, r.popularity, r.aliases) for r in fresh])
            await reindex_names(db, owners)
            if fresh:
                await bump_catalog_version(db)
            added += len(fresh)
    return added


async def _take_aliases(db: Database, fresh: list[ModelRecord]) -> list[str]:
    """Point the new models' aliases at them (the last writer wins, as in ``upsert_model``);
    returns the models that held any of them before, whose name rows need updating."""
    pairs = {a.strip().lower(): r.repo_id for r in fresh for a in r.aliases}
    if not pairs:
        return []
    marks = ",".join("?" * len(pairs))
    before = await db.fetchall(f"SELECT DISTINCT repo_id FROM aliases WHERE alias IN ({marks})", tuple(pairs))
    await db.executemany(
        "INSERT INTO aliases (alias, repo_id) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET "
        "repo_id = excluded.repo_id",
        list(pairs.items()),
    )
    return [str(r[0]) for r in before]


def _batches(records: Iterable[ModelRecord]) -> Iterator[list[ModelRecord]]:
    it = iter(records)
    while batch := list(islice(it, _BATCH)):
        yield batch


def _row(r: ModelRecord, now: str | None, encoded: dict[int, tuple[object, str]]) -> tuple[object, ...]:
    a, h = r.accounting, r.hub
    text = None
    if a is not None:
        held = encoded.get(id(a))
        if held is None or held[0] is not a:
            held = encoded[id(a)] = (a, encode_accounting(a))
        text = held[1]
    return (
        r.repo_id,
        r.repo_id.lower(),
        r.sha,
        r.provenance,
        r.status,
        r.status_reason,
        h.author,
        h.downloads,
        h.likes,
        h.pipeline_tag,
        h.library_name,
        json.dumps(list(h.tags)),
        h.hub_total_params,
        r.config.model_type if r.config else None,
        r.config_json,
        text,
        a.total_params if a else None,
        a.active_params if a else None,
        a.stored_bytes if a else None,
        r.popularity,
        encode_time(r.read_at),
        encode_time(r.first_seen_at) or now,
        now,
    )
