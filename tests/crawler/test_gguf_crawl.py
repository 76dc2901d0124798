"""The GGUF crawl against the Hub stand-in serving real GGUFWriter files, through real HTTP."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from crawler import GgufSources, crawl_gguf, crawl_gguf_repos, discover_gguf
from crawler._gguf_read import SIBLING_SLACK_BYTES
from store import (
    get_base_model,
    get_gguf_repo,
    list_derived_repos,
    list_gguf_files_for_base,
)
from tests.factories.gguf_files import tensor_nbytes

from .conftest import hub_for
from .gguf_corpus import (
    BASE,
    HOSTILE,
    HYBRID,
    MLA,
    QUANTIZER,
    SPLIT_FILE,
    SWA,
    TINY,
    gguf_corpus,
    hostile_files,
    hybrid_repo,
    mla_repo,
    swa_repo,
    tiny_repo,
    tiny_specs,
)

pytestmark = pytest.mark.network

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ALL = GgufSources(top_limit=50, quantizers=(QUANTIZER,), per_quantizer_limit=10,
                  base_models_limit=5, per_base_model_limit=10)


def _reference(spec) -> tuple[int, int]:
    """(tensor bytes, parameters) of what was written, by the gguf package's block table.

    (GGUFReader agrees on these bytes: tests/estimator/test_gguf_header.py; it takes ~10 s per
    100k-token file, so it is not run again here.)"""
    return (sum(tensor_nbytes(t, shape) for _, t, shape in spec.tensors),
            sum(math.prod(shape) for _, _, shape in spec.tensors))


async def test_files_are_grouped_sized_and_exact(make_standin, db):
    """Every file of the quantizer's repo: exact listed size, split parts as one file, the projector
    apart, and tensor bytes and parameters equal to GGUFReader's on the same bytes."""
    standin = make_standin(gguf_corpus())
    async with hub_for(standin) as hub:
        summary = await crawl_gguf(hub, db, ALL, (BASE,), NOW)
    assert {r.repo_id for r in summary.read} == {TINY, MLA, SWA, HYBRID, HOSTILE}
    stored = await get_gguf_repo(db, TINY)
    assert stored is not None and stored.status == "ok"
    repo = tiny_repo()
    by_name = {f.file: f for f in stored.files}
    split = by_name[SPLIT_FILE]
    parts = sorted(p for p in repo.files if p.startswith("Tiny-Instruct-Q8_0/"))
    assert (split.split_count, split.quant, split.size_bytes) == (2, "Q8_0", sum(repo.files[p].size for p in parts))
    assert (split.tensor_bytes, split.total_params) == _reference(tiny_specs()[SPLIT_FILE])
    assert by_name["mmproj-Tiny-Instruct-f16.gguf"].kind == "mmproj"
    for name in ("Tiny-Instruct-Q4_K_M.gguf", "Tiny-Instruct-Q5_K_M.gguf", "Tiny-Instruct-IQ4_XS.gguf"):
        record = by_name[name]
        assert record.status == "ok", record.status_reason
        assert record.size_bytes == repo.files[name].size
        assert (record.tensor_bytes, record.total_params) == _reference(tiny_specs()[name])
        assert record.base_model == BASE
    assert sorted(f.quant for f in await list_gguf_files_for_base(db, BASE) if f.repo_id == TINY) == \
        ["IQ4_XS", "Q4_K_M", "Q5_K_M", "Q8_0"]


async def test_weights_bytes_equal_tensor_data_bytes(make_standin, db):
    """A file's placed weights add up to its tensor data exactly (a tied head adds llama.cpp's copy)."""
    standin = make_standin([tiny_repo(), swa_repo()])
    async with hub_for(standin) as hub:
        await crawl_gguf(hub, db, GgufSources(top_limit=10), (), NOW)
    for repo_id, tied in ((TINY, False), (SWA, True)):
        stored = await get_gguf_repo(db, repo_id)
        for record in (f for f in stored.files if f.kind == "model"):
            layout = record.layout
            copy = layout.embedding if tied else 0
            assert layout.total - copy == record.tensor_bytes
            assert sum(layout.per_layer) > 0 and layout.embedding > 0


async def test_metadata_facts_for_mla_swa_and_hybrid(make_standin, db):
    """KV and state facts come from the files' own metadata: MLA lengths, window, per-layer KV heads, ssm."""
    standin = make_standin([mla_repo(), swa_repo(), hybrid_repo()])
    async with hub_for(standin) as hub:
        await crawl_gguf(hub, db, GgufSources(top_limit=10), (), NOW)
    mla = (await get_gguf_repo(db, MLA)).files[0].facts
    assert (mla.key_length_mla, mla.value_length_mla, mla.kv_lora_rank, mla.nextn_predict_layers) == (192, 128, 512, 1)
    swa = (await get_gguf_repo(db, SWA)).files[0].facts
    assert (swa.sliding_window, swa.sliding_window_pattern) == (512, (1, 0))
    hybrid = (await get_gguf_repo(db, HYBRID)).files[0].facts
    assert hybrid.head_count_kv == (0, 2)
    assert (hybrid.ssm_state_size, hybrid.ssm_conv_kernel, hybrid.ssm_inner_size) == (128, 4, 512)


