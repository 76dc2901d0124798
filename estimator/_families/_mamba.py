"""State-space hybrids: Jamba (Mamba-1), Bamba, Falcon-H1, Granite 4 hybrid, Nemotron-H and
Zamba2 (Mamba-2), with attention where each family's config places it."""

from __future__ import annotations

import math

from ._builder import (
    Family,
    TensorBuilder,
    add_embeddings,
    add_fused_experts,
    add_gated_mlp,
    add_head,
    add_qkvo,
)
from ._layers import ATTENTION, layer_mixers, mixer_layers, mixer_names, moe_layer_set


def _add_mamba2(
    b: TensorBuilder,
    f: Family,
    p: str,
    *,
    inner: int,
    heads: int,
    groups: int,
    state: int,
    kernel: int,
    conv_bias: bool,
    proj_bias: bool,
    out_bias: bool,
    gated_norm: bool = True,
) -> None:
    """A Mamba-2 mixer: in_proj to (z, x, B, C, dt), depthwise conv over (x, B, C), per-head A/D/dt."""
    h = f.config.hidden_size
    conv_dim = inner + 2 * groups * state
    b.linear(f"{p}.in_proj", inner + conv_dim + heads, h, bias=proj_bias)
    b.add(f"{p}.conv1d.weight", conv_dim, 1, kernel)
    if conv_bias:
        b.add(f"{p}.conv1d.bias", conv_dim)
    b.add(f"{p}.dt_bias", heads)
    b.add(f"{p}.A_log", heads)
    b.add(f"{p}.D", heads)
    if gated_norm:
        b.norm(f"{p}.norm", inner)
    b.linear(f"{p}.out_proj", h, inner, bias=out_bias)


def _mamba2_of(
    f: Family,
    p: str,
    b: TensorBuilder,
    *,
    inner: int = 0,
    heads_key: str = "mamba_n_heads",
    groups_key: str = "mamba_n_groups",
    state_key: str = "mamba_d_state",
    kernel_key: str = "mamba_d_conv",
    conv_bias_key: str = "mamba_conv_bias",
    proj_bias_key: str = "mamba_proj_bias",
    out_bias_key: str = "",
    gated_norm: bool = True,
) -> None:
    h = f.config.hidden_size
    _add_mamba2(
        b,
        f,
        p,
        inner=inner or f.integer("mamba_expand", 2) * h,
        heads=f.integer(heads_key, 128),
        groups=f.integer(groups_key, 1),
        state=f.integer(state_key, 256),
        kernel=f.integer(kernel_key, 4),
        conv_bias=f.flag(conv_bias_key, True),
        proj_bias=f.flag(proj_bias_key),
        out_bias=f.flag(out_bias_key or proj_bias_key),
        gated_norm=gated_norm,
    )


def _add_gqa(b: TensorBuilder, f: Family, p: str) -> None:
    c = f.config
    add_qkvo(
        b,
        p,
        c.hidden_size,
        c.num_heads * c.head_dim,
        c.num_kv_heads * c.head_dim,
        qkv_bias=c.attention_bias,
        o_bias=c.attention_bias,
    )


def _add_attention_or_mamba2(b: TensorBuilder, f: Family, p: str, mixer: str) -> None:
    """GQA self-attention or a Mamba-2 mixer with the family's default keys (Bamba, Granite 4 hybrid)."""
    if mixer == ATTENTION:
        _add_gqa(b, f, f"{p}.self_attn")
    else:
        _mamba2_of(f, f"{p}.mamba", b)


def build_jamba(f: Family, b: TensorBuilder) -> None:
    """Jamba: Mamba-1 layers with attention every ``attn_layer_period``, MoE every ``expert_layer_period``."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c, norm_name="final_layernorm")
    moe_layers = moe_layer_set(c)
    for i, mixer, p in mixer_layers(f, b, "input_layernorm", "pre_ff_layernorm"):
        if mixer == ATTENTION:
            _add_gqa(b, f, f"{p}.self_attn")
        else:
            _add_mamba1(b, f, f"{p}.mamba")
        if i in moe_layers and c.moe:
            b.add(f"{p}.feed_forward.router.weight", c.moe.num_experts, h)
            add_fused_experts(b, f"{p}.feed_forward.experts", c.moe.num_experts, h, c.intermediate_size or h)
        else:
            add_gated_mlp(b, f"{p}.feed_forward", h, c.intermediate_size or 4 * h)


def _add_mamba1(b: TensorBuilder, f: Family, p: str) -> None:
    h = f.config.hidden_size
    inner, state, kernel = (
        f.integer("mamba_expand", 2) * h,
        f.integer("mamba_d_state", 16),
        f.integer("mamba_d_conv", 4),
    )
    rank = f.integer("mamba_dt_rank") or math.ceil(h / 16)  # "auto" in the config means ceil(h / 16)
    proj_bias = f.flag("mamba_proj_bias")
    b.linear(f"{p}.in_proj", 2 * inner, h, bias=proj_bias)
    b.add(f"{p}.conv1d.weight", inner, 1, kernel)
    if f.flag("mamba_conv_bias", True):
        b.add(f"{p}.conv1d.bias", inner)
    b.linear(f"{p}.x_proj", rank + 2 * state, inner)
    b.linear(f"{p}.dt_proj", inner, rank, bias=True)
    b.add(f"{p}.A_log", inner, state)
    b.add(f"{p}.D", inner)
    b.linear(f"{p}.out_proj", h, inner, bias=proj_bias)
    b.norm(f"{p}.dt_layernorm", rank)
    b.norm(f"{p}.b_layernorm", state)
    b.norm(f"{p}.c_layernorm", state)


def build_bamba(f: Family, b: TensorBuilder) -> None:
    """Bamba: Mamba-2 layers, attention at ``attn_layer_indices``, a gated MLP in every layer."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c, norm_name="final_layernorm")
    for _, mixer, p in mixer_layers(f, b, "input_layernorm", "pre_ff_layernorm"):
        _add_attention_or_mamba2(b, f, p, mixer)
        add_gated_mlp(b, f"{p}.feed_forward", h, c.intermediate_size or 4 * h, bias=f.flag("mlp_bias"))


