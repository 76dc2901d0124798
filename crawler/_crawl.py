"""One crawl: discover, skip what did not change, read the rest, write each repo as it ends.

Crash safety comes from the order of things: a run is recorded as running first; every
repo is written in its own short transaction the moment it is read; the next crawl
marks a run still "running" as interrupted and, since the repos written already carry
their new sha, reads only what is left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Protocol

from estimator import HeaderParseError, select_checkpoint_files
from store import (
    RUN_COMPLETED,
    RUN_FAILED,
    RUN_INTERRUPTED,
    STATUS_NOT_FOUND,
    STATUS_OK,
    CrawlRun,
    Database,
    ModelRecord,
    finish_run,
    get_model,
    heartbeat_run,
    list_repo_keys,
    list_shas,
    mark_interrupted_runs,
    start_run,
    update_hub_facts,
    upsert_base_model,
    upsert_model,
)

from ._discovery import check_hub_reachable, list_source, parse_model_info
from ._gc_pause import paused_gc
from ._gguf_crawl import crawl_gguf_stage
from ._http import Target
from ._hub import HubClient
from ._outcome import OutageBreaker, failure_result, no_safetensors_result, ok_result
from ._read import (
    CONFIG_FILE,
    MAX_CONFIG_BYTES,
    CheckpointRead,
    fetch_file,
    gather_or_cancel,
    read_checkpoint,
)
from ._records import Candidate, CrawlSummary, FetchStats, RepoOutcome
from ._sources import REPOS, Source, Sources
from .errors import CrawlFailedError, HubError, HubUnavailableError, RepoGatedError

HEARTBEAT_SECONDS = 10
# A run from another host (another container) whose heartbeat is older than this is dead.
STALE_AFTER = timedelta(minutes=2)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    """What one crawl looks at: every source, one source, or explicit repos."""

    sources: Sources
    only_source: str | None = None
    repo_ids: tuple[str, ...] = ()
    limit: int | None = None
    force: bool = False  # read repos even when their commit did not change

    @property
    def label(self) -> str:
        return "repos" if self.repo_ids else self.only_source or "all"

    def selected(self) -> tuple[Source, ...]:
        """The sources to list. Raises SourcesError for an unknown ``only_source``."""
        if self.repo_ids:
            return (Source("command line", REPOS, repos=self.repo_ids),)
        if self.only_source:
            return (self.sources.named(self.only_source),)
        return self.sources.sources


class Progress(Protocol):
    """Where a crawl reports its progress (the CLI draws a bar)."""

    def start(self, total: int) -> None: ...

    def advance(self, repo_id: str, status: str) -> None: ...


class NoProgress:
    """Progress that goes nowhere."""

    def start(self, total: int) -> None:
        pass

    def advance(self, repo_id: str, status: str) -> None:
        pass


@dataclass
class _Run:
    run_id: int
    source: str
    stats_before: FetchStats
    started: float
    seen: int = 0
    unchanged: int = 0
    outcomes: list[RepoOutcome] = field(default_factory=list)
    breaker: OutageBreaker = field(default_factory=OutageBreaker)


async def crawl_once(
    hub: HubClient,
    db: Database,
    options: CrawlOptions,
    *,
    progress: Progress | None = None,
    heartbeat_s: float = HEARTBEAT_SECONDS,
) -> CrawlSummary:
    """Run one crawl now and record it as a crawl run.

    Raises:
        CrawlFailedError: the Hub cannot be reached, almost every repo failed on Hub errors
            (``OutageBreaker``), no source could be listed, or the crawl broke off (the run
            is recorded as failed in every case; the repos written so far stay).
        SourcesError: ``options.only_source`` names no source.
    """
    options.selected()  # an unknown source name fails before a run is recorded
    await mark_interrupted_runs(
        db, is_dead=partial(run_is_dead, now=db.clock(), host=socket.gethostname(), pid=os.getpid())
    )
    run_id = await start_run(db, options.label, pid=os.getpid(), host=socket.gethostname())
    run = _Run(run_id, options.label, hub.stats(), time.monotonic())
    beat = asyncio.create_task(_heartbeat(db, run_id, heartbeat_s))
    try:
        await _crawl(hub, db, options, run, progress or NoProgress())
    except asyncio.CancelledError:
        await asyncio.shield(
            _close(db, hub, run, RUN_INTERRUPTED, "stopped before the end (signal or shutdown)")
        )
        raise
    except CrawlFailedError as e:
        await _close(db, hub, run, RUN_FAILED, str(e))
        raise
    except Exception as e:  # the crawl's single error handler: record, log, report in one line
        log.exception("crawl %d failed", run.run_id)
        await _close(db, hub, run, RUN_FAILED, f"{type(e).__name__}: {e}")
        raise CrawlFailedError(f"{type(e).__name__}: {e}") from e
    finally:
        beat.cancel()
    return await _close(db, hub, run, RUN_COMPLETED, None)


async def _heartbeat(db: Database, run_id: int, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await heartbeat_run(db, run_id)


def run_is_dead(run: CrawlRun, *, now: datetime, host: str, pid: int) -> bool:
    """Whether a run still marked "running" lost its process.

    On this host the process table says so (a restarted container reuses pid 1: a run
    with our own pid is an earlier life of this process); elsewhere, a heartbeat older
    than ``STALE_AFTER`` does. A manual ``fitbot crawl`` never closes a live service's run.
    """
    if run.host == host and run.pid is not None:
        return run.pid == pid or not _process_alive(run.pid)
    return run.heartbeat_at is None or now - run.heartbeat_at > STALE_AFTER


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead for our purpose
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


async def _crawl(hub: HubClient, db: Database, options: CrawlOptions, run: _Run, progress: Progress) -> None:
    await check_hub_reachable(hub)
    now = db.clock()
    candidates, early = await discover(hub, options, now)
    known = await list_shas(db)
    writer = _Writer(db, await list_repo_keys(db))
    shas = {repo.lower(): sha for repo, sha in known.items()}
    unchanged = [
        c for c in candidates if not options.force and c.sha and shas.get(c.repo_id.lower()) == c.sha
    ]
    skip = {c.repo_id for c in unchanged}
    # Most files first: a 163-shard repo started last would finish alone long after the rest
    # (longest job first keeps every worker busy to the end; the sort is stable otherwise).
    todo = sorted((c for c in candidates if c.repo_id not in skip), key=lambda c: -len(c.files or ()))
    run.seen, run.unchanged = len(candidates) + len(early), len(unchanged)
    progress.start(run.seen)
    await update_hub_facts(db, ((c.repo_id, c.hub) for c in unchanged))
    for candidate in unchanged:
        progress.advance(candidate.repo_id, "unchanged")
    for outcome in early:
        await writer.write(_early_record(outcome, now), outcome)
        _finish_repo(run, progress, outcome, hub.endpoint)

    async def handle(candidate: Candidate) -> None:
        record, outcome = await read_repo(hub, candidate, db.clock())
        await writer.write(record, outcome)
        if candidate.base_model:
            await upsert_base_model(db, record.repo_id, candidate.base_model)
        _finish_repo(run, progress, outcome, hub.endpoint)

    await _for_each(todo, handle, workers=2 * hub.config.concurrency)
    if run.breaker.tripped_at_end():
        raise CrawlFailedError(run.breaker.explain(hub.endpoint))
    if options.sources.gguf is not None and not options.repo_ids and not options.only_source:
        await crawl_gguf_stage(hub, db, options.sources.gguf, force=options.force)


async def discover(
    hub: HubClient, options: CrawlOptions, now: datetime
) -> tuple[list[Candidate], list[RepoOutcome]]:
    """Every source's candidates, de-duplicated (first mention wins) and capped at ``limit``.

    Raises:
        CrawlFailedError: every source failed to list, or one failed because the Hub kept failing.
    """
    sources = options.selected()
    candidates: dict[str, Candidate] = {}
    early: dict[str, RepoOutcome] = {}
    failures: list[str] = []
    for source in sources:
        try:
            found, missing = await list_source(hub, source, options.sources.scope, now)
        except HubUnavailableError as e:
            # The Hub kept failing or fell silent mid-listing: the next source would only wait as long.
            raise CrawlFailedError(
                f"the Hub at {hub.endpoint} stopped answering while listing '{source.name}': "
                f"{e.problem}, {e.attempts} tries"
            ) from e
        except HubError as e:
            log.warning("source %s could not be listed: %s", source.name, e)
            failures.append(f"{source.name}: {e}")
            continue
        for candidate in found:
            candidates.setdefault(candidate.repo_id.lower(), candidate)
        for outcome in missing:
            early.setdefault(outcome.repo_id.lower(), outcome)
    if failures and len(failures) == len(sources):
        raise CrawlFailedError(f"no source could be listed ({failures[0]})")
    found_list = list(candidates.values())[: options.limit]
    return found_list, [o for k, o in early.items() if k not in candidates]


async def read_repo(hub: HubClient, candidate: Candidate, now: datetime) -> tuple[ModelRecord, RepoOutcome]:
    """Read one repo's counted checkpoint and turn it into a record; never raises for the
    repo's own problems (malformed headers, gated, missing, a Hub that keeps failing)."""
    try:
        if candidate.hub.gated and not hub.has_token:
            raise RepoGatedError(candidate.repo_id, asked=False)
        candidate = await _with_files(hub, candidate)
        counted = select_checkpoint_files(f for f in candidate.files or () if "/" not in f)
        if counted is None:
            config_raw = None
            if CONFIG_FILE in (candidate.files or ()):
                config_raw = await fetch_file(hub, candidate, CONFIG_FILE, MAX_CONFIG_BYTES)
            return no_safetensors_result(candidate, config_raw, now)
        read = await read_checkpoint(hub, candidate, counted)
        return await asyncio.to_thread(_counted, candidate, read, now)  # the accounting is CPU work
    except (HubError, HeaderParseError) as e:
        return failure_result(candidate, e, now)
    except Exception as e:  # an estimator or crawler bug must fail this repo, not the crawl
        log.exception("reading %s failed unexpectedly", candidate.repo_id)
        return failure_result(candidate, e, now)


