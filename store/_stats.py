"""Catalog freshness and the name index, read in one place."""

from __future__ import annotations

from ._db import Database
from ._guilds import get_meta
from ._models import get_catalog_version, list_name_rows
from ._name_bits import STALE_KEY as BITS_STALE_KEY
from ._name_bits import backfill_bits
from ._name_tables import STALE_KEY, rebuild_name_tables
from ._names import NameIndex
from ._records import CatalogStats
from ._runs import last_run


async def catalog_stats(db: Database) -> CatalogStats:
    """Counts come from ``model_counts`` (kept by triggers): a few rows at any catalog size."""
    rows = await db.fetchall("SELECT provenance, status, n FROM model_counts WHERE n > 0")
    by_provenance: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for provenance, status, n in rows:
        by_provenance[provenance] = by_provenance.get(provenance, 0) + int(n)
        by_status[status] = by_status.get(status, 0) + int(n)
    return CatalogStats(
        models=sum(by_provenance.values()),
        by_provenance=tuple(sorted(by_provenance.items())),
        by_status=tuple(sorted(by_status.items())),
        last_run=await last_run(db, finished_only=True),
        catalog_version=await get_catalog_version(db),
    )


async def name_index(db: Database) -> NameIndex:
    """The name index over the store's name tables: opening it loads nothing.

    A store migrated from before the name tables is indexed once, here; one migrated from
    before the word bitmaps gets them filled from its postings, once. An in-memory
    database cannot be shared with a second connection, so its index is built in memory.
    """
    if await get_meta(db, STALE_KEY) is not None:
        await rebuild_name_tables(db)
    elif await get_meta(db, BITS_STALE_KEY) is not None:
        await backfill_bits(db)
    if db.path == ":memory:" or db.path.startswith("file:"):
        models, aliases = await list_name_rows(db)
        return NameIndex(models, aliases)
    return NameIndex.open(db.path)
