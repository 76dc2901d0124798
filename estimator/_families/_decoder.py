"""Llama-style decoders and their MoE variants, told apart by a few per-family traits.

Names and shapes follow each family's transformers ``modeling_*.py``; the tiny-checkpoint
tests (tests/estimator/test_counts_vs_transformers.py) hold every family here to them.
"""

from __future__ import annotations

from .._config import ModelConfig
from ._builder import (
    Family,
    TensorBuilder,
    add_embeddings,
    add_fused_experts,
    add_gated_mlp,
    add_mla,
    add_qkvo,
    add_sparse_indexer,
)

_QK_NORM = frozenset(
    {
        "qwen3",
        "qwen3_moe",
        "gemma3",
        "gemma3_text",
        "exaone4",
        "apertus",
        "qwen3_vl_text",
        "qwen3_vl_moe_text",
    }
)
_FULL_WIDTH_QK_NORM = frozenset({"olmo2", "olmoe", "olmo3", "minimax_m2"})
_FOUR_NORMS = frozenset({"gemma2", "gemma3", "gemma3_text"})
_GLM4_NORMS = (
    "input_layernorm",
    "post_attention_layernorm",
    "post_self_attn_layernorm",
    "post_mlp_layernorm",
)
_POST_NORMS_ONLY = frozenset({"olmo2", "olmo3", "exaone4"})
_LAYERNORM_BIAS = frozenset({"phimoe"})
# q/k/v biases whatever the config says (modeling code hardcodes them); GLM-4.5 (glm4_moe) and
# Phi-3.5-MoE follow ``attention_bias`` instead (tiny transformers checkpoints saved without it).
_QKV_BIAS_ONLY = frozenset({"qwen2", "qwen2_moe", "glm4"})
_ALL_ATTN_BIAS = frozenset({"gpt_oss"})
_FUSED_QKV = frozenset({"phi3"})
# Families whose router always carries the learned score-correction bias (modeling code builds it
# unconditionally); DeepSeek-V2 has it only with ``topk_method: noaux_tc``.
_SCORE_BIAS = frozenset(
    {"glm4_moe", "deepseek_v3", "kimi_k2", "deepseek_v32", "glm_moe_dsa", "glm4_moe_lite"}
)
_MTP_SHARES_EMBEDDINGS = frozenset({"glm_moe_dsa"})
_SPARSE_INDEXER = frozenset({"deepseek_v32", "glm_moe_dsa"})

DECODER_TYPES = frozenset(
    {
        "llama",
        "mistral",
        "ministral",
        "ministral3",
        "qwen2",
        "qwen3",
        "gemma",
        "gemma2",
        "gemma3",
        "gemma3_text",
        "phi3",
        "mixtral",
        "qwen2_moe",
        "qwen3_moe",
        "deepseek_v2",
        "deepseek_v3",
        "kimi_k2",
        "gpt_oss",
        "olmo2",
        "olmoe",
        "olmo3",
        "granite",
        "granitemoe",
        "granitemoeshared",
        "glm4",
        "glm4_moe",
        "glm4_moe_lite",
        "phimoe",
        "smollm3",
        "llama4",
        "llama4_text",
        "exaone4",
        "seed_oss",
        "deepseek_v32",
        "glm_moe_dsa",
        "cohere2",
        "apertus",
        "minimax_m2",
        "ernie4_5_moe",
        "hunyuan_v1_moe",
        "qwen3_vl_text",
        "qwen3_vl_moe_text",
    }
)


def build_decoder(f: Family, b: TensorBuilder) -> None:
    """Embeddings, every decoder layer, and the MTP layers the checkpoint stores."""
    c = f.config
    add_embeddings(b, c, norm_bias=c.model_type in _LAYERNORM_BIAS, head_bias=f.flag("lm_head_bias"))
    for layer in range(c.num_layers):
        add_layer(b, f, f"model.layers.{layer}", layer)
    for extra in range(c.mtp_layers):
        _add_mtp_layer(b, f, c.num_layers + extra)


