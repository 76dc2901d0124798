"""Rate limits, retries and backoff: the pure parts."""

from __future__ import annotations

import random

import pytest

from crawler import (
    API,
    RESOLVERS,
    HubUnavailableError,
    RateGovernor,
    RetryPolicy,
    bucket_of,
    parse_wait_seconds,
)
from crawler._ratelimit import RetryBudget, backoff_delay


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_follow_the_hub_docs():
    """Any /resolve/ URL is a resolver call; everything under /api is an API call."""
    assert bucket_of("https://huggingface.co/org/m/resolve/abc/model.safetensors") == RESOLVERS
    assert bucket_of("https://huggingface.co/api/models/org/m/safetensors-metadata/x.json") == API
    assert bucket_of("/api/models?limit=10") == API


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"RateLimit": '"resolvers";r=0;t=42', "Retry-After": "7"}, 42.0),
        ({"ratelimit": '"api";r=0;t=3'}, 3.0),
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({}, None),
    ],
)
def test_a_429_says_how_long_to_wait(headers, wait):
    """RateLimit t= wins over Retry-After; an HTTP-date Retry-After is not understood."""
    assert parse_wait_seconds(headers) == wait


def test_backoff_grows_and_is_capped():
    """Delays double from the base up to the cap, with full jitter: anywhere in [0, ceiling]."""
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(1)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    for failures, ceiling in enumerate(ceilings, start=1):
        delay = backoff_delay(failures, policy, rng)
        assert 0 <= delay <= ceiling


def test_a_request_gives_up_after_its_attempts():
    """Errors use up the attempts; then the request fails with the last problem named."""
    budget = RetryBudget(RetryPolicy(attempts=3, base_delay_s=0.01), random.Random(0), "/org/m/resolve/x")
    budget.next_delay("HTTP 503", wait_s=None, rate_limited=False)
    budget.next_delay("HTTP 503", wait_s=None, rate_limited=False)
    with pytest.raises(HubUnavailableError, match="HTTP 503, 3 attempts"):
        budget.next_delay("HTTP 503", wait_s=None, rate_limited=False)


def test_429s_wait_as_told_and_have_their_own_budget():
    """A 429 waits what the Hub says (capped), and does not use up the error attempts."""
    policy = RetryPolicy(attempts=2, rate_limit_waits=3, base_delay_s=0.1, max_rate_wait_s=60)
    budget = RetryBudget(policy, random.Random(0), "/x")
    assert 5.0 <= budget.next_delay("429", wait_s=5, rate_limited=True) < 5.02
    assert 60.0 <= budget.next_delay("429", wait_s=900, rate_limited=True) < 60.02
    budget.next_delay("429", wait_s=None, rate_limited=True)
    with pytest.raises(HubUnavailableError):
        budget.next_delay("429", wait_s=1, rate_limited=True)


def test_the_governor_holds_back_near_the_end_of_a_window():
    """Once the remaining calls reach the reserve, requests wait for the window's reset."""
    clock = Clock()
    governor = RateGovernor(reserve=2, clock=clock)
    assert governor.claim(RESOLVERS) == 0  # nothing known yet
    governor.observe(RESOLVERS, {"RateLimit": '"resolvers";r=4;t=30', "RateLimit-Policy": '"fixed window";"resolvers";q=3000;w=300'})
    assert governor.claim(RESOLVERS) == 0  # 4 → 3
    assert governor.claim(RESOLVERS) == 0  # 3 → 2
    assert governor.claim(RESOLVERS) == pytest.approx(30)  # at the reserve: wait for the reset
    assert governor.claim(API) == 0  # the other bucket is unaffected
    clock.now += 30
    assert governor.claim(RESOLVERS) == 0  # a new window
    assert governor.quota(RESOLVERS, has_token=False) == 3000


def test_a_429_pauses_the_whole_bucket():
    """After a 429 every request of that bucket waits, not only the one that was refused."""
    clock = Clock()
    governor = RateGovernor(reserve=1, clock=clock)
    governor.pause(API, 12)
    assert governor.claim(API) == pytest.approx(12)
    clock.now += 12
    assert governor.claim(API) == 0


def test_quotas_default_to_the_published_ones():
    """Before any RateLimit-Policy arrives: 500/3000 anonymous, 1000/5000 with a token."""
    governor = RateGovernor()
    assert (governor.quota(API, has_token=False), governor.quota(RESOLVERS, has_token=False)) == (500, 3000)
    assert (governor.quota(API, has_token=True), governor.quota(RESOLVERS, has_token=True)) == (1000, 5000)
