"""Faults the Hub throws: 500s, 429s with RateLimit headers, resets mid-body, stalls, quotas."""

from __future__ import annotations

import dataclasses

import pytest

from crawler import RetryPolicy, crawl_once
from store import RUN_COMPLETED, get_model

from .conftest import FAST, TOKEN, hub_for, options_for
from .corpus import OK, corpus
from .hub_standin import API, RESOLVERS, Faults, Quota
from .test_crawl_standin import _check_expectations

pytestmark = pytest.mark.network


async def test_a_fault_run_still_ends_exact_with_nothing_duplicated(make_standin, db, light_corpus):
    """5% 500s, 5% 429s and 1% resets on every route (seeded): every reachable repo is exact,
    each is recorded once, and the faults really happened."""
    repos, expects, pinned = light_corpus
    faults = Faults(rate_500=0.05, rate_429=0.05, rate_reset=0.01, seed=3)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}), faults=faults)
    async with hub_for(standin, token=TOKEN) as hub:
        summary = await crawl_once(hub, db, options_for(pinned))
    assert summary.status == RUN_COMPLETED
    assert await _check_expectations(db, expects) == []
    injected = [h.fault for h in standin.snapshot() if h.fault]
    assert {"500", "429", "reset"} <= set(injected), injected
    assert summary.stats.retries >= len([f for f in injected if f]) - 3  # listing pages retry inside hf_hub
    rows = await db.fetchall("SELECT repo_key, COUNT(*) FROM models GROUP BY repo_key HAVING COUNT(*) > 1")
    assert rows == []
    assert len(summary.outcomes) == len({o.repo_id for o in summary.outcomes})


@pytest.mark.parametrize("ratelimit_header", [True, False])
async def test_a_429_waits_as_long_as_the_hub_says(make_standin, db, ratelimit_header):
    """A 429 with RateLimit t=1 (or only Retry-After: 1) is retried no sooner than a second
    later, and then succeeds."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    llama = next(r for r in repos if r.repo_id == "meta-llama/Llama-3.2-1B")
    # Without config.json the header GET is the only resolve: one wait, not two in a row.
    tiny = [dataclasses.replace(llama, files={k: v for k, v in llama.files.items() if k != "config.json"})]
    faults = Faults(rate_429=1.0, retry_after_s=1, buckets=frozenset({RESOLVERS}), only_first=True,
                    ratelimit_header=ratelimit_header)
    standin = make_standin(tiny, tokens_with_access=frozenset({TOKEN}), faults=faults)
    async with hub_for(standin, token=TOKEN) as hub:
        summary = await crawl_once(hub, db, options_for((), repo_ids=("meta-llama/Llama-3.2-1B",)))
    hits = [h for h in standin.snapshot() if h.route == "resolve_get"]
    refused = [h for h in hits if h.status == 429]
    assert refused and summary.outcomes[0].status == OK
    for first in refused:
        retry = next(h for h in hits if h.path == first.path and h.range == first.range and h.at > first.at)
        assert retry.at - first.at >= 0.95


async def test_a_stalled_answer_times_out_and_is_retried(make_standin, db):
    """An answer that stalls past the read timeout is abandoned and asked again."""
    repos, _, _ = corpus(heavy=False, malformed=False)
    tiny = [r for r in repos if r.repo_id == "meta-llama/Llama-3.2-1B"]
    faults = Faults(rate_stall=0.5, stall_s=1.0, seed=5, buckets=frozenset({RESOLVERS}))
    standin = make_standin(tiny, tokens_with_access=frozenset({TOKEN}), faults=faults)
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, read_timeout_s=0.3, attempts=10)
    async with hub_for(standin, token=TOKEN, policy=policy) as hub:
        summary = await crawl_once(hub, db, options_for((), repo_ids=("meta-llama/Llama-3.2-1B",)))
    assert any(h.fault == "stall" for h in standin.snapshot())
    assert summary.outcomes[0].status == OK and summary.stats.retries >= 1
    record = await get_model(db, "meta-llama/Llama-3.2-1B")
    assert record.accounting.total_params == 1_235_814_400


async def test_the_crawler_stays_under_the_stated_quota(make_standin, db, light_corpus):
    """With small fixed-window quotas the crawler reads RateLimit headers and holds back
    instead of running into 429s."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    few = [r for r in repos if r.repo_id.startswith(("TheBloke/", "meta-llama/", "openai/"))]
    quotas = {RESOLVERS: Quota(limit=16, window_s=1.0), API: Quota(limit=40, window_s=1.0)}
    standin = make_standin(few, tokens_with_access=frozenset({TOKEN}), quotas=quotas)
    async with hub_for(standin, token=TOKEN, concurrency=4) as hub:
        summary = await crawl_once(hub, db, options_for(()))
    assert standin.count(status=429) == 0
    assert summary.stats.rate_limit_waits >= 1  # it did have to hold back
    assert all(o.status == OK for o in summary.outcomes) and len(summary.outcomes) == len(few)


