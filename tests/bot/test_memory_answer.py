"""`fitbot model` says what each layer keeps: the `memory` JSON key and one compact line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import estimator
from bot._answer_model import render_layer_kinds
from bot.cli import main

HYBRIDS = Path(__file__).resolve().parents[2] / "bench" / "data" / "hybrid_configs.json"


def _model_json(db_path: Path, name: str) -> dict:
    result = CliRunner().invoke(main, ["--db", str(db_path), "model", name, "--json"], catch_exceptions=False)
    return json.loads(result.output)


def test_memory_key_of_gpt_oss(db_path):
    """gpt-oss-20b (anchor-models.md): 12 full layers grow, 12 sliding layers of window 128, 2,048 B each per token."""
    memory = _model_json(db_path, "gpt-oss-20b")["memory"]
    assert memory == {
        "kv_bytes_per_token_f16": 12 * 2048,
        "sliding": [{"window": 128, "layers": 12, "bytes_per_token_f16": 12 * 2048}],
        "compressed": [],
        "state_bytes_per_sequence": 0,
        "layer_kinds": {"sliding": 12, "full": 12},
    }


def test_memory_key_of_deepseek_v3(db_path):
    """DeepSeek-V3: 61 MLA layers, 70,272 B per token at f16 (anchor-models.md), no fixed state."""
    memory = _model_json(db_path, "ds v3")["memory"]
    assert memory["kv_bytes_per_token_f16"] == 70_272
    assert memory["layer_kinds"] == {"mla": 61}
    assert memory["state_bytes_per_sequence"] == 0


def test_memory_key_of_deepseek_v4_flash(db_path):
    """DeepSeek-V4-Flash: every layer a 128-token window of one 512-wide K=V row; ratio-4 layers add a row and
    the 128-wide indexer key per 4 tokens, ratio-128 layers a row per 128 tokens; no layer keeps every token."""
    catalog = json.loads((Path(__file__).resolve().parents[2] / "store/data/catalog/deepseek.json").read_text())
    config = next(m for m in catalog["models"] if m["repo_id"] == "deepseek-ai/DeepSeek-V4-Flash")["config"]
    ratios = config["compress_ratios"][: config["num_hidden_layers"]]
    csa, hca = ratios.count(4), ratios.count(128)
    memory = _model_json(db_path, "deepseek-v4-flash")["memory"]
    assert memory["kv_bytes_per_token_f16"] == 0
    assert memory["sliding"] == [{"window": 128, "layers": 43, "bytes_per_token_f16": 43 * 512 * 2}]
    assert memory["compressed"] == [
        {"ratio": 4, "layers": csa, "bytes_per_entry_f16": csa * (512 + 128) * 2},
        {"ratio": 128, "layers": hca, "bytes_per_entry_f16": hca * 512 * 2},
    ]
    # F32 compressor state: overlapping (ratio 4) windows keep 2·4 slots of 2·2·dim, others r slots of 2·dim.
    assert memory["state_bytes_per_sequence"] == 4 * (csa * 8 * 4 * (512 + 128) + hca * 128 * 2 * 512)
    assert memory["layer_kinds"] == {"sliding": ratios.count(0), "compressed-sparse": csa, "heavily-compressed": hca}


def test_compact_line_of_a_hybrid():
    """Qwen3-Next-80B-A3B: "48 layers: 36 Gated DeltaNet (fixed 2.1 MiB state each), 12 full attention (KV grows)"."""
    config = estimator.parse_model_config(json.loads(HYBRIDS.read_text(encoding="utf-8"))["models"][0]["config"])
    line = render_layer_kinds(estimator.summarize_memory(config))
    state_mib = 4 * (3 * (2 * 16 * 128 + 32 * 128) + 32 * 128 * 128) / 2**20  # llama.cpp n_embd_r + n_embd_s, F32
    assert line.startswith("48 layers: ")
    assert f"36 Gated DeltaNet (fixed {state_mib:.1f} MiB state each)" in line
    assert "12 full attention (KV grows)" in line


def test_cache_free_layers_are_not_called_windowed(db_path):
    """Nemotron Super 49B skips attention in 31 of 80 layers: they hold no cache, so the KV line counts
    only the 49 growing layers and names no "windowed/recurrent" ones."""
    result = CliRunner().invoke(main, ["--db", str(db_path), "model", "nvidia/Llama-3_3-Nemotron-Super-49B-v1"])
    assert "(8 KV heads × 128; 49 growing layers)" in result.output
    assert "31 MLP only (no cache)" in result.output


def test_fit_names_the_runtime_of_deepseek_v4_cache(db_path):
    """`fit deepseek-v4-flash 4x80GB`: the llama.cpp rows' KV is llama.cpp's DSV4 cache, the FP8 row's vLLM's
    fp8_ds_mla pages, which do not change with --kv-cache while llama.cpp's do; the answer says which is which."""
    def fit(*extra: str) -> dict:
        args = ["--db", str(db_path), "fit", "deepseek-v4-flash", "4x80GB", "--json", *extra]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        return {o["quant"]: o for o in json.loads(result.output)["options"]}

    f16, q8 = fit(), fit("--kv-cache", "q8_0")
    assert f16["FP8"]["runtime"] != "llama.cpp" and f16["Q4_K_M"]["runtime"] == "llama.cpp"
    assert f16["FP8"]["kv_cache_bytes"] == q8["FP8"]["kv_cache_bytes"]
    assert q8["Q4_K_M"]["kv_cache_bytes"] < f16["Q4_K_M"]["kv_cache_bytes"]
    text = CliRunner().invoke(main, ["--db", str(db_path), "fit", "deepseek-v4-flash", "4x80GB"]).output
    assert "llama_kv_cache_dsv4" in text and "fp8_ds_mla" in text


