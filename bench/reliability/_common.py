"""What every reliability item shares: bounded loops, results, subprocess environments,
process figures read from /proc, and percentiles.

Every load and every fault goes to 127.0.0.1 only: the stand-ins bind there, and
``loopback_only`` refuses any other endpoint before a run starts.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


class Deadline:
    """A wall-clock bound for a loop: ``for ... in bounded(count, deadline)``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    @property
    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self._end


def bounded(count: int, deadline: Deadline):
    """0..count-1, stopping early (by itself) once the deadline has passed."""
    for n in range(count):
        if deadline.passed:
            return
        yield n


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's outcome: the conditions it broke (none when it passed) and its figures."""

    number: int
    title: str
    problems: tuple[str, ...]
    figures: tuple[tuple[str, str], ...]  # (figure, value) rows of the summary table
    details: str = ""  # more markdown: how it was run, per-run tables
    elapsed_s: float = 0.0
    data: dict = field(default_factory=dict, compare=False, repr=False)  # raw values for tests

    @property
    def ok(self) -> bool:
        return not self.problems


class quiet:
    """Raise some loggers to ERROR for a block (per-repo warnings would print 10 KB ids)."""

    def __init__(self, *names: str) -> None:
        self.loggers = [logging.getLogger(name) for name in names]

    def __enter__(self) -> None:
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)


def loopback_only(*urls: str) -> None:
    """Refuse any endpoint that is not on 127.0.0.1.

    Raises:
        ValueError: a URL points elsewhere.
    """
    for url in urls:
        host = urlsplit(url).hostname
        if host != LOOPBACK:
            raise ValueError(f"{url} is not a loopback address: reliability runs send load and faults to 127.0.0.1 only")


def clean_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment for a fitbot subprocess: none of the caller's Hub, Discord or fitbot
    settings (a real token or endpoint must never leak into a run), a private HF_HOME."""
    dropped = ("HF_", "HUGGING", "FITBOT_", "DISCORD_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        HF_HOME=str(workdir / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
        PYTHONDONTWRITEBYTECODE="1", NO_PROXY="127.0.0.1", no_proxy="127.0.0.1",
    )
    env.update(extra)
    for key in ("HF_ENDPOINT", "FITBOT_DISCORD_API_BASE", "FITBOT_DISCORD_GATEWAY"):
        if key in env:
            loopback_only(env[key])
    return env


def fitbot_argv(*args: str) -> list[str]:
    """``fitbot ARGS`` as the console script installs it (the venv's ``fitbot``), or the
    same entry point through ``python -m bot.cli`` where the script is missing."""
    script = Path(sys.executable).with_name("fitbot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot.cli", *args]


def rss_kib(pid: int | str = "self") -> int:
    """Resident memory of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int | str = "self") -> int:
    """How many file descriptors a process holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid: int | str = "self") -> str:
    """What a process's descriptors are, e.g. "12 sockets, 3 files, 2 pipes, 4 other"."""
    kinds: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed while we looked
            continue
        kind = "sockets" if target.startswith("socket:") else "pipes" if target.startswith("pipe:") else \
            "files" if target.startswith("/") else "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``samples``; 0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else 0.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> str:
    """CPU model, cores, memory, Python and OS, for the report's header."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        memory_kib = 0
    uname = os.uname()
    return (f"{cpu}, {os.cpu_count()} cores, {memory_kib / 2**20:.0f} GiB RAM; Python {sys.version.split()[0]}; "
            f"{uname.sysname} {uname.release}; commit {_commit()}")


def _commit() -> str:
    """The checked-out commit, so a report names the code it measured."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"
