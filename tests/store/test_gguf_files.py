"""GGUF repos in the store: written whole, read back as records, found by base model, quant and file name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from estimator import GgufFacts, WeightLayout
from store import (
    GgufFileRecord,
    GgufRepoRecord,
    QuantQuery,
    find_gguf_files_by_name,
    get_base_model,
    get_gguf_repo,
    list_derived_repos,
    list_gguf_files_for_base,
    list_gguf_files_for_quant,
    list_gguf_repo_shas,
    parse_quant_query,
    replace_gguf_repo,
    upsert_base_model,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
BASE = "Qwen/Qwen2.5-32B-Instruct"
FACTS = GgufFacts("qwen2", "MOSTLY_Q4_K_M", 100, 50, 2, 32768, 64, (8,), (2,), None, None, None, None, None,
                  None, (), None, None, None, None, None, None, None, (BASE,), 1024, False, None, None)
LAYOUT = WeightLayout("Q4_K_M", (40, 40), (0, 0), 10, 8, 2)


def _file(repo: str, name: str, quant: str, size: int, **kw) -> GgufFileRecord:
    return GgufFileRecord(repo, name, quant, "model", size, 1, "ok", base_model=BASE, tensor_bytes=100,
                          total_params=50, header_bytes=6_000_000, facts=FACTS, layout=LAYOUT, **kw)


def _repo(repo_id: str, downloads: int, *files: GgufFileRecord, sha: str = "a" * 40) -> GgufRepoRecord:
    return GgufRepoRecord(repo_id, sha, "ok", None, NOW, downloads, files)


async def test_repo_round_trips_and_replaces_its_files(db):
    """A repo reads back equal to what was written; writing it again replaces its files, not adds."""
    repo = _repo("bartowski/Q-GGUF", 10, _file("bartowski/Q-GGUF", "Q-Q4_K_M.gguf", "Q4_K_M", 19))
    await replace_gguf_repo(db, repo)
    assert await get_gguf_repo(db, "BARTOWSKI/q-gguf") == repo
    newer = _repo("bartowski/Q-GGUF", 11, _file("bartowski/Q-GGUF", "Q-Q8_0.gguf", "Q8_0", 34), sha="b" * 40)
    await replace_gguf_repo(db, newer)
    assert [f.file for f in (await get_gguf_repo(db, "bartowski/Q-GGUF")).files] == ["Q-Q8_0.gguf"]
    assert await list_gguf_repo_shas(db) == {"bartowski/Q-GGUF": "b" * 40}
    assert await get_base_model(db, "bartowski/Q-GGUF") == BASE


async def test_files_of_a_base_model_most_downloaded_first_and_by_quant(db):
    """Files made from a base model come most downloaded repo first; a quant filter keeps exactly that quant."""
    await replace_gguf_repo(db, _repo("small/Q-GGUF", 5, _file("small/Q-GGUF", "q-q4_k_m.gguf", "Q4_K_M", 1)))
    await replace_gguf_repo(db, _repo("big/Q-GGUF", 500, _file("big/Q-GGUF", "Q-Q4_K_M.gguf", "Q4_K_M", 2),
                                      _file("big/Q-GGUF", "Q-Q8_0.gguf", "Q8_0", 3)))
    assert [f.repo_id for f in await list_gguf_files_for_base(db, BASE.lower())] == \
        ["big/Q-GGUF", "big/Q-GGUF", "small/Q-GGUF"]
    assert [(f.repo_id, f.quant) for f in await list_gguf_files_for_quant(db, BASE, "q4_k_m")] == \
        [("big/Q-GGUF", "Q4_K_M"), ("small/Q-GGUF", "Q4_K_M")]


async def test_find_by_file_name_any_case_any_folder_any_part(db):
    """A file name finds its file whatever the case or folder; any part of a split file finds the file."""
    split = GgufFileRecord("u/Q-GGUF", "Q8_0/Q-Q8_0-00001-of-00002.gguf", "Q8_0", "model", 9, 2, "ok")
    await replace_gguf_repo(db, _repo("u/Q-GGUF", 1, _file("u/Q-GGUF", "Q-Q4_K_M.gguf", "Q4_K_M", 1), split))
    assert [f.file for f in await find_gguf_files_by_name(db, "q-q4_k_m.gguf")] == ["Q-Q4_K_M.gguf"]
    assert [f.file for f in await find_gguf_files_by_name(db, "Q-Q8_0-00002-of-00002.gguf")] == [split.file]
    assert await find_gguf_files_by_name(db, "q-q4_k_s.gguf") == ()


async def test_card_base_models_and_derived_repos(db):
    """A quantized safetensors repo's base model is recorded and listed under that base."""
    await upsert_base_model(db, "casperhansen/q-awq", BASE)
    await upsert_base_model(db, "mlx-community/q-4bit", BASE)
    assert await list_derived_repos(db, BASE) == ("casperhansen/q-awq", "mlx-community/q-4bit")


@pytest.mark.parametrize(("text", "name", "quant", "is_file"), [
    ("qwen2.5-32b Q4_K_M", "qwen2.5-32b", "Q4_K_M", False),
    ("qwen2.5 32b q4km", "qwen2.5 32b", "Q4_K_M", False),
    ("qwen2.5-32b-instruct-q4_k_m.gguf", "qwen2.5-32b-instruct", "Q4_K_M", True),
    ("qwen2.5:32b-instruct-q4_K_M", "qwen2.5 32b-instruct", "Q4_K_M", False),
    ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "Qwen3-30B-A3B", "UD-Q4_K_XL", True),
    ("Qwen2.5-32B-Instruct-Q8_0-00001-of-00002.gguf", "Qwen2.5-32B-Instruct", "Q8_0", True),
    ("llama 3.1 8b iq4xs", "llama 3.1 8b", "IQ4_XS", False),
    ("qwen2.5-32b", "qwen2.5-32b", None, False),
    ("phi3 q8", "phi3", "Q8_0", False),
])
def test_quant_is_split_off_before_any_name_match(text, name, quant, is_file):
    """Every trial form splits into the model name and the canonical quant, so the quant cannot steer the match."""
    assert parse_quant_query(text) == QuantQuery(name, quant, is_file)
