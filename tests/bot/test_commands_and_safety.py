"""The terminal twin's command parsing, and escaping of text from the Hub."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot._commands import parse_command
from bot._parsers import ModelRef
from estimator import KvCacheType, parse_budget
from bot._document import Document, Section, Table, Column, code, render_text, strong
from bot._safe import clean, escape
from bot.errors import CommandParseError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/fit qwen2.5-32b 24GB", {"model": "qwen2.5-32b", "budget": "24GB"}),
        ("/fit llama 3.1 8b 2x3090 32k q8_0", {"model": "llama 3.1 8b", "budget": "2x3090", "context": 32768, "kv_cache": "q8_0"}),
        ("/fit 'qwen2.5 32b' 24GB 32k", {"model": "qwen2.5 32b", "budget": "24GB", "context": 32768}),
        ("fit model:qwen budget:24GB", {"model": "qwen", "budget": "24GB"}),
        ("/model ds v3", {"model": "ds v3"}),
        ("/define kv cache", {"term": "kv cache"}),
    ],
)
def test_parse_command(text, expected):
    """Positional and name:value arguments land on the right options, parsed into typed values."""
    _, args = parse_command(text)
    want = dict(expected)
    if "model" in want:
        want["model"] = ModelRef(want["model"])
    if "budget" in want:
        want["budget"] = parse_budget(want["budget"])
    if "kv_cache" in want:
        want["kv_cache"] = KvCacheType(want["kv_cache"])
    assert {k: v for k, v in args.items() if k in want} == want
    assert all(v in (None, KvCacheType.F16) for k, v in args.items() if k not in want)


@pytest.mark.parametrize("text", ["", "/nope x", "/fit onlyone", "/fit 'unclosed 24GB"])
def test_parse_command_errors(text):
    """Unknown commands, missing arguments and bad quoting are CommandParseErrors."""
    with pytest.raises(CommandParseError):
        parse_command(text)


def test_escape_defuses_mentions_and_markdown():
    """No pings and no formatting survive from Hub text."""
    out = escape("**x** @everyone <@123> <@&9> <#5> `code` ~~s~~ ||spoiler||")
    assert "@everyone" not in out and "<@123>" not in out and "<#5>" not in out
    assert "**" not in out and "`" not in out.replace("\\`", "")


@given(st.text(max_size=3000), st.integers(min_value=1, max_value=500))
def test_clean_bounds_length_and_drops_invisible(text, limit):
    """Cleaned text is at most `limit` characters with no control or zero-width characters."""
    out = clean(text, limit)
    assert len(out) <= limit
    assert not any(ch in out for ch in ("\u200b", "\x00", "\n", "\u202e"))


@given(st.text(alphabet="*_@<|`a ", max_size=3000), st.integers(min_value=1, max_value=500))
def test_escape_fits_its_limit_with_the_escapes_counted(text, limit):
    """Escapes can double a text's length; the escaped text still fits where it is put."""
    out = escape(text, limit)
    assert len(out) <= limit


def test_each_renderer_escapes_for_its_own_medium():
    """The same document: plain text on the terminal, escaped markdown on Discord; nothing to undo."""
    from bot._discord._embeds import to_markdown

    table = Table((Column("a_b", 5),), (("x*y",),))
    doc = Document("T_1", lines=((strong("bold"), " a*b ", code("c`d")),), sections=(Section("f", (table,)),), notes=("foot",))
    text = render_text(doc)
    assert "T_1" in text and "bold a*b cd" not in text and "bold a*b c`d" in text and "x*y" in text
    assert "**" not in text and "```" not in text and "\\" not in text
    md = to_markdown(doc)
    assert md.title == "T\\_1" and md.description == "**bold** a\\*b `cd`"
    assert md.fields[0].value == "```\na_b\nx*y\n```"  # inside a code block nothing is escaped


def test_hub_links_percent_encode_the_repo_id_once():
    """A hostile id cannot break out of a link, and a real one keeps its plain URL."""
    from bot._answer_fit import hub_url
    from bot._answer_misc import _link

    assert hub_url("Qwen/Qwen2.5-7B") == "https://huggingface.co/Qwen/Qwen2.5-7B"
    assert hub_url("org/a b%c)d") == "https://huggingface.co/org/a%20b%25c%29d"
    assert _link("org/a b%c)d").target == "https://huggingface.co/org/a%20b%25c%29d"