def add_layer(b: TensorBuilder, f: Family, prefix: str, layer: int, *, moe: bool | None = None) -> None:
    """One decoder layer: norms, attention (MLA or GQA), then the dense MLP or the MoE block."""
    c = f.config
    _add_norms(b, c, prefix)
    if c.mla:
        add_mla(b, c, f"{prefix}.self_attn")
        if c.model_type in _SPARSE_INDEXER and _owns_indexer(f, layer):
            add_sparse_indexer(b, f, f"{prefix}.self_attn")
    else:
        _add_attention(b, f, f"{prefix}.self_attn")
    if moe if moe is not None else bool(c.moe and layer in c.moe.moe_layers):
        _add_moe(b, f, prefix)
    else:
        _add_dense_mlp(b, f, prefix)


def _owns_indexer(f: Family, layer: int) -> bool:
    """GLM-5.2 stores indexer weights only where ``indexer_types`` says "full" (and in its MTP layer,
    past the list): "shared" layers reuse another layer's top-k (glm_5.2.md per-tensor report)."""
    kinds = f.strings("indexer_types")
    return layer >= len(kinds) or kinds[layer] != "shared"


def _add_norms(b: TensorBuilder, c: ModelConfig, prefix: str) -> None:
    h, family = c.hidden_size, c.model_type
    if family == "glm4":
        names: tuple[str, ...] = _GLM4_NORMS
    elif family in _POST_NORMS_ONLY:
        names = ("post_attention_layernorm", "post_feedforward_layernorm")
    elif family in _FOUR_NORMS:
        names = (
            "input_layernorm",
            "post_attention_layernorm",
            "pre_feedforward_layernorm",
            "post_feedforward_layernorm",
        )
    elif family == "cohere2":
        names = ("input_layernorm",)  # attention and MLP run in parallel off one norm
    elif family == "apertus":
        names = ("attention_layernorm", "feedforward_layernorm")
    else:
        names = ("input_layernorm", "post_attention_layernorm")
    for name in names:
        b.norm(f"{prefix}.{name}", h, bias=family in _LAYERNORM_BIAS)


def _add_attention(b: TensorBuilder, f: Family, prefix: str) -> None:
    c, family = f.config, f.config.model_type
    h, q_dim, kv_dim = c.hidden_size, c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    all_bias = family in _ALL_ATTN_BIAS or (c.attention_bias and family not in _QKV_BIAS_ONLY)
    qkv_bias = all_bias or family in _QKV_BIAS_ONLY
    o_bias = all_bias
    if family == "seed_oss":
        qkv_bias, o_bias = c.attention_bias, f.flag("attention_out_bias")
    elif family == "glm4_moe":  # o_proj never has a bias (modeling_glm4_moe)
        qkv_bias, o_bias = c.attention_bias, False
    if family in _FUSED_QKV:
        b.add(f"{prefix}.qkv_proj.weight", q_dim + 2 * kv_dim, h)
        b.linear(f"{prefix}.o_proj", h, q_dim)
    else:
        add_qkvo(b, prefix, h, q_dim, kv_dim, qkv_bias=qkv_bias, o_bias=o_bias)
    if family == "gpt_oss":
        b.add(f"{prefix}.sinks", c.num_heads)
    if family == "hunyuan_v1_moe":
        if f.flag("use_qk_norm", True):
            b.norm(f"{prefix}.query_layernorm", c.head_dim)
            b.norm(f"{prefix}.key_layernorm", c.head_dim)
    elif family in _QK_NORM or (family in ("glm4_moe", "cohere2") and f.flag("use_qk_norm")):
        b.norm(f"{prefix}.q_norm", c.head_dim)
        b.norm(f"{prefix}.k_norm", c.head_dim)
    elif family in _FULL_WIDTH_QK_NORM:
        b.norm(f"{prefix}.q_norm", q_dim)
        b.norm(f"{prefix}.k_norm", kv_dim)


