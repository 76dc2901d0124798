"""Nemotron-NAS (DeciLM ``block_configs``): the config path against the stored total and the port's modules.

No per-tensor report of nvidia/Llama-3_3-Nemotron-Super-49B-v1 was found; its stored total,
49,867,145,216, is the Hub's safetensors figure (the catalog entry cites where it was read). The
layer rules come from vLLM's ``nemotron_nas.py`` and NeMo Automodel's DeciLM ``Block``; the tiny
case below writes out, by hand, the modules those ports build for each kind of block.
"""

from __future__ import annotations

from estimator import (
    LayerKind,
    TensorInfo,
    account_from_config,
    account_from_tensors,
    kv_bytes_per_token,
    parse_model_config,
)
from tests.factories.catalog import catalog_config

HUB_STORED_TOTAL = 49_867_145_216
_REPO = "nvidia/Llama-3_3-Nemotron-Super-49B-v1"



def _block(attention: dict, ffn: dict) -> dict:
    return {"attention": attention, "ffn": ffn}


_TINY = {
    "architectures": ["DeciLMForCausalLM"],
    "model_type": "nemotron-nas",
    "hidden_size": 96,
    "num_attention_heads": 8,
    "num_key_value_heads": None,
    "num_hidden_layers": 4,
    "vocab_size": 1000,
    "tie_word_embeddings": False,
    "block_configs": [
        _block({"n_heads_in_group": 4, "no_op": False}, {"ffn_mult": 2.625, "no_op": False}),
        _block({"n_heads_in_group": None, "no_op": True}, {"ffn_mult": 1.3125, "no_op": False}),
        _block({"no_op": False, "replace_with_linear": True}, {"no_op": True}),
        _block({"n_heads_in_group": 8, "no_op": False}, {"no_op": False, "replace_with_linear": True}),
    ],
}

# What the ports build for _TINY, written out: head_dim 96/8 = 12; 2·2.625·96/3 = 168 -> 256 and
# 2·1.3125·96/3 = 84 -> 256 (multiples of 256); 8 heads over groups of 4 -> 2 KV heads, of 8 -> 1.
_TINY_TENSORS = (
    ("model.embed_tokens.weight", (1000, 96)),
    ("model.norm.weight", (96,)),
    ("lm_head.weight", (1000, 96)),
    ("model.layers.0.input_layernorm.weight", (96,)),
    ("model.layers.0.self_attn.q_proj.weight", (96, 96)),
    ("model.layers.0.self_attn.k_proj.weight", (24, 96)),
    ("model.layers.0.self_attn.v_proj.weight", (24, 96)),
    ("model.layers.0.self_attn.o_proj.weight", (96, 96)),
    ("model.layers.0.post_attention_layernorm.weight", (96,)),
    ("model.layers.0.mlp.gate_proj.weight", (256, 96)),
    ("model.layers.0.mlp.up_proj.weight", (256, 96)),
    ("model.layers.0.mlp.down_proj.weight", (96, 256)),
    ("model.layers.1.post_attention_layernorm.weight", (96,)),
    ("model.layers.1.mlp.gate_proj.weight", (256, 96)),
    ("model.layers.1.mlp.up_proj.weight", (256, 96)),
    ("model.layers.1.mlp.down_proj.weight", (96, 256)),
    ("model.layers.2.input_layernorm.weight", (96,)),
    ("model.layers.2.self_attn.linear_attn.weight", (96, 96)),
    ("model.layers.3.input_layernorm.weight", (96,)),
    ("model.layers.3.self_attn.q_proj.weight", (96, 96)),
    ("model.layers.3.self_attn.k_proj.weight", (12, 96)),
    ("model.layers.3.self_attn.v_proj.weight", (12, 96)),
    ("model.layers.3.self_attn.o_proj.weight", (96, 96)),
    ("model.layers.3.post_attention_layernorm.weight", (96,)),
    ("model.layers.3.mlp.linear_mlp.weight", (96, 96)),
)


def test_every_kind_of_block_builds_the_ports_modules() -> None:
    """GQA, no-op and linear-replacement blocks give the tensors the DeciLM ports build, and nothing else."""
    tensors = [TensorInfo(name, "BF16", shape) for name, shape in _TINY_TENSORS]
    from_config = account_from_config(_TINY)
    from_headers = account_from_tensors(tensors, parse_model_config(_TINY))
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params == sum(t.numel for t in tensors)
    assert from_config.components == from_headers.components


def test_super_49b_config_count_is_the_hub_stored_total() -> None:
    """The catalog's verbatim config.json counts to the Hub's stored total, not the Llama-style 88B guess."""
    accounting = account_from_config(catalog_config(_REPO))
    assert accounting.counts_known
    assert accounting.total_params == HUB_STORED_TOTAL
    assert accounting.components.routed_experts == 0
    assert accounting.active_params == HUB_STORED_TOTAL - accounting.components.embedding


def test_no_op_attention_layers_hold_no_attention_weights() -> None:
    """Only the blocks whose attention is not a no-op carry q/k/v/o (49 of Super-49B's 80 layers)."""
    raw = catalog_config(_REPO)
    h, heads = raw["hidden_size"], raw["num_attention_heads"]
    d = h // heads
    groups = [block["attention"]["n_heads_in_group"] for block in raw["block_configs"]]
    expected = sum(2 * h * heads * d + 2 * h * (heads // g) * d for g in groups if g)
    assert sum(1 for g in groups if g) == 49
    assert account_from_config(raw).components.attention == expected


def test_only_attending_blocks_cache_keys_and_values() -> None:
    """An attending block caches its own KV heads (heads // n_heads_in_group); no-op and linear ones none."""
    config = parse_model_config(_TINY)
    kinds = [layer.kind for layer in config.layer_map.layers]
    assert kinds == [LayerKind.FULL, LayerKind.MLP_ONLY, LayerKind.MLP_ONLY, LayerKind.FULL]
    heads = [layer.attention.kv_heads for layer in config.layer_map.layers if layer.attention]
    assert heads == [2, 1]
    assert kv_bytes_per_token(config) == 2 * (2 + 1) * 2 * 12  # K and V rows of head_dim 12 at f16


def test_super_49b_kv_cache_counts_its_49_attention_layers() -> None:
    """Super-49B: 49 layers of 8 KV heads × 128 grow with the context, 31 hold no cache."""
    config = parse_model_config(catalog_config(_REPO))
    assert config.num_kv_heads == 8
    assert config.layer_map.kind_counts() == {"full": 49, "mlp-only": 31}
    assert kv_bytes_per_token(config) == 49 * 2 * 8 * 128 * 2
