"""Async Hub requests for file bytes and API JSON, with timeouts, retries, backoff and rate limits.

huggingface_hub has no async Hub API, and it retries neither HEADs, ranged GETs nor
model_info (docs/reference/hub-protocol.md §1, §3). We use its async client (``get_async_session()``,
whose hooks add the request id and read error bodies), its headers
(``build_hf_headers``) and its error mapping (``hf_raise_for_status``), and add the
rest here. Every error is translated to the crawler's own types in ``raise_for_hub_status``.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx2
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import hf_raise_for_status  # type: ignore[attr-defined]  # re-exported lazily; the stub names it without ``as``

from ._meter import FetchMeter
from ._ratelimit import (
    RateGovernor,
    RetryBudget,
    RetryPolicy,
    bucket_of,
    parse_wait_seconds,
)
from ._retrying import call_with_retries
from .errors import (
    HubError,
    HubFileNotFoundError,
    HubRefusedError,
    HubTransientError,
    RepoGatedError,
    RepoNotFoundError,
)

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True, slots=True)
class Target:
    """What a request is about, for error messages: never the URL's host or a header."""

    repo_id: str
    filename: str | None = None
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class RangeBytes:
    """Bytes from ``start`` of a file, and the file's size when the server stated it."""

    content: bytes
    start: int
    file_size: int | None


