"""Kimi-K3's language model: Kimi-Linear's KDA/MLA hybrid with attention residuals, a gated MLA, a
full-rank KDA output gate and a latent MoE.

Its text_config says ``kimi_linear``, so it shares that model_type with Kimi-Linear-48B; the keys only
K3 writes (``routed_expert_hidden_size``, ``attn_res_block_size``) choose this layout. Names and shapes
follow the stored tensors in the public per-tensor report github:gogongxt/python
scripts/models/kimi_k3.md@a0d3871ab6f58cbda18c00a8b8c79f84fcc043eb (96 shards, 497,220 tensors), with
the routed experts fused as transformers stores them (same counts as the report's per-expert w1/w2/w3).
"""

from __future__ import annotations

from ._builder import Family, TensorBuilder, add_embeddings, add_fused_experts, add_gated_mlp, add_mla
from ._layers import mixer_layers, moe_layer_set
from ._linear_attention import build_kimi_linear as _build_kimi_linear_48b
from ._linear_attention import kda_dims

_K3_KEYS = ("routed_expert_hidden_size", "attn_res_block_size")


def build_kimi_linear(f: Family, b: TensorBuilder) -> None:
    """Kimi-Linear, or Kimi-K3 when its config carries the keys only K3 writes."""
    if any(key in f.text for key in _K3_KEYS):
        build_kimi_k3(f, b)
    else:
        _build_kimi_linear_48b(f, b)


def build_kimi_k3(f: Family, b: TensorBuilder) -> None:
    """Embeddings, 93 KDA or MLA layers (``linear_attn_config``), dense layer 0 then latent MoE."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    residuals = "attn_res_block_size" in f.text
    if residuals:
        _add_attention_residual(b, "model.output_attn_res", h)
    norms: tuple[str, ...] = ("input_layernorm", "post_attention_layernorm")
    if residuals:
        norms = (*norms, "self_attention_res_norm", "mlp_res_norm")
    moe_layers = moe_layer_set(c)
    for i, mixer, p in mixer_layers(f, b, *norms):
        if residuals:  # block attention residuals: a [1, hidden] scorer before attention and before the MLP
            b.add(f"{p}.self_attention_res_proj.weight", 1, h)
            b.add(f"{p}.mlp_res_proj.weight", 1, h)
        if mixer == "attention":
            add_mla(b, c, f"{p}.self_attn")
            if f.flag("mla_use_output_gate"):  # sigmoid gate on the attention output, one per head value
                mla = c.mla
                assert mla is not None
                b.linear(f"{p}.self_attn.g_proj", c.num_heads * mla.v_head_dim, h)
        else:
            _add_kda(b, f, f"{p}.self_attn")
        if i in moe_layers and c.moe:
            _add_latent_moe(b, f, f"{p}.block_sparse_moe")
        else:
            add_gated_mlp(b, f"{p}.mlp", h, c.intermediate_size or 4 * h)


def _add_attention_residual(b: TensorBuilder, p: str, h: int) -> None:
    b.norm(f"{p}_norm", h)
    b.add(f"{p}_proj.weight", 1, h)


def _add_kda(b: TensorBuilder, f: Family, p: str) -> None:
    """K3's Kimi Delta Attention: separate q/k/v short convolutions, full-rank output gate."""
    h = f.config.hidden_size
    heads, dim, kernel = kda_dims(f)
    width = heads * dim
    for name in ("q", "k", "v"):
        b.linear(f"{p}.{name}_proj", width, h)
        b.add(f"{p}.{name}_conv1d.weight", width, 1, kernel)
    # A_log holds one decay per head, but K3 stores it in a [head_dim] buffer, zero-padded past num_heads
    # (the report: [128] for 96 heads; tokenspeed's KimiLinearKDA loader narrows it to the heads on load).
    b.add(f"{p}.A_log", dim)
    b.add(f"{p}.dt_bias", width)
    b.linear(f"{p}.b_proj", heads, h)
    b.linear(f"{p}.f_a_proj", dim, h)
    b.linear(f"{p}.f_b_proj", width, dim)
    section = f.text.get("linear_attn_config")
    if isinstance(section, dict) and section.get("use_full_rank_gate"):
        b.linear(f"{p}.g_proj", width, h)
    else:
        b.linear(f"{p}.g_a_proj", dim, h)
        b.linear(f"{p}.g_b_proj", width, dim)
    b.norm(f"{p}.o_norm", dim)
    b.linear(f"{p}.o_proj", h, width)


def _add_latent_moe(b: TensorBuilder, f: Family, p: str) -> None:
    """Router with score-correction bias, shared experts at full width, routed experts in a latent width
    (``routed_expert_hidden_size``) between a down projection and an up projection (plus its norm)."""
    c = f.config
    moe, h = c.moe, c.hidden_size
    assert moe is not None
    inter = moe.moe_intermediate_size or h
    latent = f.integer("routed_expert_hidden_size") or h
    b.add(f"{p}.gate.weight", moe.num_experts, h)
    b.add(f"{p}.gate.e_score_correction_bias", moe.num_experts)
    if latent != h:
        b.linear(f"{p}.routed_expert_down_proj", latent, h)
        b.linear(f"{p}.routed_expert_up_proj", h, latent)
        if f.flag("latent_moe_use_norm"):
            b.norm(f"{p}.routed_expert_norm", latent)
    add_fused_experts(b, f"{p}.experts", moe.num_experts, latent, inter)
    if moe.shared_experts:
        add_gated_mlp(b, f"{p}.shared_experts", h, inter * moe.shared_experts)


BUILDERS = {"kimi_linear": build_kimi_linear}
