"""Counting what the crawler asks of the Hub: requests per bucket, bytes, retries, waits."""

from __future__ import annotations

import threading

from ._ratelimit import API
from ._records import FetchStats


class FetchMeter:
    """Running totals for one Hub client; thread-safe (huggingface_hub calls run in threads).

    A crawl takes ``snapshot()`` before and after and subtracts, so one long-lived client
    serves many crawls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._api = self._resolve = self._bytes = self._retries = self._waits = 0
        self._waited_s = 0.0

    def record_request(self, bucket: str) -> None:
        with self._lock:
            if bucket == API:
                self._api += 1
            else:
                self._resolve += 1

    def record_bytes(self, count: int) -> None:
        with self._lock:
            self._bytes += count

    def record_retry(self, delay_s: float, *, rate_limited: bool) -> None:
        with self._lock:
            self._retries += 1
            self._waits += int(rate_limited)
            self._waited_s += delay_s

    def record_wait(self, delay_s: float) -> None:
        """Time spent holding back to stay under a rate limit."""
        with self._lock:
            self._waits += 1
            self._waited_s += delay_s

    def snapshot(self) -> FetchStats:
        with self._lock:
            return FetchStats(
                self._api, self._resolve, self._bytes, self._retries, self._waits, self._waited_s
            )
