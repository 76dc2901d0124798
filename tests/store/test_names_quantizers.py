"""Autocomplete on a quantizer's prefix ("unsloth/", "bartowski/qwen") offers that quantizer's repos."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

import store
from store import GgufRepoRecord, NameIndex, replace_gguf_repo
from tests.store.test_models import _record

NOW = datetime(2026, 12, 1, tzinfo=UTC)
GGUF = {
    "bartowski/Qwen2.5-32B-Instruct-GGUF": 900,
    "bartowski/Qwen2.5-7B-Instruct-GGUF": 1200,
    "bartowski/Llama-3.3-70B-Instruct-GGUF": 5000,
    "unsloth/Qwen3-30B-A3B-GGUF": 800,
    "lmstudio-community/Qwen3-8B-GGUF": 70,
    "lmstudio-community/gemma-3-27b-it-GGUF": 60,
    "bartowskii/Qwen2.5-32B-Instruct-GGUF": 10**6,  # a look-alike organisation
}


@pytest.fixture
async def index(seeded):
    for repo_id, downloads in GGUF.items():
        await replace_gguf_repo(seeded, GgufRepoRecord(repo_id, "a" * 40, "ok", None, NOW, downloads, ()))
    await replace_gguf_repo(seeded, GgufRepoRecord("bartowski/Gated-GGUF", None, "gated", "gated", NOW, 10**7, ()))
    await store.upsert_model(seeded, replace(_record(repo="unsloth/Qwen3-8B-bnb-4bit"), aliases=()))
    return await store.name_index(seeded)


async def test_a_quantizer_prefix_lists_its_gguf_repos(index):
    """"bartowski/" offers bartowski's readable GGUF repos, most downloaded first, and no one else's."""
    assert index.complete("bartowski/") == [
        "bartowski/Llama-3.3-70B-Instruct-GGUF",
        "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "bartowski/Qwen2.5-32B-Instruct-GGUF",
    ]


async def test_the_rest_of_the_text_narrows_the_repos(index):
    """"bartowski/qwen2.5 32" keeps the names holding those words, the last one partly typed."""
    assert index.complete("bartowski/qwen") == [
        "bartowski/Qwen2.5-7B-Instruct-GGUF",
        "bartowski/Qwen2.5-32B-Instruct-GGUF",
    ]
    assert index.complete("Bartowski/Qwen2.5 32") == ["bartowski/Qwen2.5-32B-Instruct-GGUF"]


async def test_gguf_and_safetensors_repos_of_one_author_are_both_offered(index):
    """"unsloth/" offers its safetensors repos (by the name index) and its GGUF repos."""
    found = index.complete("unsloth/")
    assert "unsloth/Qwen3-8B-bnb-4bit" in found and "unsloth/Qwen3-30B-A3B-GGUF" in found


async def test_an_organisation_with_a_dash(index):
    """"lmstudio-community/" is one organisation, not two words."""
    assert index.complete("lmstudio-community/") == [
        "lmstudio-community/Qwen3-8B-GGUF",
        "lmstudio-community/gemma-3-27b-it-GGUF",
    ]


async def test_names_without_an_organisation_are_unchanged(index, seeded):
    """Text without a slash completes exactly as before GGUF repos were known."""
    with_gguf = index.complete("qwen2.5 32")
    await seeded.execute("DELETE FROM gguf_repos")
    assert index.complete("qwen2.5 32") == with_gguf != []


def test_an_index_built_in_memory_has_no_gguf_repos():
    """The in-memory index (no gguf_repos table) completes an organisation prefix from names only."""
    index = NameIndex([("unsloth/Qwen3-8B-bnb-4bit", 1.0)])
    assert index.complete("unsloth/") == ["unsloth/Qwen3-8B-bnb-4bit"]
