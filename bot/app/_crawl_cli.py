"""``fitbot crawl`` (one crawl now) and ``fitbot crawler`` (the daily crawl as a service).

Part of the composition root: settings in, database and Hub client opened here and
handed to the crawler. ``HF_ENDPOINT`` and ``HF_TOKEN`` reach the crawler through the
settings (``Settings.hf_endpoint``, ``Settings.hf_token``), never through huggingface_hub's
import-time constants.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from crawler import (
    CrawlOptions,
    CrawlSummary,
    HubClient,
    HubConfig,
    ParsePool,
    crawl_once,
    install_stop_signals,
    load_sources,
    open_hub,
    parse_pool,
    serve_daily_crawls,
)
from store import Database, get_last_completed_run

from .._logging import setup_logging
from ._database import open_database
from ._settings import Settings

if TYPE_CHECKING:
    from ._cli import CliState


def hub_config(settings: Settings) -> HubConfig:
    """The crawler's view of the settings."""
    token = settings.hf_token.reveal() if settings.hf_token else None
    return HubConfig(endpoint=settings.hf_endpoint, token=token, concurrency=settings.crawl_concurrency)


@asynccontextmanager
async def open_crawler(
    settings: Settings, pool: ParsePool | None = None
) -> AsyncIterator[tuple[Database, HubClient]]:
    """The database and the Hub client of a crawl; ``pool`` comes from ``parse_pool()``, opened
    before the event loop (it forks its worker while the process has one thread)."""
    async with open_database(settings) as db, open_hub(hub_config(settings), pool) as hub:
        yield db, hub


class _Bar:
    """A tqdm bar on stderr when it is a terminal; nothing otherwise."""

    def __init__(self) -> None:
        self._bar: tqdm | None = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty():
            self._bar = tqdm(total=total, unit="repo", file=sys.stderr, dynamic_ncols=True, leave=False)

    def advance(self, repo_id: str, status: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(repo_id[-40:], refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@click.command()
@click.option(
    "--repo",
    "repos",
    multiple=True,
    metavar="ID",
    help="Read only this repo (repeatable), e.g. openai/gpt-oss-20b.",
)
@click.option(
    "--limit", type=click.IntRange(1, 100_000), help="Read at most N of the repos the sources list."
)
@click.option("--source", metavar="NAME", help="Use only this source of the sources file (e.g. trending).")
@click.option("--force", is_flag=True, help="Read repos again even if their commit did not change.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def crawl_command(
    state: CliState, repos: tuple[str, ...], limit: int | None, source: str | None, force: bool, as_json: bool
) -> None:
    """Crawl the Hub once now: read the safetensors headers of new or changed models.

    \b
    Repos whose commit did not change since the last crawl cost nothing. Shows a
    progress bar in a terminal, prints the outcomes, and exits 0 unless the crawl
    itself failed (a repo that cannot be read is an outcome, not a failure).
    \b
    Example:
      fitbot crawl --source trending --limit 20
      fitbot crawl --repo openai/gpt-oss-20b --repo Qwen/Qwen3-30B-A3B
    """
    settings: Settings = state.settings
    if not state.verbose:  # the summary lists every outcome; per-repo warnings would only cut the bar
        logging.getLogger("crawler").setLevel(logging.ERROR)
    options = CrawlOptions(load_sources(settings.sources_path), source, tuple(repos), limit, force)

    async def run(pool: ParsePool) -> CrawlSummary:
        bar = _Bar()
        try:
            async with open_crawler(settings, pool) as (db, hub):
                return await crawl_once(hub, db, options, progress=bar)
        finally:
            bar.close()

    with parse_pool() as pool:
        summary = asyncio.run(run(pool))
    click.echo(json.dumps(summary_json(summary), indent=2) if as_json else render_summary(summary))


@click.command()
@click.pass_obj
def crawler_command(state: CliState) -> None:
    """Run the crawler as a service: one crawl a day, until SIGTERM or Ctrl-C.

    \b
    Crawls at FITBOT_CRAWL_HOUR (UTC) plus up to FITBOT_CRAWL_JITTER seconds, and at
    start when the last completed crawl is more than a day old. Logs one summary line
    per crawl. A crawl cut short by a stop is recorded as interrupted; the next one
    picks up what it left.
    \b
    Example:
      FITBOT_CRAWL_HOUR=4 FITBOT_DB=/var/lib/fitbot/fitbot.sqlite fitbot crawler
    """
    settings: Settings = state.settings
    secrets = [s.reveal() for s in (settings.discord_token, settings.hf_token) if s]
    setup_logging(settings.log_format, "DEBUG" if state.verbose else settings.log_level, secrets)
    sources = load_sources(settings.sources_path)
    with parse_pool() as pool:
        asyncio.run(_serve(settings, CrawlOptions(sources), pool))


async def _serve(settings: Settings, options: CrawlOptions, pool: ParsePool) -> None:
    stop = asyncio.Event()
    remove_signals = install_stop_signals(stop)
    try:
        async with open_crawler(settings, pool) as (db, hub):
            last = await get_last_completed_run(db)
            await serve_daily_crawls(
                lambda: crawl_once(hub, db, options),
                hour_utc=settings.crawl_hour_utc,
                jitter_s=settings.crawl_jitter_seconds,
                last_completed=last.finished_at if last else None,
                stop=stop,
            )
    finally:
        remove_signals()


def render_summary(summary: CrawlSummary) -> str:
    """The crawl's outcome for a terminal: counts, cost, then every repo that is not ok."""
    stats = summary.stats
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts().items())) or "nothing listed"
    lines = [
        f"crawl {summary.run_id} {summary.status} in {summary.elapsed_s:.1f}s: "
        f"{summary.seen} repos seen ({counts})",
        f"requests: {stats.requests} ({stats.api_requests} API, {stats.resolve_requests} resolve), "
        f"{stats.bytes_received:,} bytes received, {stats.retries} retries",
    ]
    for outcome in summary.outcomes:
        if outcome.status != "ok":
            lines.append(f"  {outcome.status:<14} {outcome.repo_id}: {outcome.reason}")
    for outcome in summary.mismatches:
        lines.append(
            f"  {'count differs':<14} {outcome.repo_id}: ours {outcome.total_params:,}, "
            f"the Hub's safetensors.total {outcome.hub_total_params:,}"
        )
    return "\n".join(lines)


def summary_json(summary: CrawlSummary) -> dict[str, Any]:
    stats = summary.stats
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "seen": summary.seen,
        "unchanged": summary.unchanged,
        "counts": summary.counts(),
        "requests": {"api": stats.api_requests, "resolve": stats.resolve_requests, "total": stats.requests},
        "bytes_received": stats.bytes_received,
        "retries": stats.retries,
        "elapsed_s": round(summary.elapsed_s, 3),
        "outcomes": [
            {
                "repo_id": o.repo_id,
                "status": o.status,
                "reason": o.reason,
                "total_params": o.total_params,
                "hub_total_params": o.hub_total_params,
                "count_mismatch": o.count_mismatch,
            }
            for o in summary.outcomes
        ],
    }
