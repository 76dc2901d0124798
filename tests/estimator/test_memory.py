"""KV cache, GGUF weight sizes and llama.cpp buffers against published and measured figures."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import estimator
from estimator import GIB, MIB
from tests.factories import replica

CONTEXTS = (4096, 32768, 131072)

# Per anchor, from config.json (docs/reference/anchor-models.md "KV cache per token"): layers whose cache grows with
# context, windowed layers and their window, and the values each layer caches per token, row by row
# (K and V rows of kv_heads·head_dim; MLA caches one latent row of kv_lora_rank + qk_rope_head_dim).
KV_FACTS = {
    "llama-3.1-8b": (32, 0, 0, (8 * 128, 8 * 128)),
    "qwen2.5-32b-instruct": (64, 0, 0, (8 * 128, 8 * 128)),  # sliding_window set, use_sliding_window false
    "mixtral-8x7b": (32, 0, 0, (8 * 128, 8 * 128)),
    "qwen3-30b-a3b": (48, 0, 0, (4 * 128, 4 * 128)),
    "deepseek-v3": (61, 0, 0, (512 + 64,)),
    "gpt-oss-20b": (12, 12, 128, (8 * 64, 8 * 64)),
}
PUBLISHED_PER_TOKEN = {
    "llama-3.1-8b": 131_072, "qwen2.5-32b-instruct": 262_144, "mixtral-8x7b": 131_072,
    "qwen3-30b-a3b": 98_304, "deepseek-v3": 70_272, "gpt-oss-20b": 12 * 2_048,
}
BLOCKS = {"f16": (1, 2), "q8_0": (32, 34), "q4_0": (32, 18)}  # ggml: values per block, bytes per block

# llama.cpp tools/quantize README, Llama-3.1-8B: bits per weight and GiB.
PUBLISHED_GGUF = {
    "Q2_K": (3.1593, 2.95), "Q3_K_S": (3.6429, 3.41), "Q3_K_L": (4.2979, 4.02), "IQ4_XS": (4.4597, 4.17),
    "Q4_K_S": (4.6672, 4.36), "Q4_K_M": (4.8944, 4.58), "Q5_K_S": (5.5704, 5.21), "Q5_K_M": (5.7036, 5.33),
    "Q6_K": (6.5633, 6.14), "Q8_0": (8.5008, 7.95), "F16": (16.0005, 14.96),
}
ROPE_FREQS_BYTES = 256  # llama.cpp's rope_freqs tensor for llama3 rope scaling: 64 F32 values


def _row_bytes(values: int, kv_type: str) -> int:
    per_block, block_bytes = BLOCKS[kv_type]
    return math.ceil(values / per_block) * block_bytes


def _expected_kv(key: str, context: int, kv_type: str = "f16") -> int:
    full, windowed, window, rows = KV_FACTS[key]
    per_layer = sum(_row_bytes(n, kv_type) for n in rows)
    return full * context * per_layer + windowed * min(context, window) * per_layer


@pytest.mark.parametrize("key", list(KV_FACTS))
def test_kv_bytes_per_token_of_anchors(key, model_config):
    """KV bytes per token of context (f16) are the published figures, MLA's latent included."""
    assert estimator.kv_bytes_per_token(model_config(key)) == PUBLISHED_PER_TOKEN[key]
    full, _, _, rows = KV_FACTS[key]
    assert PUBLISHED_PER_TOKEN[key] == full * sum(2 * n for n in rows)


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("key", list(KV_FACTS))
def test_kv_cache_bytes_at_context(key, context, model_config):
    """The exact f16 cache at 4k/32k/128k is full layers × context + windowed layers × min(context, window)."""
    assert estimator.estimate_kv_cache_bytes(model_config(key), context) == _expected_kv(key, context)


@pytest.mark.parametrize("kv_type", ["q8_0", "q4_0"])
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("key", list(KV_FACTS))
def test_quantized_kv_cache_bytes(key, context, kv_type, model_config):
    """q8_0 stores 34 bytes and q4_0 18 bytes per 32 cached values, row by row."""
    config = model_config(key)
    assert estimator.estimate_kv_cache_bytes(config, context, kv_type) == _expected_kv(key, context, kv_type)
    full, _, _, rows = KV_FACTS[key]
    assert estimator.kv_bytes_per_token(config, kv_type) == full * sum(_row_bytes(n, kv_type) for n in rows)


def test_gpt_oss_sliding_layers_stop_growing(model_config):
    """gpt-oss-20b: past 128 tokens only the 12 full-attention layers grow, 2,048 bytes a token each."""
    config = model_config("gpt-oss-20b")
    at_128 = estimator.estimate_kv_cache_bytes(config, 128)
    assert at_128 == 24 * 128 * 2_048
    assert estimator.estimate_kv_cache_bytes(config, 1128) - at_128 == 12 * 1000 * 2_048


@pytest.mark.parametrize(("text", "expected"), [("F16", "f16"), ("q8", "q8_0"), ("Q4_0", "q4_0"), ("fp16", "f16")])
def test_parse_kv_type(text, expected):
    """KV cache type names normalise to f16, q8_0 or q4_0."""
    assert estimator.parse_kv_type(text) == expected


def test_unknown_kv_type_is_an_input_error():
    """An unknown KV cache type is an InputError that names the valid ones."""
    with pytest.raises(estimator.InputError, match="q8_0"):
        estimator.parse_kv_type("q5_1")


