"""The Discord bot's scheduled jobs: the daily-listing check and the name-index refresh.

Started by the bot's ``setup_hook`` through the factory the composition root hands it, so
presentation code never imports APScheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from .._discord import FitBot

LISTING_JOB_ID = "daily-listing"
INDEX_JOB_ID = "name-index-refresh"
LISTING_CHECK = timedelta(hours=1)
INDEX_CHECK = timedelta(seconds=60)
# APScheduler's default grace is 1 s: a job delayed longer is silently skipped. An hour
# of grace, coalescing and one instance at a time make a busy loop delay it, never drop it.
JOB_DEFAULTS: dict[str, Any] = {"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1}


def start_bot_scheduler(bot: FitBot) -> AsyncIOScheduler:
    """Start the bot's jobs on its event loop; the first listing check runs now."""
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    now = datetime.now(UTC)
    # Code-defined jobs in the memory store, re-added under fixed ids at every start;
    # the first listing check runs now, which is how a missed day gets caught up.
    scheduler.add_job(
        bot.listing.run,
        IntervalTrigger(seconds=LISTING_CHECK.total_seconds(), timezone=UTC),
        id=LISTING_JOB_ID,
        replace_existing=True,
        next_run_time=now,
    )
    scheduler.add_job(
        bot.refresh_index,
        IntervalTrigger(seconds=INDEX_CHECK.total_seconds(), timezone=UTC),
        id=INDEX_JOB_ID,
        replace_existing=True,
    )
    scheduler.start()
    return scheduler
