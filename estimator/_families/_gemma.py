"""Gemma 3n and Gemma 4 text models: per-layer input embeddings, KV-sharing layers that store
no K/V projections, Gemma 4's wider global layers and its MoE block beside the dense MLP."""

from __future__ import annotations

from collections.abc import Mapping

from ._builder import (
    Family,
    TensorBuilder,
    add_embeddings,
    add_fused_experts,
    add_gated_mlp,
)

_FOUR_NORMS = (
    "input_layernorm",
    "post_attention_layernorm",
    "pre_feedforward_layernorm",
    "post_feedforward_layernorm",
)


def _is_full(kind: str) -> bool:
    return "sliding" not in kind


def _first_shared_layer(f: Family) -> int:
    """Layers from here on reuse an earlier layer's K/V and store no k/v projections."""
    return f.config.num_layers - f.integer("num_kv_shared_layers")


def _add_per_layer_inputs(b: TensorBuilder, f: Family) -> None:
    c = f.config
    width = f.integer("hidden_size_per_layer_input")
    if not width:
        return
    vocab = f.integer("vocab_size_per_layer_input") or c.vocab_size
    b.add("model.embed_tokens_per_layer.weight", vocab, c.num_layers * width)
    b.linear("model.per_layer_model_projection", c.num_layers * width, c.hidden_size)
    b.norm("model.per_layer_projection_norm", width)


def _add_per_layer_gate(b: TensorBuilder, f: Family, p: str) -> None:
    h, width = f.config.hidden_size, f.integer("hidden_size_per_layer_input")
    if width:
        b.linear(f"{p}.per_layer_input_gate", width, h)
        b.linear(f"{p}.per_layer_projection", h, width)
        b.norm(f"{p}.post_per_layer_input_norm", h)


def _attention(
    b: TensorBuilder,
    p: str,
    h: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    *,
    store_kv: bool,
    store_v: bool = True,
) -> None:
    b.linear(f"{p}.q_proj", heads * head_dim, h)
    b.norm(f"{p}.q_norm", head_dim)
    if store_kv:
        b.linear(f"{p}.k_proj", kv_heads * head_dim, h)
        if store_v:
            b.linear(f"{p}.v_proj", kv_heads * head_dim, h)
        b.norm(f"{p}.k_norm", head_dim)  # v_norm has no scale: nothing stored
    b.linear(f"{p}.o_proj", h, heads * head_dim)


def build_gemma3n(f: Family, b: TensorBuilder) -> None:
    """Gemma 3n text model: AltUp streams, LAuReL residuals, per-layer MLP widths."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    _add_per_layer_inputs(b, f)
    streams = f.integer("altup_num_inputs", 4)
    for i in range(1, streams):
        b.linear(f"model.altup_projections.{i - 1}", h, h)
        b.linear(f"model.altup_unembed_projections.{i - 1}", h, h)
    widths = f.ints("intermediate_size")
    first_shared = _first_shared_layer(f)
    rank = f.integer("laurel_rank", 64)
    for i in range(c.num_layers):
        p = f"model.layers.{i}"
        _attention(b, f"{p}.self_attn", h, c.num_heads, c.num_kv_heads, c.head_dim, store_kv=i < first_shared)
        inter = widths[i] if len(widths) == c.num_layers else c.intermediate_size or 4 * h
        add_gated_mlp(b, f"{p}.mlp", h, inter)
        for norm in _FOUR_NORMS:
            b.norm(f"{p}.{norm}", h)
        b.add(f"{p}.altup.correct_output_scale", h)
        b.linear(f"{p}.altup.correction_coefs", streams, streams)
        b.linear(f"{p}.altup.prediction_coefs", streams * streams, streams)
        b.linear(f"{p}.altup.modality_router", streams, h)
        b.norm(f"{p}.altup.router_norm", h)
        b.linear(f"{p}.laurel.linear_left", rank, h)
        b.linear(f"{p}.laurel.linear_right", h, rank)
        b.norm(f"{p}.laurel.post_laurel_norm", h)
        _add_per_layer_gate(b, f, p)


def _gemma4_layer_shape(f: Family, i: int, kind: str) -> tuple[int, int]:
    """(kv heads, head_dim) of layer i: ``per_layer_config`` as transformers saves it, else
    the published keys ``global_head_dim`` / ``num_global_key_value_heads`` for full layers."""
    c = f.config
    saved = f.text.get("per_layer_config")
    if isinstance(saved, Mapping):
        override = saved.get(str(i)) or saved.get(i)
        if isinstance(override, Mapping):
            return int(override.get("num_key_value_heads", c.num_kv_heads)), int(
                override.get("head_dim", c.head_dim)
            )
        return c.num_kv_heads, c.head_dim
    if not _is_full(kind):
        return c.num_kv_heads, c.head_dim
    global_kv = f.integer("num_global_key_value_heads") if f.flag("attention_k_eq_v", True) else 0
    return global_kv or c.num_kv_heads, f.integer("global_head_dim", 512)


def build_gemma4(f: Family, b: TensorBuilder) -> None:
    """Gemma 4 text model (dense and MoE): sliding and wider global layers, optional K=V global layers."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    _add_per_layer_inputs(b, f)
    kinds = f.strings("layer_types") or tuple(
        "full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(c.num_layers)
    )
    first_shared = _first_shared_layer(f)
    k_eq_v = f.flag("attention_k_eq_v")
    for i, kind in enumerate(kinds):
        p = f"model.layers.{i}"
        kv_heads, head_dim = _gemma4_layer_shape(f, i, kind)
        shared = i >= first_shared
        _attention(
            b,
            f"{p}.self_attn",
            h,
            c.num_heads,
            kv_heads,
            head_dim,
            store_kv=not shared,
            store_v=not (k_eq_v and _is_full(kind)),
        )
        wide = 2 if shared and f.flag("use_double_wide_mlp") else 1
        add_gated_mlp(b, f"{p}.mlp", h, wide * (c.intermediate_size or 4 * h))
        for norm in _FOUR_NORMS:
            b.norm(f"{p}.{norm}", h)
        b.add(f"{p}.layer_scalar", 1)
        _add_per_layer_gate(b, f, p)
        if f.flag("enable_moe_block") and c.moe:
            experts = c.moe.num_experts
            b.add(f"{p}.router.scale", h)
            b.add(f"{p}.router.per_expert_scale", experts)
            b.linear(f"{p}.router.proj", experts, h)
            add_fused_experts(b, f"{p}.experts", experts, h, c.moe.moe_intermediate_size or h)
            for norm in (
                "post_feedforward_layernorm_1",
                "post_feedforward_layernorm_2",
                "pre_feedforward_layernorm_2",
            ):
                b.norm(f"{p}.{norm}", h)


BUILDERS = {
    "gemma3n": build_gemma3n,
    "gemma3n_text": build_gemma3n,
    "gemma4": build_gemma4,
    "gemma4_text": build_gemma4,
}
