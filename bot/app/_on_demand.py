"""Reading a named repo from the Hub while a user waits (issue 15 §5), within per-user and
per-server limits, so that nobody can make the bot crawl the Hub.

The crawler (and through it huggingface_hub) is imported on the first read only: the cheap
terminal commands never load it unless a repo id the store lacks is named.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from store import Database, get_gguf_repo, get_model, utc_now

from .._service import Requester
from ..errors import HubUnreachableError, ReadLimitError, RepoGatedError, RepoMissingError
from ._settings import Settings

if TYPE_CHECKING:
    from crawler import HubConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` reads per key, refilled evenly over ``period_s``."""

    capacity: int
    period_s: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _levels: dict[object, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)

    def wait_for(self, key: object) -> float:
        """Seconds until ``key`` may read again (0: now)."""
        if self.capacity <= 0:
            return self.period_s
        tokens = self._level(key)
        return 0.0 if tokens >= 1 else (1 - tokens) * self.period_s / self.capacity

    def take(self, key: object) -> None:
        self._levels[key] = (self._level(key) - 1, self.clock())

    def _level(self, key: object) -> float:
        now = self.clock()
        tokens, at = self._levels.get(key, (float(self.capacity), now))
        return min(float(self.capacity), tokens + (now - at) * max(self.capacity, 0) / self.period_s)


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Hub reads allowed per hour to one user and to one server (the terminal is not limited)."""

    per_user: int = 5
    per_server: int = 20


class HubRepoReader:
    """The service's ``RepoReader``: checks the limits, then reads one repo with the crawl's readers."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._db = db
        limits = ReadLimits(settings.hub_reads_per_user, settings.hub_reads_per_server)
        self.limits = limits
        self._users = TokenBucket(limits.per_user, clock=clock)
        self._servers = TokenBucket(limits.per_server, clock=clock)
        self._lock = asyncio.Lock()

    async def __call__(self, repo_id: str, requester: Requester) -> None:
        """Read ``repo_id`` into the store.

        Raises:
            ReadLimitError: the user or the server read too many repos this hour.
            RepoMissingError, RepoGatedError: the Hub has no such repo, or gates it.
            HubUnreachableError: the Hub kept failing.
        """
        self._charge(repo_id, requester)
        from crawler import HubConfig, RetryPolicy

        token = self._settings.hf_token.reveal() if self._settings.hf_token else None
        # Someone is waiting for this answer: fewer, shorter retries than the nightly crawl's
        # (about 5 s of backoff at most, and no sitting out a 5-minute rate-limit window).
        policy = RetryPolicy(attempts=3, rate_limit_waits=1, max_delay_s=4.0, max_rate_wait_s=30.0)
        config = HubConfig(endpoint=self._settings.hf_endpoint, token=token, policy=policy)
        # One read at a time for the whole bot: a burst of ids queues instead of fanning out.
        async with self._lock:
            if await get_model(self._db, repo_id) or await get_gguf_repo(self._db, repo_id):
                return  # another request read it while this one waited
            await self._read(config, repo_id)

    async def _read(self, config: HubConfig, repo_id: str) -> None:
        from crawler import open_hub, read_repo_on_demand
        from crawler.errors import HubError, RepoNotFoundError
        from crawler.errors import RepoGatedError as HubGatedError

        async with open_hub(config) as hub:
            try:
                read = await read_repo_on_demand(hub, self._db, repo_id, utc_now())
                kind = "gguf" if read.gguf else "model"
                log.info("read %s from the Hub on demand (%s)", read.repo_id, kind)
            except RepoNotFoundError:
                raise RepoMissingError(repo_id) from None
            except HubGatedError:
                raise RepoGatedError(repo_id) from None
            except HubError as e:
                log.warning("on-demand read of %s failed: %s", repo_id, e)
                raise HubUnreachableError(repo_id) from None

    def _charge(self, repo_id: str, requester: Requester) -> None:
        """Take one read from the user's and the server's buckets, or say which limit was hit.

        Raises:
            ReadLimitError: a bucket is empty (nothing is taken then).
        """
        checks = []
        if requester.user_id is not None:
            checks.append((self._users, requester.user_id, "you", self.limits.per_user))
        if requester.guild_id is not None:
            checks.append((self._servers, requester.guild_id, "this server", self.limits.per_server))
        for bucket, key, who, limit in checks:
            wait = bucket.wait_for(key)
            if wait > 0:
                raise ReadLimitError(repo_id, who, limit, wait)
        for bucket, key, _, _ in checks:
            bucket.take(key)
