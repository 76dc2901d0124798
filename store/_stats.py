"""Catalog freshness and the name index, read in one place."""

from __future__ import annotations

import asyncio

from ._db import Database
from ._models import get_catalog_version, list_name_rows
from ._names import NameIndex
from ._records import CatalogStats
from ._runs import last_run


async def catalog_stats(db: Database) -> CatalogStats:
    by_provenance = await db.fetchall("SELECT provenance, COUNT(*) FROM models GROUP BY provenance ORDER BY provenance")
    by_status = await db.fetchall("SELECT status, COUNT(*) FROM models GROUP BY status ORDER BY status")
    return CatalogStats(
        models=sum(n for _, n in by_provenance),
        by_provenance=tuple((p, int(n)) for p, n in by_provenance),
        by_status=tuple((s, int(n)) for s, n in by_status),
        last_run=await last_run(db, finished_only=True),
        catalog_version=await get_catalog_version(db),
    )


async def name_index(db: Database) -> NameIndex:
    """Build the name index from the catalog (rebuild when the catalog version moves).

    The build takes seconds at 100,000 names, so it runs in a thread: the bot's event
    loop keeps answering meanwhile.
    """
    models, aliases = await list_name_rows(db)
    return await asyncio.to_thread(NameIndex, models, aliases)
