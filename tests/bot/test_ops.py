"""Operator commands: config show, status exit codes, backup and restore, the dataset export."""

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

import store
from bot._export import COLUMNS, GPU_SIZES_GB
from bot.cli import main
from store import Database


def invoke(db_path, *args, env=None):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env=env)


def _record_run(db_path, status, finished_at):
    async def go():
        db = await Database.open(db_path, clock=lambda: finished_at)
        run_id = await store.start_run(db, "daily")
        await store.finish_run(db, run_id, status=status, outcomes={"ok": 5}, requests=9, bytes_received=99)
        await db.close()

    asyncio.run(go())


def test_config_show_masks_secrets(db_path):
    """Every setting is listed with its variable; token values never appear."""
    result = invoke(db_path, "config", "show", env={"DISCORD_TOKEN": "very-secret-token-123", "HF_TOKEN": "hf_abcdefgh"})
    assert result.exit_code == 0
    assert "very-secret-token-123" not in result.output and "hf_abcdefgh" not in result.output
    assert "(set, hidden)" in result.output and "FITBOT_CRAWL_HOUR" in result.output


def test_status_unhealthy_without_a_crawl(db_path):
    """A catalog never crawled is reported and exits non-zero."""
    result = invoke(db_path, "status")
    assert result.exit_code == 1
    assert "no crawl has finished yet" in result.output


def test_status_healthy_after_a_recent_crawl(db_path):
    """A completed crawl younger than 36 hours is healthy."""
    _record_run(db_path, "completed", datetime.now(UTC) - timedelta(hours=2))
    result = invoke(db_path, "status", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["healthy"] is True and report["last_crawl_outcomes"] == {"ok": 5}


@pytest.mark.parametrize(("status", "age_hours", "needle"), [("failed", 1, "ended as failed"), ("completed", 40, "more than 36")])
def test_status_unhealthy_when_failed_or_stale(db_path, status, age_hours, needle):
    """A failed last crawl, or one over 36 hours old, exits non-zero with the reason."""
    _record_run(db_path, status, datetime.now(UTC) - timedelta(hours=age_hours))
    result = invoke(db_path, "status")
    assert result.exit_code == 1
    assert needle in result.output


def test_status_unreadable_database(tmp_path):
    """A file that is not a database is reported and exits non-zero."""
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"garbage" * 1000)
    result = invoke(path, "status")
    assert result.exit_code == 1
    assert "unreadable" in result.output


def test_backup_then_restore(db_path, tmp_path):
    """A backup restores by copying it into place: same models, integrity ok."""
    target = tmp_path / "backups" / "b.sqlite"
    result = invoke(db_path, "backup", str(target))
    assert result.exit_code == 0, result.output
    restored = tmp_path / "restored.sqlite"
    restored.write_bytes(target.read_bytes())  # the documented restore: copy the file into place

    async def counts():
        original = await Database.open(db_path)
        copy = await Database.open(restored)
        try:
            return await store.count_models(original), await store.count_models(copy), await copy.integrity_check()
        finally:
            await original.close()
            await copy.close()

    original, copy, check = asyncio.run(counts())
    assert original == copy > 60 and check == "ok"
    assert invoke(restored, "model", "qwen2.5-32b", "--json").exit_code == 0


def test_export_csv_has_the_documented_columns(db_path, tmp_path):
    """One row per model with exact counts and the best quant per GPU size at 8K context."""
    out = tmp_path / "dataset.csv"
    result = invoke(db_path, "export", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0].keys()) == COLUMNS
    llama = next(r for r in rows if r["repo_id"] == "meta-llama/Llama-3.1-8B-Instruct")
    assert int(llama["total_params"]) == 8_030_261_248
    assert sum(int(llama[f"params_{c}"]) for c in ("embedding", "lm_head", "attention", "mlp", "norm")) == 8_030_261_248
    assert llama["best_quant_8gb"] in {"Q6_K", "Q5_K_M"} and llama["best_quant_24gb"] == "BF16"
    deepseek = next(r for r in rows if r["repo_id"] == "deepseek-ai/DeepSeek-V3")
    assert all(deepseek[f"best_quant_{size}gb"] == "" for size in GPU_SIZES_GB)


def test_export_json(db_path):
    """JSON export carries the columns, the context and the rows."""
    result = invoke(db_path, "export", "--format", "json")
    data = json.loads(result.stdout)
    assert data["columns"] == list(COLUMNS) and data["context"] == 8192
    assert len(data["rows"]) > 60


def test_export_parquet_needs_out(db_path):
    """Parquet without --out is a usage error, not a traceback."""
    result = invoke(db_path, "export", "--format", "parquet")
    assert result.exit_code == 2


def test_export_parquet(db_path, tmp_path):
    """Parquet export (the optional extra) holds one row per model with the documented columns."""
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "dataset.parquet"
    result = invoke(db_path, "export", "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert tuple(table.column_names) == COLUMNS
    rows = table.to_pylist()
    llama = next(r for r in rows if r["repo_id"] == "meta-llama/Llama-3.1-8B-Instruct")
    assert llama["total_params"] == 8_030_261_248
