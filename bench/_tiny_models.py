"""Tiny random models of every family transformers ships for issue 10, and what their caches hold.

Shared by tests/estimator/test_cache_vs_transformers.py and ``python -m bench.accuracy``. Needs torch
and transformers (imported lazily, so importing this module does not).

transformers keeps the whole convolution window (``d_conv`` columns) where llama.cpp and vLLM keep
``d_conv − 1``; ``Held.conv_runtime_values`` is therefore ``(columns − 1) · channels``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import estimator

WINDOW = 8
PREFILL = 12  # past the window, so sliding layers have dropped tokens
BASE: dict[str, object] = {
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 128,
    "max_position_embeddings": 256,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}
_SLIDING_FULL = ["sliding_attention", "full_attention"] * 2
_MLA = {
    "num_key_value_heads": 4,
    "kv_lora_rank": 32,
    "q_lora_rank": 16,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 16,
    "v_head_dim": 16,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 32,
    "first_k_dense_replace": 1,
    "n_group": 1,
    "topk_group": 1,
}
_GDN = {
    "head_dim": 16,
    "full_attention_interval": 2,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
    "linear_key_head_dim": 8,
    "linear_value_head_dim": 12,
    "linear_conv_kernel_dim": 4,
}
# model_type -> tiny config overrides. Keys are each family's own (transformers 5.24 configuration files).
FAMILIES: dict[str, dict[str, object]] = {
    "qwen3_next": {**_GDN, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
                   "shared_expert_intermediate_size": 32},
    "qwen3_5_text": _GDN,
    "lfm2": {"full_attn_idxs": [1, 3], "conv_L_cache": 3, "block_ff_dim": 96},
    "granitemoehybrid": {"layer_types": ["mamba", "attention"] * 2, "mamba_n_heads": 4, "mamba_d_state": 8,
                         "mamba_d_head": 32, "mamba_n_groups": 2, "mamba_d_conv": 4, "mamba_expand": 2,
                         "num_local_experts": 4, "num_experts_per_tok": 2},
    "nemotron_h": {"hybrid_override_pattern": "M*-M", "mamba_num_heads": 4, "mamba_head_dim": 16,
                   "ssm_state_size": 8, "n_groups": 2, "conv_kernel": 4, "head_dim": 16},
    "falcon_h1": {"mamba_n_heads": 4, "mamba_d_head": 16, "mamba_d_ssm": 64, "mamba_d_state": 8,
                  "mamba_n_groups": 1, "mamba_d_conv": 4, "head_dim": 16},
    "jamba": {"attn_layer_period": 2, "attn_layer_offset": 1, "expert_layer_period": 2, "expert_layer_offset": 1,
              "num_experts": 2, "mamba_d_state": 8, "mamba_d_conv": 4, "mamba_expand": 2},
    "bamba": {"attn_layer_indices": [1, 3], "mamba_n_heads": 4, "mamba_d_head": 32, "mamba_d_state": 8,
              "mamba_n_groups": 1, "mamba_d_conv": 4},
    "zamba2": {"layers_block_type": ["mamba", "hybrid"] * 2, "mamba_d_state": 8, "n_mamba_heads": 4,
               "mamba_ngroups": 1, "num_mem_blocks": 1, "use_mem_rope": False, "mamba_d_conv": 4},
    "kimi_linear": {**_MLA, "q_lora_rank": None, "num_experts": 4, "num_experts_per_token": 2,
                    "linear_attn_config": {"kda_layers": [1, 3], "full_attn_layers": [2, 4], "head_dim": 16,
                                           "num_heads": 4, "short_conv_kernel_size": 4}},
    "minimax": {"layer_types": ["linear_attention", "full_attention"] * 2, "head_dim": 16,
                "num_local_experts": 2, "num_experts_per_tok": 1, "block_size": 8},
    "gemma2": {"sliding_window": WINDOW, "head_dim": 16},
    "gemma3_text": {"sliding_window": WINDOW, "head_dim": 16, "layer_types": _SLIDING_FULL},
    "gemma3n_text": {"sliding_window": WINDOW, "head_dim": 16, "num_kv_shared_layers": 2,
                     "layer_types": _SLIDING_FULL, "hidden_size_per_layer_input": 8,
                     "vocab_size_per_layer_input": 128, "laurel_rank": 4, "altup_num_inputs": 2,
                     "activation_sparsity_pattern": [0.0] * 4, "intermediate_size": [96] * 4},
    "gemma4_text": {"sliding_window": WINDOW, "head_dim": 16, "global_head_dim": 48,
                    "num_global_key_value_heads": 1, "attention_k_eq_v": True, "layer_types": _SLIDING_FULL,
                    "hidden_size_per_layer_input": 8, "vocab_size_per_layer_input": 128,
                    "num_kv_shared_layers": 2},
    "gpt_oss": {"head_dim": 16, "sliding_window": WINDOW, "layer_types": _SLIDING_FULL,
                "num_local_experts": 4, "num_experts_per_tok": 2},
    "cohere2": {"head_dim": 16, "sliding_window": WINDOW,
                "layer_types": ["sliding_attention"] * 3 + ["full_attention"]},
    "llama4_text": {"head_dim": 16, "attention_chunk_size": WINDOW, "no_rope_layers": [1, 1, 1, 0],
                    "num_local_experts": 2, "num_experts_per_tok": 1, "intermediate_size_mlp": 96,
                    "interleave_moe_layer_step": 1},
    "deepseek_v3": _MLA,
    "deepseek_v32": {**_MLA, "index_head_dim": 16, "index_n_heads": 2, "index_topk": 4},
    "glm_moe_dsa": {**_MLA, "index_head_dim": 16, "index_n_heads": 2, "index_topk": 4},
}


@dataclass(frozen=True)
class Held:
    """What one layer of transformers' cache holds, per sequence."""

    k_values: int = 0  # per token
    v_values: int = 0
    tokens: int = 0
    indexer_values: int = 0  # per token
    conv_runtime_values: int = 0  # (columns − 1) · channels: the runtimes' convolution state
    recurrent_values: int = 0