def _counted(candidate: Candidate, read: CheckpointRead, now: datetime) -> tuple[ModelRecord, RepoOutcome]:
    with paused_gc():  # 92,000 tensors for DeepSeek-V3: see _gc_pause
        return ok_result(candidate, read, now)


async def _with_files(hub: HubClient, candidate: Candidate) -> Candidate:
    """The listing normally names the files; ask once if it did not."""
    if candidate.files is not None:
        return candidate
    info = await hub.call_api(
        hub.api.model_info, candidate.repo_id, expand=["siblings"], target=Target(candidate.repo_id)
    )
    return dataclasses.replace(candidate, files=parse_model_info(info, candidate.source).files)


class _Writer:
    """Writes repos as they are read (``store`` makes concurrent tasks take turns)."""

    def __init__(self, db: Database, keys: dict[str, str]) -> None:
        self._db = db
        self._keys = keys

    async def write(self, record: ModelRecord, outcome: RepoOutcome) -> None:
        key = record.repo_id.lower()
        if outcome.transient and key in self._keys:
            log.warning("kept the last good record of %s: %s", record.repo_id, outcome.reason)
            return
        if self._keys.get(key, record.repo_id) != record.repo_id:  # the catalog spells the id differently
            record = dataclasses.replace(record, repo_id=self._keys[key])
        if outcome.status == STATUS_NOT_FOUND and key in self._keys:
            record = await self._keep_counts(record)
        await upsert_model(self._db, record)
        self._keys[key] = record.repo_id

    async def _keep_counts(self, record: ModelRecord) -> ModelRecord:
        """A repo that vanished keeps the counts read while it existed, marked not_found."""
        known = await get_model(self._db, record.repo_id)
        if known is None or known.accounting is None:
            return record
        reason = f"{record.status_reason}; the counts are from when it was last read"
        return dataclasses.replace(known, status=record.status, status_reason=reason)