def build_falcon_h1(f: Family, b: TensorBuilder) -> None:
    """Falcon-H1: attention and Mamba-2 side by side in every layer, then a gated MLP."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c, norm_name="final_layernorm")
    inner = f.integer("mamba_d_ssm") or f.integer("mamba_expand", 2) * h
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        b.norm(f"{p}.input_layernorm", h)
        b.norm(f"{p}.pre_ff_layernorm", h)
        _add_gqa(b, f, f"{p}.self_attn")
        _mamba2_of(
            f,
            f"{p}.mamba",
            b,
            inner=inner,
            out_bias_key="projectors_bias",
            gated_norm=f.flag("mamba_rms_norm"),
        )
        add_gated_mlp(b, f"{p}.feed_forward", h, c.intermediate_size or 4 * h, bias=f.flag("mlp_bias"))


def build_granitemoehybrid(f: Family, b: TensorBuilder) -> None:
    """Granite 4 hybrid: Mamba-2 or attention per ``layer_types``, routed experts plus a shared MLP."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    shared = f.integer("shared_intermediate_size")
    for _, mixer, p in mixer_layers(f, b, "input_layernorm", "post_attention_layernorm"):
        _add_attention_or_mamba2(b, f, p, mixer)
        if c.moe:
            b.add(f"{p}.block_sparse_moe.router.layer.weight", c.moe.num_experts, h)
            add_fused_experts(
                b, f"{p}.block_sparse_moe.experts", c.moe.num_experts, h, c.intermediate_size or h
            )
        if shared:
            b.linear(f"{p}.shared_mlp.input_linear", 2 * shared, h)
            b.linear(f"{p}.shared_mlp.output_linear", h, shared)


def build_nemotron_h(f: Family, b: TensorBuilder) -> None:
    """Nemotron-H: one mixer per layer (Mamba-2, attention, ReLU² MLP or MoE) behind one norm, then the
    MTP block the config declares (``num_nextn_predict_layers``)."""
    c = f.config
    h = c.hidden_size
    b.add("model.embeddings.weight", c.vocab_size, h)
    b.norm("model.norm_f", h)
    add_head(b, c)
    for i, mixer in enumerate(layer_mixers(f)):
        _add_nemotron_block(b, f, f"model.layers.{i}", mixer)
    # Nemotron-3 Super/Ultra store their MTP block as ``mtp.*``: the blocks of mtp_layers_block_type
    # (legacy mtp_hybrid_override_pattern; transformers' default attention + MoE), an [h, 2h] projection
    # of [embedding; hidden] and three norms, sharing the main embedding and head. With this block,
    # Nemotron-3-Super-120B-A12B's Hub total (123,611,012,096) is our count minus exactly its 41 routers'
    # e_score_correction_bias (41 x 512), which the Hub figure leaves out as it does for Nemotron-3-Nano.
    if f.integer("num_nextn_predict_layers"):
        kinds = f.strings("mtp_layers_block_type") or str(f.text.get("mtp_hybrid_override_pattern") or "*E")
        for j, mixer in enumerate(mixer_names(kinds)):
            _add_nemotron_block(b, f, f"mtp.layers.{j}", mixer)
        b.linear("mtp.eh_proj", h, 2 * h)
        for norm in ("enorm", "hnorm", "final_layernorm"):
            b.norm(f"mtp.{norm}", h)


def _add_nemotron_block(b: TensorBuilder, f: Family, p: str, mixer: str) -> None:
    c = f.config
    h = c.hidden_size
    b.norm(f"{p}.norm", h)
    if mixer == ATTENTION:
        _add_gqa(b, f, f"{p}.mixer")
    elif mixer == "mlp":
        b.linear(f"{p}.mixer.up_proj", c.intermediate_size or 4 * h, h, bias=f.flag("mlp_bias"))
        b.linear(f"{p}.mixer.down_proj", h, c.intermediate_size or 4 * h, bias=f.flag("mlp_bias"))
    elif mixer == "moe" and c.moe:
        _add_nemotron_moe(b, f, f"{p}.mixer")
    else:
        _mamba2_of(
            f,
            f"{p}.mixer",
            b,
            inner=f.integer("mamba_num_heads", 128) * f.integer("mamba_head_dim", 64),
            heads_key="mamba_num_heads",
            groups_key="n_groups",
            state_key="ssm_state_size",
            kernel_key="conv_kernel",
            conv_bias_key="use_conv_bias",
            proj_bias_key="use_bias",
        )


