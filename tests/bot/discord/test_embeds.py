"""Document → embeds: whatever the document holds, no embed breaks a Discord limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot._answer_fit import render_fit
from bot._discord import render_embeds, split_text
from bot._discord._embeds import EmbedContent as Document
from bot._discord._embeds import EmbedField as Field
from bot._document import Document as Answer
from bot._safe import clean
from bot._service import FitAnswer, ResolvedModel
from estimator import ModelFacts, estimate_fit, parse_budget
from store import Resolution, load_bundled_catalog

LIMITS = {"title": 256, "description": 4096, "field_name": 256, "field_value": 1024, "footer": 2048, "fields": 25, "total": 6000}

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000)
lines = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400), max_size=40).map("\n".join)
fenced = lines.map(lambda body: f"```\n{body}\n```")
# Hypothesis favours short strings; sized filler makes every limit (and their sum) reachable.
filler = st.builds(lambda n, c: (c * n), st.integers(0, 9000), st.sampled_from(["x", "é ", "\\*", "a\n", "`"]))
fields = st.lists(
    st.builds(Field, st.text(max_size=400), st.one_of(text, lines, fenced, st.just("")), st.booleans()), max_size=40
)
documents = st.builds(
    Document,
    title=st.one_of(st.text(max_size=600), filler.map(lambda t: t[:600])),
    description=st.one_of(text, lines, filler),
    fields=fields.map(tuple),
    footer=st.one_of(st.text(max_size=3000), filler.map(lambda t: t[:3000])),
    url=st.none(),
)


def assert_within_limits(embed) -> None:
    data = embed.to_dict()
    assert len(data.get("title", "")) <= LIMITS["title"]
    assert len(data.get("description", "")) <= LIMITS["description"]
    assert len(data.get("fields", [])) <= LIMITS["fields"]
    for f in data.get("fields", []):
        assert 1 <= len(f["name"]) <= LIMITS["field_name"] and f["name"].strip()
        assert 1 <= len(f["value"]) <= LIMITS["field_value"] and f["value"].strip()
    assert len(data.get("footer", {}).get("text", "")) <= LIMITS["footer"]
    total = len(data.get("title", "")) + len(data.get("description", "")) + len(data.get("footer", {}).get("text", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in data.get("fields", []))
    assert total <= LIMITS["total"]
    assert len(embed) == total  # discord.py's own count agrees with ours


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_no_embed_exceeds_any_limit(doc: Document) -> None:
    """Titles, descriptions, fields, footers and totals stay within Discord's limits, on every page."""
    pages = render_embeds(doc)
    assert pages
    for embed in pages:
        assert_within_limits(embed)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=60), min_size=1, max_size=200))
def test_long_field_values_are_split_not_lost(rows: list[str]) -> None:
    """A table longer than 1,024 characters continues in further fields: every row survives, in order."""
    doc = Document(title="t", fields=(Field("table", "\n".join(rows)),))
    shown = [f.value for e in render_embeds(doc) for f in e.fields]
    assert "\n".join(shown) == "\n".join(rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(codec="ascii", exclude_characters="`\n"), min_size=20, max_size=80), min_size=60, max_size=120))
def test_split_code_blocks_stay_balanced(rows: list[str]) -> None:
    """Each chunk of a split ``` block opens and closes its own fence, so each renders as a table."""
    value = "```\n" + "\n".join(rows) + "\n```"
    chunks = split_text(value, 1024)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert len(chunk) <= 1024
        assert chunk.startswith("```") and chunk.endswith("```") and chunk.count("```") == 2


def test_pages_are_numbered_in_the_footer() -> None:
    """An answer that needs several embeds says which page each is."""
    doc = Document(title="t", description="x" * 3000, fields=tuple(Field(f"f{i}", "y" * 1000) for i in range(10)), footer="note")
    pages = render_embeds(doc)
    assert len(pages) >= 3
    assert [p.footer.text for p in pages] == [f"note · page {n}/{len(pages)}" for n in range(1, len(pages) + 1)]


_CATALOG = load_bundled_catalog()


@pytest.mark.parametrize("budget", ["8GB", "24GB", "2x3090 + 64GB RAM", "M3 Max 128GB", "h200"])
def test_every_bundled_model_renders_within_limits(budget: str) -> None:
    """The real /fit answer for every bundled model, on several budgets, fits in one embed."""
    parsed = parse_budget(budget)
    for record in _CATALOG:
        report = estimate_fit(ModelFacts(record.config, record.accounting), parsed)
        answer = FitAnswer(ResolvedModel(record, Resolution(record.repo_id, False, ("a/" + "x" * 95,) * 3)), parsed, report)
        pages = render_embeds(render_fit(answer))
        assert len(pages) == 1, record.repo_id
        assert_within_limits(pages[0])


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=300), st.integers(min_value=1, max_value=2**45))
def test_hostile_repo_ids_render_safely(name: str, params: int) -> None:
    """Any repo id (markdown, mentions, huge) renders within limits and never as a live mention."""
    hostile = f"{name}/@everyone<@123>**x**"
    doc = Answer(title=clean(hostile, 200), lines=((clean(hostile, 100), f" has {params:,} parameters"),))
    for embed in render_embeds(doc):
        assert_within_limits(embed)
        assert "@everyone" not in embed.title and "<@123>" not in embed.description
        assert not re.search(r"(?<!\\)\*\*x", embed.description or "")
