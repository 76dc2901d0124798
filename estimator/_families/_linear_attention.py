"""Hybrids of full attention with linear or convolutional mixers.

Qwen3-Next and Qwen3.5/3.6 (Gated DeltaNet), Kimi-Linear (Kimi Delta Attention next to MLA),
MiniMax-Text (lightning attention) and LFM2 (short convolutions). Shapes follow transformers
5.24's modeling files for each family.
"""

from __future__ import annotations

from ._builder import (
    Family,
    TensorBuilder,
    add_embeddings,
    add_fused_experts,
    add_gated_mlp,
    add_mla,
    add_qkvo,
)
from ._layers import layer_mixers, mixer_layers, moe_layer_set

_GATED_DELTANET = frozenset({"qwen3_next", "qwen3_5", "qwen3_5_text", "qwen3_5_moe", "qwen3_5_moe_text"})


def build_gated_deltanet_hybrid(f: Family, b: TensorBuilder) -> None:
    """Qwen3-Next / Qwen3.5: Gated DeltaNet layers with gated full attention every few layers, then the
    MTP block Qwen3.5 declares (``mtp_num_hidden_layers``)."""
    c = f.config
    add_embeddings(b, c)
    moe_layers = moe_layer_set(c)
    for i, mixer in enumerate(layer_mixers(f)):
        _add_hybrid_layer(b, f, f"model.layers.{i}", attention=mixer == "attention", moe=i in moe_layers)
    # Qwen3.5 stores its MTP block under ``mtp.``: fc over [embedding; hidden], two pre-fc norms, full
    # attention layers and a final norm, sharing the main embedding and head. Qwen3.5-27B's Hub total
    # exceeds transformers' count (which drops ``mtp.*``) by exactly this block: 424,699,392.
    # Qwen3-Next stores the same block but its config.json does not declare it, so it is not added.
    mtp_layers = f.integer("mtp_num_hidden_layers")
    if mtp_layers and not f.flag("mtp_use_dedicated_embeddings"):
        h = c.hidden_size
        b.linear("mtp.fc", h, 2 * h)
        b.norm("mtp.pre_fc_norm_embedding", h)
        b.norm("mtp.pre_fc_norm_hidden", h)
        for j in range(mtp_layers):
            _add_hybrid_layer(b, f, f"mtp.layers.{j}", attention=True, moe=bool(c.moe))
        b.norm("mtp.norm", h)


def _add_hybrid_layer(b: TensorBuilder, f: Family, p: str, *, attention: bool, moe: bool) -> None:
    c = f.config
    b.norm(f"{p}.input_layernorm", c.hidden_size)
    b.norm(f"{p}.post_attention_layernorm", c.hidden_size)
    if attention:
        q_dim, kv_dim = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
        # q_proj is twice as wide: it also produces the attention output gate.
        add_qkvo(b, f"{p}.self_attn", c.hidden_size, 2 * q_dim, kv_dim, qkv_bias=c.attention_bias, o_in=q_dim)
        b.norm(f"{p}.self_attn.q_norm", c.head_dim)
        b.norm(f"{p}.self_attn.k_norm", c.head_dim)
    else:
        _add_gated_deltanet(b, f, f"{p}.linear_attn")
    if moe:
        _add_qwen_moe(b, f, f"{p}.mlp")
    else:
        add_gated_mlp(b, f"{p}.mlp", c.hidden_size, c.intermediate_size or 4 * c.hidden_size)


def _add_gated_deltanet(b: TensorBuilder, f: Family, p: str) -> None:
    h = f.config.hidden_size
    key_heads, value_heads = f.integer("linear_num_key_heads", 16), f.integer("linear_num_value_heads", 32)
    key_dim = key_heads * f.integer("linear_key_head_dim", 128)
    value_dim = value_heads * f.integer("linear_value_head_dim", 128)
    if f.config.model_type == "qwen3_next":
        b.linear(f"{p}.in_proj_qkvz", 2 * key_dim + 2 * value_dim, h)
        b.linear(f"{p}.in_proj_ba", 2 * value_heads, h)
    else:
        b.linear(f"{p}.in_proj_qkv", 2 * key_dim + value_dim, h)
        b.linear(f"{p}.in_proj_z", value_dim, h)
        b.linear(f"{p}.in_proj_b", value_heads, h)
        b.linear(f"{p}.in_proj_a", value_heads, h)
    b.add(f"{p}.conv1d.weight", 2 * key_dim + value_dim, 1, f.integer("linear_conv_kernel_dim", 4))
    b.add(f"{p}.dt_bias", value_heads)
    b.add(f"{p}.A_log", value_heads)
    b.norm(f"{p}.norm", f.integer("linear_value_head_dim", 128))
    b.linear(f"{p}.out_proj", h, value_dim)


