"""Discovery: which repos to look at, and what their listing entries already say.

Listings go through huggingface_hub (``HfApi.list_models`` / ``model_info``) with
``expand``, so one listing page carries each repo's commit sha, the Hub's own parameter
count, its reduced config and its file names. That is all an unchanged repo costs.

``siblings`` (the file names) is in the expansion on purpose: it tells us, before any
resolve, whether a repo has ``model.safetensors``, an index, only ``.bin`` weights, or a
``config.json``, so a new commit costs exactly the reads it needs and no probing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import cast

from huggingface_hub import ModelInfo
from huggingface_hub.hf_api import ExpandModelProperty_T, ModelSort_T

from store import STATUS_ERROR, STATUS_NOT_FOUND, HubFacts

from ._base_model import parse_quantized_base
from ._http import Target
from ._hub import HubClient
from ._records import Candidate, RepoOutcome
from ._sources import AUTHORS, REPOS, TOP, Scope, Source
from .errors import CrawlFailedError, HubError, HubUnavailableError, RepoNotFoundError

log = logging.getLogger(__name__)

EXPAND: list[ExpandModelProperty_T] = [
    "sha",
    "lastModified",
    "createdAt",
    "downloads",
    "likes",
    "trendingScore",
    "gated",
    "tags",
    "pipeline_tag",
    "library_name",
    "config",
    "safetensors",
    "siblings",
    "cardData",
]
_SORT_KEYS = {
    "downloads": lambda c: c.hub.downloads or 0,
    "trending_score": lambda c: c.hub.trending_score or 0.0,
    "likes": lambda c: c.hub.likes or 0,
    "created_at": lambda c: c.hub.created_at.timestamp() if c.hub.created_at else 0.0,
    "last_modified": lambda c: c.hub.last_modified.timestamp() if c.hub.last_modified else 0.0,
}


# Where an unreachable Hub's time went (HF_ENDPOINT=http://127.0.0.1:9, `fitbot crawl --limit 5`:
# 470.7 s). A listing goes through huggingface_hub's paginate(), whose http_backoff retries a
# refused connection 5 times (waits 1+2+4+8+8 = 23 s), and HubClient.call_api retries that
# whole call 6 times with its own backoff (about 15 s): about 150 s per listing call, and
# the default sources make three. So the crawl first asks one cheap question through our
# own client (one retry layer, at most about 15 s of backoff), under a deadline that also
# bounds a firewalled endpoint whose connects time out instead of being refused.
PROBE_DEADLINE_S = 45.0
PROBE_MAX_BYTES = 1 << 20


async def check_hub_reachable(hub: HubClient) -> None:
    """Ask the Hub for one listing entry; fail the crawl at once if it cannot be reached.

    A refusal (4xx) is left to the listing, which says what it refused.

    Raises:
        CrawlFailedError: every retry failed (connection errors, timeouts, 5xx, 429), or no
            answer came within ``PROBE_DEADLINE_S``.
    """
    url = hub.api_url("models?limit=1")
    try:
        await asyncio.wait_for(
            hub.http.fetch_json(url, Target("the model listing"), max_bytes=PROBE_MAX_BYTES), PROBE_DEADLINE_S
        )
    except TimeoutError:
        raise CrawlFailedError(
            f"the Hub at {hub.endpoint} gave no answer within {PROBE_DEADLINE_S:.0f} s"
        ) from None
    except HubUnavailableError as e:
        raise CrawlFailedError(
            f"the Hub at {hub.endpoint} cannot be reached: {e.problem}, {e.attempts} tries"
        ) from e
    except HubError:
        return


def parse_model_info(info: ModelInfo, source: str) -> Candidate:
    """Turn one listing entry (or model_info answer) into a Candidate."""
    files = tuple(s.rfilename for s in info.siblings) if info.siblings is not None else None
    trending = info.trending_score
    hub = HubFacts(
        author=info.author or info.id.split("/")[0],
        created_at=info.created_at,
        last_modified=info.last_modified,
        downloads=info.downloads,
        likes=info.likes,
        trending_score=float(trending) if trending is not None else None,
        gated=info.gated if info.gated in ("auto", "manual") else None,
        pipeline_tag=info.pipeline_tag,
        library_name=info.library_name,
        hub_total_params=info.safetensors.total if info.safetensors else None,
        tags=tuple(info.tags or ()),
    )
    config = json.dumps(info.config, sort_keys=True) if isinstance(info.config, dict) else None
    base_model = parse_quantized_base(tuple(info.tags or ()), info.card_data)
    return Candidate(info.id, info.sha, source, files, hub, config, base_model)


def in_scope(candidate: Candidate, scope: Scope) -> bool:
    """A language model of the scoped library that has safetensors weights."""
    hub = candidate.hub
    library_ok = hub.library_name == scope.library or scope.library in hub.tags
    has_safetensors = (
        "safetensors" in hub.tags
        or hub.hub_total_params is not None
        or any(f.endswith(".safetensors") for f in candidate.files or ())
    )
    return hub.pipeline_tag in scope.pipelines and library_ok and has_safetensors


async def list_source(
    hub: HubClient, source: Source, scope: Scope, now: datetime
) -> tuple[list[Candidate], list[RepoOutcome]]:
    """The repos one source names, in its order; explicit repos that cannot be looked up
    come back as outcomes.

    Raises:
        HubError: a listing failed for good.
    """
    if source.kind == REPOS:
        return await _explicit(hub, source)
    if source.kind == TOP:
        found: list[Candidate] = []
        for pipeline in scope.pipelines:
            found += await _list(hub, source, scope, pipeline_tag=pipeline)
        found.sort(key=_SORT_KEYS[source.sort], reverse=True)
        return _in_scope(found, scope)[: source.limit], []
    assert source.kind == AUTHORS
    found = []
    for author in source.authors:
        listed = _in_scope(await _list(hub, source, scope, author=author), scope)
        found += [c for c in listed if _recent(c, source, now)]
    return found, []


async def _list(
    hub: HubClient,
    source: Source,
    scope: Scope,
    *,
    author: str | None = None,
    pipeline_tag: str | None = None,
) -> list[Candidate]:
    sort = cast("ModelSort_T", source.sort)  # parse_sources admits only SORTS, the hub's sort keys

    def run() -> list[ModelInfo]:
        return list(
            hub.api.list_models(
                filter=[scope.library, "safetensors"],
                sort=sort,
                limit=source.limit,
                expand=EXPAND,
                author=author,
                pipeline_tag=pipeline_tag,
            )
        )

    infos = await hub.call_listing(run, target=Target(f"listing '{source.name}'"))
    return [parse_model_info(info, source.name) for info in infos]


async def _explicit(hub: HubClient, source: Source) -> tuple[list[Candidate], list[RepoOutcome]]:
    slots = asyncio.Semaphore(hub.config.concurrency)

    async def look_up(repo_id: str) -> Candidate | RepoOutcome:
        async with slots:
            try:
                info = await hub.call_api(hub.api.model_info, repo_id, expand=EXPAND, target=Target(repo_id))
            except RepoNotFoundError as e:
                return RepoOutcome(repo_id, STATUS_NOT_FOUND, str(e))
            except HubError as e:
                return RepoOutcome(
                    repo_id, STATUS_ERROR, str(e), transient=True, outage=isinstance(e, HubUnavailableError)
                )
        return parse_model_info(info, source.name)

    results = await asyncio.gather(*(look_up(r) for r in dict.fromkeys(source.repos)))
    return [r for r in results if isinstance(r, Candidate)], [
        r for r in results if isinstance(r, RepoOutcome)
    ]


def _in_scope(candidates: list[Candidate], scope: Scope) -> list[Candidate]:
    return [c for c in candidates if in_scope(c, scope)]


def _recent(candidate: Candidate, source: Source, now: datetime) -> bool:
    if source.max_age_days is None:
        return True
    changed = candidate.hub.last_modified or candidate.hub.created_at
    return changed is None or now - changed <= timedelta(days=source.max_age_days)
