"""Crawler benchmark on the Hub stand-in with 30 ms of latency per request.

Run:  .venv/bin/python -m bench.crawler_bench        (about 90 s on 2 cores)
      .venv/bin/python -m bench.crawler_bench --gguf-only (part 5 alone)
      .venv/bin/python bench/crawler_bench.py --quick (skips DeepSeek-V3 and uses 300 small repos)

Side by side, in one run, over the same header replicas (tests/factories):

1. per model: requests, bytes and wall time of the crawler's read (config.json, index and
   every header, parsed) against ``huggingface_hub.HfApi.get_safetensors_metadata``;
   targets: ≤ files + 2 requests, bytes < 1.2 × (header + index + config), ≥ 2× faster
   on sharded models;
2. a re-crawl with nothing changed (must make zero resolve requests);
3. the same shard-header reads through the async client and through threads;
4. throughput over 2,000 small repos;
5. GGUF repos (real GGUFWriter files: a 100k-token vocabulary, split files, MLA, SWA, hybrid):
   requests and bytes per repo against the limit (one tree call plus each file's header
   bytes) and against reading every header in full.

The stand-in runs in a child process, so client CPU and server CPU do not share a GIL.
Requests and bytes are counted by the stand-in, independently of the crawler's meter.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# huggingface_hub reads HF_HOME at import: its download cache must not touch the user's.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="fitbot-bench-hf-")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import logging  # noqa: E402

import httpx2  # noqa: E402
from huggingface_hub import HfApi, get_async_session, get_session  # noqa: E402

from crawler import EXPAND, CrawlOptions, HubConfig, crawl_once, open_hub, parse_model_info, parse_sources  # noqa: E402
from crawler._http import Target  # noqa: E402
from crawler._read import read_checkpoint  # noqa: E402
from estimator import INDEX_FILE, SINGLE_FILE, parse_safetensors_file, select_checkpoint_files  # noqa: E402
from store import Database  # noqa: E402

LATENCY_S = 0.030
TOKEN = "hf_bench_token"
CONCURRENCY = 8  # the crawler's default (FITBOT_CRAWL_CONCURRENCY)
SKIP = ("gated", "missing", "bin-only")


# --- the stand-in, in a child process ---------------------------------------------------------

def _serve(kind: str, count: int, latency_s: float, quick: bool, conn) -> None:
    from tests.crawler.corpus import corpus, small_repos
    from tests.crawler.hub_standin import HubStandIn

    if kind == "gguf":
        from tests.crawler.gguf_corpus import gguf_corpus

        repos = gguf_corpus()
    else:
        repos = small_repos(count) if kind == "small" else list(corpus(heavy=not quick, malformed=False)[0])
    with HubStandIn(repos, latency_s=latency_s, tokens_with_access=frozenset({TOKEN}), page_size=1000) as standin:
        standin.prepare_metadata()
        conn.send(standin.url)
        conn.recv()  # block until the parent is done


@contextmanager
def served(kind: str, *, count: int = 0, quick: bool = False) -> Iterator[str]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(kind, count, LATENCY_S, quick, child), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=30)


def hits(url: str) -> list[list]:
    return httpx2.get(f"{url}/_standin/stats", timeout=60).json()["hits"]


def reset(url: str) -> None:
    httpx2.get(f"{url}/_standin/reset", timeout=60)


def cost(url: str, repo_id: str) -> tuple[int, int, int]:
    """(requests, HEAD requests, bytes) the stand-in saw for one repo's files."""
    mine = [h for h in hits(url) if h[2] == repo_id and h[1] in ("resolve_get", "resolve_head", "metadata_api")]
    return len(mine), sum(h[1] == "resolve_head" for h in mine), sum(h[4] for h in mine)


# --- per model ------------------------------------------------------------------------------

