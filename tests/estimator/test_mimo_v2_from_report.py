"""MiMo-V2: the config path against the tensors a released checkpoint stores.

The rows below transcribe the public per-tensor report of a local download of XiaomiMiMo/MiMo-V2.5
(github:gogongxt/python/scripts/models/mimo_v2.5.md@69107007b2ffcbdaacde6c264f36768a13aa8429: 17
shards, 73,081 tensors, "参数总量: 310,775,040,000"), grouped as the report groups them: a name
template, its shape and dtype, and over which layers / experts it repeats. That total counts the FP8
block scales (``weight_scale_inv``); the accounting leaves them out (issue 10 §4).

MiMo-V2.5's text stack has every size of MiMo-V2-Flash's config.json; the V2-Flash checkpoint stores
q/k/v split instead of fused (see estimator/_families/_mimo.py), the same elements. So the report's
text rows are also the ground truth for the MiMo-V2-Flash catalog entry's config-derived count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tiny_families import read_saved
from estimator import (
    LayerKind,
    TensorInfo,
    account_from_config,
    account_from_tensors,
    kv_bytes_per_token,
    parse_model_config,
)
from tests.estimator.report_rows import Row, expand_rows
from tests.factories.catalog import catalog_config

REPORT_TOTAL = 310_775_040_000
REPORT_TENSORS = 73_081
_FULL = (0, 5, 11, 17, 23, 29, 35, 41, 47)
_SWA = tuple(i for i in range(48) if i not in _FULL)
_ALL, _MOE, _MTP = range(48), range(1, 48), range(3)
_L, _M = "model.layers.{}.", "model.mtp.layers.{}."
_F8, _BF, _F32 = "F8_E4M3", "BF16", "F32"


# (name, dtype, shape, layers or None for a single tensor, experts per layer or 0)
_TEXT_ROWS: tuple[Row, ...] = (
    ("lm_head.weight", _BF, (152576, 4096), None, 0),
    ("model.embed_tokens.weight", _BF, (152576, 4096), None, 0),
    (_L + "self_attn.qkv_proj.weight", _F8, (13568, 4096), _FULL, 0),
    (_L + "self_attn.qkv_proj.weight_scale_inv", _F32, (108, 32), _FULL, 0),
    (_L + "input_layernorm.weight", _BF, (4096,), _ALL, 0),
    (_L + "post_attention_layernorm.weight", _BF, (4096,), _ALL, 0),
    (_L + "self_attn.o_proj.weight", _BF, (4096, 8192), _ALL, 0),
    ("model.layers.0.mlp.down_proj.weight", _F8, (4096, 16384), None, 0),
    ("model.layers.0.mlp.down_proj.weight_scale_inv", _F32, (32, 128), None, 0),
    ("model.layers.0.mlp.gate_proj.weight", _F8, (16384, 4096), None, 0),
    ("model.layers.0.mlp.gate_proj.weight_scale_inv", _F32, (128, 32), None, 0),
    ("model.layers.0.mlp.up_proj.weight", _F8, (16384, 4096), None, 0),
    ("model.layers.0.mlp.up_proj.weight_scale_inv", _F32, (128, 32), None, 0),
    (_L + "self_attn.attention_sink_bias", _BF, (64,), _SWA, 0),
    (_L + "self_attn.qkv_proj.weight", _F8, (14848, 4096), _SWA, 0),
    (_L + "self_attn.qkv_proj.weight_scale_inv", _F32, (116, 32), _SWA, 0),
    (_L + "mlp.experts.{}.down_proj.weight", _F8, (4096, 2048), _MOE, 256),
    (_L + "mlp.experts.{}.down_proj.weight_scale_inv", _F32, (32, 16), _MOE, 256),
    (_L + "mlp.experts.{}.gate_proj.weight", _F8, (2048, 4096), _MOE, 256),
    (_L + "mlp.experts.{}.gate_proj.weight_scale_inv", _F32, (16, 32), _MOE, 256),
    (_L + "mlp.experts.{}.up_proj.weight", _F8, (2048, 4096), _MOE, 256),
    (_L + "mlp.experts.{}.up_proj.weight_scale_inv", _F32, (16, 32), _MOE, 256),
    (_L + "mlp.gate.e_score_correction_bias", _F32, (256,), _MOE, 0),
    (_L + "mlp.gate.weight", _F32, (256, 4096), _MOE, 0),
    (_M + "eh_proj.weight", _BF, (4096, 8192), _MTP, 0),
    (_M + "enorm.weight", _BF, (4096,), _MTP, 0),
    (_M + "final_layernorm.weight", _BF, (4096,), _MTP, 0),
    (_M + "hnorm.weight", _BF, (4096,), _MTP, 0),
    (_M + "input_layernorm.weight", _BF, (4096,), _MTP, 0),
    (_M + "mlp.down_proj.weight", _F8, (4096, 16384), _MTP, 0),
    (_M + "mlp.down_proj.weight_scale_inv", _F32, (32, 128), _MTP, 0),
    (_M + "mlp.gate_proj.weight", _F8, (16384, 4096), _MTP, 0),
    (_M + "mlp.gate_proj.weight_scale_inv", _F32, (128, 32), _MTP, 0),
    (_M + "mlp.up_proj.weight", _F8, (16384, 4096), _MTP, 0),
    (_M + "mlp.up_proj.weight_scale_inv", _F32, (128, 32), _MTP, 0),
    (_M + "pre_mlp_layernorm.weight", _BF, (4096,), _MTP, 0),
    (_M + "self_attn.attention_sink_bias", _BF, (64,), _MTP, 0),
    (_M + "self_attn.o_proj.weight", _BF, (4096, 8192), _MTP, 0),
    (_M + "self_attn.qkv_proj.weight", _F8, (14848, 4096), _MTP, 0),
    (_M + "self_attn.qkv_proj.weight_scale_inv", _F32, (116, 32), _MTP, 0),
    ("model.norm.weight", _BF, (4096,), None, 0),
)

_AUDIO = "audio_encoder.input_local_transformer.layers.{}."
_VIS = "visual.blocks.{}."
_SINKED = tuple(i for i in range(28) if i not in (0, 9, 18, 27))
# The audio encoder and vision tower rows, transcribed only to show the transcription is complete.
_MEDIA_ROWS: tuple[Row, ...] = (
    *(
        (_AUDIO + name, _BF, shape, range(6), 0)
        for name, shape in (
            ("input_layernorm.weight", (1024,)),
            ("mlp.down_proj.weight", (1024, 4096)),
            ("mlp.gate_proj.weight", (4096, 1024)),
            ("mlp.up_proj.weight", (4096, 1024)),
            ("post_attention_layernorm.weight", (1024,)),
            ("self_attn.k_proj.bias", (1024,)),
            ("self_attn.k_proj.weight", (1024, 1024)),
            ("self_attn.o_proj.weight", (1024, 1024)),
            ("self_attn.q_proj.bias", (1024,)),
            ("self_attn.q_proj.weight", (1024, 1024)),
            ("self_attn.v_proj.bias", (1024,)),
            ("self_attn.v_proj.weight", (1024, 1024)),
        )
    ),
    ("audio_encoder.input_local_transformer.norm.weight", _BF, (1024,), None, 0),
    ("audio_encoder.projection.mlp.0.weight", _BF, (16384, 4096), None, 0),
    ("audio_encoder.projection.mlp.2.weight", _BF, (4096, 16384), None, 0),
    ("speech_embeddings.{}.weight", _BF, (1280, 1024), range(20), 0),
    *(
        (_VIS + name, _BF, shape, range(28), 0)
        for name, shape in (
            ("attn.proj.bias", (1280,)),
            ("attn.proj.weight", (1280, 2048)),
            ("attn.qkv.bias", (3072,)),
            ("attn.qkv.weight", (3072, 1280)),
            ("mlp.down_proj.bias", (1280,)),
            ("mlp.down_proj.weight", (1280, 4608)),
            ("mlp.gate_proj.bias", (4608,)),
            ("mlp.gate_proj.weight", (4608, 1280)),
            ("mlp.up_proj.bias", (4608,)),
            ("mlp.up_proj.weight", (4608, 1280)),
            ("norm1.weight", (1280,)),
            ("norm2.weight", (1280,)),
        )
    ),
    (_VIS + "attn.sinks", _BF, (32,), _SINKED, 0),
    ("visual.merger.ln_q.weight", _BF, (1280,), None, 0),
    ("visual.merger.mlp.0.weight", _BF, (5120, 5120), None, 0),
    ("visual.merger.mlp.2.weight", _BF, (4096, 5120), None, 0),
    ("visual.patch_embed.proj.weight", _BF, (1280, 3, 2, 16, 16), None, 0),
)

# MiMo-V2.5's config.json as the report prints it, with the sections the text stack does not read left
# out (audio_config, vision_config, processor_config, quantization_config.ignored_layers, token ids).
_V25_TEXT_CONFIG = {
    "architectures": ["MiMoV2ForCausalLM"],
    "attention_bias": False,
    "attention_chunk_size": 128,
    "attention_value_scale": 0.707,
    "attention_projection_layout": "fused_qkv",
    "add_full_attention_sink_bias": False,
    "add_swa_attention_sink_bias": True,
    "swa_num_key_value_heads": 8,
    "swa_num_attention_heads": 64,
    "swa_head_dim": 192,
    "swa_v_head_dim": 128,
    "dtype": "bfloat16",
    "head_dim": 192,
    "hidden_act": "silu",
    "hidden_size": 4096,
    "hybrid_block_size": None,
    "hybrid_layer_pattern": [0 if i in _FULL else 1 for i in range(48)],
    "intermediate_size": 16384,
    "layernorm_epsilon": 1e-05,
    "max_position_embeddings": 1048576,
    "model_type": "mimo_v2",
    "moe_intermediate_size": 2048,
    "moe_layer_freq": [0] + [1] * 47,
    "n_group": 1,
    "n_routed_experts": 256,
    "n_shared_experts": None,
    "norm_topk_prob": True,
    "num_attention_heads": 64,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 48,
    "num_key_value_heads": 4,
    "partial_rotary_factor": 0.334,
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "store_dtype": "fp8",
        "weight_block_size": [128, 128],
    },
    "rope_theta": 10000000,
    "routed_scaling_factor": None,
    "scoring_func": "sigmoid",
    "sliding_window": 128,
    "sliding_window_size": 128,
    "swa_rope_theta": 10000,
    "tie_word_embeddings": False,
    "topk_group": 1,
    "topk_method": "noaux_tc",
    "v_head_dim": 128,
    "vocab_size": 152576,
}



def _scale_elements(tensors: list[TensorInfo]) -> int:
    return sum(t.numel for t in tensors if t.name.endswith("weight_scale_inv"))



@pytest.fixture(scope="module")
def text_tensors() -> list[TensorInfo]:
    """The report's language-model tensors (main stack and MTP blocks), built once."""
    return expand_rows(_TEXT_ROWS)


