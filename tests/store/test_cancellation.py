"""Every write path in store/ stays consistent when its task is cancelled at any await.

A write's awaits are the statements it queues in aiosqlite's thread (each one an await on
that thread's answer) and the asyncio write lock. The tests count a write's statements
in an uncancelled run, then cancel a fresh run at each statement in turn, in two ways:

* "queued": the task is cancelled just after the statement was queued. aiosqlite runs a
  queued statement whether or not anyone still waits for it, which is how a heartbeat's
  BEGIN once left a transaction open behind the crawl's back;
* "before": the task is cancelled just before the statement is queued (it never runs).

After each cut the connection must hold no transaction, the database must hold either
everything the write does or none of it, and the next write must work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest

import store
from estimator import account_from_config, parse_model_config
from store import Database, HubFacts, ModelRecord

FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LLAMA = {
    "model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
    "num_key_value_heads": 8, "intermediate_size": 2048, "vocab_size": 32000, "tie_word_embeddings": False,
}


def _record(repo: str = "org/Model-1B", sha: str = "a" * 40) -> ModelRecord:
    return ModelRecord(
        repo_id=repo, sha=sha, provenance="header", status="ok", status_reason="read the header",
        config=parse_model_config(LLAMA), accounting=replace(account_from_config(LLAMA), provenance="header"),
        hub=HubFacts(downloads=10, hub_total_params=1, last_modified=FIXED), read_at=FIXED, popularity=1.0,
    )


@dataclass
class _Cutter:
    """Counts the statements one task queues on a connection and cancels it at number ``at``."""

    task: asyncio.Task | None = None
    at: int = -1
    mode: str = "queued"
    calls: int = 0

    def install(self, db: Database) -> None:
        conn = db._conn  # the aiosqlite connection: every statement of every path goes through _execute
        real = conn._execute

        async def execute(fn, *args, **kwargs):
            if self.task is not None and asyncio.current_task() is self.task:
                number, self.calls = self.calls, self.calls + 1
                if number == self.at:
                    self.task.cancel()
                    if self.mode == "before":
                        await asyncio.sleep(0)  # the cancellation lands here: the statement is never queued
            return await real(fn, *args, **kwargs)

        conn._execute = execute


Setup = Callable[[Database], Awaitable[None]]
Write = Callable[[Database], Awaitable[object]]


async def _nothing(db: Database) -> None:
    return None


async def _a_run(db: Database) -> None:
    await store.start_run(db, "all", pid=1, host="h")


async def _a_model(db: Database) -> None:
    await store.upsert_model(db, _record())


async def _a_guild(db: Database) -> None:
    await store.upsert_subscription(db, 7, 70, 9)


async def _a_claimed_guild(db: Database) -> None:
    await _a_guild(db)
    await store.claim_listing_post(db, 7, 70, date(2026, 1, 2))


FACTS = HubFacts(downloads=99, likes=5, hub_total_params=1, last_modified=FIXED)
GLOSSARY = store.load_bundled_glossary()[:3]

# (name, setup, write): every function of store/ that opens a write transaction.
WRITES: tuple[tuple[str, Setup, Write], ...] = (
    ("start_run", _nothing, lambda db: store.start_run(db, "all", pid=1, host="h")),
    ("finish_run", _a_run, lambda db: store.finish_run(db, 1, status="completed", outcomes={"ok": 2},
                                                        requests=3, bytes_received=4)),
    ("heartbeat_run", _a_run, lambda db: store.heartbeat_run(db, 1)),
    ("mark_interrupted_runs", _a_run, lambda db: store.mark_interrupted_runs(db)),
    ("upsert_model new", _nothing, lambda db: store.upsert_model(db, _record())),
    ("upsert_model changed", _a_model, lambda db: store.upsert_model(db, _record(sha="b" * 40))),
    ("replace_config_models", _a_model, lambda db: store.replace_config_models(
        db, [replace(_record("org/Other-1B"), provenance="config", sha=None)])),
    ("update_hub_facts", _a_model, lambda db: store.update_hub_facts(db, [("org/Model-1B", FACTS)])),
    ("replace_glossary", _nothing, lambda db: store.replace_glossary(db, GLOSSARY)),
    ("upsert_subscription", _nothing, lambda db: store.upsert_subscription(db, 7, 70, 9)),
    ("delete_subscription", _a_guild, lambda db: store.delete_subscription(db, 7)),
    ("claim_listing_post", _a_guild, lambda db: store.claim_listing_post(db, 7, 70, date(2026, 1, 2))),
    ("release_listing_post", _a_claimed_guild, lambda db: store.release_listing_post(db, 7, date(2026, 1, 2))),
    ("set_meta", _nothing, lambda db: store.set_meta(db, "k", "v")),
)


async def _snapshot(db: Database) -> dict[str, list[tuple]]:
    tables = [r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted(map(tuple, await db.fetchall(f"SELECT * FROM {t}")), key=repr) for t in tables}


def _ticking() -> Callable[[], datetime]:
    """A clock one second further at each reading: the same readings in every fresh run."""
    ticks = iter(range(10**6))
    return lambda: FIXED + timedelta(seconds=next(ticks))


async def _fresh(setup: Setup) -> Database:
    db = await Database.open(":memory:", clock=_ticking())
    await setup(db)
    return db


async def _reference(setup: Setup, write: Write) -> tuple[dict, dict, int]:
    """(state before, state after, statements queued) of an uncancelled write."""
    db = await _fresh(setup)
    try:
        before = await _snapshot(db)
        cutter = _Cutter()
        cutter.install(db)
        cutter.task = asyncio.create_task(write(db))
        await cutter.task
        return before, await _snapshot(db), cutter.calls
    finally:
        await db.close()


@pytest.mark.parametrize("mode", ["queued", "before"])
@pytest.mark.parametrize("name,setup,write", WRITES, ids=[w[0] for w in WRITES])
async def test_cancelled_at_every_statement_leaves_all_or_nothing(name, setup, write, mode):
    """Cut at each of the write's statements, the connection holds no transaction, the
    data is the state before or the state after, and the next write works."""
    before, after, statements = await _reference(setup, write)
    assert before != after, f"{name} changed nothing: the test would prove nothing"
    assert statements >= 3  # BEGIN, at least one statement, COMMIT
    for at in range(statements):
        db = await _fresh(setup)
        try:
            cutter = _Cutter(at=at, mode=mode)
            cutter.install(db)
            cutter.task = asyncio.create_task(write(db))
            done = await asyncio.gather(cutter.task, return_exceptions=True)
            assert isinstance(done[0], asyncio.CancelledError), f"{name} cut at statement {at}: {done[0]!r}"
            state = await _snapshot(db)  # queued behind whatever the cut write left in the thread
            assert not db.in_transaction, f"{name} cut at statement {at} ({mode}) left a transaction open"
            assert state in (before, after), f"{name} cut at statement {at} ({mode}) left a partial write"
            await store.set_meta(db, "after-the-cut", str(at))  # the next writer is not refused
            assert await store.get_meta(db, "after-the-cut") == str(at)
        finally:
            await db.close()


async def test_cancelled_while_waiting_for_the_write_lock_changes_nothing():
    """A writer cancelled while another holds the write lock never runs and blocks no one."""
    db = await _fresh(_a_run)
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with db.write():
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        waiter = asyncio.create_task(store.heartbeat_run(db, 1))
        await asyncio.sleep(0)  # the waiter reaches the lock
        waiter.cancel()
        release.set()
        await holder
        assert (await asyncio.gather(waiter, return_exceptions=True))[0].__class__ is asyncio.CancelledError
        assert not db.in_transaction
        await store.finish_run(db, 1, status="completed", outcomes={}, requests=0, bytes_received=0)
        assert (await store.last_run(db)).status == "completed"
    finally:
        await db.close()


async def test_heartbeat_cancelled_behind_a_long_write_does_not_break_finish_run():
    """The production failure: a heartbeat whose BEGIN waits in aiosqlite's thread behind a
    long statement is cancelled at the end of the crawl; ``finish_run`` must still work."""
    db = await _fresh(_a_run)
    try:
        import time

        started = asyncio.Event()
        loop = asyncio.get_running_loop()

        def long_statement() -> None:  # holds aiosqlite's thread, as a 50,000-row read does
            loop.call_soon_threadsafe(started.set)
            time.sleep(0.2)

        busy = asyncio.create_task(db._conn._execute(long_statement))
        await started.wait()
        beat = asyncio.create_task(store.heartbeat_run(db, 1))
        for _ in range(5):  # to the lock, then to its BEGIN, queued behind the long statement
            await asyncio.sleep(0)
        beat.cancel()
        await asyncio.gather(beat, busy, return_exceptions=True)
        await store.finish_run(db, 1, status="completed", outcomes={}, requests=0, bytes_received=0)
        assert not db.in_transaction
        assert (await store.last_run(db)).status == "completed"
    finally:
        await db.close()


async def _shut_down_mid_write(path, at: int, left: list[Database]) -> None:
    """Start an upsert and return once it has queued statement ``at``: asyncio.run then
    cancels the write where it stands, as a shutdown does."""
    db = await Database.open(path)
    left.append(db)
    reached = asyncio.Event()
    cutter = _Cutter(at=-1)
    cutter.install(db)
    real = db._conn._execute

    async def signal(fn, *args, **kwargs):
        if asyncio.current_task() is cutter.task and cutter.calls == at:
            reached.set()
        return await real(fn, *args, **kwargs)

    db._conn._execute = signal
    cutter.task = asyncio.create_task(_a_model(db))
    await reached.wait()


async def _check_after_stop(path) -> None:
    async with await Database.open(path) as other:
        assert await store.count_models(other) in (0, 1)
        await store.set_meta(other, "after-the-stop", "1")  # would wait 5 s, then fail, on a held lock
        assert not other.in_transaction


def test_a_write_cut_by_the_event_loop_stopping_leaves_the_file_consistent(tmp_path):
    """``asyncio.run`` ending with a write in flight (a shutdown cancels it) rolls the write
    back: a second connection sees all or nothing and can write at once."""
    _, _, statements = asyncio.run(_reference(_nothing, _a_model))
    for at in range(statements):
        path = tmp_path / f"cut-{at}.sqlite"
        left: list[Database] = []
        asyncio.run(_shut_down_mid_write(path, at, left))
        asyncio.run(_check_after_stop(path))
        asyncio.run(left[0].close())
