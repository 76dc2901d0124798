"""Model rows are mapped by column name: the names match the schema, and a record survives the round trip."""

from __future__ import annotations

from datetime import UTC, datetime

from store import Database, get_model, load_bundled_catalog, upsert_model
from store._codec import MODEL_COLUMNS, QUERY_COLUMNS, model_row, record_from_row, row_by_name


async def test_every_mapped_column_is_a_column_of_the_models_table(tmp_path) -> None:
    """The codec's names are exactly the models table's columns, none missing, none extra."""
    db = await Database.open(tmp_path / "f.sqlite")
    try:
        columns = {row[1] for row in await db.fetchall("PRAGMA table_info(models)")}
    finally:
        await db.close()
    assert set(MODEL_COLUMNS) | set(QUERY_COLUMNS) == columns
    record = load_bundled_catalog()[0]
    assert set(model_row(record, datetime(2026, 1, 1, tzinfo=UTC))) == columns


async def test_a_record_reads_back_as_written(tmp_path) -> None:
    """upsert_model then get_model returns the same record (times aside), through the named mapping."""
    record = load_bundled_catalog()[0]
    db = await Database.open(tmp_path / "f.sqlite")
    try:
        await upsert_model(db, record)
        stored = await get_model(db, record.repo_id)
    finally:
        await db.close()
    assert stored is not None
    assert (stored.repo_id, stored.accounting, stored.config, stored.hub) == (
        record.repo_id, record.accounting, record.config, record.hub,
    )
    row = model_row(record, datetime(2026, 1, 1, tzinfo=UTC))
    again = record_from_row(row_by_name(tuple(row[c] for c in MODEL_COLUMNS)), record.aliases)
    assert again.accounting == record.accounting and again.popularity == record.popularity
