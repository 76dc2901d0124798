"""Nemotron-NAS (DeciLM, ``model_type: nemotron-nas``): a Llama decoder pruned layer by layer.

Each entry of ``block_configs`` says what one layer keeps: its attention is GQA with
``num_attention_heads // n_heads_in_group`` KV heads, one ``hidden × hidden`` linear map
(``replace_with_linear``) or nothing at all (``no_op``, and then no ``input_layernorm`` either);
its FFN is a SwiGLU MLP of the width ``ffn_mult`` gives, a linear map, or nothing (and then no
``post_attention_layernorm``). Rules and names as the Hub's remote ``modeling_decilm.py`` builds
them, read in two public ports: vLLM's ``vllm/model_executor/models/nemotron_nas.py``
(github:vllm-project/vllm@00bd1493b3e82d6c13c68ee8a0e1c5a96707e190: no-op layers, KV heads,
``_ffn_mult_to_intermediate_size``) and NeMo Automodel's DeciLM port, whose ``Block`` adds the
linear replacements under the checkpoint keys ``self_attn.linear_attn`` and ``mlp.linear_mlp``.
For nvidia/Llama-3_3-Nemotron-Super-49B-v1 this gives 49,867,145,216, the Hub's stored total.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._builder import Family, TensorBuilder, add_embeddings, add_gated_mlp, add_qkvo


def build_nemotron_nas(f: Family, b: TensorBuilder) -> None:
    """Embeddings, head, and every layer as its ``block_configs`` entry describes it."""
    c = f.config
    add_embeddings(b, c)
    blocks = f.text.get("block_configs")
    listed = list(blocks) if isinstance(blocks, list) else []
    for layer in range(c.num_layers):
        block = listed[layer] if layer < len(listed) and isinstance(listed[layer], Mapping) else {}
        prefix = f"model.layers.{layer}"
        _add_attention(b, f, prefix, _section(block, "attention"))
        _add_ffn(b, f, prefix, _section(block, "ffn"))


def ffn_mult_to_intermediate_size(ffn_mult: float, hidden_size: int) -> int:
    """DeciLM's MLP width: ``int(2 · ffn_mult · hidden / 3)`` rounded up to a multiple of 256."""
    width = int(2 * ffn_mult * hidden_size / 3)
    return -(-width // 256) * 256


def _add_attention(b: TensorBuilder, f: Family, prefix: str, attention: Mapping[str, object]) -> None:
    c = f.config
    h = c.hidden_size
    if attention.get("no_op") is True:
        return
    b.norm(f"{prefix}.input_layernorm", h)
    if attention.get("replace_with_linear") is True:
        b.linear(f"{prefix}.self_attn.linear_attn", h, h)
        return
    group = _positive_int(attention.get("n_heads_in_group")) or max(c.num_heads // c.num_kv_heads, 1)
    kv_dim = (c.num_heads // group) * c.head_dim
    bias = c.attention_bias  # vLLM's port: q/k/v and o_proj share ``attention_bias``
    add_qkvo(b, f"{prefix}.self_attn", h, c.num_heads * c.head_dim, kv_dim, qkv_bias=bias, o_bias=bias)


def _add_ffn(b: TensorBuilder, f: Family, prefix: str, ffn: Mapping[str, object]) -> None:
    c = f.config
    h = c.hidden_size
    if ffn.get("no_op") is True:
        return
    b.norm(f"{prefix}.post_attention_layernorm", h)
    if ffn.get("replace_with_linear") is True:
        b.linear(f"{prefix}.mlp.linear_mlp", h, h)
        return
    mult = ffn.get("ffn_mult")
    if isinstance(mult, int | float) and not isinstance(mult, bool):
        inter = ffn_mult_to_intermediate_size(float(mult), h)
    else:
        inter = _positive_int(ffn.get("intermediate_size")) or c.intermediate_size or 4 * h
    add_gated_mlp(b, f"{prefix}.mlp", h, inter, bias=f.flag("mlp_bias"))


def _section(block: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = block.get(key)
    return value if isinstance(value, Mapping) else {}


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


BUILDERS = {"nemotron-nas": build_nemotron_nas, "nemotron_nas": build_nemotron_nas}