def _add_qwen_moe(b: TensorBuilder, f: Family, p: str) -> None:
    c = f.config
    moe, h = c.moe, c.hidden_size
    assert moe is not None
    b.add(f"{p}.gate.weight", moe.num_experts, h)
    add_fused_experts(b, f"{p}.experts", moe.num_experts, h, moe.moe_intermediate_size or h)
    if moe.shared_intermediate_size:
        add_gated_mlp(b, f"{p}.shared_expert", h, moe.shared_intermediate_size)
        b.add(f"{p}.shared_expert_gate.weight", 1, h)


def build_kimi_linear(f: Family, b: TensorBuilder) -> None:
    """Kimi-Linear: Kimi Delta Attention layers, MLA every few layers, DeepSeek-style MoE."""
    c = f.config
    add_embeddings(b, c)
    moe_layers = moe_layer_set(c)
    for i, mixer, p in mixer_layers(f, b, "input_layernorm", "post_attention_layernorm"):
        if mixer == "attention":
            add_mla(b, c, f"{p}.self_attn")
        else:
            _add_kimi_delta(b, f, f"{p}.self_attn")
        if i in moe_layers and c.moe:
            moe, h = c.moe, c.hidden_size
            inter = moe.moe_intermediate_size or h
            b.add(f"{p}.mlp.gate.weight", moe.num_experts, h)
            b.add(f"{p}.mlp.gate.e_score_correction_bias", moe.num_experts)
            add_fused_experts(b, f"{p}.mlp.experts", moe.num_experts, h, inter)
            if moe.shared_experts:
                add_gated_mlp(b, f"{p}.mlp.shared_experts", h, inter * moe.shared_experts)
        else:
            add_gated_mlp(b, f"{p}.mlp", c.hidden_size, c.intermediate_size or 4 * c.hidden_size)


def _linear_attn_setting(f: Family, key: str, nested: str, default: int) -> int:
    section = f.text.get("linear_attn_config")
    if isinstance(section, dict) and isinstance(section.get(nested), int):
        return int(section[nested])
    return f.integer(key, default)


def kda_dims(f: Family) -> tuple[int, int, int]:
    """Kimi Delta Attention's heads, head size and short-conv kernel (Kimi-Linear and Kimi-K3)."""
    return (
        _linear_attn_setting(f, "linear_num_heads", "num_heads", 32),
        _linear_attn_setting(f, "linear_head_dim", "head_dim", 128),
        _linear_attn_setting(f, "linear_conv_kernel_dim", "short_conv_kernel_size", 4),
    )


def _add_kimi_delta(b: TensorBuilder, f: Family, p: str) -> None:
    h = f.config.hidden_size
    heads, dim, kernel = kda_dims(f)
    width = heads * dim
    for proj in ("q_proj", "k_proj", "v_proj"):
        b.linear(f"{p}.{proj}", width, h)
    b.add(f"{p}.conv1d.weight", 3 * width, 1, kernel)
    b.add(f"{p}.forget_gate.dt_bias", width)
    b.add(f"{p}.forget_gate.A_log", 1, 1, heads, 1)
    b.linear(f"{p}.forget_gate.f_a_proj", dim, h)
    b.linear(f"{p}.forget_gate.f_b_proj", width, dim)
    b.linear(f"{p}.b_proj", heads, h)
    b.linear(f"{p}.g_a_proj", dim, h)
    b.linear(f"{p}.g_b_proj", width, dim)
    b.norm(f"{p}.o_norm", dim)
    b.linear(f"{p}.o_proj", h, width)


