"""The crawler against the Hub stand-in, through real HTTP and the real huggingface_hub client."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from crawler import METADATA_API, RANGED, CrawlOptions, crawl_once, parse_sources
from store import RUN_COMPLETED, get_model, last_run

from .conftest import TOKEN, hub_for, options_for
from .corpus import ERROR, GATED, OK, Expect, repo_from_replica, sources_toml
from .hub_standin import commit_sha

pytestmark = pytest.mark.network

COUNTED_ROUTES = ("resolve_get", "resolve_head", "metadata_api")


async def _check_expectations(db, expects: tuple[Expect, ...]) -> list[str]:
    problems = []
    for expect in expects:
        record = await get_model(db, expect.repo_id)
        if record is None:
            problems.append(f"{expect.repo_id}: not recorded")
            continue
        accounting = record.accounting
        total = accounting.total_params if accounting else None
        if record.status != expect.status:
            problems.append(f"{expect.repo_id}: status {record.status} ({record.status_reason}), want {expect.status}")
        if expect.total is not None and total != expect.total:
            problems.append(f"{expect.repo_id}: total {total}, want {expect.total}")
        if expect.active is not None and accounting and accounting.active_params != expect.active:
            problems.append(f"{expect.repo_id}: active {accounting.active_params}, want {expect.active}")
        if expect.hub_total is not None and record.hub.hub_total_params != expect.hub_total:
            problems.append(f"{expect.repo_id}: hub total {record.hub.hub_total_params}, want {expect.hub_total}")
    return problems


def _counted_files(repo) -> list[str]:
    if "model.safetensors.index.json" in repo.files:
        index = json.loads(repo.files["model.safetensors.index.json"].prefix)
        return list(dict.fromkeys(index["weight_map"].values()))
    return ["model.safetensors"] if "model.safetensors" in repo.files else []


def _needed_bytes(repo) -> int:
    """Header bytes (length prefix included) of every counted file, plus the index and config.json."""
    extra = [f for f in ("model.safetensors.index.json", "config.json") if f in repo.files]
    return sum(len(repo.files[f].prefix) for f in _counted_files(repo) + extra)


async def test_every_published_count_through_real_http(make_standin, db, full_corpus, caplog):
    """Anchors (DeepSeek-V3 included), quantized variants, MoE layouts, gated, missing, .bin
    and every malformed class all end as expected, with the published totals to the integer;
    the run records what it cost and logs one summary line."""
    repos, expects, pinned = full_corpus
    caplog.set_level(logging.INFO, logger="crawler")
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    async with hub_for(standin, token=TOKEN) as hub:
        summary = await crawl_once(hub, db, options_for(pinned))
    assert await _check_expectations(db, expects) == []
    assert summary.status == RUN_COMPLETED and summary.stats.retries == 0
    assert summary.counts()[OK] == sum(e.status == OK for e in expects)
    assert summary.counts()[ERROR] == sum(e.status == ERROR for e in expects) > 15
    run = await last_run(db)
    assert run.requests == summary.stats.requests == standin.count() and run.requests > 0
    assert run.bytes_received == summary.stats.bytes_received >= standin.bytes_sent()
    assert standin.count("resolve_head") == 0  # no needless HEADs
    summaries = [r for r in caplog.records if r.levelno == logging.INFO and hasattr(r, "fields")]
    assert len(summaries) == 1 and summaries[0].fields["requests"] == run.requests
    assert summaries[0].fields["outcomes"] == summary.counts()


async def test_packed_quantization_is_flagged_as_a_count_mismatch(make_standin, db, light_corpus):
    """Where the Hub's raw element count differs from ours (packed storage), both are kept."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    async with hub_for(standin, token=TOKEN) as hub:
        summary = await crawl_once(hub, db, options_for(pinned))
    gptq = await get_model(db, "TheBloke/TinyLlama-1.1B-Chat-v1.0-GPTQ-4bit")
    dense = await get_model(db, "meta-llama/Llama-3.1-8B")
    assert gptq.count_mismatch and gptq.hub.hub_total_params < gptq.accounting.total_params
    assert not dense.count_mismatch and dense.hub.hub_total_params == 8_030_261_248
    flagged = {o.repo_id for o in summary.mismatches}
    assert "openai/gpt-oss-20b" in flagged and "meta-llama/Llama-3.1-8B" not in flagged


