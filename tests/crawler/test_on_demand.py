"""A repo named by a user is read then and there, stored, and never swapped for another."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler import RepoNotFoundError, read_repo_on_demand
from store import get_gguf_repo, get_model
from tests.factories import replica

from .conftest import hub_for
from .corpus import repo_from_replica
from .gguf_corpus import MLA, mla_repo

pytestmark = pytest.mark.network
NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_gguf_repo_and_a_safetensors_repo_are_read_and_stored(make_standin, db):
    """A GGUF repo id gives its files; a safetensors repo id gives its exact count; both are stored."""
    dense = repo_from_replica("qwen1.5-moe-a2.7b", replica("qwen1.5-moe-a2.7b"), downloads=10)
    standin = make_standin([mla_repo(), dense])
    async with hub_for(standin) as hub:
        gguf = await read_repo_on_demand(hub, db, MLA, NOW)
        model = await read_repo_on_demand(hub, db, dense.repo_id, NOW)
    assert gguf.model is None and gguf.gguf is not None and gguf.gguf.files[0].status == "ok"
    assert await get_gguf_repo(db, MLA) == gguf.gguf
    assert model.gguf is None and model.model.status == "ok"
    stored = await get_model(db, dense.repo_id)
    assert stored is not None and stored.accounting.total_params == 14_315_784_192


async def test_an_unknown_repo_says_so_and_stores_nothing(make_standin, db):
    """A repo id the Hub does not know raises RepoNotFoundError naming it; nothing else is stored."""
    standin = make_standin([mla_repo()])
    async with hub_for(standin) as hub:
        with pytest.raises(RepoNotFoundError, match="zoo/afmoe"):
            await read_repo_on_demand(hub, db, "zoo/afmoe", NOW)
    assert await get_model(db, "zoo/afmoe") is None and await get_gguf_repo(db, "zoo/afmoe") is None
