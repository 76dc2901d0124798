"""Replicas beyond the anchors: quantized TinyLlama copies, other MoE layouts, tied, multimodal.

The quantized variants all pack TinyLlama-1.1B (1,100,048,384 parameters), so every one
of them must count back to that figure; embeddings, output head and norms stay
unquantized except in MLX, which quantizes embeddings too (mlx-lm's default predicate).
"""

from __future__ import annotations

import copy
import json
import struct
from functools import lru_cache, partial

from . import configs
from .checkpoints import SINGLE_FILE, Replica, _replica
from .families import logical_model
from .headers import make_header
from .storage import (
    store_awq, store_bnb_4bit, store_compressed_pack, store_gptq, store_mlx, store_plain,
)

TINYLLAMA_TOTAL = 1_100_048_384


def _tinyllama(quantization: dict | None = None, **extra) -> tuple[dict, object]:
    config = configs.tinyllama_1_1b()
    if quantization is not None:
        config["quantization_config"] = quantization
    config.update(extra)
    return config, logical_model(configs.tinyllama_1_1b())


@lru_cache(maxsize=None)
def tinyllama() -> Replica:
    """TinyLlama/TinyLlama-1.1B-Chat-v1.0 in BF16, one file: the unquantized reference."""
    config, model = _tinyllama()
    return _replica("TinyLlama/TinyLlama-1.1B-Chat-v1.0", config, model, store_plain(model),
                    expected_total=TINYLLAMA_TOTAL)


@lru_cache(maxsize=None)
def tinyllama_gptq(bits: int = 4) -> Replica:
    """GPTQ (auto-gptq layout), 4- or 3-bit, group size 128."""
    quant = {"bits": bits, "group_size": 128, "damp_percent": 0.1, "desc_act": True, "sym": True,
             "true_sequential": True, "model_file_base_name": "model", "quant_method": "gptq"}
    config, model = _tinyllama(quant)
    return _replica(f"TheBloke/TinyLlama-1.1B-Chat-v1.0-GPTQ-{bits}bit", config, model,
                    store_gptq(model, bits), expected_total=TINYLLAMA_TOTAL)


@lru_cache(maxsize=None)
def tinyllama_awq() -> Replica:
    """AWQ 4-bit GEMM (AutoAWQ layout), group size 128."""
    quant = {"quant_method": "awq", "zero_point": True, "group_size": 128, "bits": 4, "version": "gemm"}
    config, model = _tinyllama(quant)
    return _replica("TheBloke/TinyLlama-1.1B-Chat-v1.0-AWQ", config, model, store_awq(model),
                    expected_total=TINYLLAMA_TOTAL)


@lru_cache(maxsize=None)
def tinyllama_bnb_nf4() -> Replica:
    """bitsandbytes NF4 with double quantization; quant_state payloads hold the exact shapes."""
    quant = {"quant_method": "bitsandbytes", "_load_in_4bit": True, "_load_in_8bit": False,
             "bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_quant_storage": "uint8",
             "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
             "llm_int8_enable_fp32_cpu_offload": False, "llm_int8_has_fp16_weight": False,
             "llm_int8_skip_modules": None, "llm_int8_threshold": 6.0, "load_in_4bit": True,
             "load_in_8bit": False}
    config, model = _tinyllama(quant)
    tensors, payloads = store_bnb_4bit(model)
    return _replica("unsloth/tinyllama-chat-bnb-4bit", config, model, tensors,
                    expected_total=TINYLLAMA_TOTAL, payloads={SINGLE_FILE: payloads})


@lru_cache(maxsize=None)
def tinyllama_compressed_tensors() -> Replica:
    """llm-compressor W4A16 pack-quantized, asymmetric groups of 128; weight_shape payloads."""
    quant = {
        "quant_method": "compressed-tensors", "format": "pack-quantized",
        "quantization_status": "compressed", "ignore": ["lm_head"],
        "config_groups": {"group_0": {
            "targets": ["Linear"], "input_activations": None, "output_activations": None,
            "weights": {"num_bits": 4, "type": "int", "symmetric": False, "strategy": "group",
                        "group_size": 128, "dynamic": False, "observer": "minmax"}}},
    }
    config, model = _tinyllama(quant)
    tensors, payloads = store_compressed_pack(model)
    return _replica("fitbot-fixtures/TinyLlama-1.1B-Chat-v1.0-W4A16", config, model, tensors,
                    expected_total=TINYLLAMA_TOTAL, payloads={SINGLE_FILE: payloads})