def _early_record(outcome: RepoOutcome, now: datetime) -> ModelRecord:
    return ModelRecord(
        repo_id=outcome.repo_id,
        sha=None,
        provenance="header",
        status=outcome.status,
        status_reason=outcome.reason,
        config=None,
        accounting=None,
        read_at=now,
    )


def _finish_repo(run: _Run, progress: Progress, outcome: RepoOutcome, endpoint: str) -> None:
    """Count a written repo; stop the crawl (the workers are cancelled) once the Hub is out.

    Raises:
        CrawlFailedError: the breaker tripped.
    """
    run.outcomes.append(outcome)
    run.breaker.record(outcome)
    progress.advance(outcome.repo_id, outcome.status)
    if outcome.status != STATUS_OK:
        log.warning("skipped %s (%s): %s", outcome.repo_id, outcome.status, outcome.reason)
    if outcome.count_mismatch:
        log.warning(
            "%s: our count %s differs from the Hub's safetensors.total %s",
            outcome.repo_id,
            f"{outcome.total_params:,}",
            f"{outcome.hub_total_params:,}",
        )
    if run.breaker.tripped():
        raise CrawlFailedError(run.breaker.explain(endpoint))


async def _for_each(
    items: Iterable[Candidate], handle: Callable[[Candidate], Awaitable[None]], *, workers: int
) -> None:
    queue = iter(items)

    async def worker() -> None:
        for item in queue:  # one shared iterator: each item goes to exactly one worker
            await handle(item)

    await gather_or_cancel(*(worker() for _ in range(workers)))


async def _close(db: Database, hub: HubClient, run: _Run, status: str, error: str | None) -> CrawlSummary:
    summary = CrawlSummary(
        run.run_id,
        status,
        run.source,
        run.seen,
        run.unchanged,
        tuple(run.outcomes),
        hub.stats() - run.stats_before,
        time.monotonic() - run.started,
        error,
    )
    stats = summary.stats
    await finish_run(
        db,
        run.run_id,
        status=status,
        outcomes=summary.counts(),
        requests=stats.requests,
        bytes_received=stats.bytes_received,
        error=error,
    )
    counts = summary.counts()
    log.info(
        "crawl %d %s: %d seen, %d unchanged, %d read, %d failed",
        run.run_id,
        status,
        summary.seen,
        summary.unchanged,
        len(summary.outcomes),
        sum(n for s, n in counts.items() if s not in (STATUS_OK, "unchanged")),
        extra={
            "fields": {
                "run_id": run.run_id,
                "status": status,
                "seen": summary.seen,
                "unchanged": summary.unchanged,
                "outcomes": counts,
                "requests": stats.requests,
                "api_requests": stats.api_requests,
                "resolve_requests": stats.resolve_requests,
                "bytes_received": stats.bytes_received,
                "retries": stats.retries,
                "elapsed_s": round(summary.elapsed_s, 2),
            }
        },
    )
    return summary
