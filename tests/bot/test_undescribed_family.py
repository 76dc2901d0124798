"""A family no builder describes: its config-derived sizes are never shown as counts (issue 10 §3).

Every surface that prints parameter counts is checked with the same record: /model (text and JSON are
in test_local_checkpoint.py), the dataset export, the daily listing, /compare and /define's live example.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import estimator
from bot._answer_define import live_example
from bot._answer_misc import ListingEntry, render_compare, render_listing
from bot._export import export_row
from bot._document import render_text
from bot._service import ResolvedModel
from store import GlossaryEntry, ModelRecord
from store._names import Resolution

_RAW = {"model_type": "brand_new_arch", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "vocab_size": 128, "intermediate_size": 96, "num_local_experts": 4, "num_experts_per_tok": 2}
_KNOWN = {**_RAW, "model_type": "mixtral"}


def _record(repo_id: str, raw: dict) -> ModelRecord:
    accounting = estimator.account_from_config(raw)
    return ModelRecord(repo_id, None, "config", "ok", None, estimator.parse_model_config(raw), accounting)


def test_the_records_differ_only_in_being_described() -> None:
    """The fixture: one undescribed family, one described family of the same shape."""
    assert not _record("x/new", _RAW).accounting.counts_known
    assert _record("x/mixtral", _KNOWN).accounting.counts_known


def test_export_gives_no_count_for_an_undescribed_family() -> None:
    """The export keeps the layout but leaves total, active and the components empty."""
    row = export_row(_record("x/new", _RAW))
    assert row["total_params"] is None and row["active_params"] is None and row["params_attention"] is None
    assert row["model_type"] == "brand_new_arch" and row["moe_num_experts"] == 4
    assert export_row(_record("x/mixtral", _KNOWN))["total_params"] is not None


def test_listing_says_counts_need_the_headers() -> None:
    """The daily listing line names no parameter count for it, and still gives the layout."""
    record = _record("x/new", _RAW)
    text = render_text(render_listing([ListingEntry(record, None)], datetime(2026, 12, 1, tzinfo=UTC),
                                      date(2026, 12, 2)))
    assert "parameter counts need the headers" in text and "MoE 4 experts / top-2" in text
    assert f"{record.accounting.total_params:,}" not in text


def test_compare_marks_the_size_as_an_estimate() -> None:
    """/compare shows the undescribed side as ≈ an estimate, and the ratio as "about"."""
    new = ResolvedModel(_record("x/new", _RAW), Resolution("x/new", True))
    known = ResolvedModel(_record("x/mixtral", _KNOWN), Resolution("x/mixtral", True))
    text = render_text(render_compare(new, known))
    assert "estimate: needs the headers" in text and " about " in text
    assert f"({new.record.accounting.total_params:,})" not in text


def test_define_skips_a_count_example_from_an_undescribed_family() -> None:
    """/define's live example never quotes such a model's size as an exact count."""
    entry = GlossaryEntry("parameter", "Parameter", "text", example="param_count")
    assert live_example(entry, _record("x/new", _RAW)) is None
    assert "has exactly" in (live_example(entry, _record("x/mixtral", _KNOWN)) or "")
