"""Issue 13, the crawler half: each figure beside its target, measured side by side in one run.

Run:  .venv/bin/python -m bench.crawler_scale [--repos 50000]      (also: python -m bench.scale run --crawler)
      .venv/bin/python -m bench.crawler_scale --only deepseek --rounds 7 [--against GIT_REV]   (figure 2
      alone; --against measures that revision's figure in child processes taking turns with this tree's)

1. the real-layout corpus (tests/crawler/corpus.py: DeepSeek-V3, Qwen3-30B-A3B, gpt-oss, quantized
   Llamas, ...) on the stand-in at 0 ms latency: a whole ``crawl_once`` (listing, reads, accounting,
   store writes) against huggingface_hub's plain loop (``get_safetensors_metadata`` per repo, which
   neither counts nor stores); target ≥ 2× faster. Connections and requests are counted by the stand-in;
2. DeepSeek-V3's parse and accounting, from the one-call answer's bytes to the record; target < 250 ms;
3. ``--repos`` tiny repos listed by one source past the old 10,000 cap, crawled, then re-crawled with
   nothing changed: client CPU per unchanged repo (target ≤ 1 ms), writes and catalog_version (target:
   none, unchanged).

The stand-in runs in a child process, so its CPU is not the client's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="fitbot-bench-hf-"))
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import httpx2  # noqa: E402

TOKEN = "hf_bench_token"
SPEEDUP_TARGET = 2.0
DEEPSEEK_TARGET_MS = 250.0
UNCHANGED_TARGET_MS = 1.0
PAGE_SIZE = 1000  # the Hub's own page size for a model listing with expand


def _serve(kind: str, count: int, conn: Any) -> None:
    from tests.crawler.corpus import corpus, small_repos
    from tests.crawler.hub_standin import HubStandIn

    repos = small_repos(count) if kind == "small" else list(corpus(heavy=True, malformed=False)[0])
    with HubStandIn(repos, tokens_with_access=frozenset({TOKEN}), page_size=PAGE_SIZE) as standin:
        standin.prepare_metadata()
        conn.send(standin.url)
        conn.recv()


@contextmanager
def served(kind: str, count: int = 0) -> Iterator[str]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(kind, count, child), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=60)


def standin_stats(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx2.get(f"{url}/_standin/stats", timeout=120).json()
    return answer


def reset(url: str) -> None:
    httpx2.get(f"{url}/_standin/reset", timeout=60)


def _sources(limit: int | None, pinned: tuple[str, ...] = ()) -> str:
    from tests.crawler.corpus import sources_toml

    if limit is None:
        return sources_toml(pinned, limit=500).replace("limit = 500", 'limit = "all"')
    return sources_toml(pinned, limit=limit)


async def _crawl(url: str, text: str, db_path: str, *, concurrency: int = 8, pool: Any = None) -> tuple[Any, float, float]:
    from crawler import CrawlOptions, HubConfig, crawl_once, open_hub, parse_sources
    from store import Database

    db = await Database.open(db_path)
    try:
        async with open_hub(HubConfig(endpoint=url, token=TOKEN, concurrency=concurrency), pool) as hub:
            cpu, started = time.process_time(), time.perf_counter()
            summary = await crawl_once(hub, db, CrawlOptions(parse_sources(text)))
            return summary, time.perf_counter() - started, time.process_time() - cpu
    finally:
        await db.close()


def _hf_loop(url: str, repo_ids: list[str]) -> tuple[float, float, int]:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=url, token=TOKEN)
    cpu, started = time.process_time(), time.perf_counter()
    tensors = 0
    for repo_id in repo_ids:
        meta = api.get_safetensors_metadata(repo_id)
        tensors += sum(len(f.tensors) for f in meta.files_metadata.values())
    return time.perf_counter() - started, time.process_time() - cpu, tensors


def corpus_speed(rounds: int) -> dict[str, Any]:
    """Our whole crawl of the corpus against hf_hub's loop, interleaved, best of ``rounds``; our
    crawl both with the parse worker (as ``fitbot crawl`` runs) and without it (threads only)."""
    from crawler import ParsePool, parse_pool
    from tests.crawler.corpus import OK, corpus

    _, expects, _ = corpus(heavy=True, malformed=False)
    readable = [e.repo_id for e in expects if e.status == OK]
    ours: list[tuple[float, float]] = []
    threads_only: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    # The parse worker is forked before this process runs any thread, as `fitbot crawl` does.
    with parse_pool() as pool, served("corpus") as url, tempfile.TemporaryDirectory() as tmp:
        _hf_loop(url, readable[:1])  # imports and the first connection
        for i in range(rounds):
            reset(url)
            summary, wall, cpu = asyncio.run(_crawl(url, _sources(500), f"{tmp}/c{i}.sqlite", pool=pool))
            ours.append((wall, cpu))
            stats = standin_stats(url)
            reset(url)
            _, wall, cpu = asyncio.run(_crawl(url, _sources(500), f"{tmp}/t{i}.sqlite", pool=ParsePool()))
            threads_only.append((wall, cpu))
            wall_hf, cpu_hf, _ = _hf_loop(url, readable)
            theirs.append((wall_hf, cpu_hf))
        ok = summary.counts().get("ok", 0)
    best_ours, best_threads, best_theirs = min(ours), min(threads_only), min(theirs)
    return {
        "repos": len(readable), "ok": ok, "ours_s": best_ours[0], "ours_cpu_s": best_ours[1],
        "hf_s": best_theirs[0], "hf_cpu_s": best_theirs[1], "speedup": best_theirs[0] / best_ours[0],
        "threads_s": best_threads[0], "threads_speedup": best_theirs[0] / best_threads[0],
        "requests": len(stats["hits"]), "connections": stats["connections"], "parse_worker": pool.has_worker,
    }


def deepseek_parse_ms(rounds: int) -> dict[str, float]:
    """DeepSeek-V3 from the one-call answer's bytes to its record: CPU ms (process time, so other
    processes' load does not count), best of ``rounds``. ``now`` is the crawler's path (msgspec into
    typed entries, the collector paused); interleaved with it, ``dict`` is the path it replaced
    (json.loads into dicts, each entry checked as a dict, the collector running)."""
    from crawler._outcome import ok_result
    from crawler._read import CheckpointRead, count_sharded_answer, parse_sharded_metadata
    from crawler._records import Candidate
    from tests.factories import replica
    from tests.factories.headers import file_prefix

    rep = replica("deepseek-v3")
    headers = {name: json.loads(file_prefix(h)[8:]) for name, h in rep.files.items()}
    body = json.dumps({"index": {}, "headers": headers}, separators=(",", ":")).encode()
    config_raw = rep.repo_files()["config.json"].prefix
    candidate = Candidate(rep.repo_id, "0" * 40, "bench", tuple(rep.repo_files()))

    def record(parsed: list, count: Any) -> int:
        tensors = tuple(t for _, h in parsed for t in h.tensors)
        read = CheckpointRead(config_raw, tensors, tuple(n for n, _ in parsed), "metadata_api")
        return count(candidate, read, datetime.now(UTC))[1].total_params or 0

    def now() -> int:  # the crawler's path: decoded and counted in one call (in the parse worker)
        answer = count_sharded_answer(body, config_raw)
        assert answer is not None
        read = CheckpointRead(config_raw, (), answer[0], "metadata_api", answer[1])
        return ok_result(candidate, read, datetime.now(UTC))[1].total_params or 0

    paths = {
        "now": now,
        "dict": lambda: record(parse_sharded_metadata(json.loads(body)), ok_result),
    }
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    params = {}
    for _ in range(rounds):
        for name, path in paths.items():
            gc.collect()  # each path starts from a collected heap, not the other path's leftovers
            started = time.process_time()
            params[name] = path()
            cpu[name].append(time.process_time() - started)
    assert params["now"] == params["dict"], params
    return {"now": min(cpu["now"]) * 1000, "dict": min(cpu["dict"]) * 1000, "params": params["now"]}


_CHILD = "from bench.crawler_scale import deepseek_parse_ms; print(deepseek_parse_ms({rounds})['now'])"


def deepseek_against(rev: str, rounds: int) -> dict[str, float]:
    """The DeepSeek-V3 figure of this tree and of git ``rev`` side by side: child processes take
    turns, old then new, each best of ``rounds``; the best turn of each counts (CPU ms)."""
    import io
    import subprocess
    import tarfile

    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", rev], capture_output=True, check=True).stdout
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fitbot-bench-rev-") as old:
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(old, filter="data")
        for _ in range(3):
            for name, tree in (("old", old), ("new", str(root))):
                env = {**os.environ, "PYTHONPATH": tree}
                out = subprocess.run([sys.executable, "-c", _CHILD.format(rounds=rounds)], cwd=tree, env=env,
                                     capture_output=True, text=True, check=True).stdout
                best[name] = min(best.get(name, float("inf")), float(out.split()[-1]))
    return best


async def _catalog_version(db_path: str) -> int:
    from store import Database, get_catalog_version

    db = await Database.open(db_path)
    try:
        return await get_catalog_version(db)
    finally:
        await db.close()


def hub_scale(repos: int) -> dict[str, Any]:
    """One crawl of ``repos`` tiny repos from one unlimited source, then a re-crawl."""
    with served("small", repos) as url, tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/scale.sqlite"
        first, wall, cpu = asyncio.run(_crawl(url, _sources(None), path, concurrency=32))
        version = asyncio.run(_catalog_version(path))
        reset(url)
        second, wall2, cpu2 = asyncio.run(_crawl(url, _sources(None), path, concurrency=32))
        stats = standin_stats(url)
        version2 = asyncio.run(_catalog_version(path))
    routes: dict[str, int] = {}
    for hit in stats["hits"]:
        routes[hit[1]] = routes.get(hit[1], 0) + 1
    return {
        "repos": repos, "first_seen": first.seen, "first_ok": first.counts().get("ok", 0),
        "first_s": wall, "first_cpu_s": cpu, "first_requests": first.stats.requests,
        "recrawl_unchanged": second.unchanged, "recrawl_read": len(second.outcomes), "recrawl_s": wall2,
        "recrawl_cpu_s": cpu2, "recrawl_routes": routes, "version_before": version, "version_after": version2,
    }


def report(repos: int, rounds: int, only: str | None = None, against: str | None = None) -> None:
    """Measure and print every crawler figure beside its target (``only="deepseek"``: that line;
    ``against``: a git revision whose DeepSeek-V3 figure is measured beside this tree's)."""
    logging.getLogger("crawler").setLevel(logging.ERROR)
    print(f"\n== crawler ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}) ==")
    d = deepseek_parse_ms(rounds)
    print(f"DeepSeek-V3 parse + accounting (one-call answer -> record, {d['params']:,} params): "
          f"{d['now']:.0f} ms CPU (the dict path it replaced: {d['dict']:.0f} ms, {d['dict'] / d['now']:.1f}x)"
          f"  target < {DEEPSEEK_TARGET_MS:.0f} ms {'ok' if d['now'] < DEEPSEEK_TARGET_MS else 'OVER'}"
          f"  (load {os.getloadavg()[0]:.1f} after)")
    if against:
        load = os.getloadavg()[0]
        ab = deepseek_against(against, rounds)
        print(f"  side by side with {against} (child processes taking turns, load {load:.1f} -> "
              f"{os.getloadavg()[0]:.1f}): {against} {ab['old']:.0f} ms, this tree {ab['new']:.0f} ms CPU, "
              f"{ab['old'] / ab['new']:.2f}x")
    if only == "deepseek":
        return
    c = corpus_speed(rounds)
    print(f"real-layout corpus, 0 ms latency, {c['repos']} readable repos ({c['ok']} ok): crawl_once "
          f"{c['ours_s']:.2f} s wall / {c['ours_cpu_s']:.2f} s CPU; hf_hub loop {c['hf_s']:.2f} s / "
          f"{c['hf_cpu_s']:.2f} s CPU: {c['speedup']:.1f}x  target >= {SPEEDUP_TARGET:.0f}x "
          f"{'ok' if c['speedup'] >= SPEEDUP_TARGET else 'UNDER'}")
    print("  parse worker: " + ("forked; answers over 2 MiB parsed there (its CPU is not in the crawl's CPU above)"
                                if c["parse_worker"] else "none (one core, or threads already running)"))
    print(f"  without the parse worker (threads only), same rounds: {c['threads_s']:.2f} s wall, "
          f"{c['threads_speedup']:.1f}x")
    print(f"connections: {c['connections']} for {c['requests']} requests (the crawl, listing included)")
    s = hub_scale(repos)
    per_repo = s["recrawl_cpu_s"] / max(s["recrawl_unchanged"], 1) * 1000
    print(f"{repos:,} repos from one source (pages of {PAGE_SIZE}, no 10k cap): first crawl saw "
          f"{s['first_seen']:,}, {s['first_ok']:,} ok, {s['first_s']:.0f} s wall, {s['first_cpu_s']:.0f} s CPU, "
          f"{s['first_requests']:,} requests")
    print(f"re-crawl: {s['recrawl_unchanged']:,} unchanged, {s['recrawl_read']} read, {s['recrawl_s']:.1f} s wall, "
          f"requests {s['recrawl_routes']}; client CPU {per_repo:.2f} ms per unchanged repo  target <= "
          f"{UNCHANGED_TARGET_MS:.0f} ms {'ok' if per_repo <= UNCHANGED_TARGET_MS else 'OVER'}")
    same = s["version_before"] == s["version_after"]
    print(f"catalog_version {s['version_before']} -> {s['version_after']}  target: unchanged "
          f"{'ok' if same else 'CHANGED'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crawler_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50_000, help="tiny repos for the Hub-scale crawl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["deepseek"], help="only this figure (seconds, not minutes)")
    parser.add_argument("--against", metavar="GIT_REV",
                        help="also measure DeepSeek-V3 at this revision, in turns with this tree")
    args = parser.parse_args(argv)
    report(args.repos, args.rounds, args.only, args.against)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
