"""DeepSeek-V4's cache per runtime, from the catalog's config (transformers' own caches are compared in
tests/estimator/test_cache_vs_transformers.py).

vLLM (FlashMLA, ``fp8_ds_mla``) stores other bytes than transformers, so its rule is checked from the config
with the page sizes its specs give, read from vllm-project/vllm:

- every layer's window: ``DeepseekV4SWACache`` (vllm/v1/attention/backends/mla/sparse_swa.py@03dc564) is a
  ``SlidingWindowMLASpec`` of 64-token blocks, ``alignment=576``; ``get_kv_cache_shape`` gives
  ``(num_blocks, block_size, 584)`` ("448 NoPE + 128 RoPE + 8 fp8 scale"): a 64 × 584 = 37,376-byte page
  padded to 37,440 (65 × 576; ``_apply_alignment_padding`` in vllm/v1/kv_cache_interface.py);
  ``SlidingWindowSpec.max_memory_usage_bytes`` keeps
  ``cdiv(min(window − 1 + batched, max_model_len), block) + 1`` pages;
- the compressed rows: ``DeepseekV4Attention.get_kv_cache_spec``
  (vllm/models/deepseek_v4/attention.py@e6643ec)
  is an ``MLAAttentionSpec`` with ``compress_ratio`` r, whose ``storage_block_size`` is ``block_size // r``
  rows of 584 bytes (``real_page_size_bytes``); with 256-token blocks (``get_preferred_block_size``) that is
  64 × 584 → 37,440 bytes for r = 4 and 2 × 584 = 1,168 → 1,728 (3 × 576) for r = 128, one page per 256
  tokens of ``max_model_len`` (``FullAttentionSpec.max_memory_usage_bytes``);
- the indexer keys on r = 4 layers: ``DeepseekV4IndexerCache``, ``head_dim + head_dim // 128 * 4`` = 132 bytes
  ("128 fp8 + 4 fp32 scale"), 64 × 132 = 8,448 → 8,640 bytes a page;
- the compressors' state: ``CompressorStateCache`` (vllm/models/deepseek_v4/compressor.py@91fe050), F32,
  ``state_dim = 2 · coff · head_dim``, ``sliding_window = coff · r``, 4-slot blocks for r = 4 and 8-slot
  blocks for r = 128: 4 × 2048 × 4 = 32,768 → 32,832 bytes (r = 4, 512 wide), 8 × 1024 × 4 = 32,768 →
  32,832 (r = 128), 4 × 512 × 4 = 8,192 → 8,640 (the indexer's, 128 wide).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import estimator
from estimator._kv_cache import LLAMA_CPP_POLICY, VLLM_POLICY

CATALOG = Path(__file__).resolve().parents[2] / "store" / "data" / "catalog" / "deepseek.json"
BATCHED = VLLM_POLICY.window_slack  # max_num_batched_tokens
SWA_PAGE, CSA_PAGE, HCA_PAGE, INDEXER_PAGE = 37_440, 37_440, 1_728, 8_640
CSA_STATE_PAGE, HCA_STATE_PAGE, INDEXER_STATE_PAGE = 32_832, 32_832, 8_640


def _config(size: str) -> tuple[estimator.ModelConfig, list[int]]:
    models = json.loads(CATALOG.read_text(encoding="utf-8"))["models"]
    raw = next(m for m in models if m["repo_id"] == f"deepseek-ai/DeepSeek-V4-{size}")["config"]
    return estimator.parse_model_config(raw), raw["compress_ratios"][: raw["num_hidden_layers"]]


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _vllm_expected(ratios: list[int], context: int) -> int:
    swa = (_cdiv(min(128 - 1 + BATCHED, context), 64) + 1) * SWA_PAGE
    blocks = _cdiv(context, 256)
    csa_state = (_cdiv(min(2 * 4 - 1 + BATCHED, context), 4) + 1) * (CSA_STATE_PAGE + INDEXER_STATE_PAGE)
    hca_state = (_cdiv(min(128 - 1 + BATCHED, context), 8) + 1) * HCA_STATE_PAGE
    csa = blocks * (CSA_PAGE + INDEXER_PAGE) + csa_state
    hca = blocks * HCA_PAGE + hca_state
    return len(ratios) * swa + ratios.count(4) * csa + ratios.count(128) * hca


@pytest.mark.parametrize("size", ["Flash", "Pro"])
@pytest.mark.parametrize("context", [100, 8192, 131_072, 1_048_576])
def test_vllm_pages_per_sequence(size: str, context: int) -> None:
    """vLLM keeps each spec's pages for one sequence (fp8_ds_mla, whatever KV type is asked for)."""
    config, ratios = _config(size)
    for kv_type in ("f16", "q8_0"):
        assert estimator.estimate_kv_cache_bytes(config, context, kv_type, VLLM_POLICY) == _vllm_expected(
            ratios, context
        )