@lru_cache(maxsize=None)
def tinyllama_mlx(legacy_config: bool = False) -> Replica:
    """mlx-community 4-bit, group 64. mlx-lm writes ``quantization`` and, since mlx-lm#957,
    the same dict again as ``quantization_config`` (with no quant_method); ``legacy_config``
    drops that second copy, as older uploads have it."""
    quant = {"group_size": 64, "bits": 4, "mode": "affine"}
    config, model = _tinyllama()
    config["quantization"] = quant
    if not legacy_config:
        config["quantization_config"] = copy.deepcopy(quant)
    suffix = "-legacy" if legacy_config else ""
    return _replica(f"mlx-community/TinyLlama-1.1B-Chat-v1.0-4bit{suffix}", config, model,
                    store_mlx(model), expected_total=TINYLLAMA_TOTAL)


QUANTIZED_VARIANTS = {
    "gptq-4bit": partial(tinyllama_gptq, 4), "gptq-3bit": partial(tinyllama_gptq, 3),
    "awq-4bit": tinyllama_awq, "bnb-nf4": tinyllama_bnb_nf4,
    "compressed-tensors-w4": tinyllama_compressed_tensors,
    "mlx-4bit": partial(tinyllama_mlx, False), "mlx-4bit-legacy-config": partial(tinyllama_mlx, True),
}


