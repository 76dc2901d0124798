"""One retry loop for every Hub request: file bytes (httpx) and API calls (HfApi).

tenacity runs the loop: which errors to retry, when to stop, the sleep and the hook before
it. How long to wait is ours (``RetryBudget``): errors and 429s have separate allowances,
errors back off exponentially with full jitter, and a 429 waits what its ``RateLimit``
header says. The caller's hook pauses the rate-limit governor and counts the retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from ._ratelimit import RetryBudget
from .errors import HubTransientError, HubUnavailableError

T = TypeVar("T")
OnRetry = Callable[[HubTransientError, float], None]


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    budget: RetryBudget,
    *,
    sleep: Callable[[float], Awaitable[None]],
    on_retry: OnRetry,
) -> T:
    """``await call()`` until it succeeds, fails for good, or ``budget`` runs out.

    Raises:
        HubUnavailableError: every allowed attempt failed with a transient error.
        HubError: a failure that retrying cannot fix, as ``call`` raised it.
    """
    gave_up: list[HubUnavailableError] = []

    def transient(state: RetryCallState) -> HubTransientError:
        assert state.outcome is not None
        error = state.outcome.exception()
        assert isinstance(error, HubTransientError)
        return error

    def wait(state: RetryCallState) -> float:
        # tenacity asks for the wait before it asks whether to stop, so the budget decides both here.
        error = transient(state)
        try:
            return budget.next_delay(error.problem, wait_s=error.wait_s, rate_limited=error.rate_limited)
        except HubUnavailableError as e:
            gave_up.append(e)
            return 0.0

    def stop(state: RetryCallState) -> bool:
        return bool(gave_up)

    def before_sleep(state: RetryCallState) -> None:
        on_retry(transient(state), state.upcoming_sleep)

    def out_of_retries(state: RetryCallState) -> T:
        raise gave_up[-1] from transient(state)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(HubTransientError),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        retry_error_callback=out_of_retries,
    )
    return await retrying(call)
