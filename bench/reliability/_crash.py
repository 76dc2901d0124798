"""Item 2, crash anywhere: ``fitbot crawl`` killed with SIGKILL at a random moment, restarted,
and left to finish, many times in a row, each on a fresh database file.

Most kills land at a uniformly random moment of the crawl proper (after the run is
recorded); a few land during start-up (imports, migration, the bundled catalog's seed),
where there is no run to interrupt yet. After each restart: ``PRAGMA integrity_check``
is ok, every repo is there once with the factory's status and counts, the runs read
interrupted then completed (completed alone for a start-up kill), and no repo that was
already written ok is read from the Hub again.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.crawler.corpus import corpus, sources_toml
from tests.crawler.hub_standin import HubStandIn

from ._common import (
    Deadline,
    ItemResult,
    bounded,
    clean_env,
    fitbot_argv,
    loopback_only,
    median,
)
from ._crawl_faults import check_database

TOKEN = "hf_reliability_crash_token"
LATENCY_S = 0.03  # per request, so a crawl lasts a few seconds and a kill lands mid-way
PROCESS_LIMIT_S = 120.0
CRAWL = "crawl"
STARTUP = "start-up"
AFTER = "after the run"  # the run was already recorded completed (the process was exiting)
EXPECTED_RUNS = {CRAWL: ("interrupted", "completed"), STARTUP: ("completed",), AFTER: ("completed", "completed")}


@dataclass(frozen=True, slots=True)
class KillRun:
    """One kill and restart."""

    phase: str  # where the kill landed: CRAWL, STARTUP or AFTER, read from the database
    killed_at_s: float  # after the process started
    written_before: int  # repos with a sha when the process died
    reread: int  # repos written ok before the kill that the restart read again
    runs: tuple[str, ...]
    restart_s: float
    problems: tuple[str, ...]


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(sql).fetchall()


def _run_status(db: Path) -> str | None:
    """The status of the last crawl run, None before there is one."""
    try:
        rows = _rows(db, "SELECT status FROM crawl_runs ORDER BY run_id DESC LIMIT 1")
    except sqlite3.Error:  # not created, or not migrated yet
        return None
    return rows[0][0] if rows else None


def _run_recorded(db: Path) -> bool:
    return _run_status(db) is not None


class Crawls:
    """Starts ``fitbot crawl`` against one stand-in, each time on a database of its own."""

    def __init__(self, standin: HubStandIn, workdir: Path, pinned: tuple[str, ...]) -> None:
        loopback_only(standin.url)
        self.standin = standin
        self.workdir = workdir
        sources = workdir / "sources.toml"
        sources.write_text(sources_toml(pinned), encoding="utf-8")
        self.env = clean_env(workdir, HF_ENDPOINT=standin.url, HF_TOKEN=TOKEN, FITBOT_SOURCES=str(sources),
                             FITBOT_CRAWL_CONCURRENCY="4")

    def start(self, db: Path) -> subprocess.Popen:
        return subprocess.Popen(fitbot_argv(CRAWL), env={**self.env, "FITBOT_DB": str(db)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def finish(self, db: Path) -> tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        done = subprocess.run(fitbot_argv(CRAWL), env={**self.env, "FITBOT_DB": str(db)}, capture_output=True,
                              text=True, timeout=PROCESS_LIMIT_S)
        return done, time.monotonic() - started


def calibrate(crawls: Crawls) -> tuple[float, float]:
    """(seconds to the run row, seconds from it to the run recorded completed) of one
    uninterrupted crawl: the windows the kills are drawn from."""
    db = crawls.workdir / "calibration.sqlite"
    process = crawls.start(db)
    started = time.monotonic()
    recorded = finished = None
    deadline = Deadline(PROCESS_LIMIT_S)
    while process.poll() is None and not deadline.passed:
        status = _run_status(db)
        if recorded is None and status is not None:
            recorded = time.monotonic() - started
        if finished is None and status not in (None, "running"):
            finished = time.monotonic() - started
        time.sleep(0.005)
    _reap(process)
    total = time.monotonic() - started
    recorded = recorded or total
    return recorded, (finished or total) - recorded


def kill_once(crawls: Crawls, db: Path, aim: str, delay_s: float, expects) -> KillRun:
    """Start, SIGKILL after ``delay_s`` (counted from the run row when aiming at the crawl),
    restart, and check the database."""
    process = crawls.start(db)
    started = time.monotonic()
    deadline = Deadline(PROCESS_LIMIT_S)
    if aim == CRAWL:
        while not _run_recorded(db) and process.poll() is None and not deadline.passed:
            time.sleep(0.002)
    time.sleep(delay_s)
    process.send_signal(signal.SIGKILL)  # a no-op if it already exited: the phase then reads AFTER
    killed_at = time.monotonic() - started
    _reap(process)
    problems: list[str] = []
    phase = {None: STARTUP, "running": CRAWL}.get(_run_status(db), AFTER)
    written = {r for (r,) in _rows(db, "SELECT repo_id FROM models WHERE sha IS NOT NULL AND status = 'ok'")} \
        if _run_recorded(db) else set()
    crawls.standin.reset_counts()
    done, restart_s = crawls.finish(db)
    if done.returncode != 0:
        problems.append(f"the restart exited {done.returncode}: {done.stderr.strip()[-300:]}")
    problems += _check(db, expects, phase)
    read_again = {h.repo_id for h in crawls.standin.snapshot() if h.route.startswith("resolve") or h.route == "metadata_api"}
    reread = len(read_again & written)
    if reread:
        problems.append(f"{reread} repos already written were read again")
    runs = tuple(s for (s,) in _rows(db, "SELECT status FROM crawl_runs ORDER BY run_id"))
    return KillRun(phase, killed_at, len(written), reread, runs, restart_s, tuple(problems))


def _check(db: Path, expects, phase: str) -> list[str]:
    problems = []
    integrity = _rows(db, "PRAGMA integrity_check")
    if integrity != [("ok",)]:
        problems.append(f"integrity_check: {integrity[:3]}")
    problems += check_database(db, expects)
    runs = [s for (s,) in _rows(db, "SELECT status FROM crawl_runs ORDER BY run_id")]
    want = list(EXPECTED_RUNS[phase])
    if runs != want:
        problems.append(f"crawl runs {runs}, want {want}")
    return problems


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(timeout=30)
    finally:
        if process.stderr:
            process.stderr.close()


def run_kills(kills: int, startup_kills: int, *, seed: int = 2, limit_s: float = 600.0) -> tuple[list[KillRun], tuple[float, float]]:
    """``kills`` crawl-phase kills and ``startup_kills`` start-up kills, in a random order."""
    repos, expects, pinned = corpus(heavy=False, malformed=True)
    rng = random.Random(seed)
    aims = [CRAWL] * kills + [STARTUP] * startup_kills
    rng.shuffle(aims)
    deadline = Deadline(limit_s)
    out: list[KillRun] = []
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-2-") as tmp, \
            HubStandIn(repos, latency_s=LATENCY_S, tokens_with_access=frozenset({TOKEN})) as standin:
        crawls = Crawls(standin, Path(tmp), pinned)
        to_run_row, crawl_s = calibrate(crawls)
        for n in bounded(len(aims), deadline):
            window = crawl_s if aims[n] == CRAWL else to_run_row * 0.9
            out.append(kill_once(crawls, Path(tmp) / f"kill-{n:02d}.sqlite", aims[n], rng.uniform(0, window), expects))
    return out, (to_run_row, crawl_s)


def run_item(kills: int = 20, startup_kills: int = 3, deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    runs, (to_run_row, crawl_s) = run_kills(kills, startup_kills, limit_s=deadline.left if deadline else 600.0)
    problems = [f"kill {n + 1} ({r.phase}, {r.killed_at_s:.2f} s): {p}" for n, r in enumerate(runs) for p in r.problems]
    if len(runs) < kills + startup_kills:
        problems.append(f"only {len(runs)} of {kills + startup_kills} kills ran before the time limit")
    crawl_runs = [r for r in runs if r.phase == CRAWL]
    landed = {phase: sum(r.phase == phase for r in runs) for phase in (CRAWL, STARTUP, AFTER)}
    figures = (
        ("kills landed (mid-crawl / start-up / after the run)", " / ".join(str(n) for n in landed.values())),
        ("integrity_check ok", f"{sum(not any('integrity' in p for p in r.problems) for r in runs)} of {len(runs)}"),
        ("every repo once and exact after the restart", f"{sum(not r.problems for r in runs)} of {len(runs)}"),
        ("runs recorded interrupted → completed (crawl-phase kills)",
         f"{sum(r.runs == ('interrupted', 'completed') for r in crawl_runs)} of {len(crawl_runs)}"),
        ("repos already written when killed", f"min {min((r.written_before for r in crawl_runs), default=0)}, "
                                              f"median {median([r.written_before for r in crawl_runs]):.0f}, "
                                              f"max {max((r.written_before for r in crawl_runs), default=0)}"),
        ("repos written before the kill read again", str(sum(r.reread for r in runs))),
        ("uninterrupted crawl", f"{to_run_row:.1f} s start-up + {crawl_s:.1f} s crawl"),
    )
    rows = "\n".join(f"| {n + 1} | {r.phase} | {r.killed_at_s:.2f} | {r.written_before} | {', '.join(r.runs)} | "
                     f"{r.restart_s:.1f} | {'ok' if not r.problems else '; '.join(r.problems)[:120]} |"
                     for n, r in enumerate(runs))
    details = ("| kill | phase | killed at (s) | repos written | runs | restart (s) | checks |\n"
               "|---|---|---|---|---|---|---|\n" + rows)
    return ItemResult(2, "Crash anywhere", tuple(problems), figures, details, time.monotonic() - started, {"runs": runs})