async def test_a_repo_the_hub_keeps_failing_is_an_error_retried_next_time(make_standin, db, light_corpus):
    """Persistent 500s on one repo's files fail that repo (recorded without a sha, so the next
    crawl tries again), never the crawl; the others are read."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    few = [r for r in repos if r.repo_id.startswith(("meta-llama/", "openai/"))]
    standin = make_standin(few, tokens_with_access=frozenset({TOKEN}))
    policy = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)
    broken = "openai/gpt-oss-20b"
    standin.faults = Faults(rate_500=1.0, buckets=frozenset({RESOLVERS}), repos=frozenset({broken}))
    async with hub_for(standin, token=TOKEN, policy=policy) as hub:
        first = await crawl_once(hub, db, options_for(()))
        outcome = next(o for o in first.outcomes if o.repo_id == broken)
        assert outcome.status == "error" and outcome.transient and "kept failing" in outcome.reason
        assert (await get_model(db, broken)).sha is None
        standin.faults = None
        second = await crawl_once(hub, db, options_for(()))
    assert [o.repo_id for o in second.outcomes] == [broken]
    assert second.outcomes[0].status == OK
    assert first.status == RUN_COMPLETED and sum(o.status == OK for o in first.outcomes) == len(few) - 1


def test_fast_policy_is_fast():
    """The fixtures' retry policy keeps fault tests short (guards against a slow default creeping in)."""
    assert FAST.base_delay_s <= 0.01 and FAST.max_delay_s <= 0.05


async def test_huggingface_hub_calls_get_our_timeout_and_retries(make_standin, db):
    """model_info goes through huggingface_hub, which sends timeout=None and does not retry:
    our hooks give it a timeout, and a stalled answer is asked again instead of awaited."""
    repos, _, _ = corpus(heavy=False, malformed=False)
    tiny = [r for r in repos if r.repo_id == "meta-llama/Llama-3.2-1B"]
    # A 4 s stall against a 1.5 s read timeout (was 0.3 s): room for a loaded machine's slow
    # answers, which must not be mistaken for the stall and retried.
    faults = Faults(rate_stall=1.0, stall_s=4.0, buckets=frozenset({API}), only_first=True,
                    repos=frozenset({"meta-llama/Llama-3.2-1B"}))  # the crawl's reachability probe is about no repo
    standin = make_standin(tiny, tokens_with_access=frozenset({TOKEN}), faults=faults)
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, read_timeout_s=1.5)
    async with hub_for(standin, token=TOKEN, policy=policy) as hub:
        summary = await crawl_once(hub, db, options_for((), repo_ids=("meta-llama/Llama-3.2-1B",)))
    # Asked twice, with one retry counted: our timeout broke the stall off. Without it the
    # first answer would have come after the stall, asked once, with no retry (no clock needed).
    assert [h.route for h in standin.snapshot() if h.fault == "stall"] == ["model_info"]
    assert standin.count("model_info") == 2
    assert summary.outcomes[0].status == OK and summary.stats.retries == 1
