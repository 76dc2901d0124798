"""Queries the crawler needs beyond reading and writing whole models."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from ._codec import encode_time
from ._db import Database
from ._models import bump_catalog_version
from ._name_tables import reindex_names
from ._records import RUN_COMPLETED, CrawlRun, HubFacts
from ._runs import _COLUMNS as _RUN_COLUMNS
from ._runs import _run


async def list_repo_keys(db: Database) -> dict[str, str]:
    """Every repo id in the catalog, keyed by its lower-case form (ids are unique ignoring case)."""
    rows = await db.fetchall("SELECT repo_key, repo_id FROM models")
    return {key: repo_id for key, repo_id in rows}


async def get_last_completed_run(db: Database) -> CrawlRun | None:
    """The most recent crawl that ran to the end, or None."""
    row = await db.fetchone(
        f"SELECT {_RUN_COLUMNS} FROM crawl_runs WHERE status = ? ORDER BY run_id DESC LIMIT 1",
        (RUN_COMPLETED,),
    )
    return _run(row) if row else None


async def update_hub_facts(db: Database, facts: Iterable[tuple[str, HubFacts]]) -> int:
    """Refresh what the Hub listing says (downloads, likes, trending...) of models whose
    files did not change, in one short transaction; the accounting is left alone and
    ``updated_at`` does not move. Returns how many rows changed."""
    rows = [
        (
            h.downloads,
            h.likes,
            h.trending_score,
            h.gated,
            encode_time(h.last_modified),
            json.dumps(list(h.tags)),
            h.hub_total_params,
            math.log10(1 + h.downloads) if h.downloads else 0.0,
            repo_id.lower(),
        )
        for repo_id, h in facts
    ]
    if not rows:
        return 0
    changed, reranked = 0, []
    async with db.write():
        for row in rows:
            before = await db.fetchone(
                "SELECT repo_id, popularity FROM models WHERE repo_key = ?", (row[-1],)
            )
            # Facts equal to the stored ones write nothing: a re-crawl where nothing changed
            # leaves the catalog version alone, so readers have nothing to refresh.
            n = await db.execute(
                """UPDATE models SET downloads = ?, likes = ?, trending_score = ?, gated = ?,
                last_modified = ?,
                tags_json = ?, hub_total_params = ?, popularity = ? WHERE repo_key = ?
                AND (downloads, likes, trending_score, gated, last_modified, tags_json,
                hub_total_params, popularity)
                IS NOT (?, ?, ?, ?, ?, ?, ?, ?)""",
                (*row, *row[:-1]),
            )
            changed += n
            if n and before is not None and before[1] != row[-2]:
                reranked.append(str(before[0]))
        if reranked:
            await reindex_names(db, reranked)
        if changed:
            await bump_catalog_version(db)
    return changed