def _add_dense_mlp(b: TensorBuilder, f: Family, prefix: str) -> None:
    c = f.config
    h = c.hidden_size
    inter = f.integer("intermediate_size_mlp") or c.intermediate_size or 4 * h
    if c.model_type in _FUSED_QKV or c.model_type == "glm4":
        b.add(f"{prefix}.mlp.gate_up_proj.weight", 2 * inter, h)
        b.linear(f"{prefix}.mlp.down_proj", h, inter)
    elif c.model_type == "apertus":  # xIELU up/down MLP; its alpha_p/alpha_n are learned scalars
        b.linear(f"{prefix}.mlp.up_proj", inter, h)
        b.linear(f"{prefix}.mlp.down_proj", h, inter)
        b.add(f"{prefix}.mlp.act_fn.alpha_p", 1)
        b.add(f"{prefix}.mlp.act_fn.alpha_n", 1)
    else:
        add_gated_mlp(b, f"{prefix}.mlp", h, inter, bias=f.flag("mlp_bias"))


def _add_moe(b: TensorBuilder, f: Family, prefix: str) -> None:
    c = f.config
    moe, h = c.moe, c.hidden_size
    assert moe is not None
    experts = moe.num_experts
    inter = moe.moe_intermediate_size or c.intermediate_size or 4 * h
    family = c.model_type
    if family in ("mixtral", "phimoe"):
        _add_experts(b, f"{prefix}.block_sparse_moe.experts", experts, h, inter, ("w1", "w3", "w2"))
        b.add(f"{prefix}.block_sparse_moe.gate.weight", experts, h)
        return
    if family == "gpt_oss":
        b.add(f"{prefix}.mlp.experts.gate_up_proj", experts, 2 * inter, h)
        b.add(f"{prefix}.mlp.experts.gate_up_proj_bias", experts, 2 * inter)
        b.add(f"{prefix}.mlp.experts.down_proj", experts, h, inter)
        b.add(f"{prefix}.mlp.experts.down_proj_bias", experts, h)
        b.add(f"{prefix}.mlp.router.weight", experts, h)
        b.add(f"{prefix}.mlp.router.bias", experts)
        return
    if family.startswith("llama4"):
        b.add(f"{prefix}.feed_forward.experts.gate_up_proj", experts, h, 2 * inter)
        b.add(f"{prefix}.feed_forward.experts.down_proj", experts, inter, h)
        b.add(f"{prefix}.feed_forward.router.weight", experts, h)
        add_gated_mlp(b, f"{prefix}.feed_forward.shared_expert", h, inter)
        return
    if family.startswith("granitemoe"):
        _add_granite_moe(b, c, prefix, experts, h, inter)
        return
    if family == "hunyuan_v1_moe":
        b.add(f"{prefix}.mlp.gate.wg.weight", experts, h)
        add_fused_experts(b, f"{prefix}.mlp.experts", experts, h, inter)
        if moe.shared_experts:
            add_gated_mlp(b, f"{prefix}.mlp.shared_mlp", h, c.intermediate_size or inter)
        return
    if family == "ernie4_5_moe":
        b.add(f"{prefix}.mlp.gate.weight", experts, h)
        b.add(f"{prefix}.mlp.gate.moe_statics.e_score_correction_bias", 1, experts)
        add_fused_experts(b, f"{prefix}.mlp.experts", experts, h, inter)
        if moe.shared_experts:
            add_gated_mlp(b, f"{prefix}.mlp.shared_experts", h, inter * moe.shared_experts)
        return
    if family == "minimax_m2":
        b.add(f"{prefix}.mlp.gate.weight", experts, h)
        b.add(f"{prefix}.mlp.e_score_correction_bias", experts)
        add_fused_experts(b, f"{prefix}.mlp.experts", experts, h, inter)
        return
    _add_experts(b, f"{prefix}.mlp.experts", experts, h, inter, ("gate_proj", "up_proj", "down_proj"))
    b.add(f"{prefix}.mlp.gate.weight", experts, h)
    if f.text.get("topk_method") == "noaux_tc" or family in _SCORE_BIAS:
        b.add(f"{prefix}.mlp.gate.e_score_correction_bias", experts)
    if family == "qwen2_moe" or (family == "qwen3_next" and moe.shared_intermediate_size):
        add_gated_mlp(b, f"{prefix}.mlp.shared_expert", h, moe.shared_intermediate_size or inter)
        b.add(f"{prefix}.mlp.shared_expert_gate.weight", 1, h)
    elif moe.shared_experts:
        add_gated_mlp(b, f"{prefix}.mlp.shared_experts", h, inter * moe.shared_experts)


