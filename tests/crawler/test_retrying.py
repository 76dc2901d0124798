"""The one retry loop (tenacity) with our budget: full-jitter backoff, separate 429 allowance, no retry of refusals."""

from __future__ import annotations

import random

import pytest

from crawler._ratelimit import RetryBudget, RetryPolicy, backoff_delay
from crawler._retrying import call_with_retries
from crawler.errors import HubRefusedError, HubTransientError, HubUnavailableError


class Script:
    """Fails with the given errors in order, then returns "done"; records sleeps and retries."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.sleeps: list[float] = []
        self.retries: list[tuple[str, float]] = []

    async def call(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def on_retry(self, error: HubTransientError, delay: float) -> None:
        self.retries.append((error.problem, delay))


async def _run(script: Script, policy: RetryPolicy) -> str:
    budget = RetryBudget(policy, random.Random(0), "/x")
    return await call_with_retries(script.call, budget, sleep=script.sleep, on_retry=script.on_retry)


async def test_transient_errors_are_retried_with_the_budgets_delays() -> None:
    """Two 503s then success: three calls, two sleeps, each reported to the hook with its delay."""
    script = Script(HubTransientError("/x", "HTTP 503"), HubTransientError("/x", "HTTP 503"))
    assert await _run(script, RetryPolicy(attempts=3, base_delay_s=0.01)) == "done"
    assert script.calls == 3 and len(script.sleeps) == 2
    assert [d for _, d in script.retries] == script.sleeps


async def test_a_429_waits_as_told_and_does_not_use_up_error_attempts() -> None:
    """A 429 with t=7 waits ~7 s; with attempts=1 an error would stop at once, a 429 does not."""
    script = Script(HubTransientError("/x", "HTTP 429", wait_s=7.0, rate_limited=True))
    assert await _run(script, RetryPolicy(attempts=1, base_delay_s=0.01)) == "done"
    assert 7.0 <= script.sleeps[0] <= 7.0 + 0.001


async def test_out_of_attempts_raises_unavailable_with_the_last_problem() -> None:
    """Errors beyond the allowance end in HubUnavailableError, chained to the last transient error."""
    script = Script(*(HubTransientError("/x", f"HTTP 50{n}") for n in range(5)))
    with pytest.raises(HubUnavailableError) as caught:
        await _run(script, RetryPolicy(attempts=3, base_delay_s=0.01))
    assert script.calls == 3 and "HTTP 502" in str(caught.value)
    assert isinstance(caught.value.__cause__, HubTransientError)


async def test_refusals_are_not_retried() -> None:
    """A 4xx refusal propagates after one call and no sleep."""
    script = Script(HubRefusedError("/x", 403, "forbidden"))
    with pytest.raises(HubRefusedError):
        await _run(script, RetryPolicy())
    assert script.calls == 1 and script.sleeps == []


def test_backoff_is_full_jitter() -> None:
    """Full jitter spreads delays over [0, ceiling]: some fall in the lower half (equal jitter never does)."""
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=1.0)
    rng = random.Random(5)
    delays = [backoff_delay(3, policy, rng) for _ in range(200)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert min(delays) < 0.25 and max(delays) > 0.75
