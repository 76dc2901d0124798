"""Name resolution: what people type resolves to one repo id, plus alternatives."""

import pytest

import store
from store import NameIndex
from store.errors import ModelNotFoundError


@pytest.fixture
async def index(seeded):
    return await store.name_index(seeded)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("qwen2.5-32b", "Qwen/Qwen2.5-32B-Instruct"),
        ("Qwen2.5 32B instruct", "Qwen/Qwen2.5-32B-Instruct"),
        ("llama3.1 8b", "meta-llama/Llama-3.1-8B-Instruct"),
        ("mixtral", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("ds v3", "deepseek-ai/DeepSeek-V3"),
        ("lama3.1 8b", "meta-llama/Llama-3.1-8B-Instruct"),
        ("mixtrl", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("qwen 2.5 coder 32b", "Qwen/Qwen2.5-Coder-32B-Instruct"),
        ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B"),
        ("gpt oss 20b", "openai/gpt-oss-20b"),
    ],
)
async def test_resolves_what_people_type(index, typed, expected):
    """Each spelling from the issue resolves to the repo a user means."""
    assert index.resolve(typed).repo_id == expected


async def test_typos_are_marked_as_guesses_with_alternatives(index):
    """A typo resolves, but not as an exact match, and offers alternatives."""
    result = index.resolve("lama3.1 8b")
    assert result.exact is False
    assert "meta-llama/Llama-3.1-8B" in result.alternatives


async def test_numbers_are_never_fuzzed(index):
    """'qwen2.5 3b' is the 3B model, not the 32B one."""
    assert index.resolve("qwen2.5 3b").repo_id == "Qwen/Qwen2.5-3B-Instruct"


async def test_unknown_name_suggests(index):
    """Nothing matches: the error names the input and suggests near names."""
    with pytest.raises(ModelNotFoundError) as caught:
        index.resolve("qwen5-999b")
    assert "qwen5-999b" in str(caught.value)
    assert caught.value.suggestions


async def test_popularity_breaks_ties():
    """Equally good matches go to the more popular model."""
    index = NameIndex([("a/Foo-7B", 1.0), ("b/Foo-7B", 5.0)])
    assert index.resolve("foo 7b").repo_id == "b/Foo-7B"


async def test_complete_limits(index):
    """Autocomplete gives at most 25 choices of 1 to 100 characters, most popular first."""
    everything = index.complete("")
    assert len(everything) == 25
    assert all(1 <= len(c) <= 100 for c in everything)
    assert index.complete("qwen3 3")[0].startswith("Qwen/Qwen3-3")


def test_long_repo_ids_are_left_out_of_choices():
    """A repo id over 100 characters never becomes an autocomplete choice."""
    long_id = "org/" + "x" * 120
    index = NameIndex([(long_id, 9.0), ("org/short", 1.0)])
    assert index.complete("") == ["org/short"]