def test_the_transcribed_report_is_the_whole_checkpoint(text_tensors) -> None:
    """The transcription holds every tensor and element the report counts."""
    tensors = text_tensors + expand_rows(_MEDIA_ROWS)
    assert len(tensors) == REPORT_TENSORS
    assert sum(t.numel for t in tensors) == REPORT_TOTAL


def test_v25_text_config_count_equals_its_stored_text_stack(text_tensors) -> None:
    """MiMo-V2.5's text config gives the stored text stack (fused qkv, three MTP blocks) to the integer."""
    from_config = account_from_config(_V25_TEXT_CONFIG)
    from_headers = account_from_tensors(text_tensors, parse_model_config(_V25_TEXT_CONFIG))
    stored = sum(t.numel for t in text_tensors) - _scale_elements(text_tensors)
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params == stored
    assert from_config.components == from_headers.components
    assert from_config.active_params == from_headers.active_params
    assert from_config.moe == from_headers.moe


def test_v2_flash_config_counts_the_same_text_stack(text_tensors) -> None:
    """MiMo-V2-Flash's catalog config.json counts what the V2.5 text rows hold (same sizes, split q/k/v)."""
    raw = catalog_config("XiaomiMiMo/MiMo-V2-Flash")
    from_config = account_from_config(raw)
    from_headers = account_from_tensors(text_tensors, parse_model_config(raw))
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params == 309_766_601_088
    assert from_config.components == from_headers.components
    assert from_config.active_params == from_headers.active_params
    assert from_config.components.mtp > 0  # three stored MTP blocks the config does not name


