"""Item 5: repo ids, tags, config values and tensor names with markdown, mentions, invisible
characters or 10 KB, served by the Hub stand-in, crawled, stored and shown."""

from __future__ import annotations

import asyncio

import pytest

from bench.reliability import _hostile_hub as item

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def checks():
    result = asyncio.run(item.run_item())
    assert len(result.data["discord"]) > 100 and len(result.data["terminal"]) > 20  # it really rendered
    return result.data["checks"]


def test_hostile_values_are_stored_exactly(checks):
    """Ids, tags, config.json and counts read back from SQLite equal what the Hub served."""
    assert checks[item.STORED] == []


def test_every_hostile_answer_is_sent_and_nothing_is_logged_as_an_error(checks):
    """/model, /fit, /compare, autocomplete, /new and the daily listing all answer; no ERROR record."""
    assert checks[item.NO_REPLY] == [] and checks[item.ERRORS] == []


def test_answers_stay_within_discords_limits_and_ping_nobody(checks):
    """No embed over a limit, mentions disabled, no unescaped mention or control character."""
    assert checks[item.LIMITS] == []


def test_answers_escape_markdown_and_mentions_and_drop_invisible_characters(checks):
    """No **PWN**, @everyone or <@…> as served, no zero-width or bidi character, at most 400 of the 10 KB."""
    assert checks[item.SHOWN] == []


def test_error_replies_fit_in_2000_characters(checks):
    """An error about a repo with a 10 KB id still fits one Discord message."""
    assert checks[item.LENGTH] == []


def test_embed_urls_are_well_formed(checks):
    """Every embed URL is one Discord accepts (the repo id percent-encoded)."""
    assert checks[item.URLS] == []


def test_the_terminal_twin_shows_no_invisible_characters(checks):
    """`fitbot ask` prints no control, zero-width or bidi character from the Hub."""
    assert checks[item.TERMINAL_INVISIBLE] == []


def test_the_terminal_twin_truncates_hub_text(checks):
    """`fitbot ask` never prints more than 400 characters of a 10 KB value."""
    assert checks[item.TERMINAL_LENGTH] == []
