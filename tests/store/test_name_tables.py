"""The name index lives in SQLite and follows every write; unchanged writes change nothing."""

import sqlite3
from dataclasses import replace

import store
from store import HubFacts, ModelRecord
from store._name_tables import name_entry
from store._schema import MIGRATIONS
from tests.store.test_models import _record


async def test_a_new_model_resolves_without_any_rebuild(seeded):
    """An index opened before a write sees the new model: the tables are kept on write."""
    index = await store.name_index(seeded)
    await store.upsert_model(seeded, _record(repo="acme/Zebrafish-13B-Instruct"))
    assert index.resolve("zebrafish 13b").repo_id == "acme/Zebrafish-13B-Instruct"
    assert "acme/Zebrafish-13B-Instruct" in index.complete("zebraf")


async def test_popularity_change_reorders_matches(db):
    """A model that becomes more popular wins the tie it lost before."""
    await store.upsert_model(db, replace(_record(repo="a/Foo-7B"), popularity=1.0, aliases=()))
    await store.upsert_model(db, replace(_record(repo="b/Foo-7B"), popularity=2.0, aliases=()))
    index = await store.name_index(db)
    assert index.resolve("foo 7b").repo_id == "b/Foo-7B"
    await store.update_hub_facts(db, [("a/Foo-7B", HubFacts(downloads=10**6))])
    assert index.resolve("foo 7b").repo_id == "a/Foo-7B"


async def test_alias_moves_with_its_repo(db):
    """An alias given to another repo resolves there, and no longer to the first one."""
    await store.upsert_model(db, replace(_record(repo="a/Alpha-1B"), aliases=("shared name",)))
    await store.upsert_model(db, replace(_record(repo="b/Beta-1B"), aliases=("shared name",)))
    index = await store.name_index(db)
    assert index.resolve("shared name").repo_id == "b/Beta-1B"
    rows = await db.fetchall("SELECT repo_id FROM name_keys WHERE key = 'sharedname'")
    assert [r[0] for r in rows] == ["b/Beta-1B"]


async def test_same_record_twice_does_not_move_the_catalog_version(db):
    """Writing what is stored already changes nothing, not even the catalog version."""
    record = _record()
    await store.upsert_model(db, record)
    version = await store.get_catalog_version(db)
    await store.upsert_model(db, replace(record, read_at=record.read_at))
    assert await store.get_catalog_version(db) == version


async def test_unchanged_hub_facts_write_nothing(db):
    """A re-crawl whose listing facts are unchanged reports 0 changes and keeps the version."""
    record = _record()
    await store.upsert_model(db, record)
    version = await store.get_catalog_version(db)
    facts = replace(record.hub, downloads=1234)
    await store.update_hub_facts(db, [(record.repo_id, facts)])
    after_first = await store.get_catalog_version(db)
    assert await store.update_hub_facts(db, [(record.repo_id, facts)]) == 0
    assert await store.get_catalog_version(db) == after_first >= version


async def test_reseeding_the_bundled_catalog_changes_nothing(seeded):
    """Loading the same bundled records again writes no row and keeps the version."""
    version = await store.get_catalog_version(seeded)
    assert await store.replace_config_models(seeded, store.load_bundled_catalog()) == 0
    assert await store.get_catalog_version(seeded) == version


async def test_status_counts_follow_writes(seeded):
    """catalog_stats (kept by triggers) equals a full count of the models table."""
    await store.upsert_model(seeded, _record(repo="acme/Counted-1B"))
    await store.upsert_model(seeded, replace(_record(repo="acme/Counted-1B"), status="error", accounting=None))
    stats = await store.catalog_stats(seeded)
    rows = await seeded.fetchall("SELECT status, COUNT(*) FROM models GROUP BY status ORDER BY status")
    assert stats.by_status == tuple((s, n) for s, n in rows)
    assert stats.models == await store.count_models(seeded)


async def test_tables_match_a_full_rebuild_after_writes(seeded):
    """Incremental upkeep leaves exactly the rows a rebuild from scratch writes."""
    await store.upsert_model(seeded, replace(_record(repo="acme/Zebrafish-13B"), aliases=("zf13",)))
    await store.update_hub_facts(seeded, [("Qwen/Qwen2.5-32B-Instruct", HubFacts(downloads=5))])
    tables = ("name_models", "name_postings", "name_words", "name_keys", "name_count")
    before = {t: sorted(await seeded.fetchall(f"SELECT * FROM {t}")) for t in tables}
    await store.rebuild_name_tables(seeded)
    after = {t: sorted(await seeded.fetchall(f"SELECT * FROM {t}")) for t in tables}
    assert before == after


async def test_a_store_from_before_the_tables_is_indexed_once(tmp_path):
    """A schema-2 store with models is migrated and indexed by its first name_index()."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(
        "INSERT INTO models (repo_id, repo_key, provenance, status, popularity, first_seen_at, updated_at) "
        "VALUES ('acme/Old-7B', 'acme/old-7b', 'config', 'ok', 1, 'x', 'x')"
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    db = await store.Database.open(path)
    try:
        index = await store.name_index(db)
        assert index.resolve("old 7b").repo_id == "acme/Old-7B"
        assert await store.get_meta(db, "name_tables") is None
        assert (await store.catalog_stats(db)).models == 1
    finally:
        await db.close()


async def test_bulk_insert_adds_only_new_models(seeded):
    """The bulk path skips repos already held and indexes what it adds."""
    held = store.load_bundled_catalog()[0]
    new = ModelRecord("acme/Bulk-3B", None, "config", "ok", None, held.config, held.accounting, popularity=9.0)
    assert await store.insert_new_models(seeded, [held, new, new]) == 1
    index = await store.name_index(seeded)
    assert index.resolve("bulk 3b").repo_id == "acme/Bulk-3B"


def test_entry_puts_name_tokens_before_the_organisation():
    """Own tokens come first and the organisation's repeats are dropped."""
    entry = name_entry("qwen/Qwen2.5-7B", 2.0, ["q7"])
    assert entry.tokens == ("qwen", "2", "5", "7", "b")
    assert entry.name_tokens == 5
    assert ("q7", 1) in entry.keys and entry.rank == -2.0
