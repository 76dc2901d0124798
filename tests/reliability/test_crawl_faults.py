"""Item 1: a crawl of 500 repos through 10% 500s, 5% 429s, 2% resets and 1% stalls."""

from __future__ import annotations

import asyncio

import pytest

from bench.reliability._crawl_faults import CLOCK_SLACK_S, RETRY_AFTER_S, run_item

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def faulted():
    return asyncio.run(run_item())


def test_every_repo_ends_exactly_as_the_factories_say(faulted):
    """After the faulted crawl all 501 expected outcomes (500 served, 1 missing) hold, to the integer."""
    hurt = faulted.data["hurt"]
    assert hurt.problems == ()
    assert hurt.exact == faulted.data["expects"] == 501


def test_no_repo_is_recorded_twice(faulted):
    """No repo_key has two rows and no repo was read twice in the crawl."""
    assert not [p for p in faulted.problems if " rows" in p or "read twice" in p]


def test_each_429_is_retried_no_sooner_than_the_hub_said(faulted):
    """Every injected 429 (RateLimit t=1) was retried, and never within the second."""
    gaps, injected = faulted.data["gaps"], faulted.data["injected"]
    assert len(gaps) == injected["429"] > 20
    assert min(gaps) >= RETRY_AFTER_S - CLOCK_SLACK_S


def test_the_faults_happened_at_about_their_rates(faulted):
    """500s, 429s, resets and stalls all happened, near 10%, 5%, 2% and 1% of requests."""
    injected, requests = faulted.data["injected"], faulted.data["hurt"].requests
    share = {kind: n / requests for kind, n in injected.items()}
    assert 0.06 < share["500"] < 0.15 and 0.025 < share["429"] < 0.08
    assert 0.005 < share["reset"] < 0.04 and 0.002 < share["stall"] < 0.025


def test_the_baseline_is_fault_free_and_cheaper(faulted):
    """Without faults the same crawl is exact with no retry, in fewer requests."""
    base, hurt = faulted.data["base"], faulted.data["hurt"]
    assert base.problems == () and base.retries == 0
    assert base.requests < hurt.requests and hurt.retries >= sum(faulted.data["injected"].values()) // 2
