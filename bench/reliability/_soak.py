"""Item 6, soak: three hours of a busy server compressed into minutes. One ``fitbot bot`` process
answers 60,000 interactions (20,000 an hour) through the local Discord stand-in while one crawler process
(``_crawl_cycles``, the composition root's crawler) runs 5 forced crawl cycles against the
Hub stand-in, on the same database file.

Resident memory (VmRSS) and open file descriptors of both processes are sampled from
/proc throughout. Growth is judged after a warm-up (the first 10% of the interactions
and the first crawl cycle: imports, caches, the name index, SQLite's page cache), and
reported against the start too. Open descriptors are counted again after the load, once the
last views have expired and aiohttp has closed the idle keep-alive sockets: no more may be
held then than after the warm-up. Both processes must stop cleanly on SIGTERM.

Interactions are mostly plausible (80%: real names, budgets and terms, names typed
keystroke by keystroke), the rest hostile, from many users, with buttons pressed on
the answers.

At every sample the bot also writes its memory part by part (``_memory_parts``: the
kernel's split of RSS, pymalloc's arenas, glibc malloc's in-use and freed-but-held bytes,
SQLite's allocator, Python memory blocks, threads), so the report says which part grew after the
warm-up, not only that RSS did.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._common import (
    ROOT,
    Deadline,
    ItemResult,
    clean_env,
    fitbot_argv,
    fd_kinds,
    open_fds,
    percentile,
    rss_kib,
)
from ._discord_load import Exchange, TrackingStandin, drive
from ._hostile_input import seeded_database
from ._hostile_values import PayloadMaker, next_interaction
from ._memory_parts import ENV_DIR
from ._standin_proc import small_hub, top_sources

PER_HOUR = 20_000  # a busy server's hour, as issue 7 set it
INTERACTIONS = 60_000  # three busy hours: long enough to see whether growth levels off
CYCLES = 5
REPOS = 300
SAMPLE_EVERY = 500
GROWTH_LIMIT = 0.10
WARM_UP_SHARE = 0.10
LIMIT_S = 1800.0
KEEPALIVE_CLOSE_S = 31.0  # aiohttp closes a socket idle 15 s, at a check every 15 s


def settle_s(interactions: int) -> float:
    """Idle time after the load until only what is held for good stays open: the last views
    time out and edit their messages, then their sockets sit idle until aiohttp closes them."""
    return view_timeout_s(interactions) + KEEPALIVE_CLOSE_S
EXPECTED_RATE = 200.0  # interactions a second the stand-in and the bot sustain here (measured: 200-250)


def view_timeout_s(interactions: int) -> float:
    """The 10-minute view timeout scaled like the hour: 600 s of 3,600, of the time one hour's
    interactions (``PER_HOUR``, or fewer in a short run) are expected to take."""
    return max(5.0, min(interactions, PER_HOUR) / EXPECTED_RATE * 600 / 3600)


@dataclass
class Sample:
    at_s: float  # since the first sample
    done: int  # interactions answered so far
    cycles: int  # crawl cycles finished so far
    bot_rss_kib: int
    bot_fds: int
    crawler_rss_kib: int
    crawler_fds: int
    bot_fd_kinds: str  # what the bot's descriptors are: a leak shows which kind grows
    parts: int = 0  # the bot's memory-N.json written for this sample (0: none asked)


@dataclass
class Tally:
    """What the soak keeps about 60,000 exchanges: counts and a latency sample, not the exchanges."""

    answered: int = 0
    unanswered: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    final_s: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, exchange: Exchange) -> None:
        self.kinds[exchange.kind] = self.kinds.get(exchange.kind, 0) + 1
        if exchange.done_at is None:
            self.unanswered += 1
            self.problems += [f"{exchange.kind} {exchange.label!r} (user {exchange.interaction.user_id}, message "
                              f"{exchange.interaction.message_id}): {p}" for p in exchange.problems][:1]
            return
        self.answered += 1
        self.final_s.append(exchange.done_at - exchange.sent_at)


class Crawler:
    """The crawler process: one line "go" per cycle, one line back when it is done."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.log = open(workdir / "crawler.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "bench.reliability._crawl_cycles", str(CYCLES)],
                                        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)
        self.started = self.finished = 0
        self.lines: list[str] = []
        self._reader: asyncio.Task | None = None

    async def wait_ready(self) -> None:
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 120)
        if line.strip() != "ready":
            raise RuntimeError(f"the crawler process did not start: {line!r}")  # harness failure, not a finding

    def go(self) -> None:
        """Start the next cycle, unless one is running or all have run."""
        if self.started == self.finished and self.started < CYCLES:
            self.started += 1
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
            self._reader = asyncio.ensure_future(self._read_one())

    async def _read_one(self) -> None:
        line = await asyncio.to_thread(self.process.stdout.readline)
        self.lines.append(line.strip())
        self.finished += 1

    async def finish(self, deadline: Deadline) -> None:
        while self.finished < CYCLES and not deadline.passed and self.process.poll() is None:
            self.go()
            await asyncio.sleep(0.1)

    def stop(self) -> int:
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.log.close()