# --- llama.cpp: measured Llama-3.1-8B run ---------------------------------------------------------


def test_llama_cpp_cache_padding_matches_measured_run(model_config):
    """llama.cpp's f16 cache for Llama-3.1-8B at 8192 tokens is the logged 1024.00 MiB."""
    policy = estimator.LLAMA_CPP_PROFILE.kv_policy
    assert estimator.estimate_kv_cache_bytes(model_config("llama-3.1-8b"), 8192, "f16", policy) == 1024 * MIB


def test_llama_cpp_windowed_layers_keep_window_plus_ubatch(model_config):
    """Under llama.cpp, gpt-oss's sliding layers keep 128 + 512 cells, padded to 768."""
    policy = estimator.LLAMA_CPP_PROFILE.kv_policy
    got = estimator.estimate_kv_cache_bytes(model_config("gpt-oss-20b"), 32768, "f16", policy)
    assert got == 12 * 32768 * 2_048 + 12 * 768 * 2_048


@pytest.mark.parametrize("quant", list(PUBLISHED_GGUF))
def test_gguf_sizes_of_llama_3_1_8b(quant, header_accounting, model_config):
    """GGUF file size (weights + rope_freqs) is within 2% of the published GiB, and its bits per weight
    match the published figure to the fourth decimal."""
    accounting = header_accounting("llama-3.1-8b")
    size = estimator.layout_weights(quant, accounting, model_config("llama-3.1-8b")).total + ROPE_FREQS_BYTES
    bpw, gib = PUBLISHED_GGUF[quant]
    assert size / GIB == pytest.approx(gib, rel=0.02)
    assert size * 8 / 8_030_261_248 == pytest.approx(bpw, abs=0.00006)


def test_q4_k_m_gpu_and_host_weights_match_measured_run(header_accounting, model_config):
    """Q4_K_M Llama-3.1-8B: 4403.49 MiB of weights on the GPU and a 281.81 MiB token embedding on the host."""
    layout = estimator.layout_weights("Q4_K_M", header_accounting("llama-3.1-8b"), model_config("llama-3.1-8b"))
    on_gpu = (layout.total - layout.embedding + ROPE_FREQS_BYTES) / MIB
    assert round(on_gpu, 2) == 4403.49
    assert round(layout.embedding / MIB, 2) == 281.81


def test_compute_buffers_match_measured_run(model_config):
    """Without flash attention at 8192 tokens, llama.cpp's GPU compute buffer is 560.00 MiB and host 24.01 MiB."""
    profile = dataclasses.replace(estimator.LLAMA_CPP_PROFILE, flash_attention=False)
    buffers = estimator.estimate_compute_buffers(model_config("llama-3.1-8b"), 8192, profile)
    assert abs(buffers.device_bytes / MIB - 560.00) <= 0.01
    assert abs(buffers.host_bytes / MIB - 24.01) <= 0.01 + 1e-9


def test_flash_attention_shrinks_the_compute_buffer(model_config):
    """With flash attention (the default profile) the GPU compute buffer is smaller than without it."""
    config = model_config("llama-3.1-8b")
    with_fa = estimator.estimate_compute_buffers(config, 8192, estimator.LLAMA_CPP_PROFILE)
    without = estimator.estimate_compute_buffers(
        config, 8192, dataclasses.replace(estimator.LLAMA_CPP_PROFILE, flash_attention=False)
    )
    assert with_fa.device_bytes < without.device_bytes


# --- monotonicity -------------------------------------------------------------------------------

_POLICIES = [estimator.LLAMA_CPP_PROFILE.kv_policy, estimator.TRANSFORMERS_PROFILE.kv_policy]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(KV_FACTS)), st.sampled_from(sorted(BLOCKS)), st.sampled_from(_POLICIES),
    st.integers(1, 300_000), st.integers(0, 300_000),
)
def test_kv_cache_is_monotone_in_context(key, kv_type, policy, context, extra):
    """More context never needs less KV cache, under any cache type or runtime policy."""
    config = estimator.parse_model_config(replica(key).config)
    smaller = estimator.estimate_kv_cache_bytes(config, context, kv_type, policy)
    assert smaller <= estimator.estimate_kv_cache_bytes(config, context + extra, kv_type, policy)


_FIT_QUANTS = ("BF16", "FP8", "Q8_0", "Q4_K_M", "IQ2_XXS")


@settings(max_examples=25, deadline=None)
@given(
    key=st.sampled_from(["llama-3.1-8b", "gpt-oss-20b", "qwen3-30b-a3b"]),
    budget=st.sampled_from(["24GB", "2x24GB", "RTX 4090", "8GB"]),
    context=st.integers(1, 131_072), extra=st.integers(0, 65_536),
)
def test_fit_totals_are_monotone_in_context(key, budget, context, extra, model_config, config_accounting):
    """estimate_fit's per-option total bytes never fall as the context grows."""
    model = estimator.ModelFacts(model_config(key), config_accounting(key))
    parsed = estimator.parse_budget(budget)
    small = estimator.estimate_fit(model, parsed, context=context, quants=_FIT_QUANTS)
    large = estimator.estimate_fit(model, parsed, context=context + extra, quants=_FIT_QUANTS)
    for a, b in zip(small.options, large.options, strict=True):
        assert a.quant == b.quant
        assert a.total_bytes <= b.total_bytes, a.quant
