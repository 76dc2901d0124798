"""Memory per layer kind in each runtime's rule, against the rules as the runtimes' sources state them.

Expected figures are computed here from the runtimes' own formulas, written out independently:
* llama.cpp ``src/llama-kv-cache-iswa.cpp``: SWA cells = ``GGML_PAD(n_swa·n_seq_max + n_ubatch, n_pad)``,
  capped at the base cache size (``pad(n_ctx, 256)``);
* llama.cpp ``src/llama-hparams.cpp``: ``n_embd_r = (d_conv − 1)·(d_inner + 2·n_group·d_state)``,
  ``n_embd_s = d_state·d_inner``, one F32 row each per layer and sequence;
* vLLM ``vllm/v1/kv_cache_interface.py`` ``SlidingWindowSpec.max_memory_usage_bytes``:
  ``(cdiv(min(window − 1 + max_num_batched_tokens, max_model_len), block) + 1)`` blocks;
* vLLM ``mamba_utils.py``: Gated DeltaNet state in the model dtype, KDA's recurrent state in F32;
* vLLM ``DeepseekV32IndexerCache``: ``index_head_dim`` FP8 bytes + one F32 scale per 128 values.
The Qwen3-Next figures are checked against llama.cpp's own print_info for that model
(https://github.com/ggml-org/llama.cpp/issues/17578): n_embd_k_gqa 512, ssm_d_conv 4, ssm_d_inner 4096,
ssm_d_state 128, ssm_n_group 16.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import estimator
from estimator import CacheRule, KvCachePolicy, LayerKind

HYBRIDS = Path(__file__).resolve().parents[2] / "bench" / "data" / "hybrid_configs.json"
QWEN3_NEXT = json.loads(HYBRIDS.read_text(encoding="utf-8"))["models"][0]["config"]
LLAMA = KvCachePolicy(pad_cells=256, window_slack=512, rule=CacheRule.LLAMA_CPP)
VLLM = KvCachePolicy(window_slack=2048, rule=CacheRule.VLLM)

# gpt-oss-20b's attention as config.json states it: 24 layers alternating sliding (128) and full, 8 KV heads × 64.
GPT_OSS_20B = {
    "model_type": "gpt_oss", "hidden_size": 2880, "num_hidden_layers": 24, "num_attention_heads": 64,
    "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 201088, "sliding_window": 128,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
}
DEEPSEEK_V32_ATTENTION = {
    "model_type": "deepseek_v32", "hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
    "vocab_size": 129280, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128,
    "v_head_dim": 128, "q_lora_rank": 1536, "index_head_dim": 128, "index_n_heads": 64, "index_topk": 2048,
    "num_nextn_predict_layers": 1,
}


def _pad(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


@pytest.mark.parametrize("context", [100, 4096, 32768])
@pytest.mark.parametrize("n_seq", [1, 4])
def test_llama_cpp_caps_sliding_layers_at_window_times_sequences_plus_ubatch(context, n_seq):
    """llama.cpp: full layers keep pad(n_ctx) cells, SWA layers min(that, pad(n_swa·n_seq + n_ubatch))."""
    config = estimator.parse_model_config(GPT_OSS_20B)
    policy = KvCachePolicy(pad_cells=256, window_slack=512, rule=CacheRule.LLAMA_CPP, n_seq=n_seq)
    per_token = 2 * 8 * 64 * 2
    base = _pad(context * n_seq, 256)
    swa = min(base, _pad(128 * n_seq + 512, 256))
    assert estimator.estimate_kv_cache_bytes(config, context, "f16", policy) == 12 * per_token * (base + swa)


@pytest.mark.parametrize("context", [100, 2000, 32768])
def test_vllm_keeps_window_minus_one_plus_batched_tokens_in_blocks(context):
    """vLLM: a sliding layer holds cdiv(min(window − 1 + batched, len), 16) + 1 blocks of 16 tokens."""
    config = estimator.parse_model_config(GPT_OSS_20B)
    per_token = 2 * 8 * 64 * 2
    full = _pad(context, 16)
    sliding = (math.ceil(min(128 - 1 + 2048, context) / 16) + 1) * 16
    assert estimator.estimate_kv_cache_bytes(config, context, "f16", VLLM) == 12 * per_token * (full + sliding)


def test_qwen3_next_matches_llama_cpp_print_info():
    """Qwen3-Next-80B-A3B: 12 full layers of 512+512 values; 36 GDN layers of n_embd_r + n_embd_s F32 values."""
    config = estimator.parse_model_config(QWEN3_NEXT)
    d_conv, d_inner, d_state, n_group = 4, 4096, 128, 16
    n_embd_r = (d_conv - 1) * (d_inner + 2 * n_group * d_state)
    n_embd_s = d_state * d_inner
    assert config.layer_map.kind_counts() == {"gated-deltanet": 36, "full": 12}
    assert estimator.kv_bytes_per_token(config) == 12 * (512 + 512) * 2
    assert estimator.state_bytes_per_sequence(config) == 36 * 4 * (n_embd_r + n_embd_s)
    assert estimator.estimate_kv_cache_bytes(config, 4096, "f16", LLAMA) == (
        12 * 2048 * 4096 + 36 * 4 * (n_embd_r + n_embd_s)
    )


def test_vllm_keeps_gated_deltanet_state_in_the_model_dtype_and_kda_recurrent_in_f32():
    """vLLM: GDN conv and recurrent state at bf16 (2 bytes); KDA's recurrent matrix at F32, its conv at bf16."""
    qwen = estimator.parse_model_config(QWEN3_NEXT)
    conv, recurrent = 3 * (2 * 16 * 128 + 32 * 128), 32 * 128 * 128
    assert estimator.state_bytes_per_sequence(qwen, CacheRule.VLLM) == 36 * 2 * (conv + recurrent)
    kimi = estimator.parse_model_config({
        "model_type": "kimi_linear", "hidden_size": 2304, "num_hidden_layers": 4, "num_attention_heads": 32,
        "vocab_size": 163840, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128,
        "v_head_dim": 128, "torch_dtype": "bfloat16",
        "linear_attn_config": {"kda_layers": [1, 2, 3], "full_attn_layers": [4], "head_dim": 128, "num_heads": 32,
                               "short_conv_kernel_size": 4},
    })
    kda_conv, kda_recurrent = 3 * 3 * 32 * 128, 32 * 128 * 128
    assert [layer.kind for layer in kimi.layer_map.layers] == [LayerKind.KIMI_DELTA] * 3 + [LayerKind.MLA]
    assert estimator.state_bytes_per_sequence(kimi, CacheRule.VLLM) == 3 * (2 * kda_conv + 4 * kda_recurrent)
    assert estimator.state_bytes_per_sequence(kimi) == 3 * 4 * (kda_conv + kda_recurrent)


