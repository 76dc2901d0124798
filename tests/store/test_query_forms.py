"""The forms a model query takes (issue 15 §4): the quant is split off before the name is looked up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import (
    GgufFileRecord,
    GgufRepoRecord,
    NameIndex,
    QueryForm,
    RepoNotStoredError,
    is_repo_id,
    parse_model_query,
    replace_gguf_repo,
    resolve_query,
)
from store.errors import ModelNotFoundError


@pytest.mark.parametrize(
    ("text", "form", "name", "quant"),
    [
        ("bartowski/Qwen2.5-32B-Instruct-GGUF", QueryForm.REPO_ID, "bartowski/Qwen2.5-32B-Instruct-GGUF", None),
        ("unsloth/Qwen3-30B-A3B-GGUF", QueryForm.REPO_ID, "unsloth/Qwen3-30B-A3B-GGUF", None),
        ("Qwen/Qwen2.5-32B-Instruct-AWQ", QueryForm.REPO_ID, "Qwen/Qwen2.5-32B-Instruct-AWQ", None),
        ("mlx-community/Qwen2.5-32B-Instruct-4bit", QueryForm.REPO_ID, "mlx-community/Qwen2.5-32B-Instruct-4bit",
         None),
        ("qwen2.5-32b Q4_K_M", QueryForm.QUANT, "qwen2.5-32b", "Q4_K_M"),
        ("qwen2.5 32b q4km", QueryForm.QUANT, "qwen2.5 32b", "Q4_K_M"),
        ("qwen2.5-32b-instruct-q4_k_m.gguf", QueryForm.FILE, "qwen2.5-32b-instruct", "Q4_K_M"),
        ("qwen2.5:32b-instruct-q4_K_M", QueryForm.QUANT, "qwen2.5 32b-instruct", "Q4_K_M"),
        ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", QueryForm.FILE, "Qwen3-30B-A3B", "UD-Q4_K_XL"),
        ("bartowski/X-GGUF iq4xs", QueryForm.QUANT, "bartowski/X-GGUF", "IQ4_XS"),
        ("https://huggingface.co/bartowski/X-GGUF", QueryForm.REPO_ID, "bartowski/X-GGUF", None),
        ("https://huggingface.co/bartowski/X-GGUF/blob/main/X-Q4_K_M.gguf", QueryForm.FILE, "X", "Q4_K_M"),
        ("bartowski/X-GGUF/Q8_0/X-Q8_0-00001-of-00002.gguf", QueryForm.FILE, "X", "Q8_0"),
        ("qwen2.5-32b", QueryForm.NAME, "qwen2.5-32b", None),
        ("llama 3.1 8b", QueryForm.NAME, "llama 3.1 8b", None),
    ],
)
def test_each_form_is_told_apart_and_the_quant_split_off(text, form, name, quant):
    """Repo ids stay whole; a quant (any spelling) is taken off a name, a file name or an Ollama tag."""
    query = parse_model_query(text)
    assert (query.form, query.name, query.quant) == (form, name, quant)


@pytest.mark.parametrize("text", ["qwen2.5 32b", "a/b/c", "../x", "org/", "/x", "x.gguf", "q/x-Q4_K_M.gguf"])
def test_texts_that_are_not_repo_ids(text):
    """Only owner/name in the Hub's characters is a repo id."""
    assert not is_repo_id(text)


NOW = datetime(2026, 12, 1, tzinfo=UTC)
BASE_A, BASE_B = "org/Model-32B-Instruct", "other/Model3-32B"


async def _store(db) -> NameIndex:
    files = (
        GgufFileRecord("q/Model-32B-Instruct-GGUF", "Model-32B-Instruct-Q4_K_M.gguf", "Q4_K_M", "model", 10, 1, "ok",
                       base_model=BASE_A),
        GgufFileRecord("q/Model-32B-Instruct-GGUF", "Model-32B-Instruct-Q8_0.gguf", "Q8_0", "model", 20, 1, "ok",
                       base_model=BASE_A),
    )
    await replace_gguf_repo(db, GgufRepoRecord("q/Model-32B-Instruct-GGUF", "a" * 40, "ok", None, NOW, 5, files))
    # The more popular model shares the query's words: a quant must not tip the match to it.
    return NameIndex([(BASE_B, 9.0), (BASE_A, 1.0)])


def test_a_file_inside_a_repo_keeps_its_repo():
    """A repo-qualified file name or a Hub file link names the repo and the file separately."""
    query = parse_model_query("https://huggingface.co/bartowski/X-GGUF/resolve/main/Q8_0/X-Q8_0.gguf?download=true")
    assert (query.repo_id, query.file, query.quant) == ("bartowski/X-GGUF", "Q8_0/X-Q8_0.gguf", "Q8_0")


async def test_a_repo_id_is_that_repo_or_nothing(db):
    """An unstored repo id raises RepoNotStoredError naming it, even when a stored name is close."""
    index = await _store(db)
    with pytest.raises(RepoNotStoredError, match="org/model-32b-instruct-x"):
        await resolve_query(db, index, "org/model-32b-instruct-x")
    with pytest.raises(ModelNotFoundError):
        await resolve_query(db, index, "nothing/like-it")


async def test_a_gguf_repo_id_gives_its_files_and_a_quant_keeps_one(db):
    """A stored GGUF repo id answers with its files; with a quant, only that quant's file."""
    index = await _store(db)
    whole = await resolve_query(db, index, "Q/model-32b-instruct-gguf")
    assert whole.gguf_repo is not None and [f.quant for f in whole.files] == ["Q4_K_M", "Q8_0"]
    one = await resolve_query(db, index, "q/Model-32B-Instruct-GGUF q8_0")
    assert [f.file for f in one.files] == ["Model-32B-Instruct-Q8_0.gguf"] and one.names_files


async def test_the_quant_never_steers_the_name(db):
    """'model-32b-instruct q4km' resolves the name alone (not the more popular Model3-32B) and keeps its Q4_K_M file."""
    index = await _store(db)
    answer = await resolve_query(db, index, "model-32b-instruct q4km")
    assert answer.resolution.repo_id == BASE_A
    assert [f.file for f in answer.files] == ["Model-32B-Instruct-Q4_K_M.gguf"]
