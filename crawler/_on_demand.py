"""Reading one repo now, because a user named it (issue 15 §5): headers only, the same readers as
the crawl, stored afterwards like any crawled repo. The bot decides who may ask and how often.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store import (
    Database,
    GgufRepoRecord,
    ModelRecord,
    replace_gguf_repo,
    upsert_base_model,
    upsert_model,
)

from ._crawl import read_repo
from ._discovery import EXPAND, parse_model_info
from ._gguf_crawl import GgufCandidate, read_gguf_candidate
from ._http import Target
from ._hub import HubClient
from ._records import Candidate

ON_DEMAND = "on demand"


@dataclass(frozen=True, slots=True)
class OnDemandRead:
    """What reading one named repo gave: a safetensors model or a GGUF repo (exactly one is set)."""

    repo_id: str
    model: ModelRecord | None = None
    gguf: GgufRepoRecord | None = None


def is_gguf_repo(candidate: Candidate) -> bool:
    """A repo whose weights are GGUF files only (no safetensors to count)."""
    files = candidate.files or ()
    has_gguf = any(f.lower().endswith(".gguf") for f in files) or "gguf" in candidate.hub.tags
    return has_gguf and not any(f.endswith(".safetensors") for f in files)


async def read_repo_on_demand(hub: HubClient, db: Database, repo_id: str, now: datetime) -> OnDemandRead:
    """Look ``repo_id`` up on the Hub, read its headers and store it; never substitutes another repo.

    Raises:
        RepoNotFoundError: the repo does not exist (or is private).
        RepoGatedError: the repo is gated and the token has no access.
        HubError: the Hub could not be reached for good.
    """
    info = await hub.call_api(hub.api.model_info, repo_id, expand=EXPAND, target=Target(repo_id))
    candidate = parse_model_info(info, ON_DEMAND)
    if is_gguf_repo(candidate):
        gguf = await read_gguf_candidate(
            hub,
            GgufCandidate(
                candidate.repo_id,
                candidate.sha,
                candidate.hub.downloads,
                bool(candidate.hub.gated),
                candidate.base_model,
            ),
            now,
        )
        await replace_gguf_repo(db, gguf)
        return OnDemandRead(candidate.repo_id, gguf=gguf)
    record, _ = await read_repo(hub, candidate, now)
    await upsert_model(db, record)
    if candidate.base_model:
        await upsert_base_model(db, record.repo_id, candidate.base_model)
    return OnDemandRead(candidate.repo_id, model=record)
