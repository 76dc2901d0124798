"""The checks the reliability items apply to every body the bot sends: each can fail."""

from __future__ import annotations

import pytest

from bench.reliability._discord_limits import body_problems

FINE = {"content": "ok", "embeds": [{"title": "t", "description": "d", "url": "https://huggingface.co/a/b"}],
        "allowed_mentions": {"parse": []}}
FOLLOWUP = ("POST", "/api/v10/webhooks/1/token-1")


def test_a_fine_message_passes():
    """A message within every limit, mentions off, a well-formed URL: nothing to report."""
    assert body_problems(*FOLLOWUP, FINE) == []


@pytest.mark.parametrize(("change", "found"), [
    ({"content": "x" * 2001}, "content of 2001"),
    ({"allowed_mentions": None}, "allowed_mentions"),
    ({"content": "hi @everyone"}, "unescaped mention"),
    ({"content": "<@123>"}, "unescaped mention"),
    ({"content": "a\x1bb"}, "control character"),
    ({"embeds": [{"title": "t" * 257}]}, "title of 257"),
    ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "6000"),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "26 embed fields"),
    ({"embeds": [{"fields": [{"name": "", "value": "v"}]}]}, "field name of 0"),
    ({"embeds": [{"url": "https://huggingface.co/a b"}]}, "well-formed URL"),
    ({"embeds": [{"url": "https://huggingface.co/a\u200bb"}]}, "well-formed URL"),
])
def test_each_limit_is_checked(change, found):
    """Each broken limit is reported."""
    assert any(found in p for p in body_problems(*FOLLOWUP, {**FINE, **change}))


def test_an_escaped_mention_is_not_a_ping():
    """@ followed by a zero-width space (the bot's escape) does not count as @everyone."""
    assert body_problems(*FOLLOWUP, {**FINE, "content": "@\u200beveryone"}) == []


def test_autocomplete_choices_are_checked():
    """More than 25 choices, or a choice name past 100 characters, is reported."""
    many = {"type": 8, "data": {"choices": [{"name": "a", "value": "a"}] * 26}}
    long = {"type": 8, "data": {"choices": [{"name": "a" * 101, "value": "a"}]}}
    assert body_problems("POST", "/api/v10/interactions/1/t/callback", many)
    assert body_problems("POST", "/api/v10/interactions/1/t/callback", long)
