"""The bot's handler time for /fit and for autocomplete with 100,000 models, and its memory.

Run:  .venv/bin/python -m bench.bot_bench

Builds a temporary database with the bundled catalog plus 100,000 distinct synthetic repos
(``bench._synthetic``, through the store's bulk path), starts the real ``FitBot``
in-process (cogs, name index, glossary; no gateway), then times:

* autocomplete, uncached: ``model_choices`` on 3,000 distinct partial names (prefixes of
  real and synthetic ids, with typos), i.e. every call searches the index;
* autocomplete, as the bot runs it: the cog's ``model_autocomplete`` callback (with its
  per-index LRU) on a replay of people typing names one keystroke at a time;
* /fit: the budget transformer plus the command callback, which defers, resolves, runs
  the estimate, renders the embed, the buttons and the PNG chart, and hands them to
  ``followup.send`` (a stub that serialises the embed instead of calling Discord).

Prints p50/p99 and the resident memory (VmRSS, peak VmHWM) of the measuring process,
which only opens the database and runs the bot: the catalog is generated in a child
process first, so its garbage does not count.
Targets (issue 4): /fit < 50 ms p99, autocomplete < 10 ms p99, RSS < 200 MB.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bot.app._discord_cli import open_bot
from bot._discord._cog_lookup import LookupCog
from bot._discord._params import BudgetTransformer, model_choices
from bot._parsers import ModelRef
from estimator import KvCacheType
from bot.app._database import open_database
from bot.app._settings import Settings
from bot.errors import ModelUnusableError
from store import Database, count_models, insert_new_models, load_bundled_catalog
from store.errors import ModelNotFoundError

N_SYNTHETIC = 100_000
AUTOCOMPLETE_CALLS = 3_000
TYPISTS = 300  # people typing a name keystroke by keystroke, for the cached replay
FIT_CALLS = 300
AUTOCOMPLETE_INPUTS = [
    "", "q", "qw", "qwen", "qwen2.5", "qwen2.5 3", "qwen2.5-32b", "llama", "llama 3.1 8", "Llama-3.1-8B-Inst",
    "deepseek", "deepseek r1 distill", "mixtrl", "lama 3", "gemma-3-27", "unsloth/qwen3", "bartowski", "phi 4",
    "gpt-oss", "hermes 3", "xyzzy", "32b awq", "mistral small 24b", "smol",
]
FIT_CASES = [
    ("qwen2.5-32b", "24GB", None),
    ("llama 3.1 70b", "2x3090", "32k"),
    ("Qwen/Qwen3-30B-A3B", "3090 + 64GB RAM", "32k"),
    ("deepseek v3", "8x H100", "32k"),
    ("gpt-oss-120b", "M3 Max 128GB", "64k"),
    ("llama 3.1 8b", "8GB", None),
    ("mixtral 8x7b", "RTX 4090", "16k"),
    ("gemma 3 27b", "24GB", "128k"),
]


async def add_synthetic_models(db: Database, n: int, seed: int = 4) -> int:
    """``n`` distinct synthetic models through the store's bulk path (names, shapes: bench._synthetic)."""
    from bench._synthetic import SyntheticCatalog, templates_from

    bundled = load_bundled_catalog()
    catalog = SyntheticCatalog(templates_from(bundled), seed=seed)
    await insert_new_models(db, catalog.records(n, {r.repo_id.lower() for r in bundled}))
    return await count_models(db)


class _Response:
    def __init__(self) -> None:
        self._done = False

    def is_done(self) -> bool:
        return self._done

    async def defer(self, **_: object) -> None:
        self._done = True


class _Followup:
    """Stands in for the webhook: serialises what would go over the wire."""

    async def send(self, **kwargs: object) -> SimpleNamespace:
        embed = kwargs["embed"]
        embed.to_dict()  # type: ignore[attr-defined]
        view = kwargs.get("view")
        if view is not None:
            view.to_components()  # type: ignore[attr-defined]
            view.stop()  # type: ignore[attr-defined]
        return SimpleNamespace(id=1)


def standin_interaction(user_id: int = 42) -> SimpleNamespace:
    """An interaction as the cog callbacks read it, answered by a followup that serialises
    the embed and buttons as discord.py would send them (also bench.reliability item 3's)."""
    return SimpleNamespace(user=SimpleNamespace(id=user_id), guild_id=None, response=_Response(), followup=_Followup())


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def memory_mb() -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def partial_inputs(names: list[str], n: int, rng: random.Random) -> list[str]:
    """``n`` distinct things people have typed so far: prefixes of names, some with a typo."""
    out: set[str] = set()
    while len(out) < n:
        name = rng.choice(names).split("/", 1)[-1] if rng.random() < 0.8 else rng.choice(names)
        text = name[: rng.randint(1, len(name))].replace("-", rng.choice(["-", " ", ""]))
        if rng.random() < 0.15 and len(text) > 3:
            i = rng.randrange(len(text) - 1)
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        out.add(text)
    return sorted(out)


