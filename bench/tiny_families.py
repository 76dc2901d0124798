"""Tiny random transformers models, one per decoder family: ground truth for counts and caches.

Counts: each family's config class starts from its own defaults; the shared sizes below shrink it
(only the keys that class has), and the per-family extras keep every layer kind present. The model
is saved and its headers read back (tests/estimator/test_counts_vs_transformers.py, the counts part
of ``python -m bench.accuracy``).

Caches: ``run_cache_family`` builds a tiny model from ``CACHE_BASE`` + ``CACHE_FAMILIES``, prefills
past the sliding window, decodes one token and reports what transformers' own cache holds per layer
(tests/estimator/test_cache_vs_transformers.py, the KV part of ``python -m bench.accuracy``).
transformers keeps the whole convolution window (``d_conv`` columns) where llama.cpp and vLLM keep
``d_conv − 1``; ``Held.conv_runtime_values`` is therefore ``(columns − 1) · channels``.

Needs torch and transformers, imported on use, so importing this module does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import estimator

# Saved buffers that are constants computed from config, not parameters (issue 10 §4): rotary
# frequencies, MiniMax's lightning-attention slopes and decays, xIELU's fixed beta/eps (Apertus).
DERIVED_CONSTANTS = ("inv_freq", "slope_rate", "query_decay", "key_decay", "diagonal_decay",
                     "act_fn.beta", "act_fn.eps")

_SHARED: dict[str, object] = {
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "vocab_size": 128,
    "max_position_embeddings": 256,
    "moe_intermediate_size": 32,
    "num_experts": 4,
    "num_local_experts": 4,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "shared_expert_intermediate_size": 48,
    "kv_lora_rank": 16,
    "q_lora_rank": 24,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 16,
    "v_head_dim": 16,
    "n_group": 1,
    "topk_group": 1,
}

_SMALL_GDN = {"linear_key_head_dim": 16, "linear_value_head_dim": 16, "linear_num_key_heads": 2,
              "linear_num_value_heads": 4}

_SMALL_MAMBA2 = {"mamba_n_heads": 8, "mamba_d_state": 16, "mamba_n_groups": 2}

# family -> extra keys for its text config
TINY: dict[str, dict[str, object]] = {
    "cohere2": {"layer_types": None, "sliding_window_pattern": 2},
    "exaone4": {"layer_types": None, "sliding_window_pattern": 2},
    "olmo3": {"layer_types": None},
    "starcoder2": {},
    "gpt_neox": {},
    "phi": {},
    "falcon": {},
    "falcon_new_arch": {"new_decoder_architecture": True, "num_kv_heads": 2, "bias": True},
    "hunyuan_v1_moe": {},
    "ernie4_5_moe": {"moe_num_experts": 4, "moe_k": 2, "moe_layer_start_index": 1},
    "minimax_m2": {},
    "seed_oss": {},
    "ministral3": {},
    "ministral": {"layer_types": None},
    "apertus": {},
    "jetmoe": {},
    "qwen3_next": {"layer_types": None, **_SMALL_GDN},
    "qwen3_5_text": {"layer_types": None, **_SMALL_GDN},
    "qwen3_5_moe_text": {"layer_types": None, **_SMALL_GDN},
    "kimi_linear": {
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
        "linear_attn_config": {"head_dim": 16, "num_heads": 4, "short_conv_kernel_size": 4,
                               "full_attn_layers": [2, 4], "kda_layers": [1, 3]},
        "mlp_layer_types": ["dense", "sparse", "sparse", "sparse"], "num_experts_per_token": 2,
    },
    "minimax": {"layer_types": None},
    "jamba": {"attn_layer_period": 2, "attn_layer_offset": 1},
    "bamba": {"attn_layer_indices": [1, 3], **_SMALL_MAMBA2},
    "falcon_h1": {"mamba_d_ssm": 128, "mamba_d_head": 16, "projectors_bias": True, **_SMALL_MAMBA2},
    "granitemoehybrid": {"layer_types": ["mamba", "attention", "mamba", "attention"], "shared_intermediate_size": 48,
                         **_SMALL_MAMBA2},
    "nemotron_h": {"layers_block_type": ["mamba", "moe", "attention", "mlp"], "mamba_num_heads": 8,
                   "mamba_head_dim": 16, "n_groups": 2, "ssm_state_size": 16,
                   "moe_shared_expert_intermediate_size": 48},
    "nemotron_h_latent": {"layers_block_type": ["mamba", "moe", "attention", "moe"], "mamba_num_heads": 8,
                          "mamba_head_dim": 16, "n_groups": 2, "ssm_state_size": 16, "moe_latent_size": 32,
                          "moe_shared_expert_intermediate_size": 48, "use_bias": True, "mlp_bias": True},
    "zamba2": {"layers_block_type": ["mamba", "hybrid", "mamba", "hybrid"], "mamba_headdim": 16,
               "mamba_d_state": 8, "n_mamba_heads": 8, "num_mem_blocks": 1},
    "lfm2": {"layer_types": ["conv", "full_attention", "conv", "full_attention"]},
    "lfm2_moe": {"layer_types": ["conv", "full_attention", "conv", "full_attention"], "num_dense_layers": 1},
    "gemma3n_text": {
        "num_hidden_layers": 6, "num_kv_shared_layers": 3, "hidden_size_per_layer_input": 8,
        "vocab_size_per_layer_input": 128, "intermediate_size": [96] * 6, "laurel_rank": 8,
        "layer_types": ["sliding_attention", "sliding_attention", "full_attention"] * 2,
        "activation_sparsity_pattern": [0.95, 0.95, 0.0, 0.0, 0.0, 0.0],
    },
    "gemma4_text": {
        "num_hidden_layers": 6, "num_kv_shared_layers": 3, "hidden_size_per_layer_input": 8,
        "vocab_size_per_layer_input": 128, "global_head_dim": 32, "use_double_wide_mlp": True,
        "layer_types": ["sliding_attention", "sliding_attention", "full_attention"] * 2,
    },
    "gemma4_moe": {
        "num_hidden_layers": 4, "hidden_size_per_layer_input": 0, "global_head_dim": 32,
        "num_global_key_value_heads": 1, "attention_k_eq_v": True, "enable_moe_block": True,
        "num_experts": 4, "top_k_experts": 2, "moe_intermediate_size": 32,
        "layer_types": ["sliding_attention", "full_attention"] * 2,
    },
    "deepseek_v32": {},
    "glm_moe_dsa": {},
    "longcat_flash": {"num_layers": 2, "ffn_hidden_size": 96, "expert_ffn_hidden_size": 32, "moe_topk": 2,
                      "zero_expert_num": 2, "num_key_value_heads": 4},
    "deepseek_v3": {"num_nextn_predict_layers": 0},
    # Families covered before issue 10, held to the same ground truth.
    "llama": {}, "mistral": {}, "qwen2": {}, "qwen3": {}, "qwen2_moe": {}, "qwen3_moe": {}, "mixtral": {},
    "deepseek_v2": {}, "gpt_oss": {"layer_types": None}, "olmo2": {}, "olmoe": {}, "granite": {}, "granitemoe": {},
    "granitemoeshared": {}, "glm4": {"pad_token_id": 0}, "glm4_moe": {"num_nextn_predict_layers": 0, "attention_bias": True}, "glm4_moe_lite": {}, "phimoe": {"attention_bias": True, "lm_head_bias": True}, "smollm3": {"layer_types": None, "pad_token_id": 0},
    "gemma": {}, "gemma2": {"layer_types": None}, "gemma3_text": {"layer_types": None}, "phi3": {"pad_token_id": 0}, "llama4_text": {},
  # transformers does not build or save the MTP layer
}


_MODEL_TYPE = {"gemma4_moe": "gemma4_text", "falcon_new_arch": "falcon", "nemotron_h_latent": "nemotron_h"}


def tiny_config(family: str) -> Any:
    """The family's transformers config, shrunk to test size."""
    from transformers import AutoConfig

    model_type = _MODEL_TYPE.get(family, family)
    default = AutoConfig.for_model(model_type).to_dict()
    keys = {k: v for k, v in _SHARED.items() if k in default}
    keys.update(TINY[family])
    return AutoConfig.for_model(model_type, **keys)


