"""Issue 13 (scale): cost per answer at 74, 100,000 and 300,000 models, side by side.

Build a store:  .venv/bin/python -m bench.scale build --models 100000 --db /tmp/scale-100k.sqlite
Run it all:     .venv/bin/python -m bench.scale run [--dir /tmp/fitbot-scale] [--sizes 100000,300000]
The crawler:    .venv/bin/python -m bench.scale run --crawler [--crawler-repos 50000]   (bench.crawler_scale)
Autocomplete:   .venv/bin/python -m bench.scale autocomplete --db /tmp/fitbot-scale/scale-300000.sqlite

``build`` seeds the bundled catalog, then adds N distinct synthetic models (``bench._synthetic``:
realistic names under labs, quantizers and user handles; dense and MoE shapes; accounting
from the real estimator) through the store's bulk path. ``run`` builds what is missing under
``--dir`` (kept for the next run), then measures each figure of issue 13 in this one run and
prints it beside its target. Every CLI figure is CPU seconds (user + system) of a child
``python -m bot.cli`` process, the median of ``--repeat`` calls, so a busy machine inflates
wall time but not the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._synthetic import SyntheticCatalog, templates_from
from store import (
    Database,
    count_models,
    get_meta,
    insert_new_models,
    load_bundled_catalog,
    seed_bundled_data,
    set_meta,
)

SMALL = "bundled"
CLI_CASES = (
    ("fit", ["fit", "qwen2.5-32b", "24GB"]),
    ("model", ["model", "llama 3.1 8b"]),
    ("define", ["define", "kv cache"]),
    ("status", ["status"]),
)
FLAT_TARGET = 1.2
_BUILT_KEY = "bench_scale_models"


async def build(path: Path, models: int, seed: int = 13) -> int:
    """Seed the bundled catalog and bulk-add ``models`` synthetic ones. Returns the total."""
    db = await Database.open(path)
    try:
        await seed_bundled_data(db)
        taken = {r.repo_id.lower() for r in load_bundled_catalog()}
        catalog = SyntheticCatalog(templates_from(load_bundled_catalog()), seed=seed)
        await insert_new_models(db, catalog.records(models, taken))
        await set_meta(db, _BUILT_KEY, str(models))
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"{path}: {await count_models(db):,} models ({catalog.dense:,} dense, {catalog.moe:,} MoE)")
        return await count_models(db)
    finally:
        await db.close()


async def built_models(path: Path) -> int | None:
    if not path.exists():
        return None
    db = await Database.open(path)
    try:
        value = await get_meta(db, _BUILT_KEY)
        return int(value) if value is not None else None
    finally:
        await db.close()


def ensure_store(workdir: Path, models: int) -> Path:
    path = workdir / f"scale-{models}.sqlite"
    if asyncio.run(built_models(path)) != models:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        asyncio.run(build(path, models))
        print(f"  built in {time.perf_counter() - started:.0f} s")
    return path


def cli_cpu(db: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds and wall seconds of one ``fitbot`` call in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(db), *args], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # status exits 1 on a store that was never crawled
        raise SystemExit(f"fitbot {' '.join(args)} failed on {db}: {done.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def median_cpu(db: Path, args: list[str], env: dict[str, str], repeat: int) -> float:
    return statistics.median(cli_cpu(db, args, env)[0] for _ in range(repeat))


def flat_cost(stores: dict[str, Path], env: dict[str, str], repeat: int) -> None:
    print(f"\n== CLI cost per answer (CPU s, median of {repeat}); target each ratio <= {FLAT_TARGET}x ==")
    labels = list(stores)
    print(f"{'command':<8}" + "".join(f"{label:>14}" for label in labels) + "   ratios")
    for name, args in CLI_CASES:
        # Interleaved, so a burst of load on the shared machine hits every size alike.
        samples: dict[str, list[float]] = {label: [] for label in labels}
        for _ in range(repeat):
            for label in labels:
                samples[label].append(cli_cpu(stores[label], args, env)[0])
        cost = {label: statistics.median(s) for label, s in samples.items()}
        base = cost[SMALL]
        ratios = [f"{label} {cost[label] / base:.2f}x {'ok' if cost[label] / base <= FLAT_TARGET else 'OVER'}"
                  for label in labels[1:]]
        print(f"{name:<8}" + "".join(f"{cost[label]:>14.3f}" for label in labels) + "   " + ", ".join(ratios))


def fresh_vs_warm(warm: Path, env: dict[str, str], repeat: int) -> None:
    args = ["fit", "qwen2.5-32b", "24GB"]
    fresh, warm_cpu = [], []
    # Three times the other figures' samples: the two differ by ~70 ms in ~0.5 s of mostly imports,
    # and five samples of each spread by more than that on this shared machine (1.03x to 1.30x).
    for _ in range(3 * repeat):
        with tempfile.TemporaryDirectory() as tmp:
            fresh.append(cli_cpu(Path(tmp) / "fresh.sqlite", args, env)[0])
        warm_cpu.append(cli_cpu(warm, args, env)[0])
    ratio = statistics.median(fresh) / statistics.median(warm_cpu)
    print(f"\n== first answer from a fresh store (median of {len(fresh)}): {statistics.median(fresh):.3f} s CPU vs warm "
          f"{statistics.median(warm_cpu):.3f} s = {ratio:.2f}x  target <= 1.2x {'ok' if ratio <= 1.2 else 'OVER'}")


def export_cpu(db: Path, env: dict[str, str], models: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpu, wall = cli_cpu(db, ["export", "--format", "csv", "--out", str(Path(tmp) / "out.csv")], env)
    print(f"\n== fitbot export, {models:,} models: {cpu:.1f} s CPU ({wall:.1f} s wall), "
          f"{cpu / models * 1e3:.2f} ms/model  target < 60 s {'ok' if cpu < 60 else 'OVER'}")


def bot_figures(db: Path, models: int) -> None:
    from bench.bot_bench import (
        measure_scale,  # imports discord.py: only where the bot is measured
    )

    print(f"\n== bot at {models:,} models (a fresh process) ==")
    child = multiprocessing.get_context("spawn").Process(target=measure_scale, args=(str(db),))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the bot measurement failed (exit {child.exitcode})")


def crawler_figures(repos: int, rounds: int) -> None:
    """The crawler half of issue 13 (bench.crawler_scale), in this run."""
    from bench.crawler_scale import report

    report(repos, rounds)


def autocomplete(db: Path, calls: int = 3000, seed: int = 13) -> None:
    """Autocomplete CPU per call on one store: the posting walk alone (the index before migration 5)
    beside walk + word bitmaps, on the same distinct partial names, interleaved, after a warm-up round."""
    import store._names as names
    from bench.bot_bench import partial_inputs  # the bot figure's inputs (imports discord.py)
    from store import NameIndex

    repos = asyncio.run(_repo_ids(db))
    rng = random.Random(seed)
    inputs = partial_inputs(rng.sample(repos, min(3000, len(repos))), calls, rng)
    index = NameIndex.open(str(db))
    modes = {"walk only": 10**18, "walk + bitmaps": names._WALK_POSTINGS}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    answers: dict[str, list[list[str]]] = {m: [] for m in modes}
    try:
        for warm in (True, False):
            for text in inputs:
                for mode, walk_postings in modes.items():
                    names._WALK_POSTINGS = walk_postings
                    started = time.process_time()
                    found = index.complete(text)
                    if not warm:
                        cpu[mode].append(time.process_time() - started)
                        answers[mode].append(found)
    finally:
        names._WALK_POSTINGS = modes["walk + bitmaps"]
        index.close()
    print(f"\n== autocomplete on {len(repos):,} models, {len(inputs):,} distinct partial names, CPU per call "
          f"(load average {os.getloadavg()[0]:.1f}) ==")
    for mode, samples in cpu.items():
        ordered = sorted(samples)
        p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"  {mode:<15} p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, max {ordered[-1] * 1e3:.1f} ms  "
              f"target p99 < 10 ms {'ok' if p99 < 0.010 else 'OVER'}")
    differ = sum(a != b for a, b in zip(*answers.values(), strict=True))
    print(f"  answers that differ between the two: {differ} (must be 0)")


async def _repo_ids(path: Path) -> list[str]:
    db = await Database.open(path)
    try:
        rows = await db.fetchall("SELECT repo_id FROM models WHERE status = 'ok' ORDER BY repo_id")
        return [str(r[0]) for r in rows]
    finally:
        await db.close()



def run(workdir: Path, sizes: list[int], repeat: int, crawler_repos: int = 50_000) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times include other processes' turns")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), "FITBOT_LOG_LEVEL": "error"}
    stores = {SMALL: workdir / "scale-bundled.sqlite"}
    if not stores[SMALL].exists():
        subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(stores[SMALL]), "status"], env=env,
                       capture_output=True, check=False)
    for n in sizes:
        stores[f"{n // 1000}k"] = ensure_store(workdir, n)
    flat_cost(stores, env, repeat)
    fresh_vs_warm(stores[SMALL], env, repeat)
    export_size = min(sizes, key=lambda n: abs(n - 100_000))
    export_cpu(stores[f"{export_size // 1000}k"], env, export_size)
    autocomplete(stores[f"{max(sizes) // 1000}k"])
    bot_figures(stores[f"{max(sizes) // 1000}k"], max(sizes))
    crawler_figures(crawler_repos, 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build a store of N synthetic models")
    b.add_argument("--models", type=int, required=True)
    b.add_argument("--db", type=Path, required=True)
    b.add_argument("--seed", type=int, default=13)
    a = commands.add_parser("autocomplete", help="autocomplete CPU per call, walk only beside walk + bitmaps")
    a.add_argument("--db", type=Path, required=True)
    a.add_argument("--calls", type=int, default=3000)
    r = commands.add_parser("run", help="measure every figure of issue 13 beside its target")
    r.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "fitbot-scale")
    r.add_argument("--sizes", default="100000,300000")
    r.add_argument("--repeat", type=int, default=5)
    r.add_argument("--crawler", action="store_true", help="only the crawler figures (bench.crawler_scale)")
    r.add_argument("--crawler-repos", type=int, default=50_000, help="repos in the Hub-scale crawl")
    args = parser.parse_args(argv)
    if args.command == "build":
        started = time.perf_counter()
        asyncio.run(build(args.db, args.models, args.seed))
        print(f"built in {time.perf_counter() - started:.1f} s")
    elif args.command == "autocomplete":
        autocomplete(args.db, args.calls)
    elif args.crawler:
        crawler_figures(args.crawler_repos, 3)
    else:
        run(args.dir, [int(s) for s in args.sizes.split(",")], args.repeat, args.crawler_repos)


if __name__ == "__main__":
    main()