def quantized_exact_shapes(replica: Replica) -> dict[str, tuple[int, ...]]:
    """Logical shapes read from payloads, keyed by the stored tensor they describe: bnb ``quant_state`` JSON
    (for ``X.weight``) and compressed-tensors ``weight_shape`` (for ``X.weight_packed``)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for payloads in replica.payloads.values():
        for name, data in payloads.items():
            if ".quant_state.bitsandbytes__" in name:
                shapes[name.split(".quant_state.")[0]] = tuple(json.loads(data)["shape"])
            elif name.endswith(".weight_shape"):
                weight = name[: -len("_shape")]
                shapes[weight + "_packed"] = struct.unpack("<2q", data)
    return shapes


# --- other layouts -----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def qwen1_5_moe_a2_7b() -> Replica:
    """Qwen/Qwen1.5-MoE-A2.7B: shared_expert + shared_expert_gate; 14,315,784,192 parameters."""
    config = configs.qwen1_5_moe_a2_7b()
    model = logical_model(config)
    return _replica("Qwen/Qwen1.5-MoE-A2.7B", config, model, store_plain(model), shards=8,
                    expected_total=14_315_784_192)


@lru_cache(maxsize=None)
def granite_moe() -> Replica:
    """ibm-granite/granite-3.0-1b-a400m-base: fused input_linear/output_linear experts, tied."""
    config = configs.granite_3_0_1b_a400m()
    model = logical_model(config)
    return _replica("ibm-granite/granite-3.0-1b-a400m-base", config, model, store_plain(model))


@lru_cache(maxsize=None)
def tiny_llama4() -> Replica:
    """A small Llama-4-style model: fused feed_forward.experts.gate_up_proj [E, H, 2I]."""
    config = configs.tiny_llama4_text()
    model = logical_model(config)
    return _replica("fitbot-fixtures/tiny-llama4-text", config, model, store_plain(model))


@lru_cache(maxsize=None)
def dbrx() -> Replica:
    """databricks/dbrx-base: flat experts [E·I, H] (E from router/config), 61 shards, gated."""
    config = configs.dbrx_base()
    model = logical_model(config)
    return _replica("databricks/dbrx-base", config, model, store_plain(model), shards=61, gated="manual")


@lru_cache(maxsize=None)
def llama_3_2_1b() -> Replica:
    """meta-llama/Llama-3.2-1B: tied embeddings (no lm_head tensor); 1,235,814,400 parameters."""
    config = configs.llama_3_2_1b()
    model = logical_model(config)
    return _replica("meta-llama/Llama-3.2-1B", config, model, store_plain(model),
                    expected_total=1_235_814_400, gated="manual")


@lru_cache(maxsize=None)
def olmoe_single_file() -> Replica:
    """OLMoE-1B-7B resaved as one model.safetensors: 3,219 tensors, a header of ~400 KB."""
    config = configs.olmoe_1b_7b()
    model = logical_model(config)
    return _replica("fitbot-fixtures/OLMoE-1B-7B-0924-single-file", config, model,
                    store_plain(model), expected_total=6_919_161_856)


@lru_cache(maxsize=None)
def gemma3_4b() -> Replica:
    """google/gemma-3-4b-it: SigLIP vision tower + projector, tied; 4,300,079,472 parameters."""
    config = configs.gemma3_4b_it()
    model = logical_model(config)
    return _replica("google/gemma-3-4b-it", config, model, store_plain(model), shards=2,
                    expected_total=4_300_079_472, gated="manual")


OTHER_LAYOUTS = {
    "qwen1.5-moe-a2.7b": qwen1_5_moe_a2_7b, "granite-moe-1b": granite_moe, "tiny-llama4": tiny_llama4,
    "dbrx": dbrx, "llama-3.2-1b-tied": llama_3_2_1b, "olmoe-single-file": olmoe_single_file,
    "gemma3-4b-multimodal": gemma3_4b,
}


# --- repo shapes for the crawler ----------------------------------------------------------------

@lru_cache(maxsize=None)
def gated_repo() -> Replica:
    """A gated repo (access must be requested); its files exist but are refused without access."""
    config = configs.small_dense_config()
    model = logical_model(config)
    return _replica("fitbot-fixtures/gated-tiny-llama", config, model, store_plain(model), gated="manual")


@lru_cache(maxsize=None)
def missing_repo() -> Replica:
    """A repo id the Hub does not know."""
    return Replica("fitbot-fixtures/no-such-model", None, {}, exists=False)


@lru_cache(maxsize=None)
def bin_only_repo() -> Replica:
    """Weights only as pytorch_model.bin: no safetensors to count, config.json only."""
    config = configs.small_dense_config()
    model = logical_model(config)
    fake_zip = b"PK\x03\x04" + b"\x00" * 60  # a torch.save zip starts like any zip file
    return Replica("fitbot-fixtures/tiny-llama-bin-only", config, {},
                   extra_files={"pytorch_model.bin": fake_zip}, expected_total=model.total,
                   expected_active=model.active, facts={"counted_from": "config"}, logical=model)


_MISTRAL_NAMES = (
    ("model.embed_tokens.", "tok_embeddings."), ("model.norm.", "norm."), ("lm_head.", "output."),
    ("model.layers.", "layers."), (".self_attn.q_proj.", ".attention.wq."),
    (".self_attn.k_proj.", ".attention.wk."), (".self_attn.v_proj.", ".attention.wv."),
    (".self_attn.o_proj.", ".attention.wo."), (".mlp.gate_proj.", ".feed_forward.w1."),
    (".mlp.down_proj.", ".feed_forward.w2."), (".mlp.up_proj.", ".feed_forward.w3."),
    (".input_layernorm.", ".attention_norm."), (".post_attention_layernorm.", ".ffn_norm."),
)


def _mistral_name(name: str) -> str:
    for old, new in _MISTRAL_NAMES:
        name = name.replace(old, new)
    return name


@lru_cache(maxsize=None)
def mistral_7b_instruct_v0_3() -> Replica:
    """mistralai/Mistral-7B-Instruct-v0.3: 3 shards plus consolidated.safetensors (a second copy)."""
    config = configs.mistral_7b_instruct_v0_3()
    model = logical_model(config)
    consolidated = make_header([(_mistral_name(n), d, s) for n, d, s in store_plain(model)])
    return _replica("mistralai/Mistral-7B-Instruct-v0.3", config, model, store_plain(model), shards=3,
                    expected_total=7_248_023_552, gated="auto",
                    extra_files={"consolidated.safetensors": consolidated})


REPO_SHAPES = {
    "gated": gated_repo, "missing": missing_repo, "bin-only": bin_only_repo,
    "mistral-consolidated": mistral_7b_instruct_v0_3,
}