def test_a_multimodal_v25_config_still_needs_the_headers() -> None:
    """With its audio encoder and vision tower undescribed, MiMo-V2.5's full config shows no count."""
    raw = {**_V25_TEXT_CONFIG, "audio_config": {"input_local_layers": 6}, "vision_config": {"depth": 28}}
    assert not account_from_config(raw).counts_known


# A tiny MiMo-V2-Flash for transformers (both transformers tests build one).
_TINY = {
    "hidden_size": 64,
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 24,
    "v_head_dim": 16,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 128,
    "max_position_embeddings": 256,
}


def test_tiny_transformers_checkpoint_matches_the_config_path(tmp_path: Path) -> None:
    """transformers' own MiMo-V2-Flash, saved tiny, stores what its config.json counts (no MTP: not saved)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model("mimo_v2_flash", **_TINY, num_hidden_layers=7)
    torch.manual_seed(0)
    transformers.AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path)
    raw, tensors = read_saved(tmp_path)
    from_headers = account_from_tensors(tensors, parse_model_config(raw))
    from_config = account_from_config(raw)
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params
    assert from_config.components == from_headers.components
    assert from_config.active_params == from_headers.active_params


def test_v2_flash_layer_map_follows_the_hybrid_pattern() -> None:
    """9 full layers (4 KV heads, K 192 / V 128) grow; 39 sliding (8 KV heads) and 3 MTP layers cap at 128."""
    config = parse_model_config(catalog_config("XiaomiMiMo/MiMo-V2-Flash"))
    full = [i for i, layer in enumerate(config.layer_map.layers) if layer.kind is LayerKind.FULL]
    sliding = [layer.attention for layer in config.layer_map.layers if layer.kind is LayerKind.SLIDING]
    assert tuple(full) == _FULL and len(sliding) == 39
    assert {(a.kv_heads, a.k_head_dim, a.v_head_dim, a.window) for a in sliding if a} == {(8, 192, 128, 128)}
    assert kv_bytes_per_token(config) == 2 * len(_FULL) * 4 * (192 + 128)
    # The three stored MTP blocks draft with sliding-window attention of the SWA layers' shape.
    assert config.mtp_layers == 3
    assert {layer.attention for layer in config.layer_map.mtp_layers} == {sliding[0]}


def test_tiny_transformers_cache_holds_what_the_layer_map_says() -> None:
    """transformers' own cache for a tiny MiMo-V2-Flash, run past its window, holds our K/V per layer."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    window, prefill = 8, 13
    config = transformers.AutoConfig.for_model("mimo_v2_flash", **_TINY, num_hidden_layers=6, sliding_window=window)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    with torch.no_grad():
        cache = model(torch.randint(3, 128, (1, prefill)), use_cache=True).cache
        cache = model(torch.randint(3, 128, (1, 1)), cache=cache, use_cache=True).cache
    ours = parse_model_config(config.to_dict())
    assert [layer.kind for layer in ours.layer_map.layers].count(LayerKind.SLIDING) == 4
    for i, layer in enumerate(ours.layer_map.layers):
        keys, values = cache.layers[i].keys, cache.layers[i].values
        attention = layer.attention
        assert attention is not None
        assert attention.k_values == keys.shape[1] * keys.shape[-1], i
        assert attention.v_values == values.shape[1] * values.shape[-1], i
        kept = prefill + 1 if attention.window is None else attention.window - 1
        assert keys.shape[2] == kept, i
