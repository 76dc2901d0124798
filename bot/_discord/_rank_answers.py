"""/rank answers, remembered per budget and use until the catalog changes.

A ranking sizes ~300 models (1-2 s of CPU on the bench machine, several times that under
load), and people ask about the same few budgets ("24GB", "RTX 3090"). So each (budget, use)
is computed once per name index (a crawl that changes the catalog builds a new one), and
identical requests that arrive while it runs wait for that one computation instead of
starting their own. The hostile-input soak (bench/reliability, item 4) sends hundreds of
/rank commands in a minute; without this they queued past the 20 s reply limit.

The ranking runs in one worker process (spawned on first use), not a thread: in a thread its
seconds of pure-Python CPU hold the GIL against the event loop, and the soak then saw other
commands acknowledged after Discord's 3 s.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor

from estimator import Budget, Use

from .._commands import CommandContext, run_rank
from .._document import Document

__all__ = ["RankAnswers"]

REMEMBERED = 64


class RankAnswers:
    """``await answers(ctx, budget, use)``: the /rank document, computed once per key and index."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._pool: ProcessPoolExecutor | None = None
        self._index: object = None
        self._tasks: OrderedDict[tuple[Budget, Use | None], asyncio.Task[Document]] = OrderedDict()

    async def __call__(self, ctx: CommandContext, budget: Budget, use: Use | None) -> Document:
        """The ranking for ``budget`` and ``use``.

        Raises:
            Whatever ``run_rank`` raises (a failed computation is not remembered).
        """
        index = ctx.service.index
        if index is not self._index:  # holding the index keeps its id from being reused
            self._tasks.clear()
            self._index = index
        key = (budget, use)
        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = asyncio.ensure_future(run_rank(ctx, budget, use, executor=self.pool()))
            if len(self._tasks) > self.size:
                self._tasks.popitem(last=False)
        else:
            self._tasks.move_to_end(key)
        try:
            # Shielded: one impatient caller cancelled must not cancel the others' answer.
            return await asyncio.shield(task)
        except Exception:
            if self._tasks.get(key) is task and task.done():
                del self._tasks[key]
            raise

    def pool(self) -> ProcessPoolExecutor:
        """The worker process, started on first use ("spawn": no copy of the bot's threads or sockets)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        """Stop the worker process; rankings still running are cancelled."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
