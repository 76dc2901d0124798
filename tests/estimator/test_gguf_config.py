"""GGUF metadata → ModelConfig: the KV cache and state of a file come from its own metadata, and agree
with the same model's config.json through the same memory model."""

from __future__ import annotations

import pytest

from estimator import (
    compare_param_counts,
    gguf_model_config,
    kv_bytes_per_token,
    parse_gguf_bytes,
    parse_gguf_facts,
)
from tests.factories.gguf_files import GgufSpec, gguf_bytes

# What llama.cpp's convert_hf_to_gguf.py writes for these anchors (values from their config.json).
ANCHOR_METADATA = {
    "llama-3.1-8b": ("llama", {"llama.block_count": 32, "llama.embedding_length": 4096,
                               "llama.attention.head_count": 32, "llama.attention.head_count_kv": 8}),
    "qwen2.5-32b-instruct": ("qwen2", {"qwen2.block_count": 64, "qwen2.embedding_length": 5120,
                                       "qwen2.attention.head_count": 40, "qwen2.attention.head_count_kv": 8}),
    # MLA: key/value_length hold the latent (kv_lora_rank + rope, kv_lora_rank); block 61 is the MTP layer.
    "deepseek-v3": ("deepseek2", {"deepseek2.block_count": 62, "deepseek2.embedding_length": 7168,
                                  "deepseek2.attention.head_count": 128, "deepseek2.attention.head_count_kv": 1,
                                  "deepseek2.attention.key_length": 576, "deepseek2.attention.value_length": 512,
                                  "deepseek2.attention.key_length_mla": 192,
                                  "deepseek2.attention.value_length_mla": 128,
                                  "deepseek2.attention.kv_lora_rank": 512, "deepseek2.rope.dimension_count": 64,
                                  "deepseek2.nextn_predict_layers": 1}),
    "gpt-oss-20b": ("gpt-oss", {"gpt-oss.block_count": 24, "gpt-oss.embedding_length": 2880,
                                "gpt-oss.attention.head_count": 64, "gpt-oss.attention.head_count_kv": 8,
                                "gpt-oss.attention.key_length": 64, "gpt-oss.attention.value_length": 64,
                                "gpt-oss.attention.sliding_window": 128}),
}
TENSOR = (("output_norm.weight", "F32", (32,)),)


def _facts(arch: str, metadata: dict[str, object]):
    return parse_gguf_facts((parse_gguf_bytes(gguf_bytes(GgufSpec(arch, tuple(metadata.items()), TENSOR))),))


@pytest.mark.parametrize("key", sorted(ANCHOR_METADATA))
def test_kv_per_token_from_gguf_metadata_equals_config_json(key, model_config):
    """A file's metadata gives the same KV bytes per token as the model's config.json (f16 and q8_0)."""
    arch, metadata = ANCHOR_METADATA[key]
    config = gguf_model_config(_facts(arch, metadata))
    for kv_type in ("f16", "q8_0"):
        assert kv_bytes_per_token(config, kv_type) == kv_bytes_per_token(model_config(key), kv_type)
    assert config.layer_kinds == model_config(key).layer_kinds


def test_hybrid_layers_and_state_from_ssm_keys():
    """0 KV heads marks a recurrent layer; its state is llama.cpp's n_embd_r + n_embd_s."""
    facts = _facts("granitehybrid", {
        "granitehybrid.block_count": 2, "granitehybrid.embedding_length": 256,
        "granitehybrid.attention.head_count": 8, "granitehybrid.attention.head_count_kv": (0, 2),
        "granitehybrid.ssm.state_size": 128, "granitehybrid.ssm.conv_kernel": 4,
        "granitehybrid.ssm.inner_size": 512, "granitehybrid.ssm.group_count": 1,
    })
    config = gguf_model_config(facts)
    assert config.layer_kinds == ("mamba2", "full")  # layer kinds of estimator/_layers.py
    assert config.recurrent_state_elements == (4 - 1) * (512 + 2 * 1 * 128) + 128 * 512
    assert config.num_kv_heads == 2


def test_sliding_window_from_a_per_layer_array():
    """A bool array marks each layer's window; unmarked layers are full attention."""
    facts = _facts("gemma3", {"gemma3.block_count": 4, "gemma3.embedding_length": 256,
                              "gemma3.attention.head_count": 8, "gemma3.attention.sliding_window": 512,
                              "gemma3.attention.sliding_window_pattern": (True, True, True, False)})
    assert gguf_model_config(facts).layer_kinds == ("sliding", "sliding", "sliding", "full")


def test_param_count_disagreement_is_said():
    """Equal counts say nothing; a difference is stated with both numbers; MTP parameters are set apart."""
    assert compare_param_counts(1_000, 1_000) is None
    assert compare_param_counts(1_100, 1_000, nextn_params=100) is None
    note = compare_param_counts(1_250, 1_000)
    assert note is not None and "1,250" in note and "250 more" in note
