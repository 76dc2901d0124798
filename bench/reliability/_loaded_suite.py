"""Item 10, the loaded suite: the README's test command (``python -m pytest -q``) run RUNS
times in a row while two CPU-bound burner processes (``while True: pass``) share its
cores, pinned to the same CPU set. Every run must pass.

The tests wait on events, conditions and counts, not on the clock; a test that only passes
on an idle machine shows here. Each run's result, time and failures are listed, with the
load average at its start and end. This saturates the machine: run it alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from ._common import ROOT, Deadline, ItemResult

BURNERS = 2
BURN = "while True:\n    pass\n"
README_COMMAND = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def _burners(cpus: set[int]) -> list[subprocess.Popen]:
    procs = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(BURNERS)]
    for proc in procs:
        os.sched_setaffinity(proc.pid, cpus)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


def _run_suite(limit_s: float) -> tuple[str, float, list[str], str]:
    """(verdict, seconds, failed test ids, last summary line) of one suite run."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(README_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=limit_s, check=False)
    except subprocess.TimeoutExpired:
        return "timed out", time.monotonic() - started, [], f"stopped after {limit_s:.0f} s"
    elapsed = time.monotonic() - started
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.MULTILINE)
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "=" not in line[:1]), "")
    return ("pass" if done.returncode == 0 else f"exit {done.returncode}"), elapsed, failed, summary.strip("= ")


RUN_LIMIT_S = 1800.0  # one run on the shared 2-core machine took up to ~1,100 s (load average ~12)


def run_item(runs: int = 5, deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    deadline = deadline or Deadline(runs * RUN_LIMIT_S)
    cpus = os.sched_getaffinity(0)
    rows, problems, passes, times = [], [], 0, []
    burners = _burners(cpus)
    try:
        for n in range(runs):
            # A run that cannot finish in the time left is not started: its timeout would read as
            # a failing suite when it is the harness's limit.
            if times and deadline.left < 1.2 * max(times):
                problems.append(f"the item's time limit leaves {deadline.left:.0f} s, too little for run {n + 1} "
                                f"(the longest took {max(times):.0f} s): {n} of {runs} runs done")
                break
            load_before = os.getloadavg()[0]
            verdict, elapsed, failed, summary = _run_suite(deadline.left)
            load_after = os.getloadavg()[0]
            times.append(elapsed)
            passes += verdict == "pass"
            if verdict != "pass":
                problems.append(f"run {n + 1}: {verdict}: {', '.join(failed[:10]) or summary}")
            rows.append(f"| {n + 1} | {verdict} | {elapsed:.0f} s | {load_before:.1f} → {load_after:.1f} | "
                        f"{summary} | {', '.join(failed[:5]) or '-'} |")
    finally:
        _stop(burners)
    figures = (
        ("runs passed", f"{passes} of {len(rows)} (asked for {runs})"),
        ("suite time per run", ", ".join(f"{t:.0f} s" for t in times) or "-"),
        ("burners", f"{BURNERS} × while True: pass, pinned to CPUs {sorted(cpus)} with the suite"),
        ("command", " ".join(["python", *README_COMMAND[1:]])),
    )
    details = "\n".join(["| run | result | time | load avg (1 min) start → end | pytest summary | failed |",
                         "|---|---|---|---|---|---|", *rows])
    return ItemResult(10, "The loaded suite", tuple(problems), figures, details, time.monotonic() - started)