def keystrokes(names: list[str], typists: int, rng: random.Random) -> list[str]:
    """What Discord sends while people type popular names, one request per keystroke."""
    popular = names[:200]
    stream = []
    for _ in range(typists):
        name = rng.choice(popular).split("/", 1)[-1].lower()
        stream += [name[:k] for k in range(1, min(len(name), 16) + 1)]
    return stream


async def build_catalog(path: Path) -> None:
    async with open_database(Settings(db_path=path)) as db:
        started = time.perf_counter()
        total = await add_synthetic_models(db, N_SYNTHETIC)
        print(f"catalog: {total:,} models ({time.perf_counter() - started:.1f} s to insert, in a child process)", flush=True)


def _build_in_child(path: str) -> None:
    asyncio.run(build_catalog(Path(path)))


async def bench(db_path: Path) -> None:
    rng = random.Random(7)
    async with open_bot(Settings(db_path=db_path), serving=False) as bot:
        before, _ = memory_mb()
        started = time.perf_counter()
        await bot.setup_hook()  # what login() runs: index, glossary, cogs
        index = bot.service.index
        assert index is not None
        after, _ = memory_mb()
        print(
            f"setup_hook (name index over {len(index):,} names, cogs): {time.perf_counter() - started:.2f} s; "
            f"RSS {before:.0f} MB before (interpreter, discord.py, estimator), {after:.0f} MB after"
        )
        cog = bot.get_cog("LookupCog")
        assert isinstance(cog, LookupCog)
        names = index.complete("", 25) + [r.repo_id for r in await _sample_models(bot.db, rng)]

        samples = []
        for text in partial_inputs(names, AUTOCOMPLETE_CALLS, rng):
            t = time.perf_counter()
            choices = model_choices(bot.service, text)
            samples.append(time.perf_counter() - t)
            assert len(choices) <= 25
        report("autocomplete, uncached (distinct inputs)", samples, len(samples), "target p99 < 10 ms", digits=2)

        samples = []
        for text in keystrokes(index.complete("", 25) + names, TYPISTS, rng):
            t = time.perf_counter()
            await cog.model_autocomplete(None, text)  # type: ignore[arg-type]
            samples.append(time.perf_counter() - t)
        report("autocomplete handler, as the bot runs it (keystroke replay, LRU)", samples, len(samples), "target p99 < 10 ms", digits=2)

        transformer = BudgetTransformer()
        samples, per_case = [], {case: [] for case in FIT_CASES}
        for n in range(FIT_CALLS):
            case = FIT_CASES[n % len(FIT_CASES)]
            model, budget_text, context = case
            t = time.perf_counter()
            budget = await transformer.transform(None, budget_text)  # type: ignore[arg-type]
            tokens = None if context is None else int(context.rstrip("k")) * 1024
            await LookupCog.fit.callback(cog, standin_interaction(), ModelRef(model), budget, tokens, KvCacheType.F16)  # type: ignore[arg-type]
            elapsed = time.perf_counter() - t
            samples.append(elapsed)
            per_case[case].append(elapsed)
        report("/fit handler (parse, resolve, estimate, embed, buttons, chart)", samples, FIT_CALLS, "target p99 < 50 ms")
        for (model, budget_text, context), times in per_case.items():
            c50, c99 = percentiles(times)
            print(f"  {model:<20} {budget_text:<16} {context or '8k':>5}: p50 {c50 * 1e3:5.1f} ms, p99 {c99 * 1e3:5.1f} ms")
        rss, peak = memory_mb()
        print(f"bot process memory: RSS {rss:.0f} MB, peak {peak:.0f} MB  target RSS < 200 MB")
        await bot.close()


async def _sample_models(db: Database, rng: random.Random) -> list[SimpleNamespace]:
    rows = await db.fetchall("SELECT repo_id FROM models ORDER BY RANDOM() LIMIT 2000")
    return [SimpleNamespace(repo_id=row[0]) for row in rows]


def report(what: str, samples: list[float], calls: int, target: str, digits: int = 1) -> None:
    p50, p99 = percentiles(samples)
    print(f"{what}: p50 {p50 * 1e3:.{digits}f} ms, p99 {p99 * 1e3:.{digits}f} ms, max {max(samples) * 1e3:.{digits}f} ms ({calls} calls)  {target}")


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "fitbot.sqlite"
        child = multiprocessing.get_context("spawn").Process(target=_build_in_child, args=(str(path),))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"building the catalog failed (exit {child.exitcode})")
        asyncio.run(bench(path))


if __name__ == "__main__":
    main()


# -- issue 13: the bot at 300,000 models (run by bench.scale in a fresh process) --------

UNSEEN_FIT_CALLS = 200
REFRESH_WRITES = 3_000


def measure_scale(db_path: str) -> None:
    """Bot figures at scale: RSS at start and while a crawl writes, autocomplete, /fit on
    models not seen since start-up. Runs in a fresh (spawned) process."""
    asyncio.run(_measure_scale(Path(db_path)))


