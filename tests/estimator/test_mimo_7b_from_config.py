"""MiMo-7B (``model_type: mimo``): a Qwen2 decoder plus the MTP layer its checkpoints store.

No per-tensor report of a MiMo-7B download was found, so the checks hold the config path to the
module layout vLLM's loader reads from these checkpoints (vllm/model_executor/models/mimo_mtp.py):
``model.mtp_layers.{i}`` with three norms, ``input_proj`` and one Qwen2 layer, embedding and head
shared with the main model. The tiny case writes those tensors out by hand.
"""

from __future__ import annotations

import json
from importlib import resources

from estimator import TensorInfo, account_from_config, account_from_tensors, parse_model_config

_TINY = {
    "architectures": ["MiMoForCausalLM"],
    "model_type": "mimo",
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 1,
    "num_nextn_predict_layers": 1,
    "vocab_size": 100,
    "attention_bias": True,
    "tie_word_embeddings": False,
}


def _qwen2_layer(prefix: str) -> list[tuple[str, tuple[int, ...]]]:
    """One Qwen2 layer at hidden 32, 4 heads of 8, 2 KV heads: q/k/v with biases, o_proj without."""
    return [
        (f"{prefix}.input_layernorm.weight", (32,)),
        (f"{prefix}.post_attention_layernorm.weight", (32,)),
        (f"{prefix}.self_attn.q_proj.weight", (32, 32)),
        (f"{prefix}.self_attn.q_proj.bias", (32,)),
        (f"{prefix}.self_attn.k_proj.weight", (16, 32)),
        (f"{prefix}.self_attn.k_proj.bias", (16,)),
        (f"{prefix}.self_attn.v_proj.weight", (16, 32)),
        (f"{prefix}.self_attn.v_proj.bias", (16,)),
        (f"{prefix}.self_attn.o_proj.weight", (32, 32)),
        (f"{prefix}.mlp.gate_proj.weight", (48, 32)),
        (f"{prefix}.mlp.up_proj.weight", (48, 32)),
        (f"{prefix}.mlp.down_proj.weight", (32, 48)),
    ]


_TINY_TENSORS = [
    ("model.embed_tokens.weight", (100, 32)),
    ("model.norm.weight", (32,)),
    ("lm_head.weight", (100, 32)),
    *_qwen2_layer("model.layers.0"),
    ("model.mtp_layers.0.token_layernorm.weight", (32,)),
    ("model.mtp_layers.0.hidden_layernorm.weight", (32,)),
    ("model.mtp_layers.0.input_proj.weight", (32, 64)),
    ("model.mtp_layers.0.final_layernorm.weight", (32,)),
    *_qwen2_layer("model.mtp_layers.0"),
]


def test_tiny_mimo_builds_the_loaders_tensors() -> None:
    """The config path gives the tensors vLLM's MiMo loader reads, MTP layer included, per component."""
    tensors = [TensorInfo(name, "BF16", shape) for name, shape in _TINY_TENSORS]
    from_config = account_from_config(_TINY)
    from_headers = account_from_tensors(tensors, parse_model_config(_TINY))
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params == sum(t.numel for t in tensors)
    assert from_config.components == from_headers.components
    assert from_config.components.mtp == sum(t.numel for t in tensors if ".mtp_layers." in t.name)


def test_mimo_7b_base_mtp_layer_is_one_qwen2_layer_plus_its_projection() -> None:
    """MiMo-7B-Base: the MTP component is one main layer plus 3 norms and the [h, 2h] projection."""
    text = resources.files("store").joinpath("data", "catalog", "others.json").read_text(encoding="utf-8")
    raw = next(m for m in json.loads(text)["models"] if m["repo_id"] == "XiaomiMiMo/MiMo-7B-Base")["config"]
    accounting = account_from_config(raw)
    without_mtp = account_from_config({**raw, "num_nextn_predict_layers": 0})
    h, layers = raw["hidden_size"], raw["num_hidden_layers"]
    one_layer = (without_mtp.total_params - 2 * raw["vocab_size"] * h - h) // layers
    assert accounting.counts_known
    assert accounting.components.mtp == one_layer + 3 * h + 2 * h * h
    assert accounting.total_params == without_mtp.total_params + accounting.components.mtp
