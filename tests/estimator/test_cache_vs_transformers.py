"""KV cache and fixed state per layer against what transformers' own cache object holds.

For every family of issue 10 that transformers ships, a tiny random model is built from its config
(``AutoModelForCausalLM.from_config``), run forward over more tokens than its sliding window, then
one more decode step, and each layer of the model's own cache is compared with our per-layer map:

* attention: K and V values per token (at f16: 2 bytes a value), and for sliding layers the tokens
  kept: transformers keeps ``window − 1`` past tokens, so the window we read is the one it uses;
* MLA: transformers 5.x caches the latent (``kv_lora_rank`` as "K", ``qk_rope_head_dim`` as "V"),
  the same values llama.cpp and vLLM keep, so it is compared directly; the DSA indexer key too;
* recurrent and convolution state: transformers keeps the whole convolution window (``d_conv``
  columns) where llama.cpp and vLLM keep ``d_conv − 1`` (llama.cpp ``n_embd_r``: "the first column
  of the conv_state is shifted out each time"), so the runtime rule is checked as
  ``(columns − 1) · channels``; the recurrent matrix is compared element for element. llama.cpp
  keeps both in F32, which is what ``state_bytes_per_sequence`` reports;
* DeepSeek-V4 (prefilled past the window and several compress boundaries): the window of K=V rows
  (``DeepseekV4HCACache``/``CSACache`` keep K and V as one tensor; the window-only layer's
  ``DynamicSlidingWindowLayer`` stores a second, equal copy as V, which the runtimes do not: vLLM's
  ``DeepseekV4SWACache`` keeps one 584-byte row, so that copy is not counted), ``⌊seen / r⌋``
  compressed entries and as many indexer keys, ``seen mod r`` buffered tokens and, with overlapping
  windows, the previous window's r tokens: within the ``coff · r`` slots the runtimes keep as
  compressor state. vLLM stores other bytes than transformers (FP8 rows); its rule is tested from
  the config in tests/estimator/test_deepseek_v4_cache.py.
"""

from __future__ import annotations

import pytest

import estimator
from bench.tiny_families import CACHE_FAMILIES, cache_config, run_cache_family

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module", params=sorted(CACHE_FAMILIES))
def family_run(request):
    return (request.param, *run_cache_family(request.param))


def test_each_layer_holds_what_we_predict(family_run):
    """Per layer: K/V values per token, tokens kept in a window, the indexer key and the state equal the cache's."""
    family, ours, held, seen = family_run
    assert len(ours.layer_map.layers) == len(held)
    for i, (layer, cached) in enumerate(zip(ours.layer_map.layers, held, strict=True)):
        where = f"{family} layer {i} ({layer.kind})"
        attention = layer.attention
        if attention is None:
            assert (cached.k_values, cached.v_values) == (0, 0), where
        elif attention.compress_ratio:
            _check_deepseek_v4(attention, cached, seen, where)
        else:
            assert attention.k_values + attention.v_values == cached.k_values + cached.v_values, where
            if attention.kind != estimator.LayerKind.MLA:
                assert (attention.k_values, attention.v_values) == (cached.k_values, cached.v_values), where
            assert attention.indexer_head_dim == cached.indexer_values, where
            kept = seen if attention.window is None else min(seen, attention.window - 1)
            assert cached.tokens == kept, where
        state = layer.state
        assert (state.conv_values if state else 0) == cached.conv_runtime_values, where
        assert (state.recurrent_values if state else 0) == cached.recurrent_values, where