def save_tiny_checkpoint(family: str, root: Path) -> tuple[dict[str, Any], int, list[estimator.TensorInfo]]:
    """Build and save the family's tiny model; return its config.json, the parameters torch holds
    under the §4 definition (tied weights once, derived constants left out), and the header tensors
    our parser reads back from the saved files."""
    from transformers import AutoModelForCausalLM

    return _save(AutoModelForCausalLM.from_config, tiny_config(family), root)


def _save(build: Any, config: Any, root: Path) -> tuple[dict[str, Any], int, list[estimator.TensorInfo]]:
    import torch
    from transformers.utils import logging

    logging.disable_progress_bar()
    torch.manual_seed(0)
    model = build(config)
    model.save_pretrained(root)
    expected, seen = 0, set()
    for name, tensor in model.state_dict().items():
        if name.endswith(DERIVED_CONSTANTS) or tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        expected += tensor.numel()
    config, tensors = read_saved(root)
    return config, expected, tensors


def read_saved(root: Path) -> tuple[dict[str, Any], list[estimator.TensorInfo]]:
    """config.json and every safetensors header of a checkpoint ``save_pretrained`` wrote to ``root``."""
    tensors: list[estimator.TensorInfo] = []
    for path in sorted(root.glob("*.safetensors")):
        data = path.read_bytes()
        tensors.extend(estimator.parse_safetensors_file(data, file_size=len(data), filename=path.name).tensors)
    return json.loads((root / "config.json").read_text()), tensors