@pytest.mark.parametrize("strategy", [RANGED, METADATA_API])
async def test_each_read_strategy_alone_is_exact(make_standin, db, light_corpus, strategy):
    """Forced ranged reads and forced one-call reads give the same exact counts."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    async with hub_for(standin, token=TOKEN, read_strategy=strategy) as hub:
        await crawl_once(hub, db, options_for(pinned))
    assert await _check_expectations(db, expects) == []
    if strategy == RANGED:
        assert standin.count("metadata_api") == 0
    else:
        assert standin.count("metadata_api") >= 5


async def test_ranged_reads_cost_at_most_files_plus_two_and_few_extra_bytes(make_standin, db, light_corpus):
    """Per new model: requests ≤ counted files + 2 (index and config.json included), and bytes
    received < 1.2 × (header + index + config bytes)."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    async with hub_for(standin, token=TOKEN, read_strategy=RANGED) as hub:
        await crawl_once(hub, db, options_for(pinned))
    ok = {e.repo_id for e in expects if e.status == OK}
    over = []
    for repo in repos:
        if repo.repo_id not in ok:
            continue
        requests = sum(standin.count(route, repo_id=repo.repo_id) for route in COUNTED_ROUTES)
        received = standin.bytes_sent(repo_id=repo.repo_id)
        files = len(_counted_files(repo))
        if requests > files + 2 or received >= 1.2 * _needed_bytes(repo):
            over.append((repo.repo_id, requests, files, received, _needed_bytes(repo)))
    assert over == []


async def test_unchanged_commits_cost_no_resolve_and_changed_ones_are_read_again(make_standin, db, light_corpus):
    """A re-crawl with nothing changed makes zero resolve or metadata calls; a new commit of
    one repo is read again, and only that repo."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    async with hub_for(standin, token=TOKEN) as hub:
        await crawl_once(hub, db, options_for(pinned))
        standin.reset_counts()
        again = await crawl_once(hub, db, options_for(pinned))
        assert standin.count("resolve_get") + standin.count("resolve_head") + standin.count("metadata_api") == 0
        assert again.unchanged == sum(e.status not in ("not_found",) for e in expects)

        from tests.factories import replica

        changed = repo_from_replica("llama-3.2-1b-tied", replica("llama-3.2-1b-tied"), downloads=5, revision=1)
        standin.set_repo(changed)
        standin.reset_counts()
        third = await crawl_once(hub, db, options_for(pinned))
    read = {h.repo_id for h in standin.snapshot() if h.route in COUNTED_ROUTES}
    assert read == {"meta-llama/Llama-3.2-1B"}
    record = await get_model(db, "meta-llama/Llama-3.2-1B")
    assert record.sha == commit_sha("meta-llama/Llama-3.2-1B", 1)
    assert record.accounting.total_params == 1_235_814_400
    assert [o.repo_id for o in third.outcomes if o.status == OK] == ["meta-llama/Llama-3.2-1B"]


async def test_gated_repos_without_a_token_cost_nothing_and_keep_the_hub_facts(make_standin, db, light_corpus):
    """Without a token a gated repo is recorded as gated without a single resolve; the Hub's
    total is kept, and config-derived counts only when the API's config has sizes."""
    repos, expects, pinned = light_corpus
    full = next(r for r in repos if r.repo_id == "meta-llama/Llama-3.2-1B")
    from tests.factories import replica

    repos = [dataclasses.replace(full, api_config=replica("llama-3.2-1b-tied").config) if r is full else r for r in repos]
    standin = make_standin(repos)
    async with hub_for(standin) as hub:
        await crawl_once(hub, db, options_for(pinned))
    gated_ids = {r.repo_id for r in repos if r.gated}
    assert gated_ids and all(standin.resolve_count(g) == 0 for g in gated_ids)
    llama8 = await get_model(db, "meta-llama/Llama-3.1-8B")
    assert llama8.status == GATED and llama8.accounting is None
    assert llama8.hub.hub_total_params == 8_030_261_248 and "HF_TOKEN" in llama8.status_reason
    tied = await get_model(db, "meta-llama/Llama-3.2-1B")
    assert tied.status == GATED and tied.provenance == "config"
    assert tied.accounting.total_params == 1_235_814_400


