"""Hub scale on the stand-in: listings and GGUF trees paged past one page (and past the old 10,000
cap), connections kept and reused, a re-crawl of an unchanged Hub that writes nothing. Not timed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler import CrawlOptions, crawl_once, discover, fetch_gguf_tree, parse_sources
from crawler._http import Target
from store import get_catalog_version, get_model

from .conftest import hub_for, options_for
from .corpus import small_repos
from .gguf_corpus import TINY, tiny_repo

pytestmark = pytest.mark.network

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ALL_REPOS = '[[source]]\nname = "everything"\nkind = "top"\nlimit = "all"\n'


async def test_a_source_lists_past_ten_thousand_repos_page_by_page(make_standin):
    """limit = "all" walks every cursor page: 10,050 repos at 1,000 a page is 11 listing calls per
    pipeline, and every repo comes back once."""
    count = 10_050
    standin = make_standin(small_repos(count), page_size=1000)
    async with hub_for(standin) as hub:
        found, missing = await discover(hub, CrawlOptions(parse_sources(ALL_REPOS)), NOW)
    assert missing == []
    assert len({c.repo_id for c in found}) == len(found) == count
    # one pipeline holds them all; the other pipeline's listing is one empty page
    assert standin.count("list") == 11 + 1


async def test_a_numeric_limit_above_ten_thousand_is_honoured(make_standin):
    """A whole-number limit past the old cap stops at that many repos, after enough pages."""
    standin = make_standin(small_repos(10_200), page_size=1000)
    text = ALL_REPOS.replace('"all"', "10100")
    async with hub_for(standin) as hub:
        found, _ = await discover(hub, CrawlOptions(parse_sources(text)), NOW)
    assert len(found) == 10_100


async def test_a_gguf_tree_is_read_across_its_pages(make_standin):
    """A tree of more entries than a page: every .gguf file comes back, one call per page."""
    repo = tiny_repo()
    standin = make_standin([repo], tree_page_size=2)
    files = sum(1 for p in repo.files if p.lower().endswith(".gguf"))
    entries = len(repo.files)
    async with hub_for(standin) as hub:
        listed = await fetch_gguf_tree(hub, TINY, repo.sha)
    assert sorted(p for p, _ in listed) == sorted(p for p in repo.files if p.lower().endswith(".gguf"))
    assert len(listed) == files
    assert standin.count("tree") == -(-entries // 2) > 1


async def test_sequential_ranged_reads_share_one_connection(make_standin):
    """Twenty ranged GETs one after another go over one kept-alive connection (a body read to its
    end returns the connection to the pool; one left mid-stream would close it)."""
    repo = small_repos(1)[0]
    standin = make_standin([repo])
    async with hub_for(standin) as hub:
        url = hub.resolve_url(repo.repo_id, repo.sha, "model.safetensors")
        for start in range(20):
            await hub.http.fetch_range(url, start, 64, Target(repo.repo_id, "model.safetensors"))
    assert standin.count("resolve_get") == 20
    assert standin.connection_count() == 1


async def test_a_crawl_reuses_its_connections(make_standin, db, light_corpus):
    """A whole crawl opens at most one connection per concurrent slot of each client (ours and
    huggingface_hub's listing client), however many requests it makes."""
    repos, _, pinned = light_corpus
    standin = make_standin(repos)
    concurrency = 4
    async with hub_for(standin, concurrency=concurrency) as hub:
        await crawl_once(hub, db, options_for(pinned))
    requests = len(standin.snapshot())
    assert requests > 4 * 2 * concurrency
    assert standin.connection_count() <= 2 * concurrency + 1, (standin.connection_count(), requests)


async def test_a_recrawl_of_an_unchanged_hub_writes_nothing(make_standin, db):
    """Nothing changed on the Hub: the re-crawl reads no file, rewrites no record and leaves the
    catalog version where the first crawl put it."""
    repos = small_repos(40)
    standin = make_standin(repos)
    options = CrawlOptions(parse_sources(ALL_REPOS))
    async with hub_for(standin) as hub:
        first = await crawl_once(hub, db, options)
        version = await get_catalog_version(db)
        before = await get_model(db, repos[0].repo_id)
        standin.reset_counts()
        second = await crawl_once(hub, db, options)
    assert first.counts().get("ok") == len(repos)
    assert second.unchanged == len(repos) and second.outcomes == ()
    assert standin.resolve_count() == 0 and standin.count("metadata_api") == 0
    assert await get_catalog_version(db) == version
    assert await get_model(db, repos[0].repo_id) == before
