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


_CLOCK = ("read_at", "first_seen_at", "updated_at")
_NAME_TABLES = (
    "aliases",
    "name_keys",
    "name_models",
    "name_postings",
    "name_words",
    "name_count",
    "name_bits",
)


async def _differences(one, other, tables: tuple[str, ...]) -> list[str]:
    """The tables whose rows differ between two stores (the models table without its clock columns)."""
    differ = []
    for table in ("models", *tables):
        skip = _CLOCK if table == "models" else ()
        rows = await _table_rows(one, table, skip)
        if not rows or rows != await _table_rows(other, table, skip):
            differ.append(table)
    return differ


def test_the_shipped_store_is_current():
    """store/data/bundled.sqlite.gz was built from these bundled files by this estimator at this schema."""
    import gzip
    import sqlite3
    from importlib import resources

    from store._catalog import bundled_fingerprint
    from store._schema import SCHEMA_VERSION
    from store._template import _ESTIMATOR_KEY, TEMPLATE_FILE

    data = gzip.decompress(resources.files("store").joinpath("data", TEMPLATE_FILE).read_bytes())
    conn = sqlite3.connect(":memory:")
    conn.deserialize(data)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION, f"run {REGENERATE}"
    assert meta["bundled_fingerprint"] == bundled_fingerprint(), (
        f"the bundled files changed: run {REGENERATE}"
    )
    assert meta[_ESTIMATOR_KEY] == estimator_fingerprint(), f"the estimator changed: run {REGENERATE}"


async def test_a_store_started_from_the_shipped_copy_equals_a_seeded_one(tmp_path, seeded):
    """A new file starts as the shipped copy, and holds what seeding it would write: every column
    of every row but the clock's, in the models, alias, name, glossary and meta tables."""
    from store import Database, seed_bundled_data, start_from_template

    path = tmp_path / "copied.sqlite"
    assert start_from_template(path)
    assert not start_from_template(path)  # an existing file is never replaced
    copied = await Database.open(path)
    try:
        assert not await seed_bundled_data(copied)  # current: nothing left to seed
        assert await _differences(copied, seeded, (*_NAME_TABLES, "glossary")) == []
        meta = dict(await copied.fetchall("SELECT key, value FROM meta WHERE key != 'template_estimator'"))
        assert meta == dict(await seeded.fetchall("SELECT key, value FROM meta"))
    finally:
        await copied.close()


def test_a_stale_copy_is_not_used(tmp_path, monkeypatch):
    """When the bundled files changed since the copy was built, a new store is seeded instead."""
    import store._template as template

    monkeypatch.setattr(template, "bundled_fingerprint", lambda: "another catalog")
    path = tmp_path / "new.sqlite"
    assert not template.start_from_template(path)
    assert not path.exists() and not list(tmp_path.iterdir())