def test_every_layer_keeps_a_window_and_compressed_layers_grow() -> None:
    """Flash: 43 layers of one 512-wide K=V row in a 128-token window; ratio-4 layers carry the 128-wide
    indexer; the MTP block keeps the window only (vLLM gives it compress ratio 1)."""
    config, ratios = _config("Flash")
    layers = config.layer_map.layers
    assert [layer.attention.compress_ratio for layer in layers if layer.attention] == [
        max(1, r) for r in ratios
    ]
    assert {(a.k_values, a.v_values, a.window) for a in (layer.attention for layer in layers) if a} == {
        (512, 0, 128)
    }
    assert {
        layer.attention.indexer_head_dim for layer in layers if layer.kind.value == "compressed-sparse"
    } == {128}
    assert [layer.attention.compress_ratio for layer in config.layer_map.mtp_layers if layer.attention] == [1]
    assert estimator.kv_bytes_per_token(config) == 0


@pytest.mark.parametrize("context", [1000, 8192, 1_048_576])
def test_exact_rule_counts_entries_once_their_tokens_arrived(context: int) -> None:
    """Without a runtime's padding: 128 window rows, ⌊context / r⌋ entries (with the indexer key at
    r = 4) at the KV type, and the F32 compressor state (2·4 slots of 2·2·(512 + 128) at r = 4,
    128 slots of 2·512 at r = 128)."""
    config, ratios = _config("Flash")
    csa, hca = ratios.count(4), ratios.count(128)
    for kv_type, row in (("f16", 2 * 512), ("q8_0", 16 * 34)):
        index_row = 2 * 128 if kv_type == "f16" else 4 * 34
        window = len(ratios) * min(context, 128) * row
        entries = csa * (context // 4) * (row + index_row) + hca * (context // 128) * row
        state = 4 * (csa * 8 * 4 * (512 + 128) + hca * 128 * 2 * 512)
        assert estimator.estimate_kv_cache_bytes(config, context, kv_type) == window + entries + state


@pytest.mark.parametrize(("context", "csa_cells", "hca_cells"), [(1000, 256, 256), (100_000, 25_088, 1024)])
def test_llama_cpp_rule(context: int, csa_cells: int, hca_cells: int) -> None:
    """llama.cpp (``llama_kv_cache_dsv4``, ggml-org/llama.cpp@8eb9c86 src/llama-kv-cache-dsv4.cpp): the
    window in the ISWA cache, ``pad(min(n_ctx, 128 + n_ubatch), 256)`` K-only rows on every layer; the
    compressed rows and the indexer keys in ``GGML_PAD(dsv4_comp_size(kv_size, r), 256)`` cells,
    ``dsv4_comp_size`` being ``max(1, ⌈kv_size / r⌉)``; the compressor state in F32, kv and score planes of
    ``state_size × n_embd_state``: 8 × 1,024 (CSA), 128 × 512 (HCA), 8 × 256 (the indexer's)."""
    config, ratios = _config("Flash")
    csa, hca = ratios.count(4), ratios.count(128)
    row, index_row = 2 * 512, 2 * 128
    window = len(ratios) * 768 * row  # pad(128 + 512, 256)
    entries = csa * csa_cells * (row + index_row) + hca * hca_cells * row
    state = csa * 2 * 4 * (8 * 1024 + 8 * 256) + hca * 2 * 4 * 128 * 512
    assert (
        estimator.estimate_kv_cache_bytes(config, context, "f16", LLAMA_CPP_POLICY)
        == window + entries + state
    )


def test_growth_per_token_is_the_compressed_rate() -> None:
    """Past the window, each 128 more tokens add 32 ratio-4 entries and one ratio-128 entry per layer."""
    config, ratios = _config("Pro")
    csa, hca = ratios.count(4), ratios.count(128)
    more = estimator.estimate_kv_cache_bytes(config, 65_536 + 128) - estimator.estimate_kv_cache_bytes(
        config, 65_536
    )
    assert more == csa * 32 * 2 * (512 + 128) + hca * 2 * 512
    assert estimator.growing_bytes_per_token(config) == -(-more // 128)