def test_dsa_indexer_key_per_runtime():
    """DeepSeek V3.2: the 576-value MLA latent plus the indexer key; vLLM stores 128 FP8 bytes + a 4-byte scale."""
    config = estimator.parse_model_config(DEEPSEEK_V32_ATTENTION)
    cache = config.layer_map.layers[0].attention
    assert cache is not None and cache.indexer_head_dim == 128
    assert estimator.attention_bytes_per_token(cache, "f16", CacheRule.LLAMA_CPP) == 576 * 2 + 128 * 2
    assert estimator.attention_bytes_per_token(cache, "f16", CacheRule.VLLM) == 576 * 2 + 128 + 4
    assert estimator.kv_bytes_per_token(config) == 61 * (576 + 128) * 2


@pytest.mark.parametrize("context", [4096, 32768])
def test_mtp_draft_kv_is_sized_from_the_chosen_context(context):
    """The NextN layer's KV grows with the context asked for, one MLA latent per token (not n_ctx_train)."""
    config = estimator.parse_model_config(DEEPSEEK_V32_ATTENTION)
    assert len(config.layer_map.mtp_layers) == 1
    assert estimator.estimate_mtp_draft_kv_bytes(config, context) == context * (576 + 128) * 2


def test_mtp_draft_weights_and_kv():
    """The draft's weights are its parameters at the chosen bits; its KV follows the context, not training length."""
    config = estimator.parse_model_config(DEEPSEEK_V32_ATTENTION)
    draft = estimator.estimate_mtp_draft(config, mtp_params=11_000_000_000, bits_per_weight=8.5, context=8192)
    assert draft.layers == 1
    assert draft.weights_bytes == 11_000_000_000 * 85 // 80
    assert draft.kv_bytes == 8192 * (576 + 128) * 2
    assert draft.total_bytes == draft.weights_bytes + draft.kv_bytes