def header_config(config: dict[str, Any]) -> estimator.ModelConfig:
    """parse_model_config for the header path (Nemotron-H saves its layer count only as a pattern)."""
    if "num_hidden_layers" not in config and isinstance(config.get("layers_block_type"), list):
        config = {**config, "num_hidden_layers": len(config["layers_block_type"])}
    return estimator.parse_model_config(config)


def phantom_zero_experts(config: dict[str, Any]) -> int:
    """LongCat-Flash: transformers 5.24 sizes ``gate_up_proj`` for routed + zero-computation experts
    (modeling_longcat_flash ``LongcatFlashExperts.total_experts``); zero experts have no weights
    and the published checkpoint stores only the routed ones, which is what config.json counts."""
    if config.get("model_type") != "longcat_flash":
        return 0
    per_layer = config["zero_expert_num"] * 2 * config["expert_ffn_hidden_size"] * config["hidden_size"]
    return int(per_layer * config["num_layers"])


# Multimodal families whose vision tower is counted from config: family -> text family in TINY
# (None: the text config class's defaults, shrunk with _SHARED).
TINY_VISION: dict[str, str | None] = {
    "qwen3_vl": None,
    "qwen3_vl_moe": None,
    "qwen3_5": "qwen3_5_text",
    "gemma4": "gemma4_moe",
    "kimi_k25": None,
    "llama4": None,
    "mistral3": None,
}
_VISION_SHARED: dict[str, object] = {
    "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "depth": 2,
    "num_heads": 2, "patch_size": 4, "image_size": 32, "out_hidden_size": 64, "head_dim": 16,
    "num_key_value_heads": 2, "vision_output_dim": 64, "projector_input_dim": 64, "projector_output_dim": 64,
    "deepstack_visual_indexes": [0, 1], "num_position_embeddings": 64, "pos_emb_height": 16, "pos_emb_width": 16,
    "position_embedding_size": 256,
}
_TEXT_FOR_VISION: dict[str, object] = {
    **_SHARED, "num_hidden_layers": 2, "intermediate_size_mlp": 96, "first_k_dense_replace": 1,
    "num_nextn_predict_layers": 0,
}


def tiny_vision_config(family: str) -> Any:
    """The multimodal family's config: tiny text model plus tiny vision tower (no audio tower)."""
    from transformers import AutoConfig

    default = AutoConfig.for_model(family)
    vision_default = (default.vision_config or AutoConfig.for_model(f"{family}_vision")).to_dict()
    vision = {**vision_default, **{k: v for k, v in _VISION_SHARED.items() if k in vision_default}}
    text_family = TINY_VISION[family]
    if text_family:
        text = tiny_config(text_family).to_dict()
    else:
        text_default = default.get_text_config().to_dict()
        text = {k: v for k, v in _TEXT_FOR_VISION.items() if k in text_default}
        text["model_type"] = text_default["model_type"]
    extra: dict[str, object] = {"audio_config": None} if family == "gemma4" else {}
    if family == "kimi_k25":
        extra["projection_hidden_size"] = vision["hidden_size"]
    return AutoConfig.for_model(family, text_config=text, vision_config=vision, **extra)


def save_tiny_vision_checkpoint(
    family: str, root: Path
) -> tuple[dict[str, Any], int, list[estimator.TensorInfo]]:
    """As ``save_tiny_checkpoint``, for the family's image-text-to-text class."""
    from transformers import AutoModelForImageTextToText

    return _save(AutoModelForImageTextToText.from_config, tiny_vision_config(family), root)


# --- Caches: what transformers' cache object holds per layer ------------------------------------

