"""The GGUF crawl: discover GGUF repos, skip the unchanged, read the rest, write each whole.

Discovery (the ``[gguf]`` table of ``sources.toml``): the most downloaded ``library=gguf``
repos, each known quantizer's most downloaded ones, and the quantizations of models already
in the store (the Hub tags them ``base_model:quantized:<id>``). The listing carries each
repo's sha: an unchanged repo costs nothing beyond it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huggingface_hub import ModelInfo
from huggingface_hub.hf_api import ExpandModelProperty_T

from store import (
    Database,
    GgufRepoRecord,
    get_base_model,
    list_gguf_repo_shas,
    list_models,
    replace_gguf_repo,
    upsert_base_model,
)

from ._base_model import parse_card_base_model
from ._gguf_read import read_gguf_repo
from ._gguf_sources import GgufSources
from ._http import Target
from ._hub import HubClient
from .errors import HubError, RepoGatedError, RepoNotFoundError

log = logging.getLogger(__name__)

GGUF_LIBRARY = "gguf"
GGUF_EXPAND: list[ExpandModelProperty_T] = [
    "sha",
    "downloads",
    "likes",
    "lastModified",
    "tags",
    "library_name",
    "gated",
    "cardData",
]


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


async def discover_gguf(
    hub: HubClient, sources: GgufSources, base_models: tuple[str, ...]
) -> list[GgufCandidate]:
    """Every GGUF repo the sources name, first mention first.

    Raises:
        HubError: every listing failed.
    """
    queries: list[tuple[str, dict[str, Any]]] = []
    if sources.top_limit:
        queries.append(("gguf top", {"limit": sources.top_limit}))
    queries += [
        (f"gguf {q}", {"author": q, "limit": sources.per_quantizer_limit}) for q in sources.quantizers
    ]
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


async def _list(
    hub: HubClient, name: str, *, limit: int, author: str | None = None, extra_filter: str | None = None
) -> list[ModelInfo]:
    filters = [GGUF_LIBRARY] + ([extra_filter] if extra_filter else [])

    def run() -> list[ModelInfo]:
        return list(
            hub.api.list_models(
                filter=filters, author=author, sort="downloads", limit=limit, expand=GGUF_EXPAND
            )
        )

    return await hub.call_listing(run, target=Target(f"listing '{name}'"))


def _candidate(info: ModelInfo) -> GgufCandidate:
    return GgufCandidate(
        info.id, info.sha, info.downloads, bool(info.gated), parse_card_base_model(info.card_data)
    )


async def crawl_gguf(
    hub: HubClient,
    db: Database,
    sources: GgufSources,
    base_models: tuple[str, ...],
    now: datetime,
    *,
    force: bool = False,
) -> GgufCrawlSummary:
    """Discover GGUF repos and read every new or changed one; a bad repo or file never stops it.

    Raises:
        HubError: no GGUF listing answered.
    """
    candidates = await discover_gguf(hub, sources, base_models)
    return await crawl_gguf_repos(hub, db, candidates, now, force=force)


async def crawl_gguf_stage(
    hub: HubClient, db: Database, sources: GgufSources, *, force: bool = False
) -> None:
    """The GGUF part of a daily crawl: quantizations of the most popular stored models too.
    A GGUF listing outage is logged and never fails the safetensors crawl that ran before it."""
    popular = tuple(m.repo_id for m in await list_models(db, limit=sources.base_models_limit))
    try:
        summary = await crawl_gguf(hub, db, sources, popular, db.clock(), force=force)
    except HubError as e:
        log.warning("the GGUF crawl could not list any repo: %s", e)
        return
    except Exception:  # a GGUF bug must not fail the safetensors crawl that already ran
        log.exception("the GGUF crawl failed unexpectedly")
        return
    failed = sum(1 for r in summary.read for f in r.files if f.status != "ok")
    log.info(
        "GGUF crawl: %d seen, %d unchanged, %d read, %d files failed",
        summary.seen,
        summary.unchanged,
        len(summary.read),
        failed,
    )


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
        return GgufRepoRecord(
            candidate.repo_id, None, "error", f"{type(e).__name__}: {e}", now, candidate.downloads
        )
