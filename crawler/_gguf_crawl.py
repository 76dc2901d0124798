"""The GGUF crawl: discover GGUF repos, skip the unchanged, read the rest, write each whole.

Discovery (the ``[gguf]`` table of ``sources.toml``): the most downloaded ``library=gguf``
repos, each known quantizer's most downloaded ones, and the quantizations of models already
in the store (the Hub tags them ``base_model:quantized:<id>``). The listing carries each
repo's sha: an unchanged repo costs nothing beyond it.
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from huggingface_hub import ModelInfo

from store import (
    Database,
    GgufRepoRecord,
    get_base_model,
    list_gguf_repo_shas,
    replace_gguf_repo,
    upsert_base_model,
)

from ._gguf_read import read_gguf_repo
from ._http import Target
from ._hub import HubClient
from .errors import HubError, RepoGatedError, RepoNotFoundError, SourcesError

log = logging.getLogger(__name__)

GGUF_LIBRARY = "gguf"
GGUF_EXPAND = ["sha", "downloads", "likes", "lastModified", "tags", "library_name", "gated", "cardData"]


@dataclass(frozen=True, slots=True)
class GgufSources:
    """The ``[gguf]`` table of the sources file."""

    top_limit: int = 100
    quantizers: tuple[str, ...] = ()
    per_quantizer_limit: int = 50
    base_models_limit: int = 50  # store models whose quantizations are looked up
    per_base_model_limit: int = 20


@dataclass(frozen=True, slots=True)
class GgufCandidate:
    repo_id: str
    sha: str | None
    downloads: int | None
    gated: bool
    base_model: str | None  # cardData.base_model


@dataclass
class GgufCrawlSummary:
    """What one GGUF crawl did."""

    seen: int = 0
    unchanged: int = 0
    read: list[GgufRepoRecord] = field(default_factory=list)


def load_gguf_sources(path: Path | None = None) -> GgufSources:
    """The ``[gguf]`` table of the sources file at ``path`` (or the bundled one).

    Raises:
        SourcesError: the table is malformed.
    """
    if path is None:
        text = resources.files("crawler").joinpath("data", "sources.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_gguf_sources(tomllib.loads(text).get("gguf", {}), str(path or "bundled sources.toml"))


def parse_gguf_sources(raw: object, origin: str) -> GgufSources:
    """Parse the ``[gguf]`` table.

    Raises:
        SourcesError: a limit is not a positive whole number, or quantizers is not a list of names.
    """
    if not isinstance(raw, dict):
        raise SourcesError(origin, "[gguf] is not a table")
    values: dict[str, object] = {}
    for name in ("top_limit", "per_quantizer_limit", "base_models_limit", "per_base_model_limit"):
        value = raw.get(name, getattr(GgufSources, name))
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            raise SourcesError(origin, f"gguf.{name} is {value!r}; use a whole number from 0 to 10000")
        values[name] = value
    quantizers = raw.get("quantizers", [])
    if not isinstance(quantizers, list) or not all(isinstance(q, str) and q for q in quantizers):
        raise SourcesError(origin, "gguf.quantizers must be a list of Hub user names")
    return GgufSources(quantizers=tuple(quantizers), **values)  # type: ignore[arg-type]


def parse_card_base_model(card_data: object) -> str | None:
    """The first ``base_model`` of a model card (a string or a list of them), if it names a repo."""
    value = getattr(card_data, "base_model", None) if not isinstance(card_data, dict) else card_data.get("base_model")
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value.count("/") == 1 else None


async def discover_gguf(hub: HubClient, sources: GgufSources, base_models: tuple[str, ...]) -> list[GgufCandidate]:
    """Every GGUF repo the sources name, first mention first.

    Raises:
        HubError: every listing failed.
    """
    queries: list[tuple[str, dict[str, object]]] = []
    if sources.top_limit:
        queries.append(("gguf top", {"limit": sources.top_limit}))
    queries += [(f"gguf {q}", {"author": q, "limit": sources.per_quantizer_limit}) for q in sources.quantizers]
    for base in base_models[: sources.base_models_limit]:
        tag = f"base_model:quantized:{base}"
        queries.append((f"gguf of {base}", {"extra_filter": tag, "limit": sources.per_base_model_limit}))
    found: dict[str, GgufCandidate] = {}
    failures = 0
    for name, query in queries:
        try:
            infos = await _list(hub, name, **query)
        except HubError as e:
            log.warning("GGUF listing %s failed: %s", name, e)
            failures += 1
            continue
        for info in infos:
            found.setdefault(info.id.lower(), _candidate(info))
    if queries and failures == len(queries):
        raise HubError(f"no GGUF listing answered ({len(queries)} tried)", url_path="/api/models")
    return list(found.values())


async def _list(hub: HubClient, name: str, *, limit: object, author: object = None,
                extra_filter: object = None) -> list[ModelInfo]:
    filters = [GGUF_LIBRARY] + ([str(extra_filter)] if extra_filter else [])

    def run() -> list[ModelInfo]:
        return list(hub.api.list_models(filter=filters, author=author, sort="downloads", limit=limit,
                                        expand=GGUF_EXPAND))  # type: ignore[arg-type]

    return await hub.call_api(run, target=Target(f"listing '{name}'"))


def _candidate(info: ModelInfo) -> GgufCandidate:
    return GgufCandidate(info.id, info.sha, info.downloads, bool(info.gated),
                         parse_card_base_model(info.card_data))


async def crawl_gguf(
    hub: HubClient, db: Database, sources: GgufSources, base_models: tuple[str, ...], now: datetime,
    *, force: bool = False,
) -> GgufCrawlSummary:
    """Discover GGUF repos and read every new or changed one; a bad repo or file never stops it.

    Raises:
        HubError: no GGUF listing answered.
    """
    candidates = await discover_gguf(hub, sources, base_models)
    return await crawl_gguf_repos(hub, db, candidates, now, force=force)


async def crawl_gguf_repos(
    hub: HubClient, db: Database, candidates: list[GgufCandidate], now: datetime, *, force: bool = False
) -> GgufCrawlSummary:
    """Read the candidates whose sha changed, writing each repo (and its base model) as it ends."""
    known = {k.lower(): v for k, v in (await list_gguf_repo_shas(db)).items()}
    summary = GgufCrawlSummary(seen=len(candidates))
    todo = [c for c in candidates if force or not c.sha or known.get(c.repo_id.lower()) != c.sha]
    summary.unchanged = len(candidates) - len(todo)
    slots = asyncio.Semaphore(max(1, hub.config.concurrency // 2))

    async def one(candidate: GgufCandidate) -> None:
        async with slots:
            record = await read_gguf_candidate(hub, candidate, now)
        await replace_gguf_repo(db, record)
        if candidate.base_model and await get_base_model(db, candidate.repo_id) is None:
            await upsert_base_model(db, candidate.repo_id, candidate.base_model)
        summary.read.append(record)

    await asyncio.gather(*(one(c) for c in todo))
    return summary


async def read_gguf_candidate(hub: HubClient, candidate: GgufCandidate, now: datetime) -> GgufRepoRecord:
    """One repo's record; the repo's own problems become its status, never an exception."""
    try:
        if candidate.gated and not hub.has_token:
            raise RepoGatedError(candidate.repo_id, asked=False)
        return await read_gguf_repo(hub, candidate.repo_id, candidate.sha, now, downloads=candidate.downloads)
    except RepoGatedError as e:
        return GgufRepoRecord(candidate.repo_id, candidate.sha, "gated", str(e), now, candidate.downloads)
    except RepoNotFoundError as e:
        return GgufRepoRecord(candidate.repo_id, None, "not_found", str(e), now, candidate.downloads)
    except HubError as e:  # no sha: the next crawl tries again
        return GgufRepoRecord(candidate.repo_id, None, "error", str(e), now, candidate.downloads)
    except Exception as e:  # a parser or crawler bug fails this repo, not the crawl
        log.exception("reading GGUF repo %s failed unexpectedly", candidate.repo_id)
        return GgufRepoRecord(candidate.repo_id, None, "error", f"{type(e).__name__}: {e}", now, candidate.downloads)
