"""Pausing Python's cycle collector while a large header is parsed and counted.

DeepSeek-V3's headers become 92,000 tensor records in one go. Every 700 new objects start a
young-generation collection, and the older generations are walked again and again while
they grow: measured, that was about 45% of the parse's CPU (bench.crawler_scale). Nothing
parsed here forms reference cycles, so reference counting frees it all as before; the
collector runs again as soon as the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cycle collector for the block (left disabled if it already was)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
