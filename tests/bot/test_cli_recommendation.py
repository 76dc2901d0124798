"""`fitbot fit --json` carries the policy's recommendation; the headline uses it (issue 12)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli import main

KEYS = {
    "quant",
    "file",
    "runtime",
    "context",
    "max_context",
    "kv_cache",
    "offload",
    "decode_tokens_per_s",
    "verdict",
    "launch",
    "notes",
}


def _fit(db_path, *args):
    return CliRunner().invoke(main, ["--db", str(db_path), "fit", *args], catch_exceptions=False)


def test_fit_json_recommendation_has_the_documented_keys(db_path):
    """recommendation holds the issue's keys; its launch line runs the picked quant at the picked context."""
    data = json.loads(_fit(db_path, "qwen3-30b-a3b", "RTX 3060", "--json").output)
    rec = data["recommendation"]
    assert KEYS <= set(rec)
    assert rec["runtime"] == "llama.cpp" and rec["file"] is None
    assert rec["verdict"] == "needs_offload" and rec["offload"]["kind"] == "experts"
    command = rec["launch"]["llama.cpp"]
    assert f"-{rec['quant']}.gguf" in command and f"-c {rec['context']}" in command
    assert f"--n-cpu-moe {rec['offload']['cpu_layers']}" in command
    assert rec["context"] <= rec["max_context"] and rec["decode_tokens_per_s"] > 0


def test_headline_is_the_recommendation(db_path):
    """The Best choice line names the recommended quant and runtime, and never a 2-bit pick here."""
    out = _fit(db_path, "qwen3-30b-a3b", "RTX 3060").output
    data = json.loads(_fit(db_path, "qwen3-30b-a3b", "RTX 3060", "--json").output)
    assert f"Best choice: {data['recommendation']['quant']} (llama.cpp)" in out
    assert "IQ2_XXS (" not in out


def test_context_first_headline_reaches_the_asked_context(db_path):
    """With --context 128k on 24GB the headline reaches 131,072 tokens and its "up to" is not smaller."""
    data = json.loads(_fit(db_path, "qwen2.5-32b", "24GB", "--context", "128k", "--json").output)
    rec = data["recommendation"]
    assert rec["context"] == 131072 <= rec["max_context"]
    assert rec["rope_scale"] == 4 and rec["native_context"] == 32768
