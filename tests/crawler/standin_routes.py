"""The Hub stand-in's records and the answers of its routes (the server is in hub_standin.py).

Each route method answers one request as a ``Reply``; the server adds latency, faults,
quota headers and the bytes on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

from tests.factories import FileImage

INDEX_FILE = "model.safetensors.index.json"
API, RESOLVERS = "api", "resolvers"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SORTS = {"downloads": "downloads", "likes": "likes", "trendingScore": "trending_score",
          "createdAt": "created_at", "lastModified": "last_modified"}
DEFAULT_FIELDS = ("id", "likes", "downloads", "trendingScore", "tags", "pipeline_tag", "library_name", "createdAt")


@dataclass
class StandInRepo:
    """One repo as the stand-in serves it."""

    repo_id: str
    sha: str
    files: dict[str, FileImage]
    gated: bool | str = False  # False, "auto" or "manual"
    pipeline_tag: str | None = "text-generation"
    library_name: str | None = "transformers"
    tags: tuple[str, ...] = ()
    downloads: int = 0
    likes: int = 0
    trending_score: int = 0
    created_at: str = "2024-05-01T10:00:00.000Z"
    last_modified: str = "2025-06-01T10:00:00.000Z"
    safetensors: dict | None = None  # the Hub's {"parameters": {dtype: n}, "total": n}
    api_config: dict | None = None  # the reduced config the API shows
    access_tokens: frozenset[str] | None = None  # who may read a gated repo (None: the server's list)
    card_data: dict | None = None  # the model card's YAML header, as the API's cardData

    def all_tags(self) -> set[str]:
        tags = set(self.tags) | {t for t in (self.library_name, self.pipeline_tag) if t}
        if any(p.endswith(".safetensors") for p in self.files):
            tags.add("safetensors")
        return tags


@dataclass
class Faults:
    """Fault rates per request (0..1), decided by a seeded hash of the request."""

    rate_500: float = 0.0
    rate_429: float = 0.0
    rate_reset: float = 0.0
    rate_stall: float = 0.0
    seed: int = 0
    stall_s: float = 1.0
    retry_after_s: int = 0
    buckets: frozenset[str] = frozenset({API, RESOLVERS})
    repos: frozenset[str] | None = None  # only requests about these repos (None: all)
    only_first: bool = False  # only a request's first attempt can fail
    ratelimit_header: bool = True  # 429s carry RateLimit (t=) as well as Retry-After


@dataclass
class Quota:
    """A fixed-window quota for one bucket, as the Hub enforces it."""

    limit: int
    window_s: float


@dataclass(frozen=True)
class Hit:
    """One request the stand-in answered (or broke off)."""

    method: str
    route: str
    path: str
    repo_id: str | None
    status: int
    range: str | None
    bytes_sent: int
    at: float
    authorized: bool
    fault: str | None = None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None  # for HEAD: the size the body would have


class HubRoutes:
    """The answers of the Hub's routes, over ``self.repos``; mixed into the server."""

    repos: dict[str, StandInRepo]
    url: str
    page_size: int
    tree_page_size: int
    metadata_api: bool
    tokens_with_access: frozenset[str]
    _lock: threading.Lock
    _metadata_answers: dict[tuple[str, str, str], Reply]

    def _list(self, request: web.Request) -> Reply:
        q = request.query
        repos = [r for r in self._repos() if _matches(r, q)]
        sort = q.get("sort")
        if sort in _SORTS:
            repos.sort(key=lambda r: (getattr(r, _SORTS[sort]), r.repo_id), reverse=True)
        offset = int(base64.urlsafe_b64decode(q["cursor"]).decode()) if "cursor" in q else 0
        size = min(int(q.get("limit", self.page_size)), self.page_size)
        page = repos[offset: offset + size]
        fields = _expand(q) or DEFAULT_FIELDS
        headers = {"Content-Type": "application/json"}
        if offset + size < len(repos):
            params = [(k, v) for k, v in q.items() if k != "cursor"]
            params.append(("cursor", base64.urlsafe_b64encode(str(offset + size).encode()).decode()))
            headers["Link"] = f'<{self.url}/api/models?{urlencode(params)}>; rel="next"'
        body = json.dumps([_render(r, fields) for r in page]).encode()
        return Reply(200, body, headers)

    def _model_info(self, request: web.Request, repo_id: str, rev: str | None) -> Reply:
        repo = self.repos.get(repo_id)
        if repo is None:
            return error(404, "RepoNotFound", "Repository not found")
        if rev is not None and rev not in (repo.sha, "main"):
            return error(404, "RevisionNotFound", "Invalid rev id")
        fields = _expand(request.query) or (*DEFAULT_FIELDS, "sha", "siblings", "config", "safetensors",
                                            "gated", "lastModified")
        return Reply(200, json.dumps(_render(repo, fields)).encode(), {"Content-Type": "application/json"})

    def _tree(self, request: web.Request, repo_id: str, rev: str, folder: str) -> Reply:
        repo = self.repos.get(repo_id)
        if repo is None:
            return error(404, "RepoNotFound", "Repository not found")
        if rev not in (repo.sha, "main"):
            return error(404, "RevisionNotFound", "Invalid rev id")
        prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
        recursive = request.query.get("recursive", "").lower() in ("1", "true")
        entries: dict[str, dict] = {}
        for path, image in sorted(repo.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest and not recursive:
                name = prefix + rest.split("/")[0]
                entries.setdefault(name, {"type": "directory", "path": name, "oid": _oid(name)})
                continue
            entries[path] = {"type": "file", "path": path, "size": image.size, "oid": _oid(path)}
            if path.endswith(".gguf"):  # LFS files: the Hub gives the object's size under "lfs" too
                entries[path]["lfs"] = {"oid": _etag(image), "size": image.size, "pointerSize": 134}
        # The Hub pages a long tree like the model listing: a Link header with a cursor.
        listed = list(entries.values())
        offset = int(base64.urlsafe_b64decode(request.query["cursor"]).decode()) if "cursor" in request.query else 0
        page = listed[offset: offset + self.tree_page_size]
        headers = {"Content-Type": "application/json"}
        if offset + self.tree_page_size < len(listed):
            params = [(k, v) for k, v in request.query.items() if k != "cursor"]
            params.append(("cursor", base64.urlsafe_b64encode(str(offset + self.tree_page_size).encode()).decode()))
            headers["Link"] = f'<{self.url}{request.path}?{urlencode(params)}>; rel="next"'
        return Reply(200, json.dumps(page).encode(), headers)

    def _metadata(self, request: web.Request, repo_id: str, filename: str) -> Reply:
        if not self.metadata_api:
            return error(404, None, "Not Found")
        repo = self.repos.get(repo_id)
        if repo is None:
            return error(404, "RepoNotFound", "Repository not found")
        if repo.gated and not self._has_access(request, repo):
            return error(403 if "authorization" in request.headers else 401, "GatedRepo", "Access restricted")
        if filename not in repo.files:
            return error(404, "EntryNotFound", "Entry not found", repo.sha)
        key = (repo.repo_id, repo.sha, filename)
        if key not in self._metadata_answers:  # DeepSeek-V3's answer is 12 MB: build it once
            self._metadata_answers[key] = self._metadata_answer(repo, filename)
        cached = self._metadata_answers[key]
        return Reply(cached.status, cached.body, dict(cached.headers))

    def _metadata_answer(self, repo: StandInRepo, filename: str) -> Reply:
        try:
            index = json.loads(repo.files[filename].prefix)
            headers = {shard: _header_json(repo.files[shard]) for shard in dict.fromkeys(index["weight_map"].values())}
        except (ValueError, KeyError, TypeError, RecursionError):
            return error(400, None, "Could not parse the safetensors headers of this repo")
        answer = {"index": {"metadata": index.get("metadata")}, "headers": headers}
        return Reply(200, json.dumps(answer, separators=(",", ":")).encode(), {"Content-Type": "application/json"})

    # --- resolve -------------------------------------------------------------------------------

    def _resolve(self, request: web.Request, repo_id: str, rev: str, path: str) -> Reply:
        repo = self.repos.get(repo_id)
        if repo is None:  # the Hub answers 401 for unknown repos on resolve
            return error(401, "RepoNotFound", "Repository not found")
        if repo.gated and not self._has_access(request, repo):
            return error(403 if "authorization" in request.headers else 401, "GatedRepo", "Access restricted")
        if rev not in (repo.sha, "main"):
            return error(404, "RevisionNotFound", "Invalid rev id")
        image = repo.files.get(path)
        if image is None:
            return error(404, "EntryNotFound", "Entry not found", repo.sha)
        headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{_etag(image)}"', "Accept-Ranges": "bytes",
                   "Content-Type": "application/octet-stream"}
        if request.method == "HEAD":
            return Reply(200, b"", headers, content_length=image.size)
        wanted = _parse_range(request.headers.get("Range"), image.size)
        if wanted is None:
            return Reply(200, image.read(0, image.size), headers)
        start, end = wanted
        if start >= image.size:
            return Reply(416, b"", {**headers, "Content-Range": f"bytes */{image.size}"})
        end = min(end, image.size - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{image.size}"
        return Reply(206, image.read(start, end + 1), headers)

    def _has_access(self, request: web.Request, repo: StandInRepo) -> bool:
        auth = request.headers.get("authorization", "")
        tokens = self.tokens_with_access if repo.access_tokens is None else repo.access_tokens
        return auth.startswith("Bearer ") and auth[len("Bearer "):] in tokens

    def _repos(self) -> list[StandInRepo]:
        with self._lock:
            return list(self.repos.values())



# --- helpers -------------------------------------------------------------------------------------

def error(status: int, code: str | None, message: str, commit: str | None = None) -> Reply:
    headers = {"X-Error-Message": message, "Content-Type": "application/json"}
    if code:
        headers["X-Error-Code"] = code
    if commit:
        headers["X-Repo-Commit"] = commit
    return Reply(status, json.dumps({"error": message}).encode(), headers)


def _expand(query) -> tuple[str, ...]:
    return tuple(query.getall("expand", [])) + tuple(query.getall("expand[]", []))


def _matches(repo: StandInRepo, query) -> bool:
    tags = repo.all_tags()
    if any(f not in tags for f in query.getall("filter", [])):
        return False
    if "author" in query and repo.repo_id.split("/")[0] != query["author"]:
        return False
    if "pipeline_tag" in query and repo.pipeline_tag != query["pipeline_tag"]:
        return False
    return "search" not in query or query["search"].lower() in repo.repo_id.lower()


def _render(repo: StandInRepo, fields) -> dict:
    values = {
        "id": repo.repo_id, "author": repo.repo_id.split("/")[0], "sha": repo.sha,
        "lastModified": repo.last_modified, "createdAt": repo.created_at, "downloads": repo.downloads,
        "likes": repo.likes, "trendingScore": repo.trending_score, "gated": repo.gated,
        "tags": sorted(repo.all_tags()), "pipeline_tag": repo.pipeline_tag, "library_name": repo.library_name,
        "config": repo.api_config, "safetensors": repo.safetensors,
        "siblings": [{"rfilename": p} for p in sorted(repo.files)], "private": False,
        "cardData": repo.card_data,
    }
    out = {"_id": _oid(repo.repo_id)[:24], "id": repo.repo_id}
    for name in fields:
        if name in values and values[name] is not None:
            out[name] = values[name]
    return out


def _header_json(image: FileImage) -> object:
    length = int.from_bytes(image.prefix[:8], "little")
    if 8 + length > len(image.prefix):  # a header running past its real bytes is broken
        raise ValueError("header runs past the file's prefix")
    return json.loads(image.prefix[8: 8 + length])


def _parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    if not value:
        return None
    match = _RANGE.match(value.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # a suffix: the last N bytes
        return max(0, size - int(last)), size - 1
    return int(first), int(last) if last else size - 1


def _etag(image: FileImage) -> str:
    return hashlib.sha256(image.prefix + str(image.size).encode()).hexdigest()


def _oid(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def commit_sha(*parts: object) -> str:
    """A 40-hex commit id derived from its inputs (stable across runs)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()
