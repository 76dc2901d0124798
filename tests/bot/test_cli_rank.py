"""`fitbot rank BUDGET`: what can I run? (issue 12 §4)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main


def _run(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), "rank", *args], catch_exceptions=False)


def test_rank_json_lists_runnable_models(db_path):
    """--json lists {model, quant, file, context, decode_tokens_per_s, verdict, runtime}, all runnable."""
    result = _run(db_path, "RTX 3090", "--json", "--limit", "5")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert 0 < len(rows) <= 5
    for row in rows:
        assert set(row) == {"model", "quant", "file", "context", "decode_tokens_per_s", "verdict", "runtime"}
        assert row["context"] >= 8192 and row["decode_tokens_per_s"] >= 5
        assert row["verdict"] in ("fits", "needs_offload") and row["runtime"] == "llama.cpp"


def test_rank_code_keeps_coder_models_and_says_how_it_ranks(db_path):
    """--use code lists only coder models; the text answer names its ranking signals."""
    result = _run(db_path, "RTX 3090", "--use", "code")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()[1:-1] if "/" in line.split()[0]]
    assert listed and all("code" in m.lower() for m in listed)
    assert "downloads and likes, recency and size class" in result.output


def test_rank_unknown_use_is_an_input_error(db_path):
    """An unknown use exits 2 with the four uses named."""
    result = CliRunner().invoke(main, ["--db", str(db_path), "rank", "24GB", "--use", "poetry"])
    assert result.exit_code == 2
    assert "chat, code, long_context, vision" in result.output
