"""Staying under the Hub's rate limits, and how long to wait before a retry.

The Hub counts calls per 5-minute fixed window in separate buckets: "api" (``/api/*``:
listings, model_info, safetensors-metadata) and "resolvers" (any ``/resolve/`` URL).
Every answer carries ``RateLimit: "bucket";r=<remaining>;t=<seconds to reset>`` and
``RateLimit-Policy: "fixed window";"bucket";q=<quota>;w=<window>``
(hub-docs ``rate-limits.md``). We track both buckets, count down locally between
answers, and hold requests back once fewer than ``reserve`` remain (the requests
already in flight can still land), until the window resets.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from huggingface_hub.utils import parse_ratelimit_headers  # type: ignore[attr-defined]  # re-exported lazily; the stub names it without ``as``

from .errors import HubUnavailableError

API = "api"
RESOLVERS = "resolvers"
# Published anonymous quotas per 5-minute window (hub-docs rate-limits.md); a token gets
# more. Used until the first RateLimit-Policy header tells us the real figure.
DEFAULT_QUOTAS = {API: 500, RESOLVERS: 3000}
DEFAULT_QUOTAS_WITH_TOKEN = {API: 1000, RESOLVERS: 5000}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Timeouts, retries and backoff for every Hub request."""

    attempts: int = 6  # tries per request for errors (5xx, timeouts, resets)
    rate_limit_waits: int = 8  # extra tries per request after a 429
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_rate_wait_s: float = 330.0  # a 5-minute window plus slack
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    # A listing goes through huggingface_hub's paginate(), whose http_backoff already retries each
    # page 5 times (waits 1+2+4+8+8 = 23 s); our retries of the whole call come on top. A Hub that
    # died mid-listing took about 150 s per listing call at 6 tries, so listings get 2 tries and
    # are given up once the Hub has sent no answer for listing_quiet_s (every answer restarts it).
    listing_attempts: int = 2
    listing_quiet_s: float = 30.0


def bucket_of(url: str) -> str:
    """The rate-limit bucket a URL is charged to."""
    return RESOLVERS if "/resolve/" in url else API


def backoff_delay(failures: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter: 0..min(max, base·2^(n-1)) seconds."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2 ** max(0, failures - 1))
    return rng.uniform(0, ceiling)


def parse_wait_seconds(headers: Mapping[str, str]) -> float | None:
    """How long a 429 tells us to wait: ``RateLimit`` t=, else ``Retry-After`` seconds."""
    info = parse_ratelimit_headers(headers)
    if info is not None:
        return float(info.reset_in_seconds)
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    return float(value) if value.isdigit() else None


@dataclass
class _Bucket:
    remaining: int | None = None
    reset_at: float = 0.0
    quota: int | None = None


class RateGovernor:
    """Per-bucket remaining calls and reset times; safe to share between threads."""

    def __init__(self, *, reserve: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self._reserve = max(1, reserve)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = {API: _Bucket(), RESOLVERS: _Bucket()}

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        """Take in the RateLimit headers of an answer."""
        info = parse_ratelimit_headers(headers)
        if info is None:
            return
        with self._lock:
            state = self._buckets[info.resource_type if info.resource_type in self._buckets else bucket]
            state.remaining = info.remaining
            state.reset_at = self._clock() + info.reset_in_seconds
            if info.limit is not None:
                state.quota = info.limit

    def pause(self, bucket: str, seconds: float) -> None:
        """A 429 said: nothing more in this bucket for ``seconds``."""
        with self._lock:
            state = self._buckets[bucket]
            state.remaining = 0
            state.reset_at = max(state.reset_at, self._clock() + seconds)

    def claim(self, bucket: str) -> float:
        """Seconds to wait before sending one request in ``bucket`` (0: go, and it is counted)."""
        with self._lock:
            state = self._buckets[bucket]
            now = self._clock()
            if state.remaining is None or now >= state.reset_at:
                state.remaining = None  # a new window: unknown until the next answer
                return 0.0
            if state.remaining <= self._reserve:
                return state.reset_at - now
            state.remaining -= 1
            return 0.0

    def quota(self, bucket: str, *, has_token: bool) -> int:
        """The bucket's quota per window, as the Hub last stated it or as published."""
        with self._lock:
            stated = self._buckets[bucket].quota
        defaults = DEFAULT_QUOTAS_WITH_TOKEN if has_token else DEFAULT_QUOTAS
        return stated or defaults[bucket]


class RetryBudget:
    """The retries left to one request, and how long to wait before the next."""

    def __init__(self, policy: RetryPolicy, rng: random.Random, url_path: str) -> None:
        self._policy = policy
        self._rng = rng
        self.url_path = url_path
        self.failures = 0
        self.rate_waits = 0

    def next_delay(self, problem: str, *, wait_s: float | None, rate_limited: bool) -> float:
        """Seconds to wait before retrying.

        Raises:
            HubUnavailableError: the request has used up its retries.
        """
        policy = self._policy
        if rate_limited:
            self.rate_waits += 1
            if self.rate_waits > policy.rate_limit_waits:
                raise HubUnavailableError(self.url_path, self.failures + self.rate_waits, problem)
            if wait_s is not None:
                # Wait as told, with a little jitter so parallel requests do not return in step.
                return min(policy.max_rate_wait_s, wait_s) + self._rng.uniform(0, policy.base_delay_s / 10)
            return backoff_delay(self.rate_waits, policy, self._rng)
        self.failures += 1
        if self.failures >= policy.attempts:
            raise HubUnavailableError(self.url_path, self.failures + self.rate_waits, problem)
        return backoff_delay(self.failures, policy, self._rng)