def _held(cache: Any, index: int) -> Held:
    import torch

    layer = cache.layers[index] if index < len(cache.layers) else None
    linear = getattr(cache, "linear_cache", None)  # MiniMax keeps lightning state beside its layers
    if linear is not None and index < len(linear) and isinstance(linear[index], torch.Tensor):
        return Held(recurrent_values=linear[index][0].numel())
    fields: dict[str, int] = {}
    keys = getattr(layer, "keys", None)
    if isinstance(keys, torch.Tensor) and keys.numel():
        _, heads, tokens, k_dim = keys.shape
        fields.update(k_values=heads * k_dim, v_values=heads * layer.values.shape[-1], tokens=tokens)
    indexer = getattr(layer, "indexer_keys", None)
    if isinstance(indexer, torch.Tensor) and indexer.numel():
        fields["indexer_values"] = indexer.shape[-1]
    conv = [t for t in (getattr(layer, "conv_states", None) or {}).values() if t is not None]
    recurrent = [t for t in (getattr(layer, "recurrent_states", None) or {}).values() if t is not None]
    fields["conv_runtime_values"] = sum(t.shape[1] * (t.shape[-1] - 1) for t in conv)
    fields["recurrent_values"] = sum(t[0].numel() for t in recurrent)
    return Held(**fields)


def run_family(model_type: str) -> tuple[estimator.ModelConfig, list[Held], int]:
    """Build the tiny model, prefill past the window, decode one token; our map and the cache per layer."""
    import torch
    import transformers

    torch.manual_seed(0)
    hf_config = transformers.AutoConfig.for_model(model_type, **{**BASE, **FAMILIES[model_type]})
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    with torch.no_grad():
        cache = model(torch.randint(3, 128, (1, PREFILL)), use_cache=True).cache
        cache = model(torch.randint(3, 128, (1, 1)), cache=cache, use_cache=True).cache
    ours = estimator.parse_model_config(hf_config.to_dict())
    return ours, [_held(cache, i) for i in range(ours.num_layers)], PREFILL + 1