def test_fit_uses_llama_cpp_rule_for_gguf_and_vllm_rule_for_fp8():
    """A GGUF row's KV is llama.cpp's (F32 state, 256-cell padding); the FP8 row is vLLM's (bf16 state)."""
    facts = estimator.ModelFacts(estimator.parse_model_config(QWEN3_NEXT), estimator.account_from_config(QWEN3_NEXT))
    report = estimator.estimate_fit(facts, estimator.parse_budget("8x H100"), context=10000, quants=("Q4_K_M", "FP8"))
    by_quant = {o.quant: o for o in report.options}
    config = facts.config
    llama = 12 * 2048 * _pad(10000, 256) + estimator.state_bytes_per_sequence(config, CacheRule.LLAMA_CPP)
    vllm = 12 * 2048 * _pad(10000, 16) + estimator.state_bytes_per_sequence(config, CacheRule.VLLM)
    assert by_quant["Q4_K_M"].kv_cache_bytes == llama
    assert by_quant["FP8"].kv_cache_bytes == vllm


def test_memory_summary_of_a_hybrid():
    """The summary behind `memory`: growing KV, no sliding groups, F32 state, and kinds with their state each."""
    summary = estimator.summarize_memory(estimator.parse_model_config(QWEN3_NEXT))
    per_layer_state = 4 * (3 * (2 * 16 * 128 + 32 * 128) + 32 * 128 * 128)
    assert summary.kv_bytes_per_token_f16 == 12 * 2048
    assert summary.sliding == ()
    assert summary.state_bytes_per_sequence == 36 * per_layer_state
    assert summary.layer_kinds == {"gated-deltanet": 36, "full": 12}
    assert {(k.kind, k.state_bytes_each) for k in summary.kinds} == {
        (LayerKind.GATED_DELTANET, per_layer_state), (LayerKind.FULL, 0)}


def test_sliding_groups_of_gpt_oss():
    """gpt-oss-20b: one window group of 12 layers at 2,048 B per token, and 12 growing layers."""
    summary = estimator.summarize_memory(estimator.parse_model_config(GPT_OSS_20B))
    assert [(g.window, g.layers, g.bytes_per_token_f16) for g in summary.sliding] == [(128, 12, 12 * 2048)]
    assert summary.kv_bytes_per_token_f16 == 12 * 2048


def test_llama4_without_no_rope_list_chunks_three_layers_in_four():
    """Llama-4-Maverick's config.json has no no_rope_layers: transformers puts a NoPE (global) layer every 4th."""
    config = estimator.parse_model_config({
        "model_type": "llama4_text", "hidden_size": 5120, "num_hidden_layers": 48, "num_attention_heads": 40,
        "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 202048, "attention_chunk_size": 8192,
    })
    kinds = [layer.kind for layer in config.layer_map.layers]
    assert kinds == [LayerKind.FULL if (i + 1) % 4 == 0 else LayerKind.CHUNKED for i in range(48)]
    assert {g.window for g in estimator.summarize_memory(config).sliding} == {8192}
