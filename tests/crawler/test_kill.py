"""kill -9 in the middle of `fitbot crawl`, then a restart: the database stays whole."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import TOKEN
from .corpus import OK, corpus, sources_toml

pytestmark = pytest.mark.network

ROOT = Path(__file__).parents[2]


def _env(standin, tmp_path: Path) -> dict[str, str]:
    repos, expects, pinned = corpus(heavy=False, malformed=True)
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(pinned), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "FITBOT_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=standin.url, HF_TOKEN=TOKEN, HF_HOME=str(tmp_path / "hf"), FITBOT_DB=str(tmp_path / "db.sqlite"),
        FITBOT_SOURCES=str(sources), FITBOT_CRAWL_CONCURRENCY="4",
    )
    return env


def _read_rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(sql).fetchall()


def _crawled(db: Path) -> int:
    try:
        return _read_rows(db, "SELECT COUNT(*) FROM models WHERE sha IS NOT NULL")[0][0]
    except sqlite3.OperationalError:  # not created or not migrated yet
        return 0


def _kill_mid_crawl(env: dict[str, str], db: Path) -> int:
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "crawl"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180  # a safety net on the condition, sized for a loaded machine
    try:
        while _crawled(db) < 6:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the crawl wrote nothing in time"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stderr.close()
    return process.returncode


def test_kill_9_mid_crawl_then_restart_leaves_every_repo_once(make_standin, tmp_path):
    """After SIGKILL mid-crawl and a second `fitbot crawl` (HF_ENDPOINT from the environment):
    integrity_check is ok, every repo is there exactly once and exact, the first run is recorded
    interrupted and the second completed, and repos already written were not read again."""
    repos, expects, pinned = corpus(heavy=False, malformed=True)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}), latency_s=0.03)
    env = _env(standin, tmp_path)
    db = tmp_path / "db.sqlite"
    assert _kill_mid_crawl(env, db) == -signal.SIGKILL
    done_first = {r for (r,) in _read_rows(db, "SELECT repo_id FROM models WHERE sha IS NOT NULL")}
    assert 6 <= len(done_first) < len(expects)

    standin.reset_counts()
    second = subprocess.run([sys.executable, "-m", "bot.cli", "crawl"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert TOKEN not in second.stdout + second.stderr
    assert _read_rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _read_rows(db, "SELECT repo_key FROM models GROUP BY repo_key HAVING COUNT(*) > 1") == []
    rows = dict(_read_rows(db, "SELECT repo_id, status || ':' || IFNULL(total_params, '') FROM models"))
    for expect in expects:
        status, _, total = rows[expect.repo_id].partition(":")
        assert status == expect.status, expect
        if expect.total is not None:
            assert int(total) == expect.total, expect
    runs = _read_rows(db, "SELECT status FROM crawl_runs ORDER BY run_id")
    assert runs == [("interrupted",), ("completed",)]
    reread = {h.repo_id for h in standin.snapshot() if h.route.startswith("resolve") or h.route == "metadata_api"}
    assert reread and not reread & {r for r in done_first if rows[r].startswith(OK)}
