"""A crawl whose write phase outlasts the heartbeat interval ends cleanly.

The production failure: a re-crawl of 50,000 repos died in ``finish_run`` with "cannot
start a transaction within a transaction" after the heartbeat, cancelled at the end of
the crawl, had its BEGIN queued behind the crawl's writes. Here every statement is made
slow in aiosqlite's thread and the heartbeat beats every millisecond, so heartbeats
queue behind writes all through the crawl and one is in flight when the crawl ends.
"""

from __future__ import annotations

import time

import pytest

from crawler import crawl_once
from store import RUN_COMPLETED, Database, last_run

from .conftest import hub_for, options_for
from .corpus import small_repos

pytestmark = pytest.mark.network


def _slow_thread(db: Database, seconds: float) -> None:
    """Every statement this connection runs takes ``seconds`` longer in aiosqlite's thread."""
    conn = db._conn
    real = conn._execute

    def slowed(fn, *args, **kwargs):  # noqa: ANN001, ANN202
        def run():  # noqa: ANN202
            time.sleep(seconds)
            return fn(*args, **kwargs)

        return real(run)

    conn._execute = slowed


async def test_a_crawl_with_heartbeats_queued_behind_its_writes_finishes(make_standin, tmp_path):
    """Heartbeats every 1 ms behind 2 ms statements: the run is recorded completed, the
    heartbeat moved, and no transaction is left open."""
    repos = small_repos(30)
    standin = make_standin(repos)
    async with await Database.open(tmp_path / "f.sqlite") as db, hub_for(standin) as hub:
        _slow_thread(db, 0.002)
        summary = await crawl_once(hub, db, options_for(()), heartbeat_s=0.001)
        run = await last_run(db)
        assert summary.status == RUN_COMPLETED and run.status == RUN_COMPLETED
        assert run.heartbeat_at > run.started_at  # heartbeats did run during the writes
        assert not db.in_transaction
        again = await crawl_once(hub, db, options_for(()), heartbeat_s=0.001)  # the next crawl starts
        assert again.status == RUN_COMPLETED and again.unchanged == len(repos)