def bench_models(url: str, quick: bool) -> list[dict]:
    from tests.crawler.corpus import corpus
    from tests.factories import BUILDERS, replica

    served_ids = {r.repo_id for r in corpus(heavy=not quick, malformed=False)[0]}
    warm = replica("llama-3.2-1b-tied").repo_id  # first calls pay for imports and connections
    asyncio.run(_ours(url, warm, "auto"))
    _theirs(url, warm)
    rows = []
    for key in BUILDERS:
        rep = replica(key)
        if key in SKIP or rep.repo_id not in served_ids:
            continue
        row = {"model": rep.repo_id, "files": len(rep.files), "needed": _needed_bytes(rep), "parse_ms": _parse_ms(rep)}
        for strategy in ("auto", "ranged"):
            row[strategy] = asyncio.run(_ours(url, rep.repo_id, strategy))
        row["hf"] = _theirs(url, rep.repo_id)
        rows.append(row)
    return rows


def _parse_ms(rep) -> float:
    """What the estimator's validating parser alone costs on this model's header bytes."""
    from tests.factories import file_prefix

    prefixes = [file_prefix(header) for header in rep.files.values()]
    started = time.perf_counter()
    for prefix in prefixes:
        parse_safetensors_file(prefix)
    return (time.perf_counter() - started) * 1000


def _needed_bytes(rep) -> int:
    files = rep.repo_files()
    wanted = list(rep.files) + [f for f in (INDEX_FILE, "config.json") if f in files]
    return sum(len(files[f].prefix) for f in wanted)


async def _ours(url: str, repo_id: str, strategy: str) -> dict:
    config = HubConfig(endpoint=url, token=TOKEN, concurrency=CONCURRENCY, read_strategy=strategy)
    async with open_hub(config) as hub:
        info = await hub.call_api(hub.api.model_info, repo_id, expand=EXPAND, target=Target(repo_id))
        candidate = parse_model_info(info, "bench")
        counted = select_checkpoint_files(f for f in candidate.files if "/" not in f)
        reset(url)
        started = time.perf_counter()
        read = await read_checkpoint(hub, candidate, counted)
        wall = time.perf_counter() - started
    requests, heads, received = cost(url, repo_id)
    return {"requests": requests, "heads": heads, "bytes": received, "ms": wall * 1000, "how": read.strategy,
            "tensors": len(read.tensors)}


def _theirs(url: str, repo_id: str) -> dict:
    api = HfApi(endpoint=url, token=TOKEN)
    reset(url)
    started = time.perf_counter()
    meta = api.get_safetensors_metadata(repo_id)
    wall = time.perf_counter() - started
    requests, heads, received = cost(url, repo_id)
    tensors = sum(len(f.tensors) for f in meta.files_metadata.values())
    return {"requests": requests, "heads": heads, "bytes": received, "ms": wall * 1000, "tensors": tensors}


def print_models(rows: list[dict]) -> None:
    print(f"\n1. Per model, 30 ms latency, concurrency {CONCURRENCY} (hf_hub: its own thread pool)")
    print("   (ms: wall time of config.json + index + every header, fetched and parsed; 'parse' is the")
    print("   estimator's validating parser alone on the same bytes, included in ours)")
    print(f"{'model':<46}{'files':>6} | {'ours (auto)':>27} | {'ours (ranged)':>27} | {'hf_hub':>27} | "
          f"{'bytes/needed':>12} {'speed-up':>13} {'parse':>6}")
    print(f"{'':<52} | {'req':>5}{'bytes':>12}{'ms':>8}  | {'req':>5}{'bytes':>12}{'ms':>8}  | "
          f"{'req':>5}{'bytes':>12}{'ms':>8}  | {'auto/ranged':>12} {'auto/ranged':>13} {'ms':>6}")
    for r in rows:
        cells = " | ".join(f"{r[k]['requests']:>5}{r[k]['bytes']:>12,}{r[k]['ms']:>8.0f} " for k in ("auto", "ranged", "hf"))
        ratio = f"{r['auto']['bytes'] / r['needed']:.2f}/{r['ranged']['bytes'] / r['needed']:.2f}"
        speed = f"{_speedup(r):.1f}×/{_speedup(r, 'ranged'):.1f}×"
        print(f"{r['model'][:46]:<46}{r['files']:>6} | {cells} | {ratio:>12} {speed:>13} {r['parse_ms']:>6.0f}")
    _print_targets(rows)


