"""A Hub that cannot be reached fails the crawl loudly; a partial outage does not.

Loud means: the crawl stops within 60 s with one error line naming the endpoint and
what to check, exits non-zero, records the run as failed, and ``fitbot status`` exits
non-zero saying why. The threshold is ``OutageBreaker``'s (18 of the last 20 repos).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler import CrawlFailedError, RepoOutcome, crawl_once
from crawler._outcome import OUTAGE_WINDOW, OutageBreaker
from store import RUN_COMPLETED, RUN_FAILED, STATUS_OK, Database, count_models, last_run

from .conftest import FAST, hub_for, options_for
from .corpus import small_repos
from .hub_standin import API, RESOLVERS, Faults

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ClosedHub:
    """Quacks like a stand-in for ``hub_for``: only a URL, where nothing answers."""

    def __init__(self) -> None:
        self.url = f"http://127.0.0.1:{_closed_port()}"


def _outcome(outage: bool) -> RepoOutcome:
    return RepoOutcome("org/x", "error", "the Hub kept failing", transient=True, outage=outage)


def test_the_breaker_trips_at_18_of_the_last_20_and_not_before():
    """17 outages in the window keep the crawl going; the 18th stops it; old ones age out."""
    breaker = OutageBreaker()
    for _ in range(3):
        breaker.record(_outcome(False))
    for _ in range(17):
        breaker.record(_outcome(True))
    assert not breaker.tripped()  # 17 of 20
    breaker.record(_outcome(True))  # the oldest (a success) leaves: 18 of 20
    assert breaker.tripped()
    fresh = OutageBreaker()
    for i in range(OUTAGE_WINDOW - 1):
        fresh.record(_outcome(True))
    assert not fresh.tripped() and fresh.tripped_at_end()  # too few for the window; all of them at the end


def test_a_small_crawl_fails_at_the_end_only_when_almost_all_failed():
    """At the end: 9 of 10 outages fail the run, 8 of 10 do not."""
    for outages, tripped in ((9, True), (8, False)):
        breaker = OutageBreaker()
        for i in range(10):
            breaker.record(_outcome(i < outages))
        assert breaker.tripped_at_end() is tripped


async def test_a_closed_port_fails_the_crawl_and_records_it(db):
    """Nothing listens: CrawlFailedError naming the endpoint, the run recorded failed."""
    closed = _ClosedHub()
    async with hub_for(closed) as hub:
        with pytest.raises(CrawlFailedError) as caught:
            await crawl_once(hub, db, options_for(()))
    assert closed.url in str(caught.value) and "HF_ENDPOINT" in str(caught.value)
    run = await last_run(db)
    assert run.status == RUN_FAILED and closed.url in run.error


async def test_a_hub_answering_500_to_everything_fails_the_crawl(make_standin, db):
    """Every request answered 500: the crawl fails at its first question, before any listing."""
    standin = make_standin(small_repos(5), faults=Faults(rate_500=1.0))
    async with hub_for(standin) as hub:
        with pytest.raises(CrawlFailedError, match="cannot be reached"):
            await crawl_once(hub, db, options_for(()))
    assert {h.route for h in standin.hits} == {"list"} and len(standin.hits) == FAST.attempts  # the probe only
    run = await last_run(db)
    assert run.status == RUN_FAILED and standin.url in run.error


async def test_a_hub_failing_every_read_mid_crawl_stops_after_the_window(make_standin, db):
    """Listings answer, every file read fails: the crawl stops once the window is full of
    outages, without reading the rest, and records the run as failed."""
    standin = make_standin(small_repos(60), faults=Faults(rate_500=1.0, buckets=frozenset({RESOLVERS})))
    async with hub_for(standin, concurrency=2) as hub:
        with pytest.raises(CrawlFailedError, match="of the last 20 repos"):
            await crawl_once(hub, db, options_for(()))
    run = await last_run(db)
    assert run.status == RUN_FAILED and "of the last 20 repos" in run.error
    finished = sum(n for _, n in run.outcomes)
    assert OUTAGE_WINDOW <= finished < 60  # stopped early: the workers in flight were cancelled


async def test_a_partial_outage_writes_the_reachable_repos(make_standin, db):
    """A third of the repos unreachable: the run completes, the others are written ok."""
    repos = small_repos(30)
    down = frozenset(r.repo_id for r in repos[::3])
    standin = make_standin(repos, faults=Faults(rate_500=1.0, repos=down, buckets=frozenset({RESOLVERS, API})))
    async with hub_for(standin) as hub:
        summary = await crawl_once(hub, db, options_for(()))
    assert summary.status == RUN_COMPLETED
    ok = {o.repo_id for o in summary.outcomes if o.status == STATUS_OK}
    assert ok == {r.repo_id for r in repos} - down
    assert {o.repo_id for o in summary.outcomes if o.outage} == down
    assert await count_models(db) >= len(ok)
    assert (await last_run(db)).status == RUN_COMPLETED


def test_fitbot_crawl_against_a_closed_port_is_loud_and_quick(tmp_path):
    """The operator's case, with the production retry policy: within 60 s, one line on
    stderr naming the endpoint and what to check, exit 1; then ``fitbot status`` exits 1
    and says why."""
    endpoint = _ClosedHub().url
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_ENDPOINT": endpoint, "FITBOT_DB": str(tmp_path / "f.sqlite")}
    for name in ("FITBOT_CONFIG", "HF_TOKEN", "FITBOT_HF_TOKEN", "FITBOT_SOURCES"):
        env.pop(name, None)
    started = time.monotonic()
    crawl = subprocess.run([sys.executable, "-m", "bot.cli", "crawl", "--limit", "5"], env=env,
                           check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    elapsed = time.monotonic() - started
    assert crawl.returncode == 1, crawl.stderr
    lines = crawl.stderr.strip().splitlines()
    assert len(lines) == 1, crawl.stderr
    assert endpoint in lines[0] and "check HF_ENDPOINT" in lines[0]
    assert elapsed < 60, f"took {elapsed:.1f} s"  # the promise itself, not a proxy for an event
    status = subprocess.run([sys.executable, "-m", "bot.cli", "status"], env=env,
                            check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert status.returncode == 1
    assert "last_crawl_status: failed" in status.stdout and endpoint in status.stdout


def test_retry_warnings_are_printed_once(tmp_path):
    """huggingface_hub's own retry warnings reach stderr once, through fitbot's handler."""
    code = (
        "import logging, huggingface_hub\n"
        "from huggingface_hub.utils import logging as hf_logging\n"
        "from bot._logging import setup_logging\n"
        "setup_logging('text', 'INFO')\n"
        "hf_logging.get_logger('huggingface_hub.utils._http').warning('Retrying in 1s [Retry 1/5].')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Retrying in 1s") == 1, done.stderr
    assert "logger=huggingface_hub.utils._http" in done.stderr


async def test_database_left_by_an_outage_is_usable(tmp_path):
    """The failed run's database opens and takes the next crawl's writes (nothing left open)."""
    path = tmp_path / "f.sqlite"
    closed = _ClosedHub()
    async with await Database.open(path) as db, hub_for(closed) as hub:
        with pytest.raises(CrawlFailedError):
            await crawl_once(hub, db, options_for(()))
    async with await Database.open(path) as again:
        assert (await last_run(again)).status == RUN_FAILED