def _add_nemotron_moe(b: TensorBuilder, f: Family, p: str) -> None:
    c = f.config
    moe, h = c.moe, c.hidden_size
    assert moe is not None
    inter = moe.moe_intermediate_size or h
    latent = f.integer("moe_latent_size")  # experts then work in a narrower latent space
    width = latent or h
    b.add(f"{p}.gate.weight", moe.num_experts, h)
    b.add(f"{p}.gate.e_score_correction_bias", moe.num_experts)
    b.add(f"{p}.experts.up_proj", moe.num_experts, inter, width)  # ReLU² experts: no gate projection
    b.add(f"{p}.experts.down_proj", moe.num_experts, width, inter)
    if latent:
        b.linear(f"{p}.fc1_latent_proj", latent, h, bias=f.flag("mlp_bias"))
        b.linear(f"{p}.fc2_latent_proj", h, latent, bias=f.flag("mlp_bias"))
    shared = f.integer("moe_shared_expert_intermediate_size")
    if shared:
        b.linear(f"{p}.shared_experts.up_proj", shared, h, bias=f.flag("mlp_bias"))
        b.linear(f"{p}.shared_experts.down_proj", h, shared, bias=f.flag("mlp_bias"))


def build_zamba2(f: Family, b: TensorBuilder) -> None:
    """Zamba2: Mamba-2 layers; hybrid layers add a per-layer linear and reuse ``num_mem_blocks``
    shared attention blocks, stored once, whose LoRA-style adapters exist once per hybrid layer."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c, norm_name="final_layernorm")
    kinds = f.strings("layers_block_type")
    hybrid = [i for i, kind in enumerate(kinds) if kind == "hybrid"]
    blocks = max(1, f.integer("num_mem_blocks", 1))
    for i, kind in enumerate(kinds):
        p = f"model.layers.{i}"
        mamba = f"{p}.mamba_decoder" if kind == "hybrid" else p
        b.norm(f"{mamba}.input_layernorm", h)
        _mamba2_of(
            f,
            f"{mamba}.mamba",
            b,
            heads_key="n_mamba_heads",
            groups_key="mamba_ngroups",
            state_key="mamba_d_state",
            conv_bias_key="use_conv_bias",
            proj_bias_key="add_bias_linear",
        )
        if kind == "hybrid":
            b.linear(f"{p}.linear", h, h)
    for block, layer in enumerate(hybrid[:blocks]):
        adapters = sum(1 for j in range(len(hybrid)) if j % blocks == block)
        _add_zamba2_shared_block(b, f, f"model.layers.{layer}.shared_transformer", adapters)


def _add_zamba2_shared_block(b: TensorBuilder, f: Family, p: str, adapters: int) -> None:
    c = f.config
    h, inter, rank = c.hidden_size, c.intermediate_size or 4 * c.hidden_size, f.integer("adapter_rank", 128)
    attn_in = f.integer("attention_hidden_size") or 2 * h
    head_dim = f.integer("attention_head_dim") or attn_in // c.num_heads
    bias = f.flag("add_bias_linear")
    b.norm(f"{p}.input_layernorm", attn_in)
    b.norm(f"{p}.pre_ff_layernorm", h)
    # Attention reads the hidden state concatenated with the input embedding (2h wide).
    b.linear(f"{p}.self_attn.q_proj", c.num_heads * head_dim, attn_in)
    b.linear(f"{p}.self_attn.k_proj", c.num_kv_heads * head_dim, attn_in)
    b.linear(f"{p}.self_attn.v_proj", c.num_kv_heads * head_dim, attn_in)
    b.linear(f"{p}.self_attn.o_proj", h, c.num_heads * head_dim)
    b.linear(f"{p}.feed_forward.gate_up_proj", 2 * inter, h, bias=bias)
    b.linear(f"{p}.feed_forward.down_proj", h, inter, bias=bias)
    for j in range(adapters):
        b.linear(f"{p}.feed_forward.gate_up_proj_adapter_list.{j}.0", rank, h)
        b.linear(f"{p}.feed_forward.gate_up_proj_adapter_list.{j}.1", 2 * inter, rank)
        if f.flag("use_shared_attention_adapter"):
            for proj in ("q", "k", "v"):
                b.linear(f"{p}.self_attn.linear_{proj}_adapter_list.{j}.0", rank, attn_in)
                b.linear(f"{p}.self_attn.linear_{proj}_adapter_list.{j}.1", attn_in, rank)


BUILDERS = {
    "jamba": build_jamba,
    "bamba": build_bamba,
    "falcon_h1": build_falcon_h1,
    "granitemoehybrid": build_granitemoehybrid,
    "nemotron_h": build_nemotron_h,
    "zamba2": build_zamba2,
}
