"""Numbers for people: sizes with their unit spelled out, parameter counts, speeds; tables as text.

GiB is 2**30 bytes and GB is 10**9 bytes; every size we print names which.
"""

from __future__ import annotations

from estimator import GB, GIB


def gib(size_bytes: int | float, digits: int = 1) -> str:
    return f"{size_bytes / GIB:,.{digits}f} GiB"


def gib_number(size_bytes: int | float, digits: int = 1) -> str:
    return f"{size_bytes / GIB:,.{digits}f}"


def small_size(size_bytes: int) -> str:
    """State sizes: KiB below one MiB, else MiB with one decimal."""
    return f"{size_bytes / 2**20:.1f} MiB" if size_bytes >= 2**20 else f"{size_bytes / 2**10:.0f} KiB"


def size_both(size_bytes: int) -> str:
    """Both units, for file sizes people compare with the Hub (which shows GB)."""
    return f"{size_bytes / GIB:,.2f} GiB ({size_bytes / GB:,.2f} GB)"


def params_short(count: int) -> str:
    """32,763,876,352 -> "32.8B"."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(count) >= scale:
            value = count / scale
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(count)


def params_exact(count: int) -> str:
    return f"{count:,}"


def tokens(count: int) -> str:
    return f"{count:,}"


def speed(tokens_per_s: float | None) -> str:
    if not tokens_per_s:
        return "—"
    return f"~{tokens_per_s:,.0f} tok/s" if tokens_per_s >= 10 else f"~{tokens_per_s:.1f} tok/s"
