"""Item 3, readers during writes: the bot's /fit and autocomplete handlers run in a tight
bounded loop in this process while ``fitbot crawl``, a process of its own, writes 2,000
repos into the same database file (the Hub stand-in is a third process).

The handlers are the cog callbacks the bot registers, called with a stand-in
interaction whose followup serialises the embed, the buttons and the chart as discord.py
would send them (bench/bot_bench.py does the same). The loop runs first with no writer
(idle), then while the crawl writes. Any exception is counted; "database is locked"
anywhere (the handlers, the bot's log, the crawler's stderr) fails the item.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._common import (
    Deadline,
    ItemResult,
    clean_env,
    fitbot_argv,
    median,
    percentile,
    quiet,
)
from ..bot_bench import standin_interaction
from ._hostile_input import captured_logs, seeded_database
from ._standin_proc import SMALL_PREFIX, small_hub, top_sources

REPOS = 2000
FIT_CASES = (("qwen2.5-32b", "24GB", None), ("llama 3.1 70b", "2x3090", 32768), ("Qwen/Qwen3-30B-A3B", "3090 + 64GB RAM", 32768),
             ("deepseek v3", "8x H100", None), ("gpt-oss-120b", "M3 Max 128GB", 65536), ("llama 3.1 8b", "8GB", None))
TYPED = ("q", "qw", "qwen", "qwen2.5", "qwen2.5-3", "llama 3", "deeps", "gpt-o", "mixtral", "fitbot-rel", "tiny-00", "gemma")
WARM_UP_ROUNDS = 30  # first calls fill caches (chart glyphs, the LRU, SQLite pages): not measured
IDLE_LIMIT_S = 20.0
IDLE_ROUNDS = 250
WRITE_LIMIT_S = 240.0
WRITE_ROUNDS = 50_000
LOCKED = "database is locked"


@dataclass
class Phase:
    """Handler latencies and failures of one phase of the loop."""

    fit_s: list[float] = field(default_factory=list)
    complete_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # answers the bot gives as one ephemeral line

    def fail(self, error: BaseException) -> None:
        from estimator.errors import InputError

        if isinstance(error, InputError):  # e.g. a repo written seconds ago, before the next index refresh
            self.refused[type(error).__name__] = self.refused.get(type(error).__name__, 0) + 1
            return
        key = f"{type(error).__name__}: {str(error)[:80]}"
        self.errors[key] = self.errors.get(key, 0) + 1


async def one_round(cog, transformer, n: int, rng: random.Random, phase: Phase, crawled: list[str]) -> None:
    """One /fit and three autocomplete keystrokes, each timed."""
    from bot._parsers import ModelRef
    from estimator import KvCacheType

    model, budget_text, context = FIT_CASES[n % len(FIT_CASES)]
    if crawled and n % 3 == 0:
        model, budget_text, context = rng.choice(crawled), "24GB", None
    started = time.perf_counter()
    try:
        budget = await transformer.transform(None, budget_text)
        await type(cog).fit.callback(cog, standin_interaction(n), ModelRef(model), budget, context, KvCacheType.F16)
    except Exception as e:  # every failure is a finding: counted, reported
        phase.fail(e)
    phase.fit_s.append(time.perf_counter() - started)
    for text in rng.sample(TYPED, 3):
        # Half the keystrokes are new text, so the autocomplete cache cannot answer them all.
        text = text if rng.random() < 0.5 else f"{text}{rng.randrange(1000)}"
        started = time.perf_counter()
        try:
            await cog.model_autocomplete(None, text)
        except Exception as e:
            phase.fail(e)
        phase.complete_s.append(time.perf_counter() - started)
        await asyncio.sleep(0)  # as the gateway would: other tasks get the loop between interactions


def _crawled(db: Path, limit: int = 50) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        rows = conn.execute("SELECT repo_id FROM models WHERE repo_id LIKE ? LIMIT ?", (f"{SMALL_PREFIX}/%", limit))
        return [r for (r,) in rows]


async def loop_while(process: subprocess.Popen | None, bot, rounds: int, limit_s: float, db: Path) -> Phase:
    """The handler loop, until ``rounds``, ``limit_s`` or (when given) the process ends."""
    from bot._discord._cog_lookup import LookupCog
    from bot._discord._params import BudgetTransformer

    cog = bot.get_cog("LookupCog")
    assert isinstance(cog, LookupCog)
    transformer, rng, phase = BudgetTransformer(), random.Random(3), Phase()
    deadline, crawled = Deadline(limit_s), []
    for n in range(rounds):
        if deadline.passed or (process is not None and process.poll() is not None):
            break
        if process is not None and n % 200 == 0:
            crawled = await asyncio.to_thread(_crawled, db)
        await one_round(cog, transformer, n, rng, phase, crawled)
    return phase


async def measure(workdir: Path, repos: int) -> tuple[Phase, Phase, dict]:
    from bot.app._discord_cli import open_bot
    from bot.app._settings import Settings

    db = await seeded_database(workdir / "fitbot.sqlite")
    sources = workdir / "sources.toml"
    sources.write_text(top_sources(repos), encoding="utf-8")
    with small_hub(repos) as url, captured_logs() as capture:
        env = clean_env(workdir, HF_ENDPOINT=url, FITBOT_DB=str(db), FITBOT_SOURCES=str(sources))
        async with open_bot(Settings(db_path=db), serving=False) as bot:
            await bot.setup_hook()
            await loop_while(None, bot, WARM_UP_ROUNDS, IDLE_LIMIT_S, db)
            idle = await loop_while(None, bot, IDLE_ROUNDS, IDLE_LIMIT_S, db)
            # Files, not pipes: --json prints every outcome, more than a pipe holds unread.
            with open(workdir / "crawl.out", "w") as out, open(workdir / "crawl.err", "w") as err:
                process = subprocess.Popen(fitbot_argv("crawl", "--json"), env=env, stdout=out, stderr=err)
                started = time.monotonic()
                try:
                    writes = await loop_while(process, bot, WRITE_ROUNDS, WRITE_LIMIT_S, db)
                    await asyncio.to_thread(process.wait, timeout=WRITE_LIMIT_S)
                finally:
                    if process.poll() is None:
                        process.kill()
                        process.wait()
                crawl_s = time.monotonic() - started
    logged = [r.getMessage() for r in capture.records]
    return idle, writes, {"returncode": process.returncode, "stderr": (workdir / "crawl.err").read_text(),
                          "crawl_s": crawl_s, "logged": logged, "written": _written(db)}


def _written(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute("SELECT COUNT(*) FROM models WHERE repo_id LIKE ? AND sha IS NOT NULL",
                            (f"{SMALL_PREFIX}/%",)).fetchone()[0]


async def run_item(repos: int = REPOS, deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-3-") as tmp, quiet("crawler"):
        idle, writes, crawl = await measure(Path(tmp), repos)
    problems = [f"{n} × {e}" for phase in (idle, writes) for e, n in phase.errors.items()]
    locked = [t for t in (crawl["stderr"], *crawl["logged"], *writes.errors, *idle.errors) if LOCKED in t]
    problems += [f"'{LOCKED}': {t[:200]}" for t in locked]
    if crawl["returncode"] != 0:
        problems.append(f"fitbot crawl exited {crawl['returncode']}: {crawl['stderr'][-300:]}")
    if crawl["written"] != repos:
        problems.append(f"{crawl['written']} of {repos} repos written")
    if len(writes.fit_s) < 20:
        problems.append(f"only {len(writes.fit_s)} /fit calls overlapped the crawl")

    def row(what: str, samples_idle: list[float], samples_writes: list[float]) -> tuple[str, str]:
        return (what, f"idle p50 {median(samples_idle) * 1e3:.1f} ms, p99 {percentile(samples_idle, 99) * 1e3:.1f} ms; "
                      f"during writes p50 {median(samples_writes) * 1e3:.1f} ms, p99 {percentile(samples_writes, 99) * 1e3:.1f} ms "
                      f"({percentile(samples_writes, 99) / max(1e-9, percentile(samples_idle, 99)):.1f}× idle p99)")

    figures = (
        ("repos the crawler wrote (own process, same file)", f"{crawl['written']:,} in {crawl['crawl_s']:.1f} s"),
        ("handler calls: idle / during writes",
         f"{len(idle.fit_s):,} /fit + {len(idle.complete_s):,} autocomplete / "
         f"{len(writes.fit_s):,} /fit + {len(writes.complete_s):,} autocomplete"),
        row("/fit handler", idle.fit_s, writes.fit_s),
        row("autocomplete handler", idle.complete_s, writes.complete_s),
        ("'database is locked' (handlers, bot log, crawler stderr)", str(len(locked))),
        ("unexpected exceptions", str(sum(idle.errors.values()) + sum(writes.errors.values()))),
        ("refusals (a repo written since the last name-index refresh, every 30 s)",
         ", ".join(f"{k} {v:,}" for k, v in writes.refused.items()) or "none"),
    )
    details = ("Each round: one /fit (the cog callback: budget transformer, resolve, estimate, embed, buttons, "
               "PNG chart, serialised) and three autocomplete keystrokes (half of them text not typed before, so not cached); a third of the /fit calls name a repo the "
               "crawler has just written. The Hub stand-in, the crawler and this loop are three processes on the "
               "same cores.")
    return ItemResult(3, "Readers during writes", tuple(problems), figures, details, time.monotonic() - started,
                      {"idle": idle, "writes": writes, "crawl": crawl})