async def _measure_scale(db_path: Path) -> None:
    rng = random.Random(13)
    async with open_bot(Settings(db_path=db_path), serving=False, freeze_gc=False) as bot:
        await bot.setup_hook()
        rss, _ = memory_mb()
        print(f"  RSS after start: {rss:.0f} MB  target <= 200 MB {'ok' if rss <= 200 else 'OVER'}")
        cog = bot.get_cog("LookupCog")
        assert isinstance(cog, LookupCog)
        rows = await bot.db.fetchall("SELECT repo_id FROM models WHERE status = 'ok' ORDER BY RANDOM() LIMIT 3000")
        names = [str(r[0]) for r in rows]
        samples = []
        for text in partial_inputs(names, AUTOCOMPLETE_CALLS, rng):
            t, c = time.perf_counter(), time.process_time()
            model_choices(bot.service, text)
            samples.append((time.perf_counter() - t, time.process_time() - c))
        _line("autocomplete (distinct partial names, typos)", samples, 10)
        samples = await _unseen_fits(cog, names[:UNSEEN_FIT_CALLS], rng)
        _line("/fit handler, models not seen since start-up", samples, 50)
        await _refresh_while_writing(bot, db_path, names)


async def _unseen_fits(cog: LookupCog, repos: list[str], rng: random.Random) -> list[tuple[float, float]]:
    transformer, samples = BudgetTransformer(), []
    for repo in repos:
        typed = repo if rng.random() < 0.5 else repo.split("/", 1)[1].replace("-", " ")
        t, c = time.perf_counter(), time.process_time()
        budget = await transformer.transform(None, rng.choice(["24GB", "2x3090", "8GB", "RTX 4090"]))  # type: ignore[arg-type]
        try:
            await LookupCog.fit.callback(cog, standin_interaction(), ModelRef(typed), budget, None, KvCacheType.F16)  # type: ignore[arg-type]
        except (ModelUnusableError, ModelNotFoundError):
            pass  # typed loosely, the name can land on a repo without weights: the error reply is the answer
        samples.append((time.perf_counter() - t, time.process_time() - c))
    return samples


async def _refresh_while_writing(bot, db_path: Path, names: list[str]) -> None:
    """A crawl in another process rewrites listing facts and adds models; the bot refreshes
    and answers meanwhile. Then the same facts again: nothing may change."""
    from store import HubFacts, get_catalog_version, update_hub_facts

    # New facts and new repos each run, so a rerun on the same store still writes.
    seed = time.time_ns() % 10**6
    writer = multiprocessing.get_context("spawn").Process(target=_write_changes, args=(str(db_path), names, seed))
    version = await get_catalog_version(bot.db)
    writer.start()
    peak, refreshes = 0.0, 0
    while writer.is_alive():
        refreshes += await bot.service.refresh(force=True)
        model_choices(bot.service, "qwen3 30b")
        peak = max(peak, memory_mb()[0])
        await asyncio.sleep(0.05)
    writer.join()
    await bot.service.refresh(force=True)
    rss, hwm = memory_mb()
    peak = max(peak, rss)
    print(f"  RSS while a crawl writes ({REFRESH_WRITES:,} changes, {refreshes} refreshes): max {peak:.0f} MB, "
          f"peak {hwm:.0f} MB  target <= 200 MB {'ok' if hwm <= 200 else 'OVER'}")
    moved = await get_catalog_version(bot.db)
    same = [(repo, HubFacts(downloads=seed, likes=1)) for repo in names[:REFRESH_WRITES]]
    changed = await update_hub_facts(bot.db, same)
    after = await get_catalog_version(bot.db)
    print(f"  catalog version {version} -> {moved} over the crawl; a re-crawl with nothing changed: "
          f"{changed} rows changed, version {moved} -> {after}  target 0 and unchanged "
          f"{'ok' if changed == 0 and after == moved else 'OVER'}")


def _write_changes(db_path: str, names: list[str], seed: int) -> None:
    asyncio.run(_write(Path(db_path), names, seed))


async def _write(db_path: Path, names: list[str], seed: int) -> None:
    from store import HubFacts, update_hub_facts

    db = await Database.open(db_path)
    try:
        for start in range(0, REFRESH_WRITES, 100):  # a crawl writes in small transactions
            batch = names[start : start + 100]
            await update_hub_facts(db, [(repo, HubFacts(downloads=seed, likes=1)) for repo in batch])
        await add_synthetic_models(db, 200, seed=seed)
    finally:
        await db.close()


def _line(what: str, samples: list[tuple[float, float]], target_ms: float) -> None:
    """Wall time and CPU time (this process, all threads) per call: on a shared machine the
    wall clock also counts other processes' turns, the CPU time does not."""
    for label, values in (("wall", [w for w, _ in samples]), ("CPU", [c for _, c in samples])):
        p50, p99 = percentiles(values)
        verdict = "ok" if p99 * 1e3 < target_ms else "OVER"
        print(f"  {what}, {label}: p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms ({len(values)} calls)  "
              f"target p99 < {target_ms:g} ms {verdict}")