async def _bot(standin: TrackingStandin, env: dict[str, str], workdir: Path, view_timeout_s: float):
    log = open(workdir / "bot.log", "w")
    (workdir / "memory").mkdir()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.reliability._bot_proc",
                                                   str(view_timeout_s), cwd=ROOT,
                                                   env={**env, ENV_DIR: str(workdir / "memory")},
                                                   stdout=log, stderr=log)
    await asyncio.wait_for(standin.identified.wait(), 120)
    return process, log


async def soak(interactions: int, workdir: Path, deadline: Deadline) -> tuple[list[Sample], Tally, dict]:
    db = await seeded_database(workdir / "fitbot.sqlite")
    sources = workdir / "sources.toml"
    sources.write_text(top_sources(REPOS), encoding="utf-8")
    standin = TrackingStandin()
    await standin.start()
    samples: list[Sample] = []
    tally = Tally()
    with small_hub(REPOS) as hub_url:
        env = clean_env(workdir, FITBOT_DB=str(db), DISCORD_TOKEN="soak-token-0123456789", HF_ENDPOINT=hub_url,
                        FITBOT_SOURCES=str(sources), FITBOT_DISCORD_API_BASE=standin.api_base,
                        FITBOT_DISCORD_GATEWAY=standin.gateway_url, FITBOT_LOG_LEVEL=os.environ.get("SOAK_LOG_LEVEL", "warning"))
        synced = await asyncio.to_thread(subprocess.run, fitbot_argv("sync-commands", "--guild", "1"), env=env,
                                         capture_output=True, text=True, timeout=120)
        if synced.returncode != 0:
            raise RuntimeError(f"fitbot sync-commands failed: {synced.stderr[-300:]}")  # harness failure
        crawler = Crawler(env, workdir)
        bot, bot_log = await _bot(standin, env, workdir, view_timeout_s(interactions))
        try:
            await crawler.wait_ready()
            schema = standin.commands_schema
            rng = random.Random(6)
            maker = PayloadMaker(standin, schema, rng, users=20_000, plausible_share=0.8)
            every = max(1, interactions // CYCLES)

            began = time.monotonic()
            asked = 0

            def sample() -> None:
                nonlocal asked
                asked += 1
                bot.send_signal(signal.SIGUSR2)  # the bot writes memory-<asked>.json (read at the end)
                samples.append(Sample(time.monotonic() - began, tally.answered + tally.unanswered, crawler.finished, rss_kib(bot.pid),
                                      open_fds(bot.pid), rss_kib(crawler.process.pid), open_fds(crawler.process.pid),
                                      fd_kinds(bot.pid), asked))

            def on_done(n: int, exchange: Exchange) -> None:
                tally.add(exchange)
                if n % every == 0:
                    crawler.go()
                if n % SAMPLE_EVERY == 0:
                    sample()

            sample()
            await drive(standin, lambda n: next_interaction(standin, maker, rng), count=interactions,
                        deadline=deadline, on_done=on_done, keep=False)
            await crawler.finish(deadline)
            sample()
            await asyncio.sleep(settle_s(interactions))
            settled = open_fds(bot.pid), open_fds(crawler.process.pid)
            settled_kinds = fd_kinds(bot.pid)
            sample()  # after the idle: what the bot still holds once the last views are gone
            settled_sample = samples.pop()
            parts = await _read_parts(workdir / "memory", asked)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot_rc = await asyncio.wait_for(bot.wait(), 60)
            bot_log.close()
            crawler_rc = crawler.stop()
            await standin.stop()
    facts = {"settled_fds": dict(zip(("bot", "crawler"), settled)), "settled_bot_fd_kinds": settled_kinds,
             "parts": parts, "settled_parts_n": settled_sample.parts, "settled_rss_kib": settled_sample.bot_rss_kib,
             "bot_rc": bot_rc, "crawler_rc": crawler_rc, "cycles": crawler.lines, "violations": standin.violations,
             "bot_errors": log_errors((workdir / "bot.log").read_text()),
             "crawler_errors": log_errors((workdir / "crawler.log").read_text())}
    return samples, tally, facts


async def _read_parts(where: Path, asked: int, limit_s: float = 30.0) -> dict[int, dict[str, int]]:
    """The bot's memory-N.json files, once the last one asked for is written (or ``limit_s`` passed)."""
    deadline = Deadline(limit_s)
    while not (where / f"memory-{asked}.json").exists() and not deadline.passed:
        await asyncio.sleep(0.1)
    return {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in where.glob("memory-*.json")}


# The parts of the bot's memory the report compares, with how to show them.
PARTS = (
    ("VmRSS_kib", "RSS"), ("RssAnon_kib", "RSS: anonymous (heap)"), ("RssFile_kib", "RSS: file pages"),
    ("RssShmem_kib", "RSS: shared (SQLite's -shm)"),
    ("pymalloc_arenas", "pymalloc arenas held (1 MiB each)"), ("pymalloc_in_use_kib", "pymalloc: in use"),
    ("pymalloc_free_kib", "pymalloc: free inside its arenas"),
    ("malloc_in_use_kib", "glibc malloc: in use"), ("malloc_free_held_kib", "glibc malloc: freed, still held"),
    ("malloc_mmapped_kib", "glibc malloc: mmapped blocks"),
    ("sqlite_used_kib", "SQLite allocator (page caches, statements)"),
    ("python_blocks", "Python memory blocks allocated"), ("Threads", "threads"),
)


def parts_table(parts: dict[int, dict[str, int]], columns: list[tuple[str, int]]) -> str:
    """A markdown table of the bot's memory parts at the given (label, memory-N) points."""
    have = [(label, parts[n]) for label, n in columns if n in parts]
    if len(have) < 2:
        return f"(the bot wrote {len(parts)} memory breakdowns; too few to compare)"
    lines = ["| part | " + " | ".join(label for label, _ in have) + " | change, first to last |",
             "|---|" + "---|" * (len(have) + 1)]
    for key, label in PARTS:
        values = [p.get(key) for _, p in have]
        if any(v is None for v in values):
            continue
        unit = "MiB" if key.endswith("_kib") else ""
        show = (lambda v: f"{v / 1024:.1f}") if unit else str
        change = values[-1] - values[0]
        lines.append(f"| {label}{' (' + unit + ')' if unit else ''} | " + " | ".join(show(v) for v in values)
                     + f" | {'+' if change >= 0 else ''}{show(change)} |")
    return "\n".join(lines)


def growth_by_half(samples: list[Sample], warm: Sample) -> str:
    """RSS growth per 10,000 interactions in each half of the load after warm-up: a leak keeps its
    rate, a cache or allocator high-water mark filling up slows down."""
    after = [s for s in samples if s.done >= warm.done]
    if len(after) < 3 or after[-1].done == warm.done:
        return "too few samples after warm-up"
    mid = next(s for s in after if s.done >= (warm.done + after[-1].done) / 2)
    rates = []
    for a, b in ((warm, mid), (mid, after[-1])):
        rates.append((b.bot_rss_kib - a.bot_rss_kib) / 1024 / max(1, b.done - a.done) * 10_000)
    return (f"{rates[0]:+.2f} MiB ({warm.done:,} → {mid.done:,}), then {rates[1]:+.2f} MiB "
            f"({mid.done:,} → {after[-1].done:,})")


def where_it_went(parts: dict[int, dict[str, int]], first: int, last: int) -> str:
    """The memory parts that changed most between two breakdowns, largest first."""
    if first not in parts or last not in parts:
        return f"no breakdown (the bot wrote {len(parts)})"
    a, b = parts[first], parts[last]
    changes = [(b[k] - a[k], label) for k, label in PARTS if k.endswith("_kib") and k in a and k in b]
    changes.sort(key=lambda c: abs(c[0]), reverse=True)
    return "; ".join(f"{label} {d / 1024:+.1f}" for d, label in changes)


def log_errors(text: str) -> list[tuple[str, str]]:
    """(message, the exception's last line) of each ERROR record in a key=value log."""
    found, current = [], None
    for line in text.splitlines():
        if line.startswith("ts="):
            if current:
                found.append(tuple(current))
            current = [line.split("msg=", 1)[-1][:160], ""] if "level=error" in line or "level=critical" in line else None
        elif current is not None and line.strip() and not line.startswith(" "):
            current[1] = line.strip()[:200]  # the traceback's last unindented line: the exception
    if current:
        found.append(tuple(current))
    return found


def warmed_up(samples: list[Sample], interactions: int) -> Sample:
    """The first sample after the warm-up: 10% of the interactions, one crawl cycle, and two
    view lifetimes (until then the number of live views, each holding its answer, is still
    climbing to its steady state)."""
    settle_s = 2 * view_timeout_s(interactions)
    return next((s for s in samples if s.done >= interactions * WARM_UP_SHARE and s.cycles >= 1 and s.at_s >= settle_s),
                samples[-1])


def judge(samples: list[Sample], tally: Tally, facts: dict, interactions: int) -> tuple[list[str], dict]:
    """Problems, and the memory figures: start, after warm-up, end, for both processes."""
    warm = warmed_up(samples, interactions)
    start, end = samples[0], samples[-1]
    figures = {"warm_at": warm.done, "view_timeout_s": view_timeout_s(interactions), "warm_bot_fd_kinds": warm.bot_fd_kinds}
    figures |= {who: {"start": getattr(start, f"{who}_rss_kib"), "warm": getattr(warm, f"{who}_rss_kib"),
                     "end": getattr(end, f"{who}_rss_kib"), "fds": (getattr(start, f"{who}_fds"),
                     getattr(warm, f"{who}_fds"), getattr(end, f"{who}_fds"))} for who in ("bot", "crawler")}
    problems = list(tally.problems[:20]) + [f"{tally.unanswered} interactions unanswered"] * bool(tally.unanswered)
    problems += facts["violations"][:20]
    for who in ("bot", "crawler"):
        counted: dict[tuple[str, str], int] = {}
        for error in facts[f"{who}_errors"]:
            counted[error] = counted.get(error, 0) + 1
        problems += [f"{who} logged ERROR {n}× {msg}: {exc}" for (msg, exc), n in counted.items()]
    for who in ("bot", "crawler"):
        f = figures[who]
        growth = f["end"] / f["warm"] - 1
        if growth >= GROWTH_LIMIT:
            problems.append(f"{who} RSS grew {growth:.1%} after warm-up ({f['warm'] / 1024:.0f} → {f['end'] / 1024:.0f} MiB)")
        if facts["settled_fds"][who] > f["fds"][1]:
            problems.append(f"{who} holds {facts['settled_fds'][who]} file descriptors after the load and "
                            f"{settle_s(interactions):.0f} s idle, more than the {f['fds'][1]} after warm-up")
    if tally.answered + tally.unanswered < interactions:
        problems.append(f"only {tally.answered + tally.unanswered} of {interactions} interactions ran before the time limit")
    if len(facts["cycles"]) < CYCLES or not all(" completed " in line for line in facts["cycles"]):
        problems.append(f"crawl cycles: {facts['cycles']}")
    problems += [f"{who} exited {rc} on SIGTERM" for who, rc in (("bot", facts["bot_rc"]), ("crawler", facts["crawler_rc"])) if rc]
    return problems, figures


async def run_item(interactions: int = INTERACTIONS, deadline: Deadline | None = None) -> ItemResult:
    started = time.monotonic()
    deadline = deadline or Deadline(LIMIT_S)
    with tempfile.TemporaryDirectory(prefix="fitbot-rel-6-") as tmp:
        samples, tally, facts = await soak(interactions, Path(tmp), deadline)
    problems, memory = judge(samples, tally, facts, interactions)
    elapsed = time.monotonic() - started

    def mem(who: str) -> str:
        f = memory[who]
        return (f"start {f['start'] / 1024:.0f} MiB, after warm-up {f['warm'] / 1024:.0f} MiB, end {f['end'] / 1024:.0f} MiB: "
                f"{f['end'] / f['warm'] - 1:+.1%} after warm-up, {f['end'] / f['start'] - 1:+.1%} from start")

    figures = (
        ("interactions answered (commands / autocomplete / presses)",
         f"{tally.answered:,} of {tally.answered + tally.unanswered:,} ({tally.kinds.get('command', 0):,} / "
         f"{tally.kinds.get('autocomplete', 0):,} / {tally.kinds.get('component', 0):,}) in {elapsed:.0f} s"),
        ("crawl cycles in the crawler process (forced: every repo re-read and re-written)",
         "; ".join(facts["cycles"]) or "none"),
        ("warm-up ends at (10%, one crawl cycle, two view lifetimes)",
         f"{memory['warm_at']:,} interactions; views time out after {memory['view_timeout_s']:.0f} s (10 min scaled like the hour)"),
        ("bot RSS", mem("bot")),
        ("crawler RSS", mem("crawler")),
        (f"open file descriptors (start / after warm-up / end of load / after {settle_s(interactions):.0f} s idle)",
         f"bot {'/'.join(map(str, memory['bot']['fds']))}/{facts['settled_fds']['bot']}, "
         f"crawler {'/'.join(map(str, memory['crawler']['fds']))}/{facts['settled_fds']['crawler']}"),
        ("the bot's descriptors after warm-up; after the load and idle",
         f"{memory['warm_bot_fd_kinds']}; {facts['settled_bot_fd_kinds']}"),
        ("reply latency p50 / p99", f"{percentile(tally.final_s, 50) * 1e3:.0f} / {percentile(tally.final_s, 99) * 1e3:.0f} ms"),
        ("exit on SIGTERM (bot, crawler)", f"{facts['bot_rc']}, {facts['crawler_rc']}"),
        ("ERROR records: bot / crawler", f"{len(facts['bot_errors'])} / {len(facts['crawler_errors'])}"),
    )
    rows = "\n".join(f"| {s.at_s:.0f} | {s.done:,} | {s.cycles} | {s.bot_rss_kib / 1024:.1f} | {s.bot_fds} | "
                      f"{s.crawler_rss_kib / 1024:.1f} | {s.crawler_fds} |" for s in samples)
    warm = warmed_up(samples, interactions)
    end = samples[-1]
    parts = facts["parts"]
    figures += (
        ("the bot's RSS growth per 10,000 interactions after warm-up, by half", growth_by_half(samples, warm)),
        ("where the bot's memory changed from warm-up to the end of the load (MiB)", where_it_went(parts, warm.parts, end.parts)),
    )
    middle = next((s for s in samples if s.done >= (warm.done + end.done) // 2), end)
    breakdown = parts_table(parts, [(f"warm-up ({warm.done:,})", warm.parts), (f"{middle.done:,}", middle.parts),
                                    (f"end ({end.done:,})", end.parts),
                                    (f"after {settle_s(interactions):.0f} s idle", facts["settled_parts_n"])])
    details = ("The bot's memory part by part (``_memory_parts``), read inside the bot at warm-up, half-way, "
               "the end of the load, and after the idle:\n\n" + breakdown + "\n\n"
               "| s | interactions | crawl cycles done | bot RSS (MiB) | bot fds | crawler RSS (MiB) | crawler fds |\n"
               "|---|---|---|---|---|---|---|\n" + rows)
    return ItemResult(6, "Soak", tuple(problems), figures, details, elapsed, {"samples": samples, "memory": memory, "facts": facts})