async def test_hostile_files_fail_alone_with_a_reason(make_standin, db):
    """Each hostile file is recorded as an error naming its problem; the good file and the crawl go on."""
    standin = make_standin(gguf_corpus())
    async with hub_for(standin) as hub:
        await crawl_gguf(hub, db, ALL, (BASE,), NOW)
    stored = await get_gguf_repo(db, HOSTILE)
    by_name = {f.file: f for f in stored.files}
    assert by_name["Tiny-good-Q4_K_M.gguf"].status == "ok"
    for name in hostile_files():
        assert by_name[name].status == "error"
        assert "malformed GGUF header" in by_name[name].status_reason


async def test_siblings_cost_one_request_and_unchanged_repos_cost_nothing(make_standin, db):
    """After the first file, each quant of the repo takes one ranged GET of at most its header plus
    the slack; a second crawl at the same sha makes no tree call and no ranged read."""
    repo = tiny_repo()
    standin = make_standin([repo])
    async with hub_for(standin) as hub:
        await crawl_gguf(hub, db, GgufSources(top_limit=10), (), NOW)
        stored = await get_gguf_repo(db, TINY)
        assert standin.count("tree", repo_id=TINY) == 1
        first = next(f for f in stored.files if f.kind == "model")
        singles = [f for f in stored.files if f.split_count == 1 and f.file != first.file and f.kind == "model"]
        for record in singles:
            gets = [h for h in standin.snapshot() if h.route == "resolve_get" and h.path.endswith(record.file)]
            assert len(gets) == 1
            assert gets[0].bytes_sent <= record.header_bytes + SIBLING_SLACK_BYTES
        standin.reset_counts()
        summary = await crawl_gguf(hub, db, GgufSources(top_limit=10), (), NOW)
    assert (summary.unchanged, summary.read) == (1, [])
    assert standin.count("tree") == standin.count("resolve_get") == 0


async def test_discovery_covers_top_quantizers_and_base_models(make_standin, db):
    """Top downloads, a quantizer's repos and quantizations of a stored base model are all found;
    the card's base_model is recorded for each."""
    standin = make_standin(gguf_corpus())
    async with hub_for(standin) as hub:
        only_quantizer = await discover_gguf(hub, GgufSources(top_limit=0, quantizers=(QUANTIZER,)), ())
        only_base = await discover_gguf(hub, GgufSources(top_limit=0), ("zoo/Tiny-MLA",))
        top = await discover_gguf(hub, GgufSources(top_limit=2), ())
        await crawl_gguf_repos(hub, db, only_base, NOW)
    assert [c.repo_id for c in only_quantizer] == [TINY]
    assert [c.repo_id for c in only_base] == [MLA]
    assert [c.repo_id for c in top] == [TINY, MLA]
    assert await get_base_model(db, MLA) == "zoo/Tiny-MLA"
    assert await list_derived_repos(db, "zoo/Tiny-MLA") == (MLA,)


async def test_daily_crawl_runs_the_gguf_stage_and_links_quantized_repos(make_standin, db):
    """crawl_once with a [gguf] table reads the GGUF repos too, and an AWQ repo's card base model is recorded."""
    from dataclasses import replace

    from crawler import crawl_once
    from tests.factories import replica

    from .conftest import options_for
    from .corpus import repo_from_replica

    awq = replace(repo_from_replica("awq-4bit", replica("awq-4bit"), downloads=100), tags=("awq",),
                  card_data={"base_model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0"})
    standin = make_standin([awq, mla_repo()])
    options = options_for(())
    options = replace(options, sources=replace(options.sources, gguf=GgufSources(top_limit=5)))
    async with hub_for(standin) as hub:
        await crawl_once(hub, db, options)
    assert await get_base_model(db, awq.repo_id) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    assert (await get_gguf_repo(db, MLA)).files[0].status == "ok"


async def test_crawled_files_of_a_base_model_get_a_fit_each(make_standin, db):
    """After a crawl, every real file of the base model is priced by its own tensor data on a budget."""
    from estimator import parse_budget
    from store import list_gguf_file_fits

    standin = make_standin([tiny_repo()])
    async with hub_for(standin) as hub:
        await crawl_gguf(hub, db, GgufSources(top_limit=5), (), NOW)
    fits = await list_gguf_file_fits(db, BASE, parse_budget("24GB"), context=4096)
    assert sorted(f.file.quant for f in fits) == ["IQ4_XS", "Q4_K_M", "Q5_K_M", "Q8_0"]
    for fit in fits:
        assert fit.option.weights_bytes == fit.file.tensor_bytes
        assert fit.option.verdict == "fits"
    only = await list_gguf_file_fits(db, BASE, parse_budget("24GB"), quant="q8_0")
    assert [f.file.quant for f in only] == ["Q8_0"]
