"""The limits on reading uncatalogued repos from the Hub: per user and per server, refilled over an hour."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot._service import Requester
from bot.app._on_demand import HubRepoReader, TokenBucket
from bot.app._settings import Settings
from bot.errors import ReadLimitError


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_evenly_over_the_period():
    """Three reads an hour: the fourth waits 20 minutes, and is allowed once they passed."""
    clock = Clock()
    bucket = TokenBucket(3, clock=clock)
    for _ in range(3):
        assert bucket.wait_for("u") == 0
        bucket.take("u")
    assert bucket.wait_for("u") == pytest.approx(1200.0)
    assert bucket.wait_for("other") == 0
    clock.now = 1200.0
    assert bucket.wait_for("u") == 0


def test_a_zero_limit_never_reads():
    """A limit of 0 turns on-demand reads off for that scope."""
    assert TokenBucket(0).wait_for("u") > 0


def test_user_and_server_limits_are_named_and_nothing_is_taken_when_refused():
    """A user past their limit is told theirs; a server's limit is shared by its users; a refusal costs nothing."""
    clock = Clock()
    settings = Settings(db_path=Path("unused.sqlite"), hub_reads_per_user=1, hub_reads_per_server=2)
    reader = HubRepoReader(settings, db=None, clock=clock)  # type: ignore[arg-type]  # limits only
    reader._charge("a/one", Requester(1, 10))
    with pytest.raises(ReadLimitError, match=r"you already had 1 repo read .*the limit is 1 an hour"):
        reader._charge("a/two", Requester(1, 10))
    reader._charge("a/two", Requester(2, 10))
    with pytest.raises(ReadLimitError, match=r"this server already had 2 repos .*the limit is 2 an hour"):
        reader._charge("a/three", Requester(3, 10))
    reader._charge("a/three", Requester(3, 11))  # user 3 was not charged by the refusal
    reader._charge("a/four", Requester(None, None))  # the terminal is not limited


@pytest.mark.network
async def test_two_requests_for_one_uncatalogued_repo_read_it_once(db_path):
    """Two users naming the same new repo at once: one Hub read, and both get that repo's answer."""
    import asyncio

    from bot._parsers import ModelRef
    from bot.app._database import open_service
    from tests.crawler.hub_standin import HubStandIn

    from .gguf_hub import BARTOWSKI, qwen_gguf_repos

    with HubStandIn(list(qwen_gguf_repos())) as hub:
        settings = Settings(db_path=db_path, hf_endpoint=hub.url)
        async with open_service(settings) as service:
            first, second = await asyncio.gather(
                service.resolve(ModelRef(BARTOWSKI), Requester(1, 10)),
                service.resolve(ModelRef(BARTOWSKI), Requester(2, 10)),
            )
        assert hub.errors == []
    assert first.gguf_repo is not None and first.gguf_repo == second.gguf_repo
    assert hub.count("model_info", repo_id=BARTOWSKI) == 1