def _speedup(row: dict, strategy: str = "auto") -> float:
    """hf_hub's wall time over ours."""
    return row["hf"]["ms"] / row[strategy]["ms"]


def _print_targets(rows: list[dict]) -> None:
    sharded = [r for r in rows if r["files"] > 1]
    worst_req = max(r["ranged"]["requests"] - r["files"] for r in rows)
    worst_bytes = max(r["ranged"]["bytes"] / r["needed"] for r in rows)
    worst_auto_bytes = max(r["auto"]["bytes"] / r["needed"] for r in rows)
    speedups = [_speedup(r) for r in sharded]
    ranged_speedups = [_speedup(r, "ranged") for r in sharded]
    print(f"\n   requests ≤ files + 2: worst ranged case is files + {worst_req} "
          f"(auto: files + {max(r['auto']['requests'] - r['files'] for r in rows)}); HEADs: "
          f"ours {sum(r['auto']['heads'] + r['ranged']['heads'] for r in rows)}, hf_hub {sum(r['hf']['heads'] for r in rows)}")
    print(f"   bytes < 1.2 × needed: worst ranged {worst_bytes:.3f}×, worst auto {worst_auto_bytes:.3f}×")
    print(f"   sharded speed-up over hf_hub: auto min {min(speedups):.1f}×, median {sorted(speedups)[len(speedups) // 2]:.1f}×; "
          f"ranged min {min(ranged_speedups):.1f}×, median {sorted(ranged_speedups)[len(ranged_speedups) // 2]:.1f}×")
    total = {k: sum(r[k]["requests"] for r in rows) for k in ("auto", "ranged", "hf")}
    print(f"   all models: requests auto {total['auto']}, ranged {total['ranged']}, hf_hub {total['hf']}; "
          f"tensors agree: {all(r['auto']['tensors'] == r['hf']['tensors'] for r in rows)}")


# --- re-crawl, throughput ---------------------------------------------------------------------

async def crawl_twice(url: str, sources_text: str, concurrency: int) -> tuple[object, object, int, float]:
    db = await Database.open(":memory:")
    try:
        async with open_hub(HubConfig(endpoint=url, token=TOKEN, concurrency=concurrency)) as hub:
            options = CrawlOptions(parse_sources(sources_text))
            started = time.perf_counter()
            first = await crawl_once(hub, db, options)
            wall = time.perf_counter() - started
            reset(url)
            second = await crawl_once(hub, db, options)
            resolves = sum(h[1].startswith("resolve") or h[1] == "metadata_api" for h in hits(url))
    finally:
        await db.close()
    return first, second, resolves, wall


def print_recrawl(url: str) -> None:
    text = '[[source]]\nname = "all"\nkind = "top"\nlimit = 5000\n'
    first, second, resolves, wall = asyncio.run(crawl_twice(url, text, CONCURRENCY))
    print("\n2. Re-crawl with nothing changed")
    print(f"   first crawl: {first.seen} repos, {first.stats.requests} requests "
          f"({first.stats.api_requests} API, {first.stats.resolve_requests} resolve), {wall:.2f} s")
    print(f"   re-crawl:    {second.unchanged} unchanged, {second.stats.requests} requests "
          f"({second.stats.api_requests} API listing pages), resolve + metadata requests: {resolves}")


def print_throughput(url: str, count: int) -> None:
    text = f'[[source]]\nname = "all"\nkind = "top"\nlimit = {count}\n'
    print(f"\n4. Throughput, {count} small single-file repos, 30 ms latency")
    for concurrency in (CONCURRENCY, 32):
        first, second, resolves, wall = asyncio.run(crawl_twice(url, text, concurrency))
        print(f"   concurrency {concurrency:>2}: {wall:6.2f} s, {first.seen / wall:6.1f} repos/s, "
              f"{first.stats.requests} requests ({first.stats.requests / first.seen:.2f} per repo), "
              f"{first.stats.bytes_received:,} bytes; re-crawl resolves: {resolves}")


# --- async client against threads --------------------------------------------------------------

