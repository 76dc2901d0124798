"""Item 9, cancellation-safe writes: every write path of store/ cancelled at each of its
awaits, a shutdown in the middle of a write, and crawls whose writes outlast the heartbeat.

* Every function of store/ that opens a write transaction (14 cases, the list in
  tests/store/test_cancellation.py) is run once uncancelled to count the statements it
  queues in aiosqlite's thread, then again from the same state once per statement, its
  task cancelled there: just after the statement was queued (it still runs: how the
  heartbeat's BEGIN once left a transaction open) and just before (it never runs). After
  each cut: no transaction may be open, the data must be all or nothing, the next write
  must work.
* An upsert is cut by the event loop ending (``asyncio.run`` returning) at each of its
  statements; a second connection must see all or nothing and write at once.
* Crawls of the stand-in's repos into a file database whose every statement takes 2 ms
  longer in aiosqlite's thread, with a heartbeat every 1 ms, so heartbeats queue behind the
  crawl's writes all the way and one is in flight when the crawl ends (the production
  failure: "cannot start a transaction within a transaction" in ``finish_run``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from crawler import HubConfig, crawl_once, open_hub, parse_sources
from store import Database, last_run
from tests.crawler.conftest import FAST
from tests.crawler.corpus import small_repos, sources_toml
from tests.crawler.hub_standin import HubStandIn
from tests.crawler.test_heartbeat import _slow_thread
from tests.store.test_cancellation import (
    WRITES,
    _a_model,
    _check_after_stop,
    _Cutter,
    _fresh,
    _nothing,
    _reference,
    _shut_down_mid_write,
    _snapshot,
)

from ._common import Deadline, ItemResult

CRAWLS = 3
CRAWL_REPOS = 120


async def _cut_everywhere() -> tuple[int, list[str]]:
    """(cuts made, problems) over every write path, statement and mode."""
    cuts, problems = 0, []
    for name, setup, write in WRITES:
        before, after, statements = await _reference(setup, write)
        for mode in ("queued", "before"):
            for at in range(statements):
                db = await _fresh(setup)
                try:
                    cutter = _Cutter(at=at, mode=mode)
                    cutter.install(db)
                    cutter.task = asyncio.create_task(write(db))
                    await asyncio.gather(cutter.task, return_exceptions=True)
                    state = await _snapshot(db)
                    cuts += 1
                    where = f"{name} cut at statement {at + 1} of {statements} ({mode})"
                    if db.in_transaction:
                        problems.append(f"{where}: a transaction was left open")
                    if state not in (before, after):
                        problems.append(f"{where}: a partial write")
                    try:
                        await _a_model(db)
                    except Exception as e:  # noqa: BLE001 - the finding itself
                        problems.append(f"{where}: the next write failed: {type(e).__name__}: {e}")
                finally:
                    await db.close()
    return cuts, problems


def _stop_everywhere(workdir: Path) -> tuple[int, list[str]]:
    statements = asyncio.run(_reference(_nothing, _a_model))[2]
    problems = []
    for at in range(statements):
        path = workdir / f"stop-{at}.sqlite"
        left: list[Database] = []
        asyncio.run(_shut_down_mid_write(path, at, left))
        try:
            asyncio.run(_check_after_stop(path))
        except Exception as e:  # noqa: BLE001 - the finding itself
            problems.append(f"loop stopped at statement {at + 1}: {type(e).__name__}: {e}")
        asyncio.run(left[0].close())
    return statements, problems


async def _crawls(workdir: Path) -> tuple[list[str], list[str]]:
    rows, problems = [], []
    repos = small_repos(CRAWL_REPOS)
    with HubStandIn(repos, page_size=1000) as standin:
        beats = 0

        def count(sql: str, params: tuple) -> None:
            nonlocal beats
            beats += sql.startswith("UPDATE crawl_runs SET heartbeat_at")

        sources = parse_sources(sources_toml((), limit=CRAWL_REPOS))
        from crawler import CrawlOptions

        async with await Database.open(workdir / "crawl.sqlite", tracer=count) as db, \
                open_hub(HubConfig(endpoint=standin.url, policy=FAST, seed=7)) as hub:
            _slow_thread(db, 0.002)
            for n in range(CRAWLS):
                started, beats = time.monotonic(), 0
                try:
                    summary = await crawl_once(hub, db, CrawlOptions(sources, force=True), heartbeat_s=0.001)
                    status = summary.status
                except Exception as e:  # noqa: BLE001 - the finding itself
                    status = f"{type(e).__name__}: {e}"
                    problems.append(f"crawl {n + 1}: {status}")
                run = await last_run(db)
                if db.in_transaction:
                    problems.append(f"crawl {n + 1}: a transaction was left open")
                rows.append(f"| {n + 1} | {status} | {run.status if run else None} | {beats} | "
                            f"{time.monotonic() - started:.1f} s |")
    return rows, problems


def run_item(deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    cuts, problems = asyncio.run(_cut_everywhere())
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-9-") as tmp:
        stops, stop_problems = _stop_everywhere(Path(tmp))
        rows, crawl_problems = asyncio.run(_crawls(Path(tmp)))
    problems += stop_problems + crawl_problems
    figures = (
        ("write paths × statements × 2 modes: cuts made", f"{cuts} over {len(WRITES)} write paths"),
        ("cuts that left a transaction open, a partial write or a refused next write",
         str(len(problems) - len(stop_problems) - len(crawl_problems))),
        ("event loop ended mid-upsert (each statement)", f"{stops} stops, {len(stop_problems)} problems"),
        (f"crawls of {CRAWL_REPOS} repos, 2 ms statements, heartbeat every 1 ms",
         f"{len(rows)} crawls, {len(crawl_problems)} problems"),
    )
    details = "\n".join(["| crawl | result | run recorded | heartbeats written | time |", "|---|---|---|---|---|", *rows])
    return ItemResult(9, "Cancellation-safe writes", tuple(problems), figures, details, time.monotonic() - started)
