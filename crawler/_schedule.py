"""The daily crawl as a long-lived process: APScheduler 3.11 inside the running asyncio loop.

The job is defined in code and re-added at every start under a fixed id with
``replace_existing`` into the default MemoryJobStore, so nothing is pickled and a new
release never meets a stale job. ``coalesce`` folds a backlog of missed runs into one,
``max_instances=1`` keeps two crawls from overlapping, and a run that is late by less
than ``misfire_grace_time`` still happens. A run missed while the process was down is
caught up at start when the last completed crawl is more than a day old.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from estimator.errors import FitbotError

log = logging.getLogger(__name__)

DAILY_JOB_ID = "fitbot-daily-crawl"
MISFIRE_GRACE_S = 6 * 3600  # a crawl that starts up to 6 hours late is still worth running
CATCH_UP_AFTER = timedelta(days=1)
STOP_TIMEOUT_S = 30.0  # how long a stopping crawl may take to record itself


def job_defaults() -> dict[str, object]:
    return {"misfire_grace_time": MISFIRE_GRACE_S, "coalesce": True, "max_instances": 1}


def catch_up_due(last_completed: datetime | None, now: datetime) -> bool:
    """Whether to crawl at start: never completed, or the last completed crawl is over a day old."""
    return last_completed is None or now - last_completed > CATCH_UP_AFTER


class CrawlJob:
    """The scheduled job: a thin wrapper around ``crawl_once`` that keeps the scheduler
    alive whatever one crawl does, and remembers its task so a stop can wait for it."""

    def __init__(self, run: Callable[[], Awaitable[object]]) -> None:
        self._run = run
        self.task: asyncio.Task[object] | None = None

    async def run(self) -> None:
        self.task = asyncio.current_task()
        try:
            await self._run()
        except FitbotError as e:  # crawl_once has recorded the run as failed
            log.error("scheduled crawl failed: %s", e)
        except asyncio.CancelledError:  # a stop: crawl_once has recorded the run as interrupted
            log.info("scheduled crawl stopped")
        finally:
            self.task = None


def build_scheduler(job: CrawlJob, *, hour_utc: int, jitter_s: int) -> AsyncIOScheduler:
    """A scheduler with the daily crawl job; call ``start()`` inside the running loop."""
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=job_defaults())
    trigger = CronTrigger(hour=hour_utc, minute=0, jitter=jitter_s or None, timezone=UTC)
    # A bound coroutine method: APScheduler runs it in the loop (an object with an async
    # __call__ would be sent to a thread pool and never awaited).
    scheduler.add_job(job.run, trigger, id=DAILY_JOB_ID, name="daily crawl", replace_existing=True)
    return scheduler


async def serve_daily_crawls(
    run: Callable[[], Awaitable[object]],
    *,
    hour_utc: int,
    jitter_s: int,
    last_completed: datetime | None,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Crawl daily until ``stop`` is set, then let a running crawl record itself and return."""
    job = CrawlJob(run)
    scheduler = build_scheduler(job, hour_utc=hour_utc, jitter_s=jitter_s)
    scheduler.start()
    now = clock()
    if catch_up_due(last_completed, now):
        log.info("the last completed crawl is %s: crawling now", last_completed or "missing")
        scheduler.modify_job(DAILY_JOB_ID, next_run_time=now)
    log.info("next crawl at %s", scheduler.get_job(DAILY_JOB_ID).next_run_time)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)  # cancels a running crawl, which records itself as interrupted
        await asyncio.sleep(0)  # the shutdown itself runs as a loop callback
        await _wait_for(job)


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM or SIGINT; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)

    def remove() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return remove


async def _wait_for(job: CrawlJob) -> None:
    task = job.task
    if task is None or task.done():
        return
    task.cancel()  # the scheduler's shutdown also cancels it, a moment later
    await asyncio.wait([task], timeout=STOP_TIMEOUT_S)