def build_minimax(f: Family, b: TensorBuilder) -> None:
    """MiniMax-Text-01: lightning (linear) attention layers between softmax ones, all MoE."""
    c = f.config
    add_embeddings(b, c)
    h, width = c.hidden_size, c.num_heads * c.head_dim
    for _, mixer, p in mixer_layers(f, b, "input_layernorm", "post_attention_layernorm"):
        if mixer == "attention":
            add_qkvo(b, f"{p}.self_attn", h, width, c.num_kv_heads * c.head_dim)
        else:
            b.linear(f"{p}.self_attn.qkv_proj", 3 * width, h)
            b.linear(f"{p}.self_attn.out_proj", h, width)
            b.linear(f"{p}.self_attn.output_gate", width, h)
            b.norm(f"{p}.self_attn.norm", width)
        if c.moe:
            b.add(f"{p}.mlp.gate.weight", c.moe.num_experts, h)
            add_fused_experts(b, f"{p}.mlp.experts", c.moe.num_experts, h, c.intermediate_size or h)


def build_lfm2(f: Family, b: TensorBuilder) -> None:
    """LFM2 / LFM2-MoE: gated short-convolution layers and GQA layers; final norm is ``embedding_norm``."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c, norm_name="embedding_norm")
    dense_layers = f.integer("num_dense_layers") if c.model_type == "lfm2_moe" else c.num_layers
    conv_bias = f.flag("conv_bias")
    for i, mixer, p in mixer_layers(f, b, "operator_norm", "ffn_norm"):
        if mixer == "attention":
            add_qkvo(
                b,
                f"{p}.self_attn",
                h,
                c.num_heads * c.head_dim,
                c.num_kv_heads * c.head_dim,
                o_name="out_proj",
            )
            b.norm(f"{p}.self_attn.q_layernorm", c.head_dim)
            b.norm(f"{p}.self_attn.k_layernorm", c.head_dim)
        else:
            b.add(f"{p}.conv.conv.weight", h, 1, f.integer("conv_L_cache", 3))
            if conv_bias:
                b.add(f"{p}.conv.conv.bias", h)
            b.linear(f"{p}.conv.in_proj", 3 * h, h, bias=conv_bias)
            b.linear(f"{p}.conv.out_proj", h, h, bias=conv_bias)
        if i < dense_layers:
            inter = _lfm2_ffn_size(f) if c.model_type == "lfm2" else c.intermediate_size or h
            _add_w123(b, f"{p}.feed_forward", h, inter)
        elif c.moe:
            b.add(f"{p}.feed_forward.gate.weight", c.moe.num_experts, h)
            if f.flag("use_expert_bias", True):
                b.add(f"{p}.feed_forward.expert_bias", c.moe.num_experts)
            add_fused_experts(
                b, f"{p}.feed_forward.experts", c.moe.num_experts, h, c.moe.moe_intermediate_size or h
            )


def _add_w123(b: TensorBuilder, p: str, h: int, inter: int) -> None:
    b.linear(f"{p}.w1", inter, h)
    b.linear(f"{p}.w3", inter, h)
    b.linear(f"{p}.w2", h, inter)


def _lfm2_ffn_size(f: Family) -> int:
    """LFM2's feed-forward width: 2/3 of intermediate_size, scaled, rounded up (modeling_lfm2)."""
    # transformers' Lfm2Config takes ``block_ff_dim`` over ``intermediate_size`` (default 12288); the
    # Hub configs carry only block_ff_dim (LFM2-350M: 6656 -> 4608, matching its Hub total).
    inter = f.integer("block_ff_dim") or f.config.intermediate_size or 12288
    if not f.flag("block_auto_adjust_ff_dim", True):
        return inter
    inter = int(2 * inter / 3)
    multiplier = f.text.get("block_ffn_dim_multiplier")
    if isinstance(multiplier, int | float) and not isinstance(multiplier, bool):
        inter = int(multiplier * inter)
    step = f.integer("block_multiple_of", 256) or 1
    return step * ((inter + step - 1) // step)


BUILDERS = {
    **dict.fromkeys(_GATED_DELTANET, build_gated_deltanet_hybrid),
    "kimi_linear": build_kimi_linear,
    "minimax": build_minimax,
    "lfm2": build_lfm2,
    "lfm2_moe": build_lfm2,
}
