"""Where a process's resident memory is, read from inside it: the parts the soak compares
between the end of its warm-up and the end of its load.

* the kernel's split of VmRSS (/proc/self/status): anonymous pages (the heap), file pages
  (code and mapped files), shared memory (SQLite's WAL index, the ``-shm`` file, is mapped);
* glibc malloc (``mallinfo2``, all arenas): bytes handed out, bytes freed but still held
  (fragmentation and high-water marks that are not returned to the kernel), mmapped blocks;
* SQLite's own allocator (``sqlite3_memory_used``: page caches, schema, statements) for
  every connection in the process;
* Python's small-object allocator (pymalloc, ``sys._debugmallocstats``): the arenas it holds
  from the kernel, the bytes in blocks in use and the bytes free inside them; memory blocks
  allocated (``sys.getallocatedblocks``), objects allocated since the last young GC, and
  collections run per generation;
* threads (each one's malloc arena and stack count in RSS).

Read with ctypes from the C libraries the process already has loaded; a part that cannot
be read (another libc, a static SQLite) is left out, not guessed.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import sys
import threading
from pathlib import Path

ENV_DIR = "FITBOT_BENCH_MEMORY_DIR"  # where the bot writes its parts on SIGUSR2
_STATUS_FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def _malloc() -> dict[str, int]:
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"malloc_in_use_kib": info.uordblks // 1024, "malloc_free_held_kib": info.fordblks // 1024,
            "malloc_mmapped_kib": info.hblkhd // 1024, "malloc_heap_kib": info.arena // 1024}


def _sqlite() -> dict[str, int]:
    import _sqlite3

    try:
        lib = ctypes.CDLL(_sqlite3.__file__)
        used = lib.sqlite3_memory_used
        highwater = lib.sqlite3_memory_highwater
    except (OSError, AttributeError):
        return {}
    used.restype = highwater.restype = ctypes.c_int64
    highwater.argtypes = [ctypes.c_int]
    return {"sqlite_used_kib": used() // 1024, "sqlite_highwater_kib": highwater(0) // 1024}


_PYMALLOC_LINES = {
    "# arenas allocated current": "pymalloc_arenas",
    "# arenas highwater mark": "pymalloc_arenas_highwater",
    "# bytes in allocated blocks": "pymalloc_in_use_kib",
    "# bytes in available blocks": "pymalloc_free_kib",
}


def _pymalloc() -> dict[str, int]:
    """pymalloc's own figures; it prints them on the C-level stderr, so fd 2 is lent to a file."""
    import tempfile

    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    parts = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        name = _PYMALLOC_LINES.get(key.strip())
        if name and name not in parts:
            number = int(value.strip().replace(",", ""))
            parts[name] = number // 1024 if name.endswith("_kib") else number
    return parts


def _status() -> dict[str, int]:
    parts = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in _STATUS_FIELDS:
            parts[key if key == "Threads" else f"{key}_kib"] = int(value.split()[0])
    return parts


def memory_parts() -> dict[str, int]:
    """This process's memory, part by part (KiB, counts)."""
    parts = _status() | _malloc() | _sqlite() | _pymalloc()
    parts["python_blocks"] = sys.getallocatedblocks()
    # No gc.get_objects(): it hands out tuples other threads are still building, and their next
    # _PyTuple_Resize fails ("SystemError: bad argument to internal function"; the soak saw /rank fail so).
    parts["gc_tracked_young"] = gc.get_count()[0]
    parts |= {f"gc_collections_gen{i}": s["collections"] for i, s in enumerate(gc.get_stats())}
    parts["python_threads"] = threading.active_count()
    return parts


def install_dump_on_signal() -> None:
    """On SIGUSR2, write ``memory-N.json`` into $FITBOT_BENCH_MEMORY_DIR (N counts up)."""
    where = os.environ.get(ENV_DIR)
    if not where:
        return
    count = 0

    def dump(signum: int, frame: object) -> None:
        nonlocal count
        count += 1
        target = Path(where) / f"memory-{count}.json"
        target.with_suffix(".tmp").write_text(json.dumps(memory_parts()))
        target.with_suffix(".tmp").rename(target)  # the reader waits for the name: never a half file

    signal.signal(signal.SIGUSR2, dump)