def _check_deepseek_v4(attention, cached, seen: int, where: str) -> None:
    """One DeepSeek-V4 layer: its K=V window, compressed entries, indexer keys and compressor buffers."""
    assert attention.v_values == 0, where
    assert attention.k_values == cached.k_values, where
    assert cached.v_values in (0, cached.k_values), where  # 0: one tensor; else the window-only layer's copy
    assert cached.tokens == min(seen, attention.window - 1), where
    ratio = attention.compress_ratio if attention.compressed else 0
    assert cached.compress_rate == ratio, where
    assert cached.compressed_entries == (seen // ratio if ratio else 0), where
    assert cached.compressed_values == (attention.k_values if ratio else 0), where
    assert cached.indexer_entries == (seen // ratio if attention.indexer_head_dim else 0), where
    assert cached.indexer_values == attention.indexer_head_dim, where
    assert cached.buffered_tokens == (seen % ratio if ratio else 0), where
    assert cached.compressor_state_values == attention.compressor_state_values, where
    if ratio:  # what transformers carries between calls fits the runtimes' coff·r state slots
        coff = 2 if attention.kind == estimator.LayerKind.COMPRESSED_SPARSE else 1
        assert cached.buffered_tokens + cached.overlap_tokens <= coff * ratio, where


def test_model_totals_at_f16_and_f32(family_run):
    """Growing bytes per token (f16) and fixed state per sequence (llama.cpp's F32) sum the cache's layers."""
    family, ours, held, seen = family_run
    growing = sliding = 0
    compressed: dict[int, int] = {}
    for layer, cached in zip(ours.layer_map.layers, held, strict=True):
        per_token = 2 * (cached.k_values + cached.v_values + cached.indexer_values)
        if layer.attention is not None and layer.attention.compress_ratio:  # V4: one K=V row a token
            sliding += 2 * cached.k_values
            if cached.compress_rate:
                entry = 2 * (cached.compressed_values + cached.indexer_values)
                compressed[cached.compress_rate] = compressed.get(cached.compress_rate, 0) + entry
        elif layer.attention is not None and layer.attention.window is not None:
            sliding += per_token
        else:
            growing += per_token
    assert estimator.kv_bytes_per_token(ours) == growing, family
    assert sum(n_bytes for _, _, n_bytes in estimator.sliding_groups(ours)) == sliding, family
    assert {r: n_bytes for r, _, n_bytes in estimator.compressed_groups(ours)} == compressed, family
    state = sum(4 * (c.conv_runtime_values + c.recurrent_values + c.compressor_state_values) for c in held)
    assert estimator.state_bytes_per_sequence(ours) == state, family
    if compressed:  # DeepSeek-V4 at the length it ran: the window (its last tokens), the entries, the state
        entries = sum(2 * c.compressed_entries * (c.compressed_values + c.indexer_values) for c in held)
        window = sum(2 * min(seen, layer.attention.window) * c.k_values
                     for layer, c in zip(ours.layer_map.layers, held, strict=True))
        assert estimator.estimate_kv_cache_bytes(ours, seen) == window + entries + state, family


def test_every_hybrid_family_is_covered():
    """The test reaches each memory kind of issue 10 that transformers ships a family for."""
    kinds: set[str] = set()
    for model_type in CACHE_FAMILIES:
        hf_config = cache_config(model_type)
        kinds |= set(estimator.parse_model_config(hf_config.to_dict()).layer_map.kind_counts())
    expected = {kind.value for kind in estimator.LayerKind} - {"mlp-only"}
    assert expected <= kinds | {"mlp-only"}, expected - kinds


# Published config.json files name the layers with the family's own key, not ``layer_types``
# (which transformers derives and writes back): Qwen3-Next/Qwen3.5 full_attention_interval, LFM2
# full_attn_idxs, Kimi-Linear linear_attn_config (1-indexed), Nemotron-H hybrid_override_pattern,
# MiniMax-01 attn_type_list, Jamba attn_layer_period/offset, Bamba attn_layer_indices, Gemma 4
# global_head_dim / num_global_key_value_heads.
PUBLISHED_KEYS: dict[str, dict[str, object]] = {
    "qwen3_next": {"full_attention_interval": 2},
    "qwen3_5_text": {"full_attention_interval": 2},
    "lfm2": {"full_attn_idxs": [1, 3]},
    "kimi_linear": {"linear_attn_config": CACHE_FAMILIES["kimi_linear"]["linear_attn_config"]},
    "nemotron_h": {"hybrid_override_pattern": "M*-M", "num_hidden_layers": 4},
    "minimax": {"attn_type_list": [0, 1, 0, 1]},
    "jamba": {"attn_layer_period": 2, "attn_layer_offset": 1},
    "bamba": {"attn_layer_indices": [1, 3]},
    # Gemma 4's config.json states the global layers' head size and KV heads; transformers turns them
    # into per_layer_config, which it writes back instead.
    "gemma4_text": {"global_head_dim": 48, "num_global_key_value_heads": 1,
                    "layer_types": CACHE_FAMILIES["gemma4_text"]["layer_types"]},
    # DeepSeek's config.json lists compress_ratios (0 window only, 4 CSA with the indexer, else HCA).
    "deepseek_v4": {"compress_ratios": [0, 4, 8, 4, 0]},
}


@pytest.mark.parametrize("model_type", sorted(PUBLISHED_KEYS))
def test_published_keys_give_the_same_map(model_type):
    """Without ``layer_types``, the family's own layer key yields the map that matched transformers' cache."""
    full = cache_config(model_type).to_dict()
    derived = ("layer_types", "layers_block_type", "attn_type_list", "per_layer_config")
    published = {k: v for k, v in full.items() if k not in derived}
    published |= PUBLISHED_KEYS[model_type]
    expected = estimator.parse_model_config(full).layer_map
    assert estimator.parse_model_config(published).layer_map == expected
    assert len(set(expected.kind_counts())) > 1
