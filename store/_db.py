"""The SQLite connection: WAL, a busy timeout, short ``BEGIN IMMEDIATE`` write transactions."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiosqlite

from ._schema import MIGRATIONS, SCHEMA_VERSION
from .errors import SchemaVersionError, StoreError

log = logging.getLogger(__name__)

Params = tuple[Any, ...]
Tracer = Callable[[str, Params], None]
Clock = Callable[[], datetime]

BUSY_TIMEOUT_MS = 5000


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """One aiosqlite connection. Writers go through ``write()``; readers never block them (WAL)."""

    def __init__(self, conn: aiosqlite.Connection, path: str, *, tracer: Tracer | None, clock: Clock) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()
        self.path = path
        self._tracer = tracer
        self.clock = clock

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        tracer: Tracer | None = None,
        clock: Clock = utc_now,
    ) -> Database:
        """Open (and create) the database, migrating it to the current schema.

        Raises:
            StoreError: the file cannot be opened as SQLite.
            SchemaVersionError: the schema is newer than this code, or older and
                ``migrate`` is False.
        """
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the database at {path}: {e}") from e
        db = cls(conn, path, tracer=tracer, clock=clock)
        try:
            await db._configure()
            await db._migrate(allowed=migrate)
        except BaseException:
            await conn.close()
            raise
        return db

    async def _configure(self) -> None:
        try:
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a fitbot database: {e}") from e

    async def _migrate(self, *, allowed: bool) -> None:
        version = await self.user_version()
        if version > SCHEMA_VERSION or (version < SCHEMA_VERSION and not allowed):
            raise SchemaVersionError(version, SCHEMA_VERSION)
        if version == SCHEMA_VERSION:
            return
        async with self.write():
            version = await self.user_version()  # another process may have migrated meanwhile
            for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements:
                    await self.execute(statement)
                await self.execute(f"PRAGMA user_version = {number}")
                log.info("migrated %s to schema version %d", self.path, number)

    async def user_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """A short write transaction. ``BEGIN IMMEDIATE`` takes SQLite's write lock up front,
        so another process waits (busy timeout) instead of failing on a stale read snapshot;
        the asyncio lock makes tasks sharing this connection take turns.

        Safe to cancel at any await. aiosqlite runs a statement once it is queued in its
        thread, whether or not the task that queued it still waits: a writer cancelled
        while its ``BEGIN`` waited behind a long write got a transaction anyway, and the
        next ``BEGIN`` failed with "cannot start a transaction within a transaction". So
        every way out but a finished COMMIT queues a ROLLBACK before the lock is let go;
        the thread's FIFO order runs it after whatever this writer queued, and it is a
        no-op when nothing is open (a COMMIT that ran although its caller was cancelled).
        """
        async with self._write_lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._roll_back()
                raise

    async def _roll_back(self) -> None:
        """End this connection's transaction, if one is open.

        Raises:
            sqlite3.Error: the ROLLBACK itself failed with a transaction still open.
        """
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            if self._conn.in_transaction:
                raise

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection (for checks and tests)."""
        return bool(self._conn.in_transaction)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        self._trace(sql, params)
        cursor = await self._conn.execute(sql, params)
        changed = cursor.rowcount
        await cursor.close()
        return changed

    async def executemany(self, sql: str, rows: list[Params]) -> None:
        self._trace(sql, ())
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        # One call into aiosqlite's thread: a half-read cursor would hold a read snapshot
        # open across an await, and another task's BEGIN IMMEDIATE on this connection would
        # then fail at once (SQLITE_BUSY_SNAPSHOT) instead of waiting for the crawler.
        self._trace(sql, params)
        rows = await self._conn.execute_fetchall(sql, params)
        # The connection keeps sqlite3's default row factory, so rows are plain tuples
        # (aiosqlite annotates them as sqlite3.Row whatever the factory).
        return cast("list[tuple[Any, ...]]", list(rows))

    async def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def integrity_check(self) -> str:
        row = await self.fetchone("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    async def backup_to(self, target: str | Path) -> None:
        """Copy the database with SQLite's online backup API (safe while others write).

        The copy is written beside ``target`` and renamed over it once complete, so a
        backup cut short (cancelled, killed, disk full) never leaves a half file at ``target``.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        dest = await aiosqlite.connect(str(partial))
        try:
            await self._conn.backup(dest)
        finally:
            await dest.close()
        os.replace(partial, target)

    def _trace(self, sql: str, params: Params) -> None:
        if self._tracer is not None:
            self._tracer(sql, params)