def test_explain_shows_the_deepseek_v4_cache_rule(db_path):
    """`--explain` on DeepSeek-V4 restates the window, the compressed rows and the runtime's rule, not K and V."""
    def explain(quant: str) -> str:
        args = ["--db", str(db_path), "fit", "deepseek-v4-flash", "4x80GB", "--explain", "--quant", quant]
        return CliRunner().invoke(main, args, catch_exceptions=False).output

    gguf, fp8 = explain("Q4_K_M"), explain("FP8")
    assert "21 layers one row per 4 tokens, 20 layers one row per 128 tokens" in gguf
    assert "llama_kv_cache_dsv4" in gguf and "1,024 B at f16" in gguf
    assert "584 B (vLLM fp8_ds_mla" in fp8
    assert "2 (K and V)" not in gguf + fp8


def test_compare_averages_deepseek_v4_compressed_rows(db_path):
    """`compare`: DeepSeek-V4-Flash's KV per token is its compressed rows spread over their r tokens (rounded up),
    not the 0 B of layers that keep every token; DeepSeek-V3's MLA line is unchanged."""
    catalog = json.loads((Path(__file__).resolve().parents[2] / "store/data/catalog/deepseek.json").read_text())
    config = next(m for m in catalog["models"] if m["repo_id"] == "deepseek-ai/DeepSeek-V4-Flash")["config"]
    ratios = config["compress_ratios"][: config["num_hidden_layers"]]
    per_128 = ratios.count(4) * 32 * (512 + 128) * 2 + ratios.count(128) * 512 * 2
    args = ["--db", str(db_path), "compare", "deepseek-v4-flash", "ds v3"]
    text = CliRunner().invoke(main, args, catch_exceptions=False).output
    assert f"KV ~{-(-per_128 // 128):,} B/token" in text
    assert "KV 70,272 B/token (f16)" in text


def test_kv_line_names_k_and_v_head_sizes_where_they_differ(db_path):
    """MiMo-V2-Flash's full-attention layers keep K rows of 192 and V rows of 128 per head: the line says both,
    and agrees with the bytes (9 layers x 2 bytes x 4 heads x (192 + 128) = 23,040)."""
    result = CliRunner().invoke(main, ["--db", str(db_path), "model", "XiaomiMiMo/MiMo-V2-Flash"])
    assert "KV cache 23,040 bytes per token at f16 (4 KV heads × K 192 / V 128; 9 growing layers" in result.output
