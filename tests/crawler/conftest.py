"""Fixtures for crawler tests: the Hub stand-in, a database, a Hub client with fast retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import pytest

from crawler import (
    CrawlOptions,
    HubClient,
    HubConfig,
    RetryPolicy,
    open_hub,
    parse_sources,
)
from store import Database

from .corpus import corpus, sources_toml
from .hub_standin import HubStandIn

TOKEN = "hf_standin_reader_token_0123456789"
# Fast retries so fault tests finish quickly. The read timeout stays generous: DeepSeek-V3's
# one-call answer is 20 MB, and a slow CI box must not turn it into retries (the stall test
# sets its own short timeout).
FAST = RetryPolicy(attempts=6, base_delay_s=0.01, max_delay_s=0.05, read_timeout_s=15.0, connect_timeout_s=5.0)


@pytest.fixture
def make_standin() -> Iterator[Callable[..., HubStandIn]]:
    """Start stand-ins on 127.0.0.1:0; each is stopped, and must have no internal errors, at the end."""
    started: list[HubStandIn] = []

    def make(repos=(), **options) -> HubStandIn:
        standin = HubStandIn(list(repos), **options)
        standin.start()
        started.append(standin)
        return standin

    yield make
    for standin in started:
        standin.stop()
    for standin in started:
        assert standin.errors == [], standin.errors


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    database = await Database.open(":memory:")
    yield database
    await database.close()


@asynccontextmanager
async def hub_for(standin: HubStandIn, **config) -> AsyncIterator[HubClient]:
    """A crawler Hub client pointed at the stand-in (fast retries unless told otherwise)."""
    config.setdefault("policy", FAST)
    config.setdefault("seed", 7)
    async with open_hub(HubConfig(endpoint=standin.url, **config)) as hub:
        yield hub


def options_for(pinned: tuple[str, ...], **options) -> CrawlOptions:
    return CrawlOptions(parse_sources(sources_toml(pinned)), **options)


@pytest.fixture(scope="session")
def light_corpus():
    """Everything but DeepSeek-V3 (163 shards), malformed repos included."""
    return corpus(heavy=False, malformed=True)


@pytest.fixture(scope="session")
def full_corpus():
    return corpus(heavy=True, malformed=True)
