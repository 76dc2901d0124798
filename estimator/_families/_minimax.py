"""MiniMax-M3: GQA attention with a sparse-attention indexer, 128-expert MoE, and a CLIP-style vision tower.

Written from the stored tensors of the released checkpoint (MiniMaxAI/MiniMax-M3, config
``minimax_m3_vl``), listed name by name with shapes in the public model_inspector report
github:gogongxt/python/scripts/models/minimax_m3.md@b521199165b8936d12197280607fc420c1d6b489:
23,416 tensors, 427,040,140,160 elements. Three things differ from what the config suggests:
- its text section names ``num_nextn_predict_layers: 1`` (and ``num_mtp_modules: 7``), yet no MTP
  tensor is stored: layers 0-59 only (the parser keeps ``mtp_layers`` at 0 for this family);
- q/k norms are per head (``qk_norm_type: per_head``: ``[head_dim]``), unlike MiniMax-M2's full width;
- every layer that ``sparse_attention_freq`` marks carries its indexer (``index_q_proj``,
  ``index_k_proj`` and their norms); there is no indexer ``weights_proj`` as in DeepSeek-V3.2.
Its CLIP-style vision tower is in ``_vision`` with the other towers.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._layer_records import json_int
from ._builder import Family, TensorBuilder, add_gated_mlp


def build_minimax_m3(f: Family, b: TensorBuilder) -> None:
    """The language model, prefixed as the multimodal checkpoint stores it when the config is multimodal."""
    c = f.config
    h = c.hidden_size
    multimodal = isinstance(f.raw.get("text_config"), Mapping)
    root = "language_model.model" if multimodal else "model"
    b.add(f"{root}.embed_tokens.weight", c.vocab_size, h)
    b.norm(f"{root}.norm", h)
    if not c.tie_word_embeddings:
        b.linear("language_model.lm_head" if multimodal else "lm_head", c.vocab_size, h)
    sparse = _sparse_config(f)
    indexed = _flags(sparse.get("sparse_attention_freq"), c.num_layers)
    moe_layers = set(c.moe.moe_layers) if c.moe else set()
    for layer in range(c.num_layers):
        p = f"{root}.layers.{layer}"
        b.norm(f"{p}.input_layernorm", h)
        b.norm(f"{p}.post_attention_layernorm", h)
        _add_attention(b, f, f"{p}.self_attn", indexed[layer], sparse)
        if layer in moe_layers:
            _add_moe(b, f, f"{p}.block_sparse_moe")
        else:
            dense = f.integer("dense_intermediate_size") or c.intermediate_size or 4 * h
            add_gated_mlp(b, f"{p}.mlp", h, dense)


def _add_attention(
    b: TensorBuilder, f: Family, prefix: str, indexed: bool, sparse: Mapping[str, object]
) -> None:
    c = f.config
    h, d = c.hidden_size, c.head_dim
    b.linear(f"{prefix}.q_proj", c.num_heads * d, h)
    b.linear(f"{prefix}.k_proj", c.num_kv_heads * d, h)
    b.linear(f"{prefix}.v_proj", c.num_kv_heads * d, h)
    b.linear(f"{prefix}.o_proj", h, c.num_heads * d)
    if f.flag("use_qk_norm", True):
        per_head = f.text.get("qk_norm_type") == "per_head"
        b.norm(f"{prefix}.q_norm", d if per_head else c.num_heads * d)
        b.norm(f"{prefix}.k_norm", d if per_head else c.num_kv_heads * d)
    if indexed:
        dim = json_int(sparse.get("sparse_index_dim")) or d
        b.linear(f"{prefix}.index_q_proj", (json_int(sparse.get("sparse_num_index_heads")) or 1) * dim, h)
        b.linear(f"{prefix}.index_k_proj", dim, h)
        b.norm(f"{prefix}.index_q_norm", dim)
        b.norm(f"{prefix}.index_k_norm", dim)


def _add_moe(b: TensorBuilder, f: Family, prefix: str) -> None:
    c = f.config
    moe, h = c.moe, c.hidden_size
    assert moe is not None
    experts, inter = moe.num_experts, moe.moe_intermediate_size or c.intermediate_size or 4 * h
    b.add(f"{prefix}.gate.weight", experts, h)
    if f.flag("use_routing_bias"):
        b.add(f"{prefix}.e_score_correction_bias", experts)
    # One 3-D tensor per projection counts the same as the checkpoint's experts.N.w1 ... (see _decoder).
    b.add(f"{prefix}.experts.w1.weight", experts, inter, h)
    b.add(f"{prefix}.experts.w3.weight", experts, inter, h)
    b.add(f"{prefix}.experts.w2.weight", experts, h, inter)
    if moe.shared_experts:
        shared = (moe.shared_intermediate_size or inter) * moe.shared_experts
        add_gated_mlp(b, f"{prefix}.shared_experts", h, shared)


def _sparse_config(f: Family) -> Mapping[str, object]:
    section = f.text.get("sparse_attention_config")
    if isinstance(section, Mapping) and section.get("use_sparse_attention") is not False:
        return section
    return {}


def _flags(value: object, layers: int) -> list[bool]:
    """A per-layer 0/1 list, padded with "off"."""
    flags = [bool(v) for v in value] if isinstance(value, list) else []
    return (flags + [False] * layers)[:layers]


BUILDERS = {"minimax_m3": build_minimax_m3, "minimax_m3_vl": build_minimax_m3}
