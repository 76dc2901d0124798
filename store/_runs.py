"""Crawl runs: started, then completed, failed or (after a crash) interrupted."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._codec import decode_time, encode_time
from ._db import Database
from ._records import RUN_COMPLETED, RUN_FAILED, RUN_INTERRUPTED, RUN_RUNNING, CrawlRun

_COLUMNS = (
    "run_id, started_at, finished_at, status, source, outcomes_json, requests, bytes_received, error, "
    "pid, host, heartbeat_at"
)


async def start_run(db: Database, source: str, *, pid: int | None = None, host: str | None = None) -> int:
    """Record a crawl as running, by which process; see ``mark_interrupted_runs``."""
    async with db.write():
        now = encode_time(db.clock())
        await db.execute(
            "INSERT INTO crawl_runs (started_at, status, source, pid, host, heartbeat_at) VALUES (?, "
            "?, ?, ?, ?, ?)",
            (now, RUN_RUNNING, source, pid, host, now),
        )
        row = await db.fetchone("SELECT last_insert_rowid()")
    assert row is not None
    return int(row[0])


async def finish_run(
    db: Database,
    run_id: int,
    *,
    status: str,
    outcomes: dict[str, int],
    requests: int,
    bytes_received: int,
    error: str | None = None,
) -> None:
    if status not in (RUN_COMPLETED, RUN_FAILED, RUN_INTERRUPTED):
        raise ValueError(f"a run cannot finish as {status!r}")
    async with db.write():
        await db.execute(
            """UPDATE crawl_runs SET finished_at = ?, status = ?, outcomes_json = ?, requests = ?,
            bytes_received = ?, error = ? WHERE run_id = ?""",
            (
                encode_time(db.clock()),
                status,
                json.dumps(outcomes, sort_keys=True),
                requests,
                bytes_received,
                error,
                run_id,
            ),
        )


async def heartbeat_run(db: Database, run_id: int) -> None:
    """Say the run is still alive (the crawler does this every few seconds)."""
    async with db.write():
        await db.execute(
            "UPDATE crawl_runs SET heartbeat_at = ? WHERE run_id = ?", (encode_time(db.clock()), run_id)
        )


async def mark_interrupted_runs(db: Database, *, is_dead: Callable[[CrawlRun], bool] | None = None) -> int:
    """Close runs left "running" by a process that died; returns how many.

    ``is_dead`` decides per run (by its pid, host and heartbeat); without it every
    running run counts as dead.
    """
    async with db.write():
        rows = await db.fetchall(f"SELECT {_COLUMNS} FROM crawl_runs WHERE status = ?", (RUN_RUNNING,))
        dead = [run.run_id for run in map(_run, rows) if is_dead is None or is_dead(run)]
        for run_id in dead:
            await db.execute(
                "UPDATE crawl_runs SET status = ?, finished_at = ?, error = "
                "'the process stopped before the run finished' WHERE run_id = ?",
                (RUN_INTERRUPTED, encode_time(db.clock()), run_id),
            )
    return len(dead)


async def last_run(db: Database, *, finished_only: bool = False) -> CrawlRun | None:
    where = "WHERE status != 'running'" if finished_only else ""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM crawl_runs {where} ORDER BY run_id DESC LIMIT 1")
    return _run(row) if row else None


async def list_runs(db: Database, *, limit: int = 20) -> tuple[CrawlRun, ...]:
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM crawl_runs ORDER BY run_id DESC LIMIT ?", (limit,))
    return tuple(_run(r) for r in rows)


def _run(row: tuple[Any, ...]) -> CrawlRun:
    run_id, started, finished, status, source, outcomes, requests, received, error, pid, host, heartbeat = row
    return CrawlRun(
        run_id=int(run_id),
        started_at=datetime.fromisoformat(started),  # started_at is NOT NULL
        finished_at=decode_time(finished),
        status=status,
        source=source,
        outcomes=tuple(sorted(json.loads(outcomes or "{}").items())),
        requests=int(requests),
        bytes_received=int(received),
        error=error,
        pid=pid,
        host=host,
        heartbeat_at=decode_time(heartbeat),
    )
