"""A local stand-in for the Hugging Face Hub, on 127.0.0.1, for crawler tests and the benchmark.

It serves what huggingface_hub 2.4 and the crawler call (docs/reference/hub-protocol.md §3):

* ``GET /api/models`` with filters, sort, ``expand``/``expand[]`` and ``Link`` cursor pages;
* ``GET /api/models/{id}`` and ``/api/models/{id}/revision/{rev}``;
* ``GET /api/models/{id}/tree/{rev}[/{path}]``;
* ``GET /api/models/{id}/safetensors-metadata/{file}`` (the one-call endpoint, main only);
* ``HEAD``/``GET /{id}/resolve/{rev}/{file}``: Range → 206 with a clamped Content-Range,
  ``X-Repo-Commit``, ``ETag``; ``X-Error-Code`` (RepoNotFound, RevisionNotFound,
  EntryNotFound, GatedRepo) on every repo or file error.

Files are ``FileImage``s: real prefix bytes and a declared size, zeros past the prefix,
so a 700 GB checkpoint costs nothing. Faults are injected by a seeded hash of each
request and how often it was seen, so a run is reproducible however requests
interleave: latency, 500s, 429s with RateLimit headers, resets mid-body, stalls. Fixed
window quotas per bucket answer 429 when exceeded. Every request is logged and counted.

It runs its own event loop in a thread, so huggingface_hub's blocking calls, the
crawler's async client and subprocesses can all reach it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import threading
import time
from collections import Counter

from aiohttp import web

from .standin_routes import (  # noqa: F401  (re-exported for tests and the benchmark)
    API,
    INDEX_FILE,
    RESOLVERS,
    Faults,
    Hit,
    HubRoutes,
    Quota,
    Reply,
    StandInRepo,
    commit_sha,
    error,
)

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_MODEL = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?/?$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
_METADATA = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/safetensors-metadata/(?P<path>.+)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SORTS = {"downloads": "downloads", "likes": "likes", "trendingScore": "trending_score",
          "createdAt": "created_at", "lastModified": "last_modified"}
DEFAULT_FIELDS = ("id", "likes", "downloads", "trendingScore", "tags", "pipeline_tag", "library_name", "createdAt")


class HubStandIn(HubRoutes):
    """The server. Use as a context manager; ``url`` is its endpoint."""

    def __init__(
        self,
        repos: list[StandInRepo] | tuple[StandInRepo, ...] = (),
        *,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        quotas: dict[str, Quota] | None = None,
        page_size: int = 50,
        tree_page_size: int = 1000,
        metadata_api: bool = True,
        tokens_with_access: frozenset[str] = frozenset(),
        refuse: dict[str, int] | None = None,
    ) -> None:
        self.repos: dict[str, StandInRepo] = {r.repo_id: r for r in repos}
        self.latency_s = latency_s
        self.faults = faults
        self.quotas = quotas or {}
        self.page_size = page_size
        self.tree_page_size = tree_page_size
        self.metadata_api = metadata_api
        self.tokens_with_access = tokens_with_access
        self.refuse = refuse or {}  # route -> status, answered to every request of that route
        self.hits: list[Hit] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self._peers: set[object] = set()  # (host, port) of each client connection seen
        self._windows: dict[str, tuple[float, int]] = {}
        self._metadata_answers: dict[tuple[str, str, str], Reply] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> HubStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hub-standin", daemon=True)
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:  # stalled handlers still asleep
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _serve(self) -> int:
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # injected resets log errors
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    # --- what tests look at ------------------------------------------------------------------

    def set_repo(self, repo: StandInRepo) -> None:
        with self._lock:
            self.repos[repo.repo_id] = repo

    def remove_repo(self, repo_id: str) -> None:
        with self._lock:
            self.repos.pop(repo_id, None)

    def prepare_metadata(self) -> None:
        """Build every one-call answer now (the real Hub answers from a cache; building
        DeepSeek-V3's 20 MB answer on first request would be timed as network)."""
        for repo in self._repos():
            if INDEX_FILE in repo.files:
                key = (repo.repo_id, repo.sha, INDEX_FILE)
                self._metadata_answers[key] = self._metadata_answer(repo, INDEX_FILE)

    def reset_counts(self) -> None:
        with self._lock:
            self.hits.clear()
            self._peers.clear()

    def connection_count(self) -> int:
        """Client connections that sent at least one request since the last reset."""
        with self._lock:
            return len(self._peers)

    def count(self, route: str | None = None, *, repo_id: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1 for h in self.hits
                if (route is None or h.route == route) and (repo_id is None or h.repo_id == repo_id)
                and (status is None or h.status == status)
            )

    def bytes_sent(self, route: str | None = None, *, repo_id: str | None = None) -> int:
        with self._lock:
            return sum(
                h.bytes_sent for h in self.hits
                if (route is None or h.route == route) and (repo_id is None or h.repo_id == repo_id)
            )

    def resolve_count(self, repo_id: str | None = None) -> int:
        return self.count("resolve_get", repo_id=repo_id) + self.count("resolve_head", repo_id=repo_id)

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    # --- dispatch ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/_standin/"):  # control routes for a stand-in in another process
            return self._control(request)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        with self._lock:  # a client's ephemeral port names its connection while it is open
            self._peers.add(peer)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        path = request.path
        route, repo_id, handler = self._route(request.method, path)
        bucket = RESOLVERS if route.startswith("resolve") else API
        fault = self._fault(request, bucket, repo_id)
        reply = self._over_quota(bucket)
        if fault == "stall":  # logged now: the handler may be cancelled when the client gives up
            self._log(request, route, repo_id, 0, 0, "authorization" in request.headers, fault)
            await asyncio.sleep(self.faults.stall_s)
            if request.transport is None or request.transport.is_closing():
                # The client gave up (its read timeout): answering now would log a request
                # nobody is waiting for, and a check of retry timing would take it for one.
                raise ConnectionResetError("the client left during the stall")
            fault = None
        if reply is None and route in self.refuse:
            reply = error(self.refuse[route], None, "refused by the test")
        if reply is None and fault in ("500", "429"):
            reply = self._fault_reply(fault, bucket)
        if reply is None:
            try:
                reply = handler(request)
            except Exception as e:  # a stand-in bug: tests assert that ``errors`` stays empty
                self.errors.append(f"{request.method} {path}: {type(e).__name__}: {e}")
                reply = error(500, None, "stand-in bug")
        reply.headers.update(self._quota_headers(bucket))
        return await self._send(request, reply, route, repo_id, fault)

    def _control(self, request: web.Request) -> web.Response:
        if request.path == "/_standin/reset":
            self.reset_counts()
            return web.json_response({"reset": True})
        hits = [[h.method, h.route, h.repo_id, h.status, h.bytes_sent, h.range] for h in self.snapshot()]
        return web.json_response({"hits": hits, "errors": self.errors, "connections": self.connection_count()})

    def _route(self, method: str, path: str):
        if (m := _RESOLVE.match(path)) and method in ("GET", "HEAD"):
            route = "resolve_head" if method == "HEAD" else "resolve_get"
            return route, m["repo"], lambda r: self._resolve(r, m["repo"], m["rev"], m["path"])
        if method != "GET":
            return "other", None, lambda r: error(405, None, "Method not allowed")
        if path.rstrip("/") == "/api/models":
            return "list", None, self._list
        if m := _METADATA.match(path):
            return "metadata_api", m["repo"], lambda r: self._metadata(r, m["repo"], m["path"])
        if m := _TREE.match(path):
            return "tree", m["repo"], lambda r: self._tree(r, m["repo"], m["rev"], m["path"] or "")
        if m := _MODEL.match(path):
            return "model_info", m["repo"], lambda r: self._model_info(r, m["repo"], m["rev"])
        return "other", None, lambda r: error(404, None, "Not Found")

    async def _send(self, request: web.Request, reply: Reply, route: str, repo_id: str | None,
                    fault: str | None) -> web.StreamResponse:
        body = b"" if request.method == "HEAD" else reply.body
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        response.content_length = reply.content_length if request.method == "HEAD" else len(body)
        sent = len(body)
        authorized = "authorization" in request.headers
        if fault == "reset" and body:
            sent = len(body) // 2
            self._log(request, route, repo_id, reply.status, sent, authorized, fault)
            await response.prepare(request)
            await response.write(body[:sent])
            request.transport.abort()
            raise ConnectionResetError("injected reset")
        self._log(request, route, repo_id, reply.status, sent, authorized, fault)
        await response.prepare(request)
        if body:
            await response.write(body)
        await response.write_eof()
        return response

    def _log(self, request, route, repo_id, status, sent, authorized, fault) -> None:
        hit = Hit(request.method, route, request.path_qs, repo_id, status, request.headers.get("Range"),
                  sent, time.monotonic(), authorized, fault)
        with self._lock:
            self.hits.append(hit)

    # --- faults and quotas -------------------------------------------------------------------

    def _fault(self, request: web.Request, bucket: str, repo_id: str | None) -> str | None:
        faults = self.faults
        if faults is None or bucket not in faults.buckets:
            return None
        if faults.repos is not None and repo_id not in faults.repos:
            return None
        key = f"{request.method} {request.path_qs} {request.headers.get('Range', '')}"
        with self._lock:
            seen = self._seen[key]
            self._seen[key] += 1
        if faults.only_first and seen:
            return None
        draw = random.Random(f"{faults.seed}|{key}|{seen}").random()
        for name, rate in (("500", faults.rate_500), ("429", faults.rate_429),
                           ("reset", faults.rate_reset), ("stall", faults.rate_stall)):
            if draw < rate:
                return name
            draw -= rate
        return None

    def _fault_reply(self, fault: str, bucket: str) -> Reply:
        if fault == "500":
            return Reply(500, b'{"error":"Internal Error"}', {"X-Error-Message": "Internal Error"})
        wait = self.faults.retry_after_s
        headers = {"Retry-After": str(wait), "X-Error-Message": "rate limited"}
        if self.faults.ratelimit_header:
            headers["RateLimit"] = f'"{bucket}";r=0;t={wait}'
        return Reply(429, b'{"error":"Too Many Requests"}', headers)

    def _over_quota(self, bucket: str) -> Reply | None:
        quota = self.quotas.get(bucket)
        if quota is None:
            return None
        now = time.monotonic()
        with self._lock:
            start, used = self._windows.get(bucket, (now, 0))
            if now - start >= quota.window_s:
                start, used = now, 0
            used += 1
            self._windows[bucket] = (start, used)
        if used <= quota.limit:
            return None
        return Reply(429, b'{"error":"Too Many Requests"}', {"X-Error-Message": "rate limited"})

    def _quota_headers(self, bucket: str) -> dict[str, str]:
        quota = self.quotas.get(bucket)
        if quota is None:
            return {}
        with self._lock:
            start, used = self._windows.get(bucket, (time.monotonic(), 0))
        reset = max(0, math.ceil(start + quota.window_s - time.monotonic()))
        remaining = max(0, quota.limit - used)
        return {
            "RateLimit": f'"{bucket}";r={remaining};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{bucket}";q={quota.limit};w={int(quota.window_s)}',
        }
