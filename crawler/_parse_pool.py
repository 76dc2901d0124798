"""A worker process that parses and counts the biggest answers beside the event loop.

The crawl is CPU-bound at low latency: DeepSeek-V3's one-call answer is 11.5 MB of 92,000
tensor entries, and decoding and counting it (~0.25 s of CPU) was the crawl's critical path
while every other repo waited for the one core the event loop runs on (issue 13). A thread
does not help: the work holds the GIL. A second process does, on any machine with two cores.

The worker is forked, so it starts at once and imports nothing, and it is forked before the
process has any thread (``parse_pool`` refuses to fork otherwise: a fork copies only the
calling thread, and a lock another thread held would stay locked in the child forever).
Answers below ``BIG_ANSWER_BYTES`` cost less than the trip to the worker and back, and run
in a thread as before; so does everything after the worker died.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Sending the bytes to the worker and the accounting back costs ~1 ms per MB (bench.crawler_scale);
# answers this big take 50 ms or more to decode and count.
BIG_ANSWER_BYTES = 2 * 2**20


class ParsePool:
    """Runs CPU-bound parsing in the worker process when the input is big and the worker free,
    else in a thread. One worker: the event loop's process keeps the other core's share of work."""

    def __init__(self, executor: ProcessPoolExecutor | None = None) -> None:
        self._executor = executor
        self._busy = False

    @property
    def has_worker(self) -> bool:
        return self._executor is not None

    async def run(self, size: int, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` off the event loop: in the worker when ``size`` bytes make it worth the trip
        and the worker is free, else in a thread here. A big answer never queues behind another
        (Qwen3-30B-A3B's 2.3 MB waited ~0.3 s behind DeepSeek-V3's 11.5 MB when it did, while this
        process had time to spare).

        ``fn`` and its arguments must pickle. Raises what ``fn`` raises.
        """
        executor = self._executor
        if executor is None or size < BIG_ANSWER_BYTES or self._busy:
            return await asyncio.to_thread(fn, *args)
        log.debug("parsing %s bytes in the parse worker", f"{size:,}")
        self._busy = True
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except BrokenProcessPool:
            # The worker died (killed, out of memory): this crawl carries on without it.
            log.warning("the parse worker stopped; parsing in this process from now on")
            self._executor = None
            return await asyncio.to_thread(fn, *args)
        finally:
            self._busy = False


def _start_worker() -> None:
    # Ctrl-C reaches the whole process group; the parent stops the crawl and then the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed with SIGKILL never stops the worker, and the worker's own copy of the task
    # queue means it never reads end-of-file either: it would wait forever. The parent's sentinel
    # becomes readable when the parent is gone, whoever holds the queue.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


@contextmanager
def parse_pool(workers: int = 1) -> Iterator[ParsePool]:
    """A pool whose worker is forked now; call it before the process starts any thread (the
    event loop, the database). Without a second core, or with threads already running, the
    pool parses in threads instead and forks nothing."""
    if workers < 1 or (os.cpu_count() or 1) < 2 or threading.active_count() > 1:
        yield ParsePool()
        return
    executor = ProcessPoolExecutor(workers, multiprocessing.get_context("fork"), initializer=_start_worker)
    executor.submit(int).result()  # fork the worker now, while this is the only thread
    try:
        yield ParsePool(executor)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
