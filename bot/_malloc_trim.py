"""Give the memory glibc still holds after Python freed it back to the operating system.

A 60,000-interaction soak of the bot (bench/reliability item 6) grew RSS 16.7% after its
warm-up while Python's own live memory fell: most of the growth (+18 MiB of +32) was memory
glibc's malloc had been handed back but kept, spread over the arenas of the bot's threads.
``malloc_trim(0)`` returns those free pages to the kernel. Elsewhere (macOS, musl) there is
no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_freed_memory() -> bool:
    """Return glibc's free pages to the kernel; False where there is no ``malloc_trim``."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