def shard_ranges(url: str, quick: bool) -> list[tuple[str, str]]:
    from tests.crawler.corpus import corpus
    from tests.crawler.hub_standin import commit_sha  # noqa: F401  (same corpus, same shas)

    ranges = []
    for repo in corpus(heavy=not quick, malformed=False)[0]:
        if INDEX_FILE not in repo.files:
            continue
        for name, image in repo.files.items():
            if name.endswith(".safetensors") and "/" not in name and name != SINGLE_FILE and name != "consolidated.safetensors":
                ranges.append((f"{url}/{repo.repo_id}/resolve/{repo.sha}/{name}", f"bytes=0-{len(image.prefix) - 1}"))
    return ranges


async def _async_reads(client: httpx2.AsyncClient, ranges, concurrency: int) -> int:
    slots = asyncio.Semaphore(concurrency)
    headers = {"authorization": f"Bearer {TOKEN}"}

    async def one(url, wanted):
        async with slots:
            response = await client.get(url, headers={**headers, "Range": wanted})
            return len(response.content)

    return sum(await asyncio.gather(*(one(u, r) for u, r in ranges)))


async def _async_best_of(ranges, concurrency: int, runs: int) -> tuple[float, float, int]:
    """One client for all runs, as the crawler keeps one for its life; best of ``runs``."""
    async with get_async_session() as client:
        await _async_reads(client, ranges[:concurrency], concurrency)  # connections up
        results = []
        for _ in range(runs):
            cpu, started = time.process_time(), time.perf_counter()
            received = await _async_reads(client, ranges, concurrency)
            results.append((time.perf_counter() - started, time.process_time() - cpu, received))
    return min(results)


def _thread_reads(ranges, concurrency: int) -> int:
    session = get_session()
    headers = {"authorization": f"Bearer {TOKEN}"}
    with ThreadPoolExecutor(concurrency) as pool:
        return sum(pool.map(lambda ur: len(session.get(ur[0], headers={**headers, "Range": ur[1]}).content), ranges))


def print_transport(url: str, quick: bool) -> None:
    ranges = shard_ranges(url, quick)
    print(f"\n3. The same {len(ranges)} shard-header GETs: async client against threads (best of 3, warm)")
    _thread_reads(ranges[:CONCURRENCY], CONCURRENCY)  # the shared session's connections up
    for concurrency in (CONCURRENCY, 32):
        for name, measure in (
            ("async (get_async_session)", lambda c=concurrency: asyncio.run(_async_best_of(ranges, c, 3))),
            ("threads (get_session)", lambda c=concurrency: min(_timed(lambda: _thread_reads(ranges, c)) for _ in range(3))),
        ):
            wall, cpu, received = measure()
            print(f"   concurrency {concurrency:>2}, {name:<26}: {wall:6.2f} s wall, {cpu:5.2f} s CPU "
                  f"({cpu / len(ranges) * 1000:.2f} ms a request), {received:,} bytes")


def _timed(run) -> tuple[float, float, int]:
    cpu, started = time.process_time(), time.perf_counter()
    received = run()
    return time.perf_counter() - started, time.process_time() - cpu, received


# --- GGUF repos ---------------------------------------------------------------------------------

FULL_READ_BYTES = 1 << 20  # a plain reader: 1 MiB ranges until the header ends