class HubHttp:
    """Bounded-concurrency GETs against the Hub, each retried on its own budget."""

    def __init__(
        self,
        client: httpx2.AsyncClient,
        *,
        headers: dict[str, str],
        policy: RetryPolicy,
        governor: RateGovernor,
        meter: FetchMeter,
        concurrency: int,
        rng: random.Random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._headers = headers
        self._policy = policy
        self._governor = governor
        self._meter = meter
        self._slots = asyncio.Semaphore(concurrency)
        self._rng = rng
        self.sleep = sleep
        self._timeout = httpx2.Timeout(policy.read_timeout_s, connect=policy.connect_timeout_s)

    async def fetch_range(self, url: str, start: int, length: int, target: Target) -> RangeBytes:
        """GET ``length`` bytes from ``start`` (fewer at the end of the file).

        Raises:
            HubError: see ``raise_for_hub_status``; HubUnavailableError after the retries.
        """
        headers = {"Range": f"bytes={start}-{start + length - 1}"}

        async def read(response: httpx2.Response) -> RangeBytes:
            return await _read_range(response, start, length, _path(url))

        return await self._request(url, headers, read, target)

    async def fetch_bytes(self, url: str, target: Target, *, max_bytes: int) -> bytes:
        """GET a whole (small) file such as config.json or the shard index.

        Raises:
            HubRefusedError: the file is larger than ``max_bytes``.
            HubError: as ``fetch_range``.
        """

        async def read(response: httpx2.Response) -> bytes:
            body = await _read_at_most(response, max_bytes + 1)
            if len(body) > max_bytes:
                raise HubRefusedError(_path(url), response.status_code, f"larger than {max_bytes:,} bytes")
            _check_length(response, body, _path(url))
            return body

        return await self._request(url, {}, read, target)

    async def fetch_json(self, url: str, target: Target, *, max_bytes: int) -> object:
        """GET an API answer and decode its JSON.

        Raises:
            HubRefusedError: the answer is not JSON or too large.
            HubError: as ``fetch_range``.
        """
        body = await self.fetch_bytes(url, target, max_bytes=max_bytes)
        try:
            return json.loads(body)
        except ValueError as e:
            raise HubRefusedError(_path(url), 200, "the answer is not JSON") from e

    async def fetch_json_page(self, url: str, target: Target, *, max_bytes: int) -> tuple[object, str | None]:
        """GET one page of a paged API answer: its JSON and the next page's URL (the ``Link``
        header's ``rel="next"``, as the Hub pages listings and repo trees), or None at the end.

        Raises:
            HubRefusedError: the answer is not JSON or too large.
            HubError: as ``fetch_range``.
        """

        async def read(response: httpx2.Response) -> tuple[bytes, str | None]:
            body = await _read_at_most(response, max_bytes + 1)
            if len(body) > max_bytes:
                raise HubRefusedError(_path(url), response.status_code, f"larger than {max_bytes:,} bytes")
            _check_length(response, body, _path(url))
            return body, response.links.get("next", {}).get("url")

        body, next_url = await self._request(url, {}, read, target)
        try:
            return json.loads(body), next_url
        except ValueError as e:
            raise HubRefusedError(_path(url), 200, "the answer is not JSON") from e

    async def _request(
        self,
        url: str,
        headers: dict[str, str],
        read: Callable[[httpx2.Response], Awaitable[T]],
        target: Target,
    ) -> T:
        bucket = bucket_of(url)

        async def once() -> T:
            while True:
                async with self._slots:
                    # Claimed only once a slot is free, so a request counted against the
                    # window is one that goes out now.
                    hold = self._governor.claim(bucket)
                    if hold <= 0:
                        return await self._attempt(url, bucket, headers, read, target)
                self._meter.record_wait(hold)
                await self.sleep(hold)

        def on_retry(error: HubTransientError, delay: float) -> None:
            if error.rate_limited:
                self._governor.pause(bucket, delay)
            self._meter.record_retry(delay, rate_limited=error.rate_limited)

        budget = RetryBudget(self._policy, self._rng, _path(url))
        return await call_with_retries(once, budget, sleep=self.sleep, on_retry=on_retry)

    async def _attempt(
        self,
        url: str,
        bucket: str,
        headers: dict[str, str],
        read: Callable[[httpx2.Response], Awaitable[T]],
        target: Target,
    ) -> T:
        self._meter.record_request(bucket)
        try:
            async with self._client.stream(
                "GET", url, headers={**self._headers, **headers}, timeout=self._timeout
            ) as response:
                try:
                    self._governor.observe(bucket, response.headers)
                    raise_for_hub_status(response, target, _path(url))
                    return await read(response)
                finally:
                    self._meter.record_bytes(response.num_bytes_downloaded)
        except httpx2.RequestError as e:  # timeouts, resets, protocol errors, bad encodings
            raise HubTransientError(_path(url), type(e).__name__) from e


def raise_for_hub_status(response: httpx2.Response, target: Target, url_path: str) -> None:
    """Translate an error answer into the crawler's errors; the one place that does.

    Raises:
        HubTransientError: 429 (with the wait the Hub asks for), 408 and 5xx.
        RepoGatedError, RepoNotFoundError, HubFileNotFoundError: from ``X-Error-Code``.
        HubRefusedError: any other error status.
    """
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        wait = parse_wait_seconds(response.headers)
        raise HubTransientError(url_path, "HTTP 429 (rate limited)", wait_s=wait, rate_limited=True)
    if status in RETRY_STATUSES:
        raise HubTransientError(url_path, f"HTTP {status}")
    try:
        hf_raise_for_status(response)
    except HfHubHTTPError as e:
        raise translate_hf_error(e, target, url_path) from e
    raise HubRefusedError(url_path, status)


def translate_hf_error(error: HfHubHTTPError, target: Target, url_path: str) -> HubError:
    """Map a huggingface_hub error to ours. Order matters: GatedRepoError subclasses
    RepositoryNotFoundError, and the entry/revision errors come before the generic one."""
    response = error.response
    status = response.status_code if response is not None else 0
    if status == 429 or status in RETRY_STATUSES:
        wait = parse_wait_seconds(response.headers) if status == 429 and response is not None else None
        return HubTransientError(url_path, f"HTTP {status}", wait_s=wait, rate_limited=status == 429)
    if isinstance(error, GatedRepoError):
        return RepoGatedError(target.repo_id, url_path=url_path)
    if isinstance(error, RevisionNotFoundError):
        return RepoNotFoundError(target.repo_id, url_path=url_path, revision=target.revision)
    if isinstance(error, RemoteEntryNotFoundError):
        return HubFileNotFoundError(target.repo_id, target.filename or url_path, url_path=url_path)
    if isinstance(error, RepositoryNotFoundError):
        return RepoNotFoundError(target.repo_id, url_path=url_path)
    detail = response.headers.get("X-Error-Message", "") if response is not None else ""
    return HubRefusedError(url_path, status, detail[:200])


async def _read_range(response: httpx2.Response, start: int, length: int, url_path: str) -> RangeBytes:
    if response.status_code == 206:
        first, last, total = _parse_content_range(response.headers.get("content-range", ""), url_path)
        if first != start:
            raise HubRefusedError(url_path, 206, f"asked for byte {start}, got a range from {first}")
        body = await _read_at_most(response, last - first + 1)
        if len(body) < last - first + 1:
            raise HubTransientError(url_path, f"short body: {len(body)} of {last - first + 1} bytes")
        return RangeBytes(body, start, total)
    # A server that ignores Range sends the whole file from byte 0: read only what we need.
    body = await _read_at_most(response, start + length)
    _check_length(response, body, url_path, limit=start + length)
    return RangeBytes(body[start:], start, None)


def _parse_content_range(value: str, url_path: str) -> tuple[int, int, int | None]:
    match = _CONTENT_RANGE.match(value.strip())
    if not match:
        raise HubRefusedError(url_path, 206, f"unreadable Content-Range {value[:60]!r}")
    first, last, total = match.groups()
    return int(first), int(last), None if total == "*" else int(total)


async def _read_at_most(response: httpx2.Response, limit: int) -> bytes:
    """Read up to ``limit`` bytes of the body.

    Leaving a body unread closes the connection, and so does leaving the loop right after
    its last chunk: the stream ends only on the next step. A body the server declared no
    longer than the limit (every ranged answer) is read to its end, so the connection goes
    back to the pool; before this, 45 connections carried 115 requests.
    """
    declared = response.headers.get("content-length", "")
    to_end = declared.isdigit() and int(declared) <= limit
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit and not (to_end and size <= limit):
            break
    return b"".join(chunks)[:limit]


def _check_length(response: httpx2.Response, body: bytes, url_path: str, *, limit: int | None = None) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and response.headers.get("content-encoding", "identity") == "identity":
        expected = int(declared) if limit is None else min(int(declared), limit)
        if len(body) < expected:
            raise HubTransientError(url_path, f"short body: {len(body)} of {expected} bytes")


def _path(url: str) -> str:
    return urlsplit(url).path
