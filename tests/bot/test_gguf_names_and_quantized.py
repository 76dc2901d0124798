"""Issue 15 §4/§6 leftovers through the terminal: fuzzy names that ask for a GGUF repo, a base model's
quantized safetensors repos priced as stored, and the note naming a sibling that has the files."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.crawler.hub_standin import HubStandIn

from .gguf_hub import BARTOWSKI, LMSTUDIO, QWEN3_MOE, QWEN25, UNSLOTH, qwen_gguf_repos

pytestmark = pytest.mark.network


@pytest.fixture
def hub():
    with HubStandIn(list(qwen_gguf_repos())) as standin:
        yield standin
    assert standin.errors == []


def _run(db_path, hub, *args: str):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env={"HF_ENDPOINT": hub.url, "HF_TOKEN": ""})


def _fit_json(db_path, hub, model: str, budget: str = "24GB") -> dict:
    result = _run(db_path, hub, "fit", model, budget, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def read_all(db_path, hub):
    for repo in (BARTOWSKI, LMSTUDIO, UNSLOTH):
        assert _run(db_path, hub, "model", repo).exit_code == 0
    return db_path


@pytest.mark.parametrize(
    ("query", "repo", "model"),
    [
        ("qwen2.5 32b instruct gguf", BARTOWSKI, QWEN25),  # the most downloaded GGUF repo of the model
        ("Qwen2.5-32B-Instruct-GGUF", BARTOWSKI, QWEN25),
        ("lmstudio-community qwen2.5 32b instruct", LMSTUDIO, QWEN25),
        ("bartowski qwen2.5 32b", BARTOWSKI, QWEN25),  # the base has no GGUF repo: its -Instruct sibling's
        ("qwen3 30b a3b gguf", UNSLOTH, QWEN3_MOE),
        ("unsloth qwen3 30b a3b Q5_K_M", UNSLOTH, QWEN3_MOE),
    ],
)
def test_a_fuzzy_name_asking_for_gguf_resolves_to_that_gguf_repo(read_all, hub, query, repo, model):
    """A name with "gguf" or a quantizer's name answers with that exact GGUF repo and its base model."""
    data = _fit_json(read_all, hub, query)
    assert (data["gguf_repo"], data["model"]) == (repo, model)
    assert data["files"] and {f["repo"] for f in data["files"]} == {repo}


def test_a_quant_filters_the_named_gguf_repos_files(read_all, hub):
    """"unsloth qwen3 30b a3b Q5_K_M" lists only that quant's file of unsloth's repo."""
    data = _fit_json(read_all, hub, "unsloth qwen3 30b a3b Q5_K_M")
    assert [f["file"] for f in data["files"]] == ["Qwen3-30B-A3B-Q5_K_M.gguf"]


def test_a_quantizer_word_never_steers_to_another_model(read_all, hub):
    """bartowski has no Qwen3-30B-A3B GGUF here: the answer is that model, not bartowski's Qwen2.5 repo."""
    data = _fit_json(read_all, hub, "bartowski qwen3 30b a3b")
    assert data["model"] == QWEN3_MOE
    assert data["gguf_repo"] is None
    assert all(f["repo"] != BARTOWSKI for f in data["files"])


def test_names_without_gguf_words_resolve_as_before(read_all, hub, db_path):
    """"qwen2.5 32b instruct" (no "gguf", no quantizer) still answers the model, not a GGUF repo."""
    data = _fit_json(read_all, hub, "qwen2.5 32b instruct")
    assert (data["model"], data["gguf_repo"]) == (QWEN25, None)


def test_a_base_without_files_names_its_sibling_that_has_them(read_all, hub):
    """Qwen2.5-32B (base) has no GGUF files; the answer names Qwen2.5-32B-Instruct, whose files exist."""
    data = _fit_json(read_all, hub, "Qwen/Qwen2.5-32B")
    assert data["model"] == "Qwen/Qwen2.5-32B" and data["files"] == []
    assert data["files_sibling"] == QWEN25
    text = _run(read_all, hub, "fit", "Qwen/Qwen2.5-32B", "24GB").output
    assert "sibling" in text and QWEN25 in text


def test_a_model_with_its_own_files_names_no_sibling(read_all, hub):
    """Qwen2.5-32B-Instruct lists its own files and no sibling note."""
    data = _fit_json(read_all, hub, QWEN25)
    assert data["files"] and data["files_sibling"] is None
    assert "sibling" not in _run(read_all, hub, "fit", QWEN25, "24GB").output
