"""Item 8, loud failures: a Hub that cannot be reached, or that fails almost every request,
must stop `fitbot crawl` within 60 s with one error line naming the endpoint, a non-zero
exit and the run recorded failed, after which `fitbot status` exits 1 and says why; a
partial outage must still end with the reachable repos written; each retry line must
be printed once.

Every case runs the real ``fitbot crawl`` (``python -m bot.cli``) in a subprocess with the
production retry policy (6 tries, backoff 0.5 s doubling to 8 s) against 127.0.0.1:

* a closed port (connection refused);
* the Hub stand-in answering HTTP 500 to every request;
* the stand-in answering listings but HTTP 500 to every file read of 60 repos (the Hub
  failing mid-crawl: stopped by the 18-of-the-last-20 threshold);
* the stand-in failing every request about 10 of 30 repos (a partial outage: the crawl
  completes, 20 repos written);
* the stand-in answering the first try of each listing page with 500 (huggingface_hub's own
  retries log "Retrying in …"): each such line must reach stderr once;
* the stand-in dying in the middle of a listing (``tests/crawler/dying_hub.py``: at the second
  page, every connection reset, or nothing listening any more). huggingface_hub retries the
  page itself (1, 2, 4, 8, 8 s) and the listing call used to retry it all 6 times (about 150 s
  per listing call); ``listing_quiet_s`` (30 s without an answer) now ends it. Its retry
  warnings are on stderr before the one error line, which must come last.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from tests.crawler.corpus import small_repos
from tests.crawler.dying_hub import REFUSED, RESET, DyingListingHub
from tests.crawler.hub_standin import API, RESOLVERS, Faults, HubStandIn

from ._common import Deadline, ItemResult, clean_env, fitbot_argv

LIMIT_S = 60.0  # the promise: an unreachable Hub is reported within a minute
PROCESS_LIMIT_S = 300.0
SOURCES = '[[source]]\nname = "top"\nkind = "top"\nlimit = {count}\n'


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _crawl(workdir: Path, endpoint: str, repos: int, *extra: str) -> dict:
    """One `fitbot crawl` in its own database; its exit, stderr, time and recorded run."""
    (workdir / "sources.toml").write_text(SOURCES.format(count=repos), encoding="utf-8")
    env = clean_env(workdir, HF_ENDPOINT=endpoint, FITBOT_DB=str(workdir / "f.sqlite"),
                    FITBOT_SOURCES=str(workdir / "sources.toml"))
    started = time.monotonic()
    done = subprocess.run(fitbot_argv("crawl", *extra), env=env, capture_output=True, text=True,
                          timeout=PROCESS_LIMIT_S, check=False)
    elapsed = time.monotonic() - started
    status = subprocess.run(fitbot_argv("status"), env=env, capture_output=True, text=True, timeout=120, check=False)
    with sqlite3.connect(workdir / "f.sqlite") as conn:
        run = conn.execute("SELECT status, error, outcomes_json FROM crawl_runs ORDER BY run_id DESC LIMIT 1").fetchone()
        written = conn.execute("SELECT COUNT(*) FROM models WHERE status = 'ok' AND sha IS NOT NULL").fetchone()[0]
    return {"rc": done.returncode, "stderr": done.stderr, "stdout": done.stdout, "elapsed_s": elapsed,
            "status_rc": status.returncode, "status_out": status.stdout, "run": run, "written": written}


def _loud(name: str, endpoint: str, r: dict, *, retry_lines: bool = False) -> list[str]:
    """The conditions of a crawl that must fail loudly (with ``retry_lines``, huggingface_hub's
    retry warnings may come before the one error line)."""
    problems = []
    lines = r["stderr"].strip().splitlines()
    if retry_lines:
        lines = [line for line in lines if not _hf_retry_line(line)]
    if r["rc"] == 0:
        problems.append(f"{name}: exit 0")
    if len(lines) != 1 or endpoint not in lines[0] or "check HF_ENDPOINT" not in lines[0]:
        problems.append(f"{name}: stderr is not one line naming {endpoint} and what to check: {lines[:3]}")
    if r["elapsed_s"] >= LIMIT_S:
        problems.append(f"{name}: took {r['elapsed_s']:.1f} s (limit {LIMIT_S:.0f} s)")
    if r["run"] is None or r["run"][0] != "failed":
        problems.append(f"{name}: the run is recorded as {r['run'] and r['run'][0]}")
    if r["status_rc"] != 1 or endpoint not in r["status_out"]:
        problems.append(f"{name}: fitbot status exited {r['status_rc']} without the reason")
    return problems


def _hf_retry_line(line: str) -> bool:
    return "level=warning" in line and "logger=huggingface_hub" in line


def run_item(deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    problems: list[str] = []
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-8-") as tmp:
        root = Path(tmp)

        def case(name: str, endpoint: str, repos: int, *extra: str) -> dict:
            workdir = root / name.replace(" ", "-")
            workdir.mkdir()
            return _crawl(workdir, endpoint, repos, *extra)

        closed = _closed_url()
        r = case("closed port", closed, 5, "--limit", "5")
        problems += _loud("closed port", closed, r)
        figures.append(("closed port: `fitbot crawl --limit 5`",
                         f"exit {r['rc']} in {r['elapsed_s']:.1f} s, {len(r['stderr'].splitlines())} stderr line; "
                         f"run {r['run'][0] if r['run'] else None}; `fitbot status` exit {r['status_rc']}"))
        figures.append(("the line", r["stderr"].strip()[:300]))

        with HubStandIn(small_repos(5), faults=Faults(rate_500=1.0)) as standin:
            r = case("500 to everything", standin.url, 5)
            hits = standin.count()
        problems += _loud("500 to everything", standin.url, r)
        figures.append(("stand-in answering 500 to everything",
                        f"exit {r['rc']} in {r['elapsed_s']:.1f} s after {hits} requests; run "
                        f"{r['run'][0] if r['run'] else None}; `fitbot status` exit {r['status_rc']}"))

        with HubStandIn(small_repos(60), faults=Faults(rate_500=1.0, buckets=frozenset({RESOLVERS})),
                        page_size=1000) as standin:
            r = case("every read fails", standin.url, 60)
        problems += _loud("every read fails", standin.url, r)
        outcomes = json.loads(r["run"][2] or "{}") if r["run"] else {}
        figures.append(("listings answer, every file read 500 (60 repos)",
                        f"exit {r['rc']} in {r['elapsed_s']:.1f} s, {sum(outcomes.values())} repos finished before "
                        f"the stop; run {r['run'][0] if r['run'] else None}"))

        repos = small_repos(30)
        down = frozenset(x.repo_id for x in repos[::3])
        with HubStandIn(repos, faults=Faults(rate_500=1.0, repos=down, buckets=frozenset({API, RESOLVERS})),
                        page_size=1000) as standin:
            r = case("partial outage", standin.url, 30, "--json")
        summary = json.loads(r["stdout"]) if r["rc"] == 0 else {}
        if r["rc"] != 0 or summary.get("status") != "completed":
            problems.append(f"partial outage: exit {r['rc']}, {r['stderr'].strip()[-300:]}")
        if r["written"] != len(repos) - len(down):
            problems.append(f"partial outage: {r['written']} repos written, want {len(repos) - len(down)}")
        figures.append(("partial outage: 10 of 30 repos unreachable",
                        f"exit {r['rc']} in {r['elapsed_s']:.1f} s, run {summary.get('status')}, "
                        f"{r['written']} written ok, counts {summary.get('counts')}"))

        with HubStandIn(small_repos(5), faults=Faults(rate_500=1.0, only_first=True, buckets=frozenset({API}))) as standin:
            r = case("retry lines", standin.url, 5, "--limit", "5")
        retry_lines = [line for line in r["stderr"].splitlines() if "Retrying in" in line]
        bare = [line for line in retry_lines if "logger=" not in line]
        if bare or not retry_lines:
            problems.append(f"retry lines: {len(retry_lines)} printed, {len(bare)} of them a second, bare copy")
        figures.append(("huggingface_hub retry lines on stderr (first try of each listing page answered 500)",
                        f"{len(retry_lines)} lines, {len(bare)} duplicated; crawl exit {r['rc']}"))

        for death in (RESET, REFUSED):
            name = f"dies mid-listing ({death})"
            with DyingListingHub(small_repos(150), death=death, page_size=50) as standin:
                r = case(name, standin.url, 150)
                died, after = standin.died.is_set(), standin.requests_after_death
            problems += _loud(name, standin.url, r, retry_lines=True)
            if not died:
                problems.append(f"{name}: the stand-in never died (no second listing page was asked for)")
            warnings = sum(_hf_retry_line(line) for line in r["stderr"].splitlines())
            reached = f", {after} requests reached it after it died" if death == RESET else ""
            how = "every connection reset" if death == RESET else "nothing listening"
            last = r["stderr"].strip().splitlines()[-1][:200] if r["stderr"].strip() else "-"
            figures.append((f"the Hub dies at the second listing page ({how})",
                            f"exit {r['rc']} in {r['elapsed_s']:.1f} s{reached}; {warnings} huggingface_hub "
                            f"retry warnings, then: {last}"))
    return ItemResult(8, "Loud failures: an unreachable Hub", tuple(problems), tuple(figures), "",
                      time.monotonic() - started)
