"""Item 7: with DISCORD_TOKEN and HF_TOKEN set, failing crawls and bot sessions leak neither."""

from __future__ import annotations

import asyncio
import base64

import pytest

from bench.reliability._secrets import leaks, run_item

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def searched():
    return asyncio.run(run_item())


def test_no_token_in_any_log_line_or_reply(searched):
    """Neither token, its random core nor its base64 forms appear anywhere searched."""
    assert searched.problems == ()


def test_the_searched_output_holds_the_failures(searched):
    """The runs really failed where they should: 403s and 401s, refusals, a rejected token."""
    texts = dict(searched.data["texts"])
    assert "gated" in texts["fitbot -v crawl (500s, 401s, 403s)"]
    assert "no source could be listed" in texts["fitbot -v crawl --json (every listing 401: the crawl fails)"]
    assert "Discord rejected DISCORD_TOKEN" in texts["fitbot bot (token rejected)"]
    assert "refused" in texts["fitbot -v bot (errors), until SIGTERM"]
    assert "(set, hidden)" in texts["fitbot config show"]
    assert searched.data["bot"]["answered"] == searched.data["bot"]["exchanges"] > 10


def test_the_search_finds_a_planted_token():
    """A token that did leak, even only as a base64 Authorization value or cut short, is found."""
    tokens = {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwx"}
    encoded = base64.b64encode(b"Bearer hf_abcdefghijklmnopqrstuvwx").decode()
    assert leaks("log", f"Authorization: Basic {encoded}", tokens)
    assert leaks("log", "token=hf_abcdefghijklmnop…", tokens) == []  # shorter than its core: not a token
    assert leaks("log", "token=abcdefghijklmnopqrstuvwx…", tokens)
