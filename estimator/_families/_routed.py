"""MoE families with their own routing layout: JetMoE (routed attention and MLP experts) and
LongCat-Flash (two attention sublayers per layer, zero-computation experts)."""

from __future__ import annotations

from ._builder import (
    Family,
    TensorBuilder,
    add_embeddings,
    add_fused_experts,
    add_gated_mlp,
    add_mla,
)


def build_jetmoe(f: Family, b: TensorBuilder) -> None:
    """JetMoE: mixture-of-attention heads and mixture-of-MLP experts, both routed top-k."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    experts = c.moe.num_experts if c.moe else f.integer("num_local_experts", 8)
    inter = c.intermediate_size or 4 * h
    heads_width = f.integer("kv_channels", 128) * c.num_kv_heads
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        b.norm(f"{p}.input_layernorm", h)
        b.norm(f"{p}.post_attention_layernorm", h)
        b.add(f"{p}.self_attention.experts.router.layer.weight", experts, h)
        b.add(f"{p}.self_attention.experts.input_linear.weight", experts, heads_width, h)
        b.add(f"{p}.self_attention.experts.output_linear.weight", experts, h, heads_width)
        b.add(f"{p}.self_attention.experts.bias", h)
        b.linear(f"{p}.self_attention.kv_proj", 2 * heads_width, h)
        b.add(f"{p}.mlp.router.layer.weight", experts, h)
        b.add(f"{p}.mlp.input_linear.weight", experts, 2 * inter, h)
        b.add(f"{p}.mlp.output_linear.weight", experts, h, inter)
        b.add(f"{p}.mlp.bias", h)


def build_longcat_flash(f: Family, b: TensorBuilder) -> None:
    """LongCat-Flash: each layer holds two MLA sublayers, two dense MLPs and one MoE block.

    The router scores ``n_routed_experts + zero_expert_num`` slots; the zero-computation
    experts have no weights, so only the routed experts are stored (as in the published
    checkpoint; transformers 5.24 also allocates gate_up slices for them, see the tests).
    """
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    experts = c.moe.num_experts if c.moe else f.integer("n_routed_experts")
    slots = experts + f.integer("zero_expert_num")
    dense = f.integer("ffn_hidden_size") or c.intermediate_size or 4 * h
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        for sub in (0, 1):
            b.norm(f"{p}.input_layernorm.{sub}", h)
            b.norm(f"{p}.post_attention_layernorm.{sub}", h)
            add_mla(b, c, f"{p}.self_attn.{sub}")
            add_gated_mlp(b, f"{p}.mlps.{sub}", h, dense)
        b.add(f"{p}.mlp.router.classifier.weight", slots, h)
        b.add(f"{p}.mlp.router.e_score_correction_bias", slots)
        add_fused_experts(b, f"{p}.mlp.experts", experts, h, f.integer("expert_ffn_hidden_size") or dense)


BUILDERS = {"jetmoe": build_jetmoe, "longcat_flash": build_longcat_flash}
