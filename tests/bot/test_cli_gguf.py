"""`fitbot model ID --json` on a crawled GGUF repo: format, base model and every file with exact sizes."""

import asyncio
import json
from datetime import UTC, datetime

from click.testing import CliRunner

from bot.cli import main
from store import Database, GgufFileRecord, GgufRepoRecord, replace_gguf_repo

REPO = "bartowski/Qwen2.5-32B-Instruct-GGUF"


async def _seed(db_path) -> None:
    db = await Database.open(db_path)
    try:
        files = (
            GgufFileRecord(REPO, "Qwen2.5-32B-Instruct-Q4_K_M.gguf", "Q4_K_M", "model", 19_851_335_840, 1, "ok",
                           tensor_bytes=19_845_000_000, total_params=32_763_876_352, header_bytes=6_335_840,
                           base_model="Qwen/Qwen2.5-32B-Instruct"),
            GgufFileRecord(REPO, "Q8_0/Qwen2.5-32B-Instruct-Q8_0-00001-of-00002.gguf", "Q8_0", "model",
                           34_820_000_000, 2, "error", status_reason="malformed GGUF header: bad magic"),
        )
        await replace_gguf_repo(db, GgufRepoRecord(REPO, "a" * 40, "ok", None, datetime(2026, 12, 1, tzinfo=UTC),
                                                   1000, files))
    finally:
        await db.close()


def test_model_json_on_a_gguf_repo_lists_its_files(db_path):
    """The JSON says format gguf, names the base model and lists each file with bytes, parts, tensor bytes, params."""
    asyncio.run(_seed(db_path))
    result = CliRunner().invoke(main, ["--db", str(db_path), "model", REPO.lower(), "--json"], catch_exceptions=False)
    data = json.loads(result.output)
    assert (data["format"], data["repo_id"], data["base_model"]) == ("gguf", REPO, "Qwen/Qwen2.5-32B-Instruct")
    first, split = data["files"][1], data["files"][0]
    assert {k: first[k] for k in ("file", "quant", "bytes", "split_count", "tensor_bytes", "total_params")} == {
        "file": "Qwen2.5-32B-Instruct-Q4_K_M.gguf", "quant": "Q4_K_M", "bytes": 19_851_335_840, "split_count": 1,
        "tensor_bytes": 19_845_000_000, "total_params": 32_763_876_352}
    assert (split["split_count"], split["status"]) == (2, "error")
