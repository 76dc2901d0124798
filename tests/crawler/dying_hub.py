"""A Hub stand-in that dies in the middle of a listing, for the crawler tests and bench item 8.

It serves everything until the first follow-on listing page (a ``cursor`` request) is asked
for, then dies: ``reset`` aborts that connection and every one after it (a Hub behind a
proxy that lost its backend), ``refused`` stops listening (a Hub that went away).
"""

from __future__ import annotations

import threading

from aiohttp import web

from .hub_standin import HubStandIn, StandInRepo

RESET = "reset"
REFUSED = "refused"


class DyingListingHub(HubStandIn):
    """A ``HubStandIn`` that dies at the second page of the first listing that has one."""

    def __init__(
        self,
        repos: list[StandInRepo] | tuple[StandInRepo, ...] = (),
        *,
        death: str = RESET,
        **options: object,
    ) -> None:
        if death not in (RESET, REFUSED):
            raise ValueError(f"death must be {RESET!r} or {REFUSED!r}")
        super().__init__(repos, **options)  # type: ignore[arg-type]
        self.death = death
        self.died = threading.Event()
        self.requests_after_death = 0  # requests that still reached it (the first is the one it died on)
        self._stopper: threading.Thread | None = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        follow_on_page = request.path.rstrip("/") == "/api/models" and "cursor" in request.query
        if follow_on_page and not self.died.is_set():
            self.died.set()
            if self.death == REFUSED:  # stop() waits on this loop: it must run on another thread
                self._stopper = threading.Thread(target=self.stop, name="hub-standin-death", daemon=True)
                self._stopper.start()
        if self.died.is_set():
            with self._lock:
                self.requests_after_death += 1
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("the stand-in died mid-listing")
        return await super()._dispatch(request)

    def stop(self) -> None:
        if self._stopper is not None and threading.current_thread() is not self._stopper:
            self._stopper.join(timeout=30)  # the death's own stop finishes first
        super().stop()
