"""Names that ask for GGUF repos without an "org/" ("qwen2.5 32b gguf", "bartowski qwen2.5"): the name
picks the models, "gguf" and the quantizer only which of their GGUF repos autocomplete offers."""

from datetime import UTC, datetime

import pytest

import store
from store import GgufRepoRecord, NameIndex, replace_gguf_repo, upsert_base_model

NOW = datetime(2026, 12, 1, tzinfo=UTC)
GGUF = {  # repo: (downloads, base model)
    "bartowski/Qwen2.5-32B-Instruct-GGUF": (900, "Qwen/Qwen2.5-32B-Instruct"),
    "bartowski/Qwen2.5-7B-Instruct-GGUF": (1200, "Qwen/Qwen2.5-7B-Instruct"),
    "lmstudio-community/Qwen2.5-32B-Instruct-GGUF": (300, "Qwen/Qwen2.5-32B-Instruct"),
    "lmstudio-community/Qwen3-8B-GGUF": (70, "Qwen/Qwen3-8B"),
    "unsloth/Qwen3-30B-A3B-GGUF": (800, "Qwen/Qwen3-30B-A3B"),
    "Qwen/Qwen2.5-32B-Instruct-GGUF": (5000, "Qwen/Qwen2.5-32B-Instruct"),  # the maker's own GGUF
}


@pytest.fixture
async def index(seeded):
    for repo_id, (downloads, base) in GGUF.items():
        await replace_gguf_repo(seeded, GgufRepoRecord(repo_id, "a" * 40, "ok", None, NOW, downloads, ()))
        await upsert_base_model(seeded, repo_id, base)
    return await store.name_index(seeded)


def test_gguf_and_quantizer_words_are_split_from_the_name(index):
    """ "bartowski qwen2.5 32b gguf": the organisation and "gguf" go, the model's name stays."""
    words = index.gguf_words("Bartowski qwen2.5 32b GGUF")
    assert (words.orgs, words.says_gguf, words.rest) == (("bartowski",), True, "qwen2.5 32b")
    assert index.gguf_words("qwen2.5-32b-instruct-gguf").rest == "qwen2.5-32b-instruct"


def test_an_organisation_that_makes_models_stays_part_of_the_name(index):
    """Qwen publishes GGUF repos but also the models: "qwen 2.5 32b" asks for no GGUF repo."""
    words = index.gguf_words("qwen 2.5 32b")
    assert not words.names_gguf and words.rest == "qwen 2.5 32b"


async def test_a_name_with_gguf_offers_that_models_gguf_repos(index):
    """ "qwen2.5 32b instruct gguf" offers the GGUF repos of Qwen2.5-32B-Instruct, most downloaded first."""
    found = index.complete("qwen2.5 32b instruct gguf")
    gguf = [r for r in found if r in GGUF]
    assert gguf == [
        "Qwen/Qwen2.5-32B-Instruct-GGUF",
        "bartowski/Qwen2.5-32B-Instruct-GGUF",
        "lmstudio-community/Qwen2.5-32B-Instruct-GGUF",
    ]


async def test_a_quantizer_word_offers_only_that_quantizers_repos(index):
    """ "bartowski qwen2.5 32" offers bartowski's Qwen2.5-32B repo and no other quantizer's."""
    gguf = [r for r in index.complete("bartowski qwen2.5 32") if r in GGUF]
    assert gguf == ["bartowski/Qwen2.5-32B-Instruct-GGUF"]


async def test_a_quantizer_word_never_steers_to_another_model(index):
    """bartowski has no Qwen3-8B GGUF: "bartowski qwen3 8b" offers no GGUF repo at all."""
    assert [r for r in index.complete("bartowski qwen3 8b") if r in GGUF] == []


async def test_names_without_gguf_words_complete_as_before(index, seeded):
    """Without "gguf" or a quantizer's name, completion is the same with or without GGUF repos stored."""
    with_gguf = index.complete("qwen2.5 32b instruct")
    await seeded.execute("DELETE FROM gguf_repos")
    assert index.complete("qwen2.5 32b instruct") == with_gguf != []


def test_an_index_built_in_memory_knows_no_quantizers():
    """The in-memory index (no gguf_repos table) treats every word as part of the name."""
    index = NameIndex([("Qwen/Qwen2.5-32B-Instruct", 1.0)])
    assert index.gguf_words("bartowski qwen2.5").orgs == ()
    assert index.complete("qwen2.5 gguf") == []