def _add_granite_moe(b: TensorBuilder, c: ModelConfig, prefix: str, experts: int, h: int, inter: int) -> None:
    b.add(f"{prefix}.block_sparse_moe.input_linear.weight", experts, 2 * inter, h)
    b.add(f"{prefix}.block_sparse_moe.output_linear.weight", experts, h, inter)
    b.add(f"{prefix}.block_sparse_moe.router.layer.weight", experts, h)
    if c.moe and c.moe.shared_intermediate_size:
        s = c.moe.shared_intermediate_size
        b.add(f"{prefix}.shared_mlp.input_linear.weight", 2 * s, h)
        b.add(f"{prefix}.shared_mlp.output_linear.weight", h, s)


def _add_experts(
    b: TensorBuilder, prefix: str, experts: int, h: int, inter: int, names: tuple[str, str, str]
) -> None:
    """Routed experts as one 3-D tensor per projection: the same counts as the checkpoint's
    per-expert tensors (the accounting reads the expert count from dimension 0), but a
    thousand times fewer tensors to classify for DeepSeek-sized models."""
    gate, up, down = names
    b.add(f"{prefix}.{gate}.weight", experts, inter, h)
    b.add(f"{prefix}.{up}.weight", experts, inter, h)
    b.add(f"{prefix}.{down}.weight", experts, h, inter)


def _add_mtp_layer(b: TensorBuilder, f: Family, layer: int) -> None:
    """DeepSeek-V3 / GLM-4.5 multi-token-prediction layer, saved as ``model.layers.{L}``.

    GLM-5.x (``glm_moe_dsa``) stores the layer without its own embedding and head: it reuses
    the main model's. GLM-5's layer 78 holds 791 tensors: 768 expert projections, router weight
    and bias, 3 shared-expert, 7 MLA, 5 indexer, 2 layer norms, enorm/hnorm/eh_proj/shared_head.norm,
    and no ``embed_tokens`` or ``shared_head.head`` (key count from a public quantization write-up).
    """
    c = f.config
    prefix, h = f"model.layers.{layer}", c.hidden_size
    own_head = c.model_type not in _MTP_SHARES_EMBEDDINGS
    if own_head:
        b.add(f"{prefix}.embed_tokens.weight", c.vocab_size, h)
    b.norm(f"{prefix}.enorm", h)
    b.norm(f"{prefix}.hnorm", h)
    b.add(f"{prefix}.eh_proj.weight", h, 2 * h)
    b.norm(f"{prefix}.shared_head.norm", h)
    if own_head:
        b.add(f"{prefix}.shared_head.head.weight", c.vocab_size, h)
    # DeepSeek builds the MTP block as decoder layer number L: MoE when L >= first_k_dense_replace
    # and L is a multiple of moe_layer_freq (modeling_deepseek_v3).
    first, freq = f.integer("first_k_dense_replace"), f.integer("moe_layer_freq", 1) or 1
    add_layer(b, f, prefix, layer, moe=bool(c.moe) and layer >= first and layer % freq == 0)