async def test_a_token_is_sent_but_never_logged_or_shown(make_standin, db, light_corpus, caplog):
    """HF_TOKEN goes in the Authorization header; it is in no log line, repr or reason."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos[:6], tokens_with_access=frozenset({TOKEN}))
    caplog.set_level(logging.DEBUG)
    async with hub_for(standin, token=TOKEN) as hub:
        summary = await crawl_once(hub, db, options_for(pinned))
        shown = repr(hub.config) + repr(summary)
    assert all(h.authorized for h in standin.snapshot())
    assert TOKEN not in caplog.text and TOKEN not in shown
    assert all(TOKEN not in (o.reason or "") for o in summary.outcomes)


async def test_without_the_one_call_endpoint_the_crawler_falls_back_to_ranged_reads(make_standin, db, light_corpus):
    """A Hub (or mirror) without safetensors-metadata is asked once, then read by ranges."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}), metadata_api=False)
    async with hub_for(standin, token=TOKEN, read_strategy="auto") as hub:
        await crawl_once(hub, db, options_for(pinned))
        assert hub.metadata_api_available is False
    assert await _check_expectations(db, expects) == []
    assert standin.count("metadata_api") == 1


async def test_source_selection_limit_and_explicit_repos(make_standin, db, light_corpus):
    """--source, --limit and --repo narrow what is listed and read."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    sources = parse_sources(sources_toml(pinned))
    async with hub_for(standin, token=TOKEN) as hub:
        limited = await crawl_once(hub, db, CrawlOptions(sources, only_source="downloads", limit=3))
        explicit = await crawl_once(hub, db, CrawlOptions(sources, repo_ids=("openai/gpt-oss-20b", "nobody/nothing")))
    top3 = sorted(repos, key=lambda r: r.downloads, reverse=True)
    assert [o.repo_id for o in limited.outcomes] != [] and limited.seen == 3
    assert {o.repo_id for o in limited.outcomes} <= {r.repo_id for r in top3[:6]}
    statuses = {o.repo_id: o.status for o in explicit.outcomes}
    assert statuses == {"openai/gpt-oss-20b": OK, "nobody/nothing": "not_found"}
    assert standin.count("model_info") >= 2


async def test_a_repo_that_vanishes_is_not_found_and_keeps_its_counts(make_standin, db, light_corpus):
    """A pinned repo the Hub no longer knows is recorded as not_found, with the counts read
    while it existed; never a second row."""
    repos, expects, pinned = light_corpus
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    sources = parse_sources(sources_toml(pinned))
    only = CrawlOptions(sources, repo_ids=("openai/gpt-oss-20b",))
    async with hub_for(standin, token=TOKEN) as hub:
        await crawl_once(hub, db, only)
        standin.remove_repo("openai/gpt-oss-20b")
        gone = await crawl_once(hub, db, only)
    assert [o.status for o in gone.outcomes] == ["not_found"]
    record = await get_model(db, "openai/gpt-oss-20b")
    assert record.status == "not_found" and record.accounting.total_params == 20_914_757_184
    assert "last read" in record.status_reason
    rows = await db.fetchall("SELECT COUNT(*) FROM models WHERE repo_key = 'openai/gpt-oss-20b'")
    assert rows[0][0] == 1
