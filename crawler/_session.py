"""huggingface_hub's shared sync client, given our timeouts, metering and rate-limit governor.

HfApi cannot be handed a client: every call goes through the process-wide
``get_session()``, and ``list_models``/``model_info`` send ``timeout=None``
(docs/reference/hub-protocol.md §1), so a stalled connection would hang a listing for ever. We add two
event hooks to that client. The request hook sets the timeout, holds the request back
while its rate-limit bucket is spent, and counts it; the response hook reads the
RateLimit headers and counts the bytes. Which crawl is asking is found in a ContextVar
that ``run_in_scope`` sets in the worker thread's copy of the context, so concurrent
clients never mix their counts. Outside a scope the hooks do nothing.
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
from huggingface_hub import get_session

from ._meter import FetchMeter
from ._ratelimit import RateGovernor, bucket_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CallScope:
    """What the hooks need to know about the client making a call."""

    timeout: httpx2.Timeout
    meter: FetchMeter
    governor: RateGovernor


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
    """Add our hooks to huggingface_hub's shared client (idempotent; it may be recreated)."""
    client = get_session()
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
    request.extensions["timeout"] = scope.timeout.as_dict()
    bucket = bucket_of(request.url.path)
    while (wait := scope.governor.claim(bucket)) > 0:
        scope.meter.record_wait(wait)
        time.sleep(wait)  # a worker thread: blocking here holds back only this call
    scope.meter.record_request(bucket)


def _after_response(response: httpx2.Response) -> None:
    scope = _SCOPE.get()
    if scope is None:
        return
    scope.governor.observe(bucket_of(response.request.url.path), response.headers)
    response.read()  # API answers are JSON pages; reading here lets us count their bytes
    scope.meter.record_bytes(response.num_bytes_downloaded)