WINDOW = 8
PREFILL = 12  # past the window, so sliding layers have dropped tokens
CACHE_BASE: dict[str, object] = {
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
CACHE_FAMILIES: dict[str, dict[str, object]] = {
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
    # All three DeepSeek-V4 attention kinds; an HCA rate other than DeepSeek's so it crosses several boundaries.
    "deepseek_v4": {"head_dim": 16, "qk_rope_head_dim": 8, "q_lora_rank": 24, "sliding_window": WINDOW,
                    "layer_types": ["sliding_attention", "compressed_sparse_attention",
                                    "heavily_compressed_attention", "compressed_sparse_attention"],
                    "compress_rates": {"compressed_sparse_attention": 4, "heavily_compressed_attention": 8},
                    "mlp_layer_types": ["hash_moe", "hash_moe", "moe", "moe"], "n_routed_experts": 4,
                    "n_shared_experts": 1, "num_experts_per_tok": 2, "moe_intermediate_size": 32, "hc_mult": 2,
                    "o_groups": 2, "o_lora_rank": 8, "index_n_heads": 2, "index_head_dim": 8, "index_topk": 4},
}
# Families whose prefill runs longer than PREFILL: DeepSeek-V4 past its window and several compress boundaries
# (38 tokens: 9 entries at rate 4 with 2 tokens buffered, 4 entries at rate 8 with 6 buffered).
CACHE_PREFILL: dict[str, int] = {"deepseek_v4": 37}


@dataclass(frozen=True)
class Held:
    """What one layer of transformers' cache holds, per sequence."""

    k_values: int = 0  # per token
    v_values: int = 0
    tokens: int = 0
    indexer_values: int = 0  # per token
    conv_runtime_values: int = 0  # (columns − 1) · channels: the runtimes' convolution state
    recurrent_values: int = 0
    # DeepSeek-V4 (DeepseekV4CSACache / DeepseekV4HCACache): K and V are one tensor there (v_values 0)
    compress_rate: int = 0
    compressed_entries: int = 0
    compressed_values: int = 0  # per entry
    indexer_entries: int = 0  # the indexer's compressed keys, indexer_values wide
    buffered_tokens: int = 0  # source tokens waiting for their window to close
    overlap_tokens: int = 0  # the previous window's tokens kept for overlapping windows (CSA)
    # The runtimes' compressor state read from these shapes: coff·r slots of kv and score (coff 2 with
    # overlap), at the entry width and the indexer's (vLLM CompressorStateCache).
    compressor_state_values: int = 0


def cache_config(model_type: str, **overrides: object) -> Any:
    """The family's tiny config for the cache comparison (``CACHE_BASE`` + its ``CACHE_FAMILIES`` keys)."""
    import transformers

    return transformers.AutoConfig.for_model(
        model_type, **{**CACHE_BASE, **CACHE_FAMILIES[model_type], **overrides}
    )


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
    if isinstance(keys, torch.Tensor) and getattr(layer, "values", None) is keys:  # V4: K=V, one tensor
        fields["v_values"] = 0
    indexer = getattr(layer, "indexer_keys", None)
    if isinstance(indexer, torch.Tensor) and indexer.numel():
        fields["indexer_values"] = indexer.shape[-1]
    fields.update(_compressed(layer))
    conv = [t for t in (getattr(layer, "conv_states", None) or {}).values() if t is not None]
    recurrent = [t for t in (getattr(layer, "recurrent_states", None) or {}).values() if t is not None]
    fields["conv_runtime_values"] = sum(t.shape[1] * (t.shape[-1] - 1) for t in conv)
    fields["recurrent_values"] = sum(t[0].numel() for t in recurrent)
    return Held(**fields)


def _compressed(layer: Any) -> dict[str, int]:
    """What a DeepSeek-V4 cache layer holds beside its window: compressed entries, buffers, overlap."""
    entries = getattr(layer, "compressed_kv", None)
    if not entries:
        return {}
    rate = layer.compress_rate
    overlap = getattr(layer, "overlap_kv", None) or {}
    coff = 2 if overlap else 1
    main, index = entries.get("compressor"), entries.get("indexer")
    buffered, previous = layer.buffer_kv.get("compressor"), overlap.get("compressor")
    dims = [t.shape[-1] for t in (main, index) if t is not None]
    return {
        "compress_rate": rate,
        "compressed_entries": main.shape[1] if main is not None else 0,
        "compressed_values": main.shape[-1] if main is not None else 0,
        "indexer_entries": index.shape[1] if index is not None else 0,
        "indexer_values": index.shape[-1] if index is not None else 0,
        "buffered_tokens": buffered.shape[1] if buffered is not None else 0,
        "overlap_tokens": previous.shape[1] if previous is not None else 0,
        "compressor_state_values": sum(coff * rate * 2 * coff * dim for dim in dims),
    }


def run_cache_family(model_type: str) -> tuple[estimator.ModelConfig, list[Held], int]:
    """Build the tiny model, prefill past the window, decode one token; our map and the cache per layer."""
    import torch
    import transformers

    torch.manual_seed(0)
    hf_config = cache_config(model_type)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).eval()
    prefill = CACHE_PREFILL.get(model_type, PREFILL)
    with torch.no_grad():
        cache = model(torch.randint(3, 128, (1, prefill)), use_cache=True).cache
        cache = model(torch.randint(3, 128, (1, 1)), cache=cache, use_cache=True).cache
    ours = estimator.parse_model_config(hf_config.to_dict())
    return ours, [_held(cache, i) for i in range(ours.num_layers)], prefill + 1