def bench_gguf(url: str) -> list[dict]:
    """Per GGUF repo: what the crawl cost, the limit, and what reading every header in full costs."""
    from crawler import GgufCandidate, crawl_gguf_repos
    from store import get_gguf_repo
    from tests.crawler.gguf_corpus import gguf_corpus

    rows = []
    for repo in gguf_corpus():
        headers = _gguf_header_lengths(repo)
        sizes = {name: repo.files[name].size for name in headers}
        reset(url)

        async def crawl() -> object:
            db = await Database.open(":memory:")
            try:
                async with open_hub(HubConfig(endpoint=url, token=TOKEN, concurrency=CONCURRENCY)) as hub:
                    candidate = GgufCandidate(repo.repo_id, repo.sha, repo.downloads, False, None)
                    started = time.perf_counter()
                    await crawl_gguf_repos(hub, db, [candidate], datetime.now(UTC))
                    wall = time.perf_counter() - started
                return await get_gguf_repo(db, repo.repo_id), wall
            finally:
                await db.close()

        stored, wall = asyncio.run(crawl())
        mine = [h for h in hits(url) if h[2] == repo.repo_id and h[1] in ("tree", "resolve_get")]
        tree_bytes = sum(h[4] for h in mine if h[1] == "tree")
        rows.append({
            "repo": repo.repo_id, "files": len(stored.files), "parts": len(headers),
            "failed": sum(f.status != "ok" for f in stored.files),
            "requests": len(mine), "bytes": sum(h[4] for h in mine), "ms": wall * 1000,
            "limit_requests": 1 + len(headers), "limit_bytes": tree_bytes + sum(headers.values()),
            "full_requests": 1 + sum(-(-n // FULL_READ_BYTES) for n in headers.values()),
            "full_bytes": tree_bytes + sum(min(sizes[f], -(-n // FULL_READ_BYTES) * FULL_READ_BYTES)
                                           for f, n in headers.items()),
            "file_bytes": sum(img.size for name, img in repo.files.items() if name.endswith(".gguf")),
        })
    return rows


def _gguf_header_lengths(repo) -> dict[str, int]:
    """Header bytes (everything before tensor data) of each .gguf part; a hostile file counts whole."""
    from estimator import GgufHeaderError, parse_gguf_bytes

    lengths = {}
    for name, image in repo.files.items():
        if name.endswith(".gguf"):
            try:
                lengths[name] = parse_gguf_bytes(image.prefix).data_offset
            except GgufHeaderError:
                lengths[name] = image.size
    return lengths


def print_gguf(rows: list[dict]) -> None:
    print("\n5. GGUF repos, 30 ms latency: one tree call, then each file's header by ranges")
    print("   (limit: 1 tree call + one request per file part, bytes = the tree answer + every header;")
    print("   in full: a plain reader, 1 MiB ranges from the start of every file until its header ends)")
    print(f"{'repo':<34}{'files':>6}{'parts':>6}{'bad':>5} | {'ours req':>8}{'bytes':>12}{'ms':>7} | "
          f"{'limit req':>9}{'bytes':>12} | {'full req':>8}{'bytes':>12} | {'ours/full bytes':>15}")
    for r in rows:
        print(f"{r['repo'][:34]:<34}{r['files']:>6}{r['parts']:>6}{r['failed']:>5} | {r['requests']:>8}"
              f"{r['bytes']:>12,}{r['ms']:>7.0f} | {r['limit_requests']:>9}{r['limit_bytes']:>12,} | "
              f"{r['full_requests']:>8}{r['full_bytes']:>12,} | {r['bytes'] / r['full_bytes']:>15.3f}")
    total = {k: sum(r[k] for r in rows) for k in ("requests", "bytes", "limit_requests", "limit_bytes",
                                                  "full_requests", "full_bytes", "file_bytes")}
    print(f"   all: ours {total['requests']} requests / {total['bytes']:,} bytes; limit {total['limit_requests']} / "
          f"{total['limit_bytes']:,}; in full {total['full_requests']} / {total['full_bytes']:,}; "
          f"files hold {total['file_bytes']:,} bytes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip DeepSeek-V3, 300 small repos")
    parser.add_argument("--json", type=Path, help="also write the per-model figures here")
    parser.add_argument("--gguf-only", action="store_true", help="only part 5, the GGUF repos")
    args = parser.parse_args(argv)
    logging.getLogger("crawler").setLevel(logging.ERROR)  # per-repo warnings are not figures
    print(f"crawler benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    with served("gguf") as url:
        gguf_rows = bench_gguf(url)
        print_gguf(gguf_rows)
    if args.gguf_only:
        return
    with served("anchors", quick=args.quick) as url:
        rows = bench_models(url, args.quick)
        print_models(rows)
        print_recrawl(url)
        print_transport(url, args.quick)
    count = 300 if args.quick else 2000
    with served("small", count=count) as url:
        print_throughput(url, count)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
