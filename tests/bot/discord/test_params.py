"""Edge validation and autocomplete: transformers call the estimator's parsers; choices obey Discord's limits."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot._discord import (
    BudgetTransformer,
    ContextTransformer,
    model_choices,
    term_choices,
)
from bot._service import CatalogService
from estimator import GIB
from estimator.errors import BudgetParseError, ContextParseError
from store import GlossaryIndex, load_bundled_glossary


async def test_budget_transformer_reads_gpus_and_sizes() -> None:
    """"2x3090" is two 24 GiB cards; "24GB" is one 24 GiB device."""
    two = await BudgetTransformer().transform(None, "2x3090")
    assert [d.memory_bytes for d in two.devices] == [24 * GIB, 24 * GIB] and two.names_gpu
    one = await BudgetTransformer().transform(None, "24GB")
    assert one.usable_bytes == 24 * GIB


@pytest.mark.parametrize("text", ["24 gigs", "-5GB", "32b", ""])
async def test_budget_transformer_fails_with_the_parsers_error(text: str) -> None:
    """A bad budget raises the parser's own error; discord.py wraps it in TransformerError."""
    with pytest.raises(BudgetParseError):
        await BudgetTransformer().transform(None, text)


async def test_context_transformer() -> None:
    """"32k" is 32,768 tokens; "lots" is refused by the parser."""
    assert await ContextTransformer().transform(None, "32k") == 32768
    with pytest.raises(ContextParseError):
        await ContextTransformer().transform(None, "lots")


async def test_autocomplete_is_empty_while_the_index_is_cold(service: CatalogService) -> None:
    """Before the first refresh there is no index, and autocomplete must not touch the database."""
    assert model_choices(service, "qwen") == []
    await service.refresh(force=True)
    assert model_choices(service, "qwen")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=120))
async def test_model_choices_obey_discords_limits(service: CatalogService, query: str) -> None:
    """Whatever is typed: at most 25 choices, names and values 1-100 characters, answered in well under
    100 ms of CPU (this thread's CPU time: a loaded machine that preempts the test does not count)."""
    await service.refresh()
    started = time.thread_time()
    choices = model_choices(service, query)
    elapsed = time.thread_time() - started
    assert len(choices) <= 25
    assert all(1 <= len(c.name) <= 100 and 1 <= len(c.value) <= 100 for c in choices)
    assert elapsed < 0.1


async def test_model_choices_rank_the_named_model_first(service: CatalogService) -> None:
    """"llama 3.3 70" completes to the Llama 3.3 70B repo."""
    await service.refresh(force=True)
    assert model_choices(service, "llama 3.3 70")[0].value == "meta-llama/Llama-3.3-70B-Instruct"


_GLOSSARY = GlossaryIndex(load_bundled_glossary())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_term_choices_obey_discords_limits(query: str) -> None:
    """Glossary choices: at most 25, names 1-100 characters, values are entry keys."""
    choices = term_choices(_GLOSSARY, query)
    assert len(choices) <= 25
    assert all(1 <= len(c.name) <= 100 and c.value in _GLOSSARY.entries for c in choices)


def test_term_choices_find_aliases_and_are_empty_without_a_glossary() -> None:
    """"kv" offers the KV cache entry; no glossary yet means no choices."""
    assert [c.value for c in term_choices(_GLOSSARY, "kv")][:2] == ["kv-cache", "kv-cache-quantization"]
    assert term_choices(None, "kv") == []


async def test_remembered_choices_are_dropped_when_the_index_is_rebuilt(service: CatalogService) -> None:
    """A model added by a crawl shows up for a query answered before the rebuild."""
    from dataclasses import replace

    from bot._discord._params import ModelChoices
    from store import get_model, upsert_model

    choices = ModelChoices(service)
    assert choices("zebra") == []  # cold: nothing, and nothing remembered
    await service.refresh(force=True)
    assert "Zebra-Org/Zebra-7B" not in [c.value for c in choices("zebra")]
    base = await get_model(service.db, "Qwen/Qwen2.5-7B-Instruct")
    assert base is not None
    await upsert_model(service.db, replace(base, repo_id="Zebra-Org/Zebra-7B", aliases=()))
    assert "Zebra-Org/Zebra-7B" not in [c.value for c in choices("zebra")]  # same index: remembered answer
    await service.refresh(force=True)
    assert next(c.value for c in choices("zebra")) == "Zebra-Org/Zebra-7B"
