"""The daily crawl's scheduling: job defaults, trigger, catch-up at start, clean stops."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger

from crawler import (
    DAILY_JOB_ID,
    CrawlFailedError,
    CrawlJob,
    build_scheduler,
    catch_up_due,
    crawl_once,
    job_defaults,
    serve_daily_crawls,
)
from store import RUN_INTERRUPTED, RUN_RUNNING, last_run

from .conftest import TOKEN, hub_for, options_for
from .corpus import corpus, sources_toml

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("last", "due"),
    [(None, True), (NOW - timedelta(days=2), True), (NOW - timedelta(hours=25), True),
     (NOW - timedelta(hours=23), False), (NOW - timedelta(days=1), False), (NOW, False)],
)
def test_a_missed_crawl_is_caught_up_only_when_more_than_a_day_late(last, due):
    """At start: crawl now if there never was a completed crawl or the last is over a day old."""
    assert catch_up_due(last, NOW) is due


def test_job_defaults_coalesce_and_never_overlap():
    """Missed runs fold into one, two crawls never overlap, a late run within the grace still runs."""
    defaults = job_defaults()
    assert defaults["coalesce"] is True and defaults["max_instances"] == 1
    assert 3600 <= defaults["misfire_grace_time"] <= 24 * 3600


async def test_the_daily_job_fires_at_the_configured_utc_hour_with_jitter():
    """The code-defined job sits in a memory job store under a fixed id, on a UTC cron trigger;
    adding it again replaces it."""
    job = CrawlJob(lambda: asyncio.sleep(0))
    scheduler = build_scheduler(job, hour_utc=4, jitter_s=900)
    scheduler.start()
    try:
        scheduled = scheduler.get_job(DAILY_JOB_ID)
        trigger = scheduled.trigger
        assert isinstance(trigger, CronTrigger) and trigger.jitter == 900 and str(trigger.timezone) == "UTC"
        assert {f.name: str(f) for f in trigger.fields}["hour"] == "4"
        assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
        first = scheduled.next_run_time.astimezone(UTC)
        assert first.hour == 4 and first.minute * 60 + first.second <= 900
        assert first - datetime.now(UTC) <= timedelta(days=1, seconds=900)
        scheduler.add_job(job.run, trigger, id=DAILY_JOB_ID, replace_existing=True)
        assert [j.id for j in scheduler.get_jobs()] == [DAILY_JOB_ID]
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


async def test_a_crawl_runs_at_once_when_one_was_missed_and_not_otherwise():
    """serve_daily_crawls crawls at start when due; when not due it only waits for the hour."""
    runs = []

    async def run() -> None:
        runs.append(datetime.now(UTC))

    for last, expected in ((None, 1), (datetime.now(UTC) - timedelta(hours=2), 0)):
        runs.clear()
        stop = asyncio.Event()
        serving = asyncio.create_task(
            serve_daily_crawls(run, hour_utc=(datetime.now(UTC).hour + 12) % 24, jitter_s=0,
                               last_completed=last, stop=stop)
        )
        for _ in range(30):  # a due crawl starts within milliseconds
            if runs:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(serving, 5)
        assert len(runs) == expected


async def test_a_failed_crawl_does_not_stop_the_scheduler(caplog):
    """A crawl that fails is logged; the job is still there for tomorrow."""
    async def fail() -> None:
        raise CrawlFailedError("the Hub is down")

    job = CrawlJob(fail)
    await job.run()
    assert "the Hub is down" in caplog.text
    assert job.task is None


@pytest.mark.network
async def test_a_stop_during_a_crawl_records_it_as_interrupted(make_standin, db):
    """SIGTERM's path: stop set mid-crawl → the crawl is cancelled, records itself interrupted,
    and serve_daily_crawls returns promptly."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}), latency_s=0.2)
    stop = asyncio.Event()
    first_repo = _FirstRepo()
    async with hub_for(standin, token=TOKEN) as hub:
        serving = asyncio.create_task(serve_daily_crawls(
            lambda: crawl_once(hub, db, options_for(pinned), progress=first_repo),
            hour_utc=4, jitter_s=0, last_completed=None, stop=stop,
        ))
        await asyncio.wait_for(first_repo.done.wait(), 120)  # the crawl is under way: one repo is written
        stop.set()
        await asyncio.wait_for(serving, 120)  # a safety net only; the check below is about counts
    run = await last_run(db)
    assert run.status == RUN_INTERRUPTED
    assert 1 <= sum(n for _, n in run.outcomes) < first_repo.total  # cut short, not waited out


class _FirstRepo:
    """Progress that says when the first repo of a crawl is done (an event, not a sleep)."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, repo_id: str, status: str) -> None:
        self.done.set()


@pytest.mark.network
def test_fitbot_crawler_stops_cleanly_on_sigterm(make_standin, tmp_path):
    """`fitbot crawler` starts a catch-up crawl on an empty database, and SIGTERM ends the
    process with exit code 0, the run recorded as interrupted."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}), latency_s=0.2)
    (tmp_path / "sources.toml").write_text(sources_toml(pinned), encoding="utf-8")
    db = tmp_path / "db.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "FITBOT_"))}
    env.update(HF_ENDPOINT=standin.url, HF_TOKEN=TOKEN, FITBOT_DB=str(db), HF_HOME=str(tmp_path / "hf"),
               FITBOT_SOURCES=str(tmp_path / "sources.toml"), FITBOT_CRAWL_JITTER="0")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "crawler"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a safety net on the condition, sized for a loaded machine
        while not _run_status(db) == "running":
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert _run_status(db) == "interrupted"
    assert "next crawl at" in err and TOKEN not in out + err


def _run_status(db: Path) -> str | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT status FROM crawl_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def test_run_is_dead_decides_by_process_on_this_host_and_by_heartbeat_elsewhere():
    """Same host: a dead pid (or our own, a restarted container) is dead; other hosts: a stale heartbeat."""
    import os
    from datetime import UTC, datetime, timedelta

    from crawler._crawl import STALE_AFTER, run_is_dead
    from store import CrawlRun

    now = datetime(2026, 11, 22, 12, tzinfo=UTC)

    def run(pid, host, beat_age):
        return CrawlRun(1, now, None, "running", "x", pid=pid, host=host, heartbeat_at=now - beat_age)

    fresh, stale = timedelta(seconds=5), STALE_AFTER + timedelta(seconds=1)
    check = lambda r: run_is_dead(r, now=now, host="here", pid=os.getpid())  # noqa: E731
    assert check(run(os.getpid(), "here", fresh)) is True          # an earlier life of this very pid
    assert check(run(os.getppid(), "here", stale)) is False         # a live process here, heartbeat aside
    assert check(run(2**22 + 7, "here", fresh)) is True             # no such process
    assert check(run(123, "elsewhere", fresh)) is False
    assert check(run(123, "elsewhere", stale)) is True
