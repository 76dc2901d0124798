"""MLA models at the GGUF k-quants: kv_b_proj is priced as the converter writes it (attn_k_b + attn_v_b)."""

from __future__ import annotations

import dataclasses

import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from estimator import account_from_config, layout_weights, parse_model_config
from tests.factories import small_deepseek_config

# DeepSeek-V3's MLA sizes (config.json): 128 heads, kv_lora_rank 512, qk_nope 128, v_head 128.
DEEPSEEK_MLA = {"num_attention_heads": 128, "num_key_value_heads": 128, "kv_lora_rank": 512,
                "qk_nope_head_dim": 128, "v_head_dim": 128, "qk_rope_head_dim": 64, "hidden_size": 256,
                "q_lora_rank": 256, "num_hidden_layers": 2, "first_k_dense_replace": 2}


def _bytes(type_name: str, params: int) -> int:
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[type_name]]
    return params // block * size


def _layouts(quant: str):
    raw = small_deepseek_config(**DEEPSEEK_MLA)
    config, accounting = parse_model_config(raw), account_from_config(raw)
    split = layout_weights(quant, accounting, config)
    whole = layout_weights(quant, accounting, dataclasses.replace(config, mla=None))
    return split, whole, config


def test_q4_k_m_gap_is_one_mebibyte_per_layer():
    """At Q4_K_M the 128-wide attn_k_b rows fall back to Q5_0: exactly 1,048,576 bytes a layer more."""
    split, whole, config = _layouts("Q4_K_M")
    gaps = [a - b for a, b in zip(split.per_layer, whole.per_layer, strict=True)]
    assert gaps == [1_048_576] * config.num_layers


@pytest.mark.parametrize(("quant", "k_type", "v_type"), [
    ("Q4_K_M", "Q5_0", "Q4_K"), ("Q6_K", "Q8_0", "Q6_K"), ("Q3_K_M", "Q4_0", "Q3_K"), ("Q2_K", "Q4_0", "Q2_K"),
])
def test_k_b_falls_back_and_v_b_keeps_the_k_quant(quant, k_type, v_type):
    """Each layer's kv_b costs attn_k_b at the fallback type plus attn_v_b at the base type (gguf's table)."""
    split, whole, _ = _layouts(quant)
    k_params = v_params = 128 * 128 * 512
    kv_b_whole = _bytes(v_type, k_params + v_params)
    assert split.per_layer[0] - whole.per_layer[0] == _bytes(k_type, k_params) + _bytes(v_type, v_params) - kv_b_whole

