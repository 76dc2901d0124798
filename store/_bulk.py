"""The bulk path: many new models in few transactions (benchmarks, imports).

``upsert_model`` compares and re-indexes row by row, which is right for a crawl and far
too slow for 300,000 rows; this path only inserts models the store does not hold yet,
in batches, with their name rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from ._codec import encode_accounting, encode_time
from ._db import Database
from ._models import bump_catalog_version
from ._name_tables import add_new_names, name_entry, reindex_names
from ._records import HubFacts, ModelRecord

_BATCH = 20_000
_INSERT = (
    "INSERT OR IGNORE INTO models (repo_id, repo_key, sha, provenance, status, status_reason, "
    "author, downloads, "
    "likes, pipeline_tag, library_name, tags_json, hub_total_params, model_type, config_json, "
    "accounting_json, "
    "total_params, active_params, stored_bytes, popularity, read_at, first_seen_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class NewModel:
    """One model as the bulk path writes it: its row's columns and the names it answers to."""

    repo_id: str
    aliases: tuple[str, ...]
    popularity: float
    columns: tuple[object, ...]  # _INSERT's columns from sha to popularity, in order
    read_at: str | None = None
    first_seen_at: str | None = None


def model_columns(
    *,
    sha: str | None,
    provenance: str,
    status: str,
    status_reason: str | None,
    hub: HubFacts,
    model_type: str | None,
    config_json: str | None,
    accounting_json: str | None,
    totals: tuple[int | None, int | None, int | None],
    popularity: float,
) -> tuple[object, ...]:
    """The columns of one inserted row; ``totals`` are total and active parameters and stored bytes."""
    return (
        sha,
        provenance,
        status,
        status_reason,
        hub.author,
        hub.downloads,
        hub.likes,
        hub.pipeline_tag,
        hub.library_name,
        json.dumps(list(hub.tags)),
        hub.hub_total_params,
        model_type,
        config_json,
        accounting_json,
        *totals,
        popularity,
    )


def new_model(r: ModelRecord, encoded: dict[int, tuple[object, str]] | None = None) -> NewModel:
    """A record as the bulk path writes it. ``encoded`` remembers accounting JSON by object, for
    catalogs whose records share accounting objects."""
    a, text = r.accounting, None
    if a is not None:
        held = encoded.get(id(a)) if encoded is not None else None
        if held is None or held[0] is not a:  # a recycled id() must never return another's JSON
            held = (a, encode_accounting(a))
            if encoded is not None:
                encoded[id(a)] = held
        text = held[1]
    columns = model_columns(
        sha=r.sha,
        provenance=r.provenance,
        status=r.status,
        status_reason=r.status_reason,
        hub=r.hub,
        model_type=r.config.model_type if r.config else None,
        config_json=r.config_json,
        accounting_json=text,
        totals=(a.total_params, a.active_params, a.stored_bytes) if a else (None, None, None),
        popularity=r.popularity,
    )
    return NewModel(
        r.repo_id, r.aliases, r.popularity, columns, encode_time(r.read_at), encode_time(r.first_seen_at)
    )


async def insert_new_models(db: Database, records: Iterable[ModelRecord]) -> int:
    """Insert the models whose repo id the store lacks (any capitalisation), in batches of
    20,000 per transaction, and bump the catalog version once. Returns how many were added."""
    encoded: dict[int, tuple[object, str]] = {}
    return await insert_new_rows(db, (new_model(r, encoded) for r in records))


async def insert_new_rows(db: Database, models: Iterable[NewModel]) -> int:
    """``insert_new_models`` for rows already built (the bundled catalog's shipped rows)."""
    added = 0
    for batch in _batches(models):
        async with db.write():
            keys = [m.repo_id.lower() for m in batch]
            marks = ",".join("?" * len(keys))
            held = {
                str(k)
                for (k,) in await db.fetchall(
                    f"SELECT repo_key FROM models WHERE repo_key IN ({marks})", tuple(keys)
                )
            }
            fresh = list({m.repo_id.lower(): m for m in batch if m.repo_id.lower() not in held}.values())
            now = encode_time(db.clock())
            await db.executemany(
                _INSERT,
                [
                    (m.repo_id, m.repo_id.lower(), *m.columns, m.read_at, m.first_seen_at or now, now)
                    for m in fresh
                ],
            )
            owners = await _take_aliases(db, fresh)
            await add_new_names(db, [name_entry(m.repo_id, m.popularity, m.aliases) for m in fresh])
            await reindex_names(db, owners)
            if fresh:
                await bump_catalog_version(db)
            added += len(fresh)
    return added


async def _take_aliases(db: Database, fresh: list[NewModel]) -> list[str]:
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


def _batches(models: Iterable[NewModel]) -> Iterator[list[NewModel]]:
    it = iter(models)
    while batch := list(islice(it, _BATCH)):
        yield batch
