"""The Hub client the crawler is given: huggingface_hub's HfApi for discovery, an async
client for file bytes, one meter and one rate-limit governor shared by both."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar
from urllib.parse import quote

import httpx2
from huggingface_hub import HfApi, get_async_session
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]  # re-exported lazily; the stub names it without ``as``

from ._http import HubHttp, Target, translate_hf_error
from ._meter import FetchMeter
from ._parse_pool import ParsePool
from ._ratelimit import API, RESOLVERS, RateGovernor, RetryBudget, RetryPolicy
from ._records import FetchStats
from ._retrying import call_with_retries
from ._session import CallScope, Quiet, QuietTooLongError, run_in_scope
from .errors import HubTransientError, HubUnavailableError

T = TypeVar("T")

AUTO = "auto"
RANGED = "ranged"
METADATA_API = "metadata_api"
READ_STRATEGIES = (AUTO, RANGED, METADATA_API)
_LIBRARY = "fitbot"


@dataclass(frozen=True, slots=True)
class HubConfig:
    """How to reach the Hub. The token never shows in a repr."""

    endpoint: str = "https://huggingface.co"
    token: str | None = field(default=None, repr=False)
    concurrency: int = 8
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    read_strategy: str = AUTO  # AUTO picks per repo; RANGED / METADATA_API force one way
    seed: int | None = None  # jitter RNG seed, for reproducible tests


class HubClient:
    """Everything the crawler asks of the Hub, metered and kept under the rate limits."""

    def __init__(
        self, config: HubConfig, client: httpx2.AsyncClient, parse_pool: ParsePool | None = None
    ) -> None:
        if config.read_strategy not in READ_STRATEGIES:
            raise ValueError(f"read_strategy must be one of {READ_STRATEGIES}")
        self.config = config
        self.parse_pool = parse_pool or ParsePool()
        self.endpoint = config.endpoint.rstrip("/")
        self.meter = FetchMeter()
        self.governor = RateGovernor(reserve=config.concurrency)
        self._rng = random.Random(config.seed)
        self.api = HfApi(endpoint=self.endpoint, token=config.token or False, library_name=_LIBRARY)
        headers = build_hf_headers(token=config.token or False, library_name=_LIBRARY)
        self.http = HubHttp(
            client,
            headers=headers,
            policy=config.policy,
            governor=self.governor,
            meter=self.meter,
            concurrency=config.concurrency,
            rng=self._rng,
        )
        timeout = httpx2.Timeout(config.policy.read_timeout_s, connect=config.policy.connect_timeout_s)
        self._scope = CallScope(timeout, self.meter, self.governor)
        # None until the one-call endpoint first answers; False for the client's life if it is missing.
        self.metadata_api_available: bool | None = None
        self.metadata_api_probe = asyncio.Lock()  # while unknown, one repo at a time finds out

    @property
    def has_token(self) -> bool:
        return bool(self.config.token)

    def stats(self) -> FetchStats:
        return self.meter.snapshot()

    def resolve_url(self, repo_id: str, revision: str, filename: str) -> str:
        return f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(filename)}"

    def api_url(self, path: str) -> str:
        return f"{self.endpoint}/api/{path.lstrip('/')}"

    def quota(self, bucket: str) -> int:
        return self.governor.quota(bucket, has_token=self.has_token)

    def quotas(self) -> tuple[int, int]:
        """(API, resolvers) calls per window."""
        return self.quota(API), self.quota(RESOLVERS)

    async def call_api(self, fn: Callable[..., T], *args: object, target: Target, **kwargs: object) -> T:
        """Run an HfApi method in a worker thread with our timeout, retries and backoff.

        Raises:
            HubError: the call failed for good (see ``translate_hf_error``).
        """
        return await self._call(fn, args, kwargs, target, self.config.policy, listing=False)

    async def call_listing(self, fn: Callable[[], T], *, target: Target) -> T:
        """Like ``call_api``, for a call that pages through a listing: ``listing_attempts`` tries,
        and given up once the Hub has been silent for ``listing_quiet_s``.

        Raises:
            HubUnavailableError: the Hub kept failing, or stopped answering mid-listing.
            HubError: the call failed for good otherwise (see ``translate_hf_error``).
        """
        policy = self.config.policy
        policy = replace(policy, attempts=min(policy.attempts, policy.listing_attempts))
        return await self._call(fn, (), {}, target, policy, listing=True)

    async def _call(
        self,
        fn: Callable[..., T],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        target: Target,
        policy: RetryPolicy,
        *,
        listing: bool,
    ) -> T:
        budget = RetryBudget(policy, self._rng, f"HfApi.{getattr(fn, '__name__', 'call')}")
        # One quiet for all tries: a retry does not buy a dead Hub another listing_quiet_s.
        scope = replace(self._scope, quiet=Quiet(policy.listing_quiet_s)) if listing else self._scope

        async def once() -> T:
            try:
                return await run_in_scope(scope, fn, *args, **kwargs)
            except QuietTooLongError as e:
                # Not retried: the quiet already spans huggingface_hub's own retries.
                raise HubUnavailableError(budget.url_path, budget.failures + 1, str(e)) from e
            except HfHubHTTPError as e:
                raise translate_hf_error(e, target, budget.url_path) from e
            except httpx2.RequestError as e:
                raise HubTransientError(budget.url_path, type(e).__name__) from e

        def on_retry(error: HubTransientError, delay: float) -> None:
            if error.rate_limited:
                self.governor.pause(API, delay)
            self.meter.record_retry(delay, rate_limited=error.rate_limited)

        return await call_with_retries(once, budget, sleep=self.http.sleep, on_retry=on_retry)


@asynccontextmanager
async def open_hub(config: HubConfig, parse_pool: ParsePool | None = None) -> AsyncIterator[HubClient]:
    """A Hub client for the crawler; closes its connections on exit. ``parse_pool`` (from
    ``parse_pool()``, opened before the event loop) parses the biggest answers in a second process."""
    async with get_async_session() as client:
        yield HubClient(config, client, parse_pool)
