"""huggingface_hub's shared sync client, given our timeouts, metering and rate-limit governor.

HfApi cannot be handed a client: every call goes through the process-wide
``get_session()``, and ``list_models``/``model_info`` send ``timeout=None``
(docs/reference/hub-protocol.md §1), so a stalled connection would hang a listing for ever. We add two
event hooks to that client. The request hook sets the timeout, holds the request back
while its rate-limit bucket is spent, and counts it; the response hook reads the
RateLimit headers and counts the bytes. Which crawl is asking is found in a ContextVar
that ``run_in_scope`` sets in the worker thread's copy of the context, so concurrent
clients never mix their counts. Outside a scope the hooks do nothing.

A listing call may also carry a ``Quiet`` deadline: once the Hub has sent no answer for
its ``quiet_s``, the next request of that call is refused in the request hook, so a Hub
that dies mid-listing stops the call instead of riding out huggingface_hub's own retries.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from huggingface_hub import get_session, set_client_factory
from huggingface_hub.utils._http import default_client_factory

from ._meter import FetchMeter
from ._ratelimit import RateGovernor, bucket_of, parse_wait_seconds

T = TypeVar("T")


class QuietTooLongError(Exception):
    """The Hub has given no answer to this call for longer than its ``Quiet`` allows.

    Deliberately not an httpx error: huggingface_hub's ``http_backoff`` retries those, and
    this must end the call at once.
    """

    def __init__(self, quiet_s: float) -> None:
        self.quiet_s = quiet_s
        super().__init__(f"no answer for {quiet_s:.0f} s")


class Quiet:
    """How long one call may go without an answer from the Hub; every answer restarts it.

    A deadline on progress, not on the whole call: a listing of many pages may take minutes,
    but a Hub that stops answering in the middle is given up on within ``quiet_s``.
    """

    def __init__(self, quiet_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet_s = quiet_s
        self._clock = clock
        self._until = clock() + quiet_s

    def left_s(self) -> float:
        """Seconds left before the call is given up.

        Raises:
            QuietTooLongError: none are left.
        """
        left = self._until - self._clock()
        if left <= 0:
            raise QuietTooLongError(self.quiet_s)
        return left

    def answered(self, extra_s: float = 0.0) -> None:
        """The Hub answered (or told us to wait ``extra_s``): the quiet starts again."""
        self._until = max(self._until, self._clock() + extra_s + self.quiet_s)


@dataclass(frozen=True, slots=True)
class CallScope:
    """What the hooks need to know about the client making a call."""

    timeout: httpx2.Timeout
    meter: FetchMeter
    governor: RateGovernor
    quiet: Quiet | None = None  # listing calls: give up once the Hub is silent this long


_SCOPE: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar(
    "fitbot_hub_call_scope", default=None
)


async def run_in_scope(scope: CallScope, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking huggingface_hub call in a worker thread, metered under ``scope``."""
    install_session_hooks()
    context = contextvars.copy_context()
    context.run(_SCOPE.set, scope)
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


def install_session_hooks() -> None:
    """Add our hooks to huggingface_hub's shared client, and to every client it makes later
    (idempotent)."""
    global _factory_installed
    if not _factory_installed:
        # http_backoff closes the shared client after a ConnectError and get_session() makes a
        # new one, mid-call: without our factory the rest of that call ran without our hooks,
        # so with no timeout (huggingface_hub sends timeout=None) and no deadline.
        set_client_factory(_client_with_hooks)
        _factory_installed = True
    _add_hooks(get_session())


_factory_installed = False


def _client_with_hooks() -> httpx2.Client:
    client = default_client_factory()
    _add_hooks(client)
    return client


def _add_hooks(client: httpx2.Client) -> None:
    hooks = client.event_hooks
    if _before_request in hooks["request"]:
        return
    hooks["request"].append(_before_request)
    hooks["response"].append(_after_response)
    client.event_hooks = hooks


def _before_request(request: httpx2.Request) -> None:
    scope = _SCOPE.get()
    if scope is None:
        return
    bucket = bucket_of(request.url.path)
    while (wait := scope.governor.claim(bucket)) > 0:
        scope.meter.record_wait(wait)
        time.sleep(wait)  # a worker thread: blocking here holds back only this call
        if scope.quiet is not None:
            scope.quiet.answered(wait)  # our own rate-limit wait is not the Hub's silence
    timeout = scope.timeout.as_dict()
    if scope.quiet is not None:
        left = scope.quiet.left_s()  # raises once the Hub has been silent too long
        timeout = {k: left if v is None else min(v, left) for k, v in timeout.items()}
    request.extensions["timeout"] = timeout
    scope.meter.record_request(bucket)


def _after_response(response: httpx2.Response) -> None:
    scope = _SCOPE.get()
    if scope is None:
        return
    if scope.quiet is not None and response.status_code < 500:
        # Any answer but a server error is the Hub alive; a 429 also says how long to wait.
        told = parse_wait_seconds(response.headers) if response.status_code == 429 else None
        scope.quiet.answered(told or 0.0)
    scope.governor.observe(bucket_of(response.request.url.path), response.headers)
    response.read()  # API answers are JSON pages; reading here lets us count their bytes
    scope.meter.record_bytes(response.num_bytes_downloaded)
