"""One crawler process running several crawl cycles, each when its parent says so (item 6).

``python -m bench.reliability._crawl_cycles CYCLES`` builds what ``fitbot crawler`` builds
(settings from the environment, logging, the database and the Hub client, through the
composition root's ``open_crawler``) once, then for each line "go" on stdin runs
``crawl_once`` with ``force`` (every repo read and written again, as a day of new commits
would) and prints "cycle N STATUS SECONDS REPOS". It runs at most CYCLES cycles and exits when
stdin closes (after the last cycle it stays up, so that its memory can still be read).
"""

from __future__ import annotations

import asyncio
import sys
import time


async def cycles(count: int) -> None:
    from bot.app._crawl_cli import open_crawler
    from bot._logging import setup_logging
    from bot.app._settings import load_settings
    from crawler import CrawlOptions, crawl_once, load_sources

    settings = load_settings()
    setup_logging(settings.log_format, "WARNING", [s.reveal() for s in (settings.hf_token,) if s])
    options = CrawlOptions(load_sources(settings.sources_path), force=True)
    async with open_crawler(settings) as (db, hub):
        print("ready", flush=True)
        for n in range(count):
            line = await asyncio.to_thread(sys.stdin.readline)
            if line.strip() != "go":
                return
            started = time.monotonic()
            summary = await crawl_once(hub, db, options)
            print(f"cycle {n + 1} {summary.status} {time.monotonic() - started:.2f} {len(summary.outcomes)}", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the parent closes stdin


if __name__ == "__main__":
    asyncio.run(cycles(int(sys.argv[1])))
