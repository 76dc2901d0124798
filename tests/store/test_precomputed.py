"""The bundled catalog ships its accounting precomputed; it must equal counting from config."""

import json

from estimator import account_from_config
from store import load_bundled_catalog
from store._catalog import bundled_entries
from store._codec import decode_accounting
from store._precompute import (
    REGENERATE,
    config_key,
    estimator_fingerprint,
    load_precomputed,
)


def test_every_bundled_model_is_precomputed_and_equal_to_the_config_path():
    """Each bundled config has a shipped accounting, identical to account_from_config's."""
    precomputed, estimator = load_precomputed(), estimator_fingerprint()
    stale = []
    for entry in bundled_entries():
        text = precomputed.get(config_key(entry["config"], estimator))
        if text is None or decode_accounting(text) != account_from_config(entry["config"]):
            stale.append(entry["repo_id"])
    assert not stale, (
        f"store/data/catalog_accounting.json is stale for {len(stale)} bundled models "
        f"(first: {stale[:3]}); regenerate it with: {REGENERATE}"
    )


def test_loaded_records_carry_the_config_accounting():
    """load_bundled_catalog gives the same accounting as counting each config now."""
    for record, entry in zip(load_bundled_catalog(), bundled_entries(), strict=True):
        assert record.accounting == account_from_config(entry["config"]), (
            f"{record.repo_id}: run {REGENERATE}"
        )


def test_an_edited_config_is_counted_not_looked_up():
    """A config the file was not made from misses the lookup (its key changes)."""
    entry = bundled_entries()[0]
    edited = json.loads(json.dumps(entry["config"]))
    edited["num_hidden_layers"] = int(edited["num_hidden_layers"]) + 1
    estimator = estimator_fingerprint()
    assert config_key(edited, estimator) != config_key(entry["config"], estimator)
    assert config_key(edited, estimator) not in load_precomputed()


def test_the_key_moves_with_the_estimator_source():
    """The same config under another estimator fingerprint has another key."""
    config = bundled_entries()[0]["config"]
    assert config_key(config, estimator_fingerprint()) != config_key(config, "another estimator")


async def _table_rows(database, table: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    names = [str(c[1]) for c in await database.fetchall(f"PRAGMA table_info({table})") if c[1] not in skip]
    rows = await database.fetchall(f"SELECT {', '.join(names)} FROM {table}")
    return sorted(tuple(row) for row in rows)


async def test_a_fresh_store_seeded_from_the_shipped_rows_equals_one_seeded_from_records(tmp_path, seeded):
    """seed_bundled_data's shipped-row path writes what inserting the counted records writes:
    every models column but the clock's, every alias and name row."""
    from store import Database, insert_new_models

    counted = await Database.open(tmp_path / "counted.sqlite")
    try:
        assert await insert_new_models(counted, load_bundled_catalog()) == len(bundled_entries())
        clock = ("read_at", "first_seen_at", "updated_at")
        for table, skip in [("models", clock)] + [
            (t, ())
            for t in (
                "aliases",
                "name_keys",
                "name_models",
                "name_postings",
                "name_words",
                "name_count",
                "name_bits",
            )
        ]:
            shipped, recounted = (
                await _table_rows(seeded, table, skip),
                await _table_rows(counted, table, skip),
            )
            assert shipped and shipped == recounted, table
    finally:
        await counted.close()
