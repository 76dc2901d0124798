"""The database file: schema version, WAL, transactions, backups."""

import sqlite3

import pytest

import store
from store import SCHEMA_VERSION, Database
from store.errors import SchemaVersionError, StoreError


async def test_new_database_is_migrated_and_in_wal_mode(db):
    """A fresh file gets the current schema version and WAL journaling."""
    assert await db.user_version() == SCHEMA_VERSION
    row = await db.fetchone("PRAGMA journal_mode")
    assert row[0] == "wal"
    assert await db.integrity_check() == "ok"


async def test_newer_schema_is_refused(tmp_path):
    """A file written by a newer fitbot is refused with a clear error, not misread."""
    path = tmp_path / "future.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="upgrade fitbot"):
        await Database.open(path)


async def test_not_a_database_is_a_store_error(tmp_path):
    """A file that is not SQLite gives a StoreError naming the file."""
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.sqlite"):
        await Database.open(path)


async def test_failed_write_rolls_back(db):
    """An exception inside write() leaves nothing behind."""
    with pytest.raises(RuntimeError):
        async with db.write():
            await db.execute("INSERT INTO meta (key, value) VALUES ('probe', '1')")
            raise RuntimeError("boom")
    assert await store.get_meta(db, "probe") is None


async def test_tracer_sees_queries(tmp_path):
    """The optional tracer observes every statement the store runs."""
    seen = []
    database = await Database.open(tmp_path / "t.sqlite", tracer=lambda sql, params: seen.append(sql))
    await store.set_meta(database, "k", "v")
    await database.close()
    assert any("INSERT INTO meta" in sql for sql in seen)


async def test_backup_copies_everything(seeded, tmp_path):
    """The online backup holds the same models and passes integrity_check."""
    target = tmp_path / "backup" / "copy.sqlite"
    await seeded.backup_to(target)
    copy = await Database.open(target)
    try:
        assert await store.count_models(copy) == await store.count_models(seeded)
        assert await copy.integrity_check() == "ok"
    finally:
        await copy.close()


async def test_concurrent_writers_on_one_connection_take_turns(db):
    """Tasks sharing one connection never nest transactions ("cannot start a transaction within a transaction")."""
    import asyncio

    async def writer(n):
        for i in range(20):
            async with db.write():
                await db.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (f"k{n}-{i}",))
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(5)))
    row = await db.fetchone("SELECT COUNT(*) FROM meta WHERE key LIKE 'k%'")
    assert row[0] == 100
