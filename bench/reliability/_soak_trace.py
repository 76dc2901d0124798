"""Where the soak's bot memory goes after warm-up: tracemalloc snapshots of ``fitbot bot``.

``python -m bench.reliability._soak_trace INTERACTIONS [VIEW_TIMEOUT_S]`` plays the soak's
interaction mix (item 6: plausible and hostile, 20,000 users, buttons pressed) against one
``fitbot bot`` process started under tracemalloc (12 frames), takes a snapshot in the bot
after each fifth of the interactions (SIGUSR1), and prints the Python allocations that grew
most between the warm-up snapshot (the first fifth) and the last, grouped by source line,
with the traced total and the bot's RSS at each snapshot. No crawler runs: item 6 showed
the crawler flat after warm-up (+1.6 %), so the bot's own growth is what is traced.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from ._common import ROOT, Deadline, clean_env, fitbot_argv, rss_kib
from ._discord_load import TrackingStandin, drive
from ._hostile_input import seeded_database
from ._hostile_values import PayloadMaker, next_interaction

SNAPSHOTS = 5
# tracemalloc frames (0: off). On the shared 2-core machine tracemalloc made the bot so slow that
# 1,200 interactions took minutes, so by default the snapshots are counts of live objects by type.
FRAMES = int(os.environ.get("SOAK_TRACE_FRAMES", "0"))


def bot_main(argv: list[str]) -> None:
    """In the bot process: ``fitbot bot`` with a SIGUSR1 handler that dumps a snapshot."""
    import gc

    from bot._discord._views import OwnedView, PagedView
    from bot.cli import main as fitbot

    out, timeout_s = Path(argv[0]), float(argv[1])
    for view in (OwnedView, PagedView):
        view.__init__.__kwdefaults__["timeout"] = timeout_s
    count = 0

    def dump(signum: int, frame: object) -> None:
        nonlocal count
        count += 1
        gc.collect()
        if tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(str(out / f"snap-{count}.tracemalloc"))
        kinds: dict[str, int] = {}
        for obj in gc.get_objects():
            name = f"{type(obj).__module__}.{type(obj).__qualname__}"
            kinds[name] = kinds.get(name, 0) + 1
        kinds["(sys.getallocatedblocks)"] = sys.getallocatedblocks()
        (out / f"snap-{count}.json").write_text(__import__("json").dumps(kinds))
        (out / f"snap-{count}.done").write_text("ok")

    signal.signal(signal.SIGUSR1, dump)
    fitbot(["bot"], prog_name="fitbot")


async def trace(interactions: int, view_timeout_s: float, workdir: Path) -> list[tuple[int, int, Path]]:
    """(interactions done, bot RSS KiB, snapshot file) after each fifth."""
    db = await seeded_database(workdir / "fitbot.sqlite")
    standin = TrackingStandin()
    await standin.start()
    env = clean_env(workdir, FITBOT_DB=str(db), DISCORD_TOKEN="trace-token-0123456789",
                    FITBOT_DISCORD_API_BASE=standin.api_base, FITBOT_DISCORD_GATEWAY=standin.gateway_url,
                    FITBOT_LOG_LEVEL="warning")
    synced = await asyncio.to_thread(__import__("subprocess").run, fitbot_argv("sync-commands", "--guild", "1"),
                                     env=env, capture_output=True, text=True, timeout=120)
    if synced.returncode != 0:
        raise RuntimeError(synced.stderr[-300:])
    log = open(workdir / "bot.log", "w")
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.reliability._soak_trace", "--bot",
                                               str(workdir), str(view_timeout_s), cwd=ROOT,
                                               env={**env, **({"PYTHONTRACEMALLOC": str(FRAMES)} if FRAMES else {})},
                                               stdout=log, stderr=log)
    taken: list[tuple[int, int, Path]] = []
    try:
        await asyncio.wait_for(standin.identified.wait(), 120)
        rng = random.Random(6)
        maker = PayloadMaker(standin, standin.commands_schema, rng, users=20_000, plausible_share=0.8)
        step = interactions // SNAPSHOTS
        for n in range(1, SNAPSHOTS + 1):
            await drive(standin, lambda _: next_interaction(standin, maker, rng), count=step,
                        deadline=Deadline(600), keep=False)
            bot.send_signal(signal.SIGUSR1)
            done = workdir / f"snap-{n}.done"
            while not done.exists():  # the bot writes it once the snapshot is on disk
                await asyncio.sleep(0.1)
            taken.append((n * step, rss_kib(bot.pid), workdir / f"snap-{n}.tracemalloc"))
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
        log.close()
        await standin.stop()
    return taken


def report_objects(taken: list[tuple[int, int, Path]], top: int = 20) -> str:
    """Live objects by type at each snapshot, and the types that grew most after the first."""
    import json

    counts = [json.loads(p.with_suffix(".json").read_text()) for _, _, p in taken]
    lines = ["| after interactions | bot RSS (MiB) | live objects (gc) | Python memory blocks |", "|---|---|---|---|"]
    for (done, rss, _), c in zip(taken, counts, strict=True):
        blocks = c.pop("(sys.getallocatedblocks)", 0)
        lines.append(f"| {done:,} | {rss / 1024:.1f} | {sum(c.values()):,} | {blocks:,} |")
    grown = sorted(counts[-1], key=lambda k: counts[-1][k] - counts[0].get(k, 0), reverse=True)[:top]
    lines += ["", f"Types that grew most from snapshot 1 to {len(taken)}:", "",
              "| type | " + " | ".join(f"{d:,}" for d, _, _ in taken) + " |", "|---|" + "---|" * len(taken)]
    lines += [f"| {k} | " + " | ".join(str(c.get(k, 0)) for c in counts) + " |" for k in grown]
    return "\n".join(lines)


def report(taken: list[tuple[int, int, Path]], top: int = 15) -> str:
    keep = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"))
    snaps = [tracemalloc.Snapshot.load(str(p)).filter_traces(keep) for _, _, p in taken]
    lines = ["| after interactions | bot RSS (MiB) | traced Python (MiB) |", "|---|---|---|"]
    for (done, rss, _), snap in zip(taken, snaps, strict=True):
        lines.append(f"| {done:,} | {rss / 1024:.1f} | {sum(s.size for s in snap.statistics('filename')) / 2**20:.2f} |")
    lines += ["", f"Grew most from snapshot 1 ({taken[0][0]:,}) to {len(taken)} ({taken[-1][0]:,}), by line:", "",
              "| KiB | blocks | where |", "|---|---|---|"]
    for stat in snaps[-1].compare_to(snaps[0], "lineno")[:top]:
        frame = stat.traceback[0]
        lines.append(f"| {stat.size_diff / 1024:+.1f} | {stat.count_diff:+d} | {frame.filename.split('site-packages/')[-1]}:{frame.lineno} |")
    lines += ["", "Biggest growth by traceback (the first, 12 frames):", "", "```"]
    grown = snaps[-1].compare_to(snaps[0], "traceback")[:1]
    for stat in grown:
        lines.append(f"{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks")
        lines += [f"  {f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback[-12:]]
    lines.append("```")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    interactions = int(argv[0]) if argv else 10_000
    view_timeout_s = float(argv[1]) if len(argv) > 1 else 8.0
    with tempfile.TemporaryDirectory(prefix="fitbot-soak-trace-") as tmp:
        started = time.monotonic()
        taken = asyncio.run(trace(interactions, view_timeout_s, Path(tmp)))
        print(report_objects(taken))
        if FRAMES:
            print(report(taken))
        print(f"\n{interactions:,} interactions, view timeout {view_timeout_s:.0f} s, {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bot"]:
        bot_main(sys.argv[2:])
    else:
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        main(sys.argv[1:])
