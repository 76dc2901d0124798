"""bench.scale builds distinct synthetic stores that the name index and the CLI read as real ones."""

import store
from bench.scale import build


async def test_build_adds_distinct_synthetic_models(tmp_path):
    """N new models, none a bundled repo, dense and MoE, all resolvable by name."""
    path = tmp_path / "scale.sqlite"
    total = await build(path, 400, seed=5)
    bundled = {r.repo_id.lower() for r in store.load_bundled_catalog()}
    db = await store.Database.open(path)
    try:
        assert total == len(bundled) + 400
        rows = await db.fetchall("SELECT repo_id, model_type FROM models")
        synthetic = [(r, t) for r, t in rows if r.lower() not in bundled]
        assert len(synthetic) == 400
        kinds = {t for _, t in synthetic if t is not None}
        assert "llama" in kinds and kinds & {"mixtral", "qwen3_moe"}  # dense and MoE
        index = await store.name_index(db)
        repo = synthetic[0][0]
        assert index.resolve(repo).repo_id == repo
        stats = await store.catalog_stats(db)
        assert stats.models == total
    finally:
        await db.close()


async def test_bulk_tables_equal_a_rebuild(tmp_path):
    """The bulk path writes exactly the name rows a full rebuild writes."""
    path = tmp_path / "scale.sqlite"
    await build(path, 300, seed=6)
    db = await store.Database.open(path)
    try:
        tables = ("name_models", "name_postings", "name_words", "name_keys", "name_count", "model_counts")
        before = {t: sorted(await db.fetchall(f"SELECT * FROM {t}")) for t in tables}
        await store.rebuild_name_tables(db)
        after = {t: sorted(await db.fetchall(f"SELECT * FROM {t}")) for t in tables}
        assert before == after
    finally:
        await db.close()
