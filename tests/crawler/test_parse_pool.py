"""The parse worker: big answers are parsed and counted in a forked process, with the same
results and the same errors as in this one, and the crawl carries on if the worker dies."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from crawler import parse_pool

from .conftest import TOKEN
from .corpus import OK, corpus, sources_toml

ROOT = Path(__file__).parents[2]

# Run in a fresh interpreter: the pool forks only from a process with one thread, and the
# test process has the stand-ins' threads.
_PROBE = r"""
import asyncio, json, logging, os, signal
from crawler import BIG_ANSWER_BYTES, parse_pool
from crawler._read import count_sharded_answer
from estimator import HeaderParseError

BAD = json.dumps({"headers": {"model-00001-of-00002.safetensors": {
    "w": {"dtype": "F16", "shape": [4, 4], "data_offsets": [0, 31]}}}}).encode()

async def probe(pool):
    seen = {"parent": os.getpid(), "has_worker": pool.has_worker}
    seen["big"] = await pool.run(BIG_ANSWER_BYTES, os.getpid)
    seen["small"] = await pool.run(BIG_ANSWER_BYTES - 1, os.getpid)
    for key, size in (("error_in_worker", BIG_ANSWER_BYTES), ("error_here", 0)):
        try:
            await pool.run(size, count_sharded_answer, BAD, None)
        except HeaderParseError as e:
            seen[key] = [type(e).__name__, str(e), e.filename]
    # While the worker is busy (blocked reading a pipe it inherited), a big input runs here.
    blocked = asyncio.ensure_future(pool.run(BIG_ANSWER_BYTES, os.read, GATE[0], 1))
    await asyncio.sleep(0)  # the task starts and takes the worker
    seen["while_busy"] = await pool.run(BIG_ANSWER_BYTES, os.getpid)
    os.write(GATE[1], b"x")
    seen["blocked"] = (await blocked).decode()
    os.kill(seen["big"], signal.SIGKILL)
    seen["after_kill"] = await pool.run(BIG_ANSWER_BYTES, os.getpid)
    seen["has_worker_after_kill"] = pool.has_worker
    print(json.dumps(seen))

logging.basicConfig(level=logging.WARNING)
GATE = os.pipe()  # made before the fork, so the worker holds its read end
with parse_pool() as pool:
    asyncio.run(probe(pool))
"""


def test_big_inputs_go_to_the_forked_worker_errors_come_back_whole_and_a_dead_worker_is_survived():
    """In a fresh process: a big input runs in another process, a small one here; a malformed
    answer raises the same HeaderParseError (type, text, file) from the worker as here; a big
    input while the worker is busy runs here, not behind it; after the worker is killed, big
    inputs run here and a warning says so."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["has_worker"] is True
    assert seen["big"] != seen["parent"] and seen["small"] == seen["parent"]
    assert seen["error_in_worker"] == seen["error_here"]
    assert seen["error_here"][0] == "HeaderParseError" and seen["error_here"][2] == "model-00001-of-00002.safetensors"
    assert seen["while_busy"] == seen["parent"] and seen["blocked"] == "x"
    assert seen["after_kill"] == seen["parent"] and seen["has_worker_after_kill"] is False
    assert "the parse worker stopped" in done.stderr


def test_no_fork_while_another_thread_runs():
    """With a second thread alive, the pool forks nothing and parses in threads."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        with parse_pool() as pool:
            assert not pool.has_worker
    finally:
        release.set()
        thread.join()


@pytest.mark.network
def test_fitbot_crawl_counts_deepseek_v3_in_the_worker_exactly(make_standin, tmp_path):
    """`fitbot crawl` (a fresh process, so it forks its worker) parses DeepSeek-V3's 163-shard
    answer in the worker and records every repo of the full corpus as the in-process crawl does:
    the published counts to the integer."""
    repos, expects, pinned = corpus(heavy=True, malformed=False)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(pinned), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "FITBOT_", "HUGGING"))}
    env.update(HF_ENDPOINT=standin.url, HF_TOKEN=TOKEN, HF_HOME=str(tmp_path / "hf"),
               FITBOT_DB=str(tmp_path / "db.sqlite"), FITBOT_SOURCES=str(sources), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bot.cli", "-v", "crawl"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "in the parse worker" in done.stderr
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        rows = dict(conn.execute("SELECT repo_id, total_params FROM models WHERE status = 'ok' AND sha IS NOT NULL"))
        active = dict(conn.execute("SELECT repo_id, active_params FROM models WHERE sha IS NOT NULL"))
    checked = [e for e in expects if e.status == OK and e.total is not None]
    assert any(e.repo_id == "deepseek-ai/DeepSeek-V3" for e in checked)
    assert [(e.repo_id, rows.get(e.repo_id)) for e in checked] == [(e.repo_id, e.total) for e in checked]
    assert [(e.repo_id, active.get(e.repo_id)) for e in checked if e.active is not None] == [
        (e.repo_id, e.active) for e in checked if e.active is not None
    ]


_ORPHAN = r"""
import os, sys, time
from crawler import BIG_ANSWER_BYTES, parse_pool
import asyncio
with parse_pool() as pool:
    print(asyncio.run(pool.run(BIG_ANSWER_BYTES, os.getpid)), flush=True)
    sys.stdin.read()  # until the test kills this process
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state == "Z"  # exited; its new parent has not reaped it yet


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_the_worker_exits_when_its_parent_is_killed():
    """SIGKILL to the crawler (kill -9, the OOM killer) does not leave its parse worker behind."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN], env=env, cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert worker != parent.pid and not _gone(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        parent.stdin.close()
        parent.stdout.close()
    deadline = time.monotonic() + 60  # a safety net on the condition, sized for a loaded machine
    while not _gone(worker):
        assert time.monotonic() < deadline, f"worker {worker} outlived its parent"
        time.sleep(0.02)
