"""Models in the catalog: write, read back, never overwrite header data with config data."""

from dataclasses import replace
from datetime import UTC, datetime

import store
from estimator import account_from_config, parse_model_config
from store import HubFacts, ModelRecord

LLAMA = {
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


def _record(repo="org/Model-8B", provenance="header", sha="a" * 40, **kw) -> ModelRecord:
    accounting = replace(account_from_config(LLAMA), provenance=provenance, stored_bytes=16_060_522_496 if provenance == "header" else None)
    return ModelRecord(
        repo_id=repo,
        sha=sha,
        provenance=provenance,
        status="ok",
        status_reason=None,
        config=parse_model_config(LLAMA),
        accounting=accounting,
        hub=HubFacts(downloads=1234, hub_total_params=8_030_261_248, last_modified=datetime(2025, 1, 2, tzinfo=UTC)),
        config_json='{"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256, "tie_word_embeddings": false}',
        aliases=("my alias",),
        popularity=3.1,
        **kw,
    )


async def test_upsert_then_get_round_trips_the_accounting(db):
    """What goes in comes back: counts, components, tensor groups, hub facts, aliases."""
    record = _record()
    await store.upsert_model(db, record)
    got = await store.get_model(db, "ORG/model-8b")
    assert got is not None
    assert got.accounting == record.accounting
    assert got.accounting.total_params == 8_030_261_248
    assert got.config == record.config
    assert got.hub.downloads == 1234
    assert got.aliases == ("my alias",)
    assert got.first_seen_at is not None and got.updated_at is not None


async def test_upsert_twice_keeps_one_row_and_first_seen(db):
    """Re-writing a model updates it in place and keeps when it was first seen."""
    await store.upsert_model(db, _record(sha="a" * 40))
    first = await store.get_model(db, "org/Model-8B")
    await store.upsert_model(db, _record(sha="b" * 40))
    second = await store.get_model(db, "org/Model-8B")
    assert await store.count_models(db) == 1
    assert second.sha == "b" * 40
    assert second.first_seen_at == first.first_seen_at


async def test_catalog_version_moves_on_every_write(db):
    """Readers notice changes through the catalog version."""
    before = await store.get_catalog_version(db)
    await store.upsert_model(db, _record())
    assert await store.get_catalog_version(db) == before + 1


async def test_seeding_never_overwrites_header_rows(seeded):
    """A crawl's header-exact row survives a later refresh of the bundled catalog."""
    repo = "Qwen/Qwen2.5-32B-Instruct"
    await store.upsert_model(seeded, _record(repo=repo))
    bundled = [r for r in store.load_bundled_catalog() if r.repo_id == repo]
    changed = await store.replace_config_models(seeded, bundled)
    got = await store.get_model(seeded, repo)
    assert changed == 0
    assert got.provenance == "header"


async def test_bundled_catalog_is_loaded_once(db):
    """The first open seeds the catalog and glossary; the second finds nothing to do."""
    assert await store.seed_bundled_data(db) is True
    count = await store.count_models(db)
    assert count >= 60
    assert await store.seed_bundled_data(db) is False
    assert await store.count_models(db) == count
    assert len(await store.list_glossary(db)) >= 40


async def test_bundled_catalog_is_marked_from_config(seeded):
    """Every bundled row says it is derived from config, with its exact config-derived count."""
    record = await store.get_model(seeded, "meta-llama/Llama-3.1-8B-Instruct")
    assert record.provenance == "config"
    assert record.accounting.provenance == "config"
    assert record.accounting.stored_bytes is None
    assert record.accounting.total_params == 8_030_261_248


async def test_list_models_search_escapes_like_wildcards(seeded):
    """A search for '%' matches repo ids containing '%' only (none), not everything."""
    assert await store.list_models(seeded, search="%") == ()
    qwen = await store.list_models(seeded, search="qwen2.5", limit=100)
    assert qwen and all("qwen2.5" in r.repo_id.lower() for r in qwen)


async def test_list_updated_since_returns_header_rows_only(seeded):
    """The daily listing sees models read from headers, not the bundled seed."""
    await store.upsert_model(seeded, _record(repo="new/Fresh-8B"))
    rows = await store.list_updated_since(seeded, datetime(2000, 1, 1, tzinfo=UTC))
    assert [r.repo_id for r in rows] == ["new/Fresh-8B"]


async def test_list_shas_for_incremental_crawls(db):
    """The crawler gets each repo's last seen commit."""
    await store.upsert_model(db, _record(repo="a/One", sha="1" * 40))
    await store.upsert_model(db, _record(repo="b/Two", sha="2" * 40))
    assert await store.list_shas(db) == {"a/One": "1" * 40, "b/Two": "2" * 40}


async def test_same_repo_other_capitals_updates_the_stored_row(db):
    """'org/model-8b' after 'org/Model-8B' updates that row under its stored spelling."""
    await store.upsert_model(db, _record(repo="org/Model-8B", sha="a" * 40))
    await store.upsert_model(db, _record(repo="org/model-8b", sha="b" * 40))
    assert await store.count_models(db) == 1
    got = await store.get_model(db, "ORG/MODEL-8B")
    assert (got.repo_id, got.sha) == ("org/Model-8B", "b" * 40)
