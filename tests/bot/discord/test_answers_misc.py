"""/compare, /new, /about and the listing documents, and their terminal twins in `fitbot ask`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot._answer_misc import (
    GPU_LADDER_KEYS,
    PRIVACY,
    ListingEntry,
    render_listing,
    smallest_fitting_gpu,
)
from bot._commands import CommandContext, parse_command, run_about, run_compare, run_new
from bot._parsers import ModelRef
from bot._discord._embeds import to_markdown
from bot._document import render_text
from bot._service import CatalogService
from bot.errors import CommandParseError
from estimator import FITS, ModelFacts, estimate_fit, gpu_by_key, parse_budget
from store import count_models, load_bundled_catalog, upsert_model

CATALOG = {r.repo_id: r for r in load_bundled_catalog()}


def _fits(record, key: str) -> bool:
    gpu = gpu_by_key(key)
    assert gpu is not None
    report = estimate_fit(ModelFacts(record.config, record.accounting), parse_budget(f"{gpu.memory_gb}GB"), quants=("Q4_K_M",))
    return report.options[0].verdict == FITS


@pytest.mark.parametrize("repo_id", ["Qwen/Qwen2.5-32B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V3"])
def test_smallest_gpu_is_the_first_rung_that_fits(repo_id: str) -> None:
    """The chosen card holds the model at Q4_K_M (checked as a plain size budget); every smaller rung does not."""
    record = CATALOG[repo_id]
    chosen = smallest_fitting_gpu(record)
    keys = list(GPU_LADDER_KEYS)
    if chosen is None:
        assert not any(_fits(record, k) for k in keys)
        return
    index = keys.index(chosen.key)
    assert _fits(record, chosen.key)
    assert not any(_fits(record, k) for k in keys[:index])


def test_listing_shows_exact_size_moe_layout_and_gpu() -> None:
    """Each line: exact count with separators, the MoE layout, and the smallest card."""
    record = CATALOG["Qwen/Qwen3-30B-A3B"]
    doc = render_listing([ListingEntry(record, gpu_by_key("rtx-4090"))], datetime(2026, 1, 1, 9, tzinfo=UTC), date(2026, 1, 2))
    a = record.accounting
    assert f"{a.total_params:,} parameters" in render_text(doc)
    assert f"MoE {a.moe.num_experts} experts / top-{a.moe.experts_per_token}" in render_text(doc)
    assert "fits one GeForce RTX 4090 (24 GB)" in render_text(doc)
    assert doc.title == "New and updated models, 2026-01-02"


def test_listing_escapes_hub_names() -> None:
    """A hostile repo id cannot ping or format."""
    record = replace(CATALOG["Qwen/Qwen3-8B"], repo_id="x/@everyone_**bold**")
    doc = render_listing([ListingEntry(record, None)], datetime(2026, 1, 1, tzinfo=UTC), date(2026, 1, 2))
    assert "@everyone" not in to_markdown(doc).description and "\\*\\*bold\\*\\*" in to_markdown(doc).description


async def test_about_states_freshness_privacy_and_source(service: CatalogService) -> None:
    """/about counts the catalog, says no crawl has run yet, states what is stored, and links the source."""
    doc = await run_about(CommandContext(service, "https://example.invalid/src"))
    text = render_text(doc)
    assert f"{await count_models(service.db):,} models" in text
    assert "No crawl has finished yet" in text
    assert PRIVACY.split(":")[0] in text and "Nothing about members" in text
    assert "https://example.invalid/src" in text


async def test_new_lists_models_read_from_headers_only(service: CatalogService) -> None:
    """/new shows a crawled (header) model and not the bundled config-derived ones."""
    fresh = replace(CATALOG["Qwen/Qwen3-8B"], repo_id="org/Brand-New-8B", provenance="header", sha="c" * 40, aliases=())
    await upsert_model(service.db, fresh)
    doc = await run_new(CommandContext(service), 3)
    assert "org/Brand-New-8B" in to_markdown(doc).description
    assert "Qwen/Qwen3-8B)" not in to_markdown(doc).description
    assert doc.title == "Models added or updated in the last 3 days"


@pytest.mark.parametrize("days", ["0", "91", "week"])
async def test_new_refuses_bad_day_counts(service: CatalogService, days: str) -> None:
    """Days outside 1-90 get a message with an example."""
    with pytest.raises(CommandParseError, match="e.g. /new 7"):
        parse_command(f"/new {days}")


@pytest.mark.parametrize("days", [0, 91, 10**20, -(10**20)])
async def test_new_refuses_out_of_range_days_from_a_raw_call(service: CatalogService, days: int) -> None:
    """A raw API call can send any integer: it is refused with what to type, not an OverflowError."""
    with pytest.raises(CommandParseError, match="e.g. /new 7"):
        await run_new(CommandContext(service), days)


async def test_compare_names_both_and_the_ratio(service: CatalogService) -> None:
    """/compare shows both exact counts and the size ratio."""
    doc = await run_compare(CommandContext(service), ModelRef("qwen2.5-32b"), ModelRef("llama 3.3 70b"))
    big, small = CATALOG["meta-llama/Llama-3.3-70B-Instruct"], CATALOG["Qwen/Qwen2.5-32B-Instruct"]
    ratio = big.accounting.total_params / small.accounting.total_params
    assert f"{ratio:,.1f}× the parameters" in to_markdown(doc).description
    values = " ".join(f.value for f in to_markdown(doc).fields)
    assert f"{big.accounting.total_params:,}" in values and f"{small.accounting.total_params:,}" in values


def test_ask_parses_the_new_commands() -> None:
    """`fitbot ask` knows /compare, /new and /about."""
    spec, args = parse_command("/compare 'qwen2.5 32b' llama-3.3-70b")
    assert spec.name == "compare" and args == {"a": ModelRef("qwen2.5 32b"), "b": ModelRef("llama-3.3-70b")}
    assert parse_command("/new 3")[1] == {"days": 3}
    assert parse_command("/about")[0].name == "about"
