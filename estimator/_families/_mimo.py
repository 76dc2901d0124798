"""Xiaomi MiMo: MiMo-7B (a Qwen2 decoder plus its stored MTP layer) and MiMo-V2.

MiMo-V2: hybrid sliding-window / full GQA attention with sink biases, a 256-expert MoE, MTP blocks.

Written from the stored tensors of MiMo-V2.5 (``model_type: mimo_v2``), listed name by name in the
public model_inspector report github:gogongxt/python/scripts/models/mimo_v2.5.md
@69107007b2ffcbdaacde6c264f36768a13aa8429 (73,081 tensors over 17 shards). Its text stack has every
size of MiMo-V2-Flash's config.json (``mimo_v2_flash``); what the two checkpoints store differently:
- V2.5 fuses q/k/v into ``qkv_proj`` (``attention_projection_layout: fused_qkv``); V2-Flash stores split
  ``q_proj``/``k_proj``/``v_proj`` (transformers' ``mimo_v2_flash`` conversion mapping splits nothing,
  and llm-compressor's V2-Flash recipe, github:ANGDL/llm-compressor
  examples/multimodal_vision/mimo2_flash_w8a8.py@44a4f543a81fa5e79f58b4a7d134fb775e64f704, reads them
  split: layer 0 ``k_proj`` [768, 4096], ``v_proj`` [512, 4096]). The element count is the same.
- Both store three MTP blocks under ``model.mtp.layers.{0,1,2}`` that neither config.json names (V2.5:
  the report; V2-Flash: the same repository's src/llmcompressor/modeling/mimo_v2_flash_mtp.py, which lists
  their keys, and llama.cpp's converter, ggml-org/llama.cpp conversion/mimo.py, which hardcodes
  ``_n_nextn = 3`` for V2-Flash, V2.5 and V2.5-Pro "to match the count found in the safetensors");
  transformers drops them on load (``_keys_to_ignore_on_load_unexpected``), so a config
  that transformers saved (``layer_types`` instead of the Hub's ``hybrid_layer_pattern``) has none.
Sliding layers use their own head counts (``swa_*``; transformers: twice the KV heads) and carry one
learned sink logit per head (``attention_sink_bias``, transformers' ``sinks``); V heads are narrower
than Q/K heads (``v_head_dim``). Layer 0 is dense; ``moe_layer_freq`` marks the MoE layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._builder import Family, TensorBuilder, add_embeddings, add_fused_experts, add_gated_mlp, add_qkvo


@dataclass(frozen=True, slots=True)
class _Heads:
    """One attention kind's projection sizes."""

    heads: int
    kv_heads: int
    head_dim: int
    v_head_dim: int
    sink: bool


def build_mimo_v2(f: Family, b: TensorBuilder) -> None:
    """Embeddings, the hybrid decoder layers (dense layer 0, MoE elsewhere) and the stored MTP blocks."""
    c = f.config
    h = c.hidden_size
    add_embeddings(b, c)
    sliding = _sliding_layers(f)
    moe_layers = set(c.moe.moe_layers) if c.moe else set()
    for layer in range(c.num_layers):
        p = f"model.layers.{layer}"
        b.norm(f"{p}.input_layernorm", h)
        b.norm(f"{p}.post_attention_layernorm", h)
        _add_attention(b, f, f"{p}.self_attn", _heads(f, sliding=layer in sliding))
        if layer in moe_layers:
            _add_moe(b, f, f"{p}.mlp")
        else:
            add_gated_mlp(b, f"{p}.mlp", h, c.intermediate_size or 4 * h)
    for block in range(c.mtp_layers):  # the layer map's count: three for a Hub config (see _layers)
        _add_mtp_block(b, f, f"model.mtp.layers.{block}")


def _sliding_layers(f: Family) -> frozenset[int]:
    """The Hub's ``hybrid_layer_pattern`` (1 = sliding), transformers' ``layer_types``, or its default."""
    layers = f.config.num_layers
    pattern = f.ints("hybrid_layer_pattern")
    if len(pattern) == layers:
        return frozenset(i for i, flag in enumerate(pattern) if flag == 1)
    types = f.strings("layer_types")
    if len(types) == layers:
        return frozenset(i for i, kind in enumerate(types) if "sliding" in kind)
    # MiMoV2FlashConfig's default: full attention at layer 0 and every sixth layer.
    return frozenset(i for i in range(layers) if i != 0 and (i + 1) % 6 != 0)


def _heads(f: Family, *, sliding: bool) -> _Heads:
    c = f.config
    head_dim = f.integer("head_dim") or c.head_dim
    v_head_dim = f.integer("v_head_dim") or head_dim
    if not sliding:
        return _Heads(
            c.num_heads, c.num_kv_heads, head_dim, v_head_dim, f.flag("add_full_attention_sink_bias")
        )
    return _Heads(
        f.integer("swa_num_attention_heads") or c.num_heads,
        f.integer("swa_num_key_value_heads") or 2 * c.num_kv_heads,
        f.integer("swa_head_dim") or head_dim,
        f.integer("swa_v_head_dim") or v_head_dim,
        f.flag("add_swa_attention_sink_bias", True),
    )


def _add_attention(b: TensorBuilder, f: Family, prefix: str, heads: _Heads) -> None:
    h, bias = f.config.hidden_size, f.config.attention_bias
    q, k = heads.heads * heads.head_dim, heads.kv_heads * heads.head_dim
    v = heads.kv_heads * heads.v_head_dim
    if f.text.get("attention_projection_layout") == "fused_qkv":
        b.linear(f"{prefix}.qkv_proj", q + k + v, h, bias=bias)
    else:
        b.linear(f"{prefix}.q_proj", q, h, bias=bias)
        b.linear(f"{prefix}.k_proj", k, h, bias=bias)
        b.linear(f"{prefix}.v_proj", v, h, bias=bias)
    b.linear(f"{prefix}.o_proj", h, heads.heads * heads.v_head_dim)
    if heads.sink:
        b.add(f"{prefix}.attention_sink_bias", heads.heads)


def _add_moe(b: TensorBuilder, f: Family, prefix: str) -> None:
    """Router (F32 weight and score-correction bias) and routed experts; no shared expert."""
    c = f.config
    assert c.moe is not None
    experts, h = c.moe.num_experts, c.hidden_size
    b.add(f"{prefix}.gate.weight", experts, h)
    b.add(f"{prefix}.gate.e_score_correction_bias", experts)
    # One 3-D tensor per projection counts as the checkpoint's experts.N.gate_proj ... (see _decoder).
    add_fused_experts(b, f"{prefix}.experts", experts, h, c.moe.moe_intermediate_size or 4 * h)


def _add_mtp_block(b: TensorBuilder, f: Family, prefix: str) -> None:
    """One MTP block: token / hidden norms, ``eh_proj`` [h, 2h], a sliding-attention layer with a dense
    MLP of ``intermediate_size`` (its post-attention norm is ``pre_mlp_layernorm``), a final norm."""
    h = f.config.hidden_size
    for norm in ("enorm", "hnorm", "input_layernorm", "pre_mlp_layernorm", "final_layernorm"):
        b.norm(f"{prefix}.{norm}", h)
    b.linear(f"{prefix}.eh_proj", h, 2 * h)
    _add_attention(b, f, f"{prefix}.self_attn", _heads(f, sliding=True))
    add_gated_mlp(b, f"{prefix}.mlp", h, f.config.intermediate_size or 4 * h)


def build_mimo(f: Family, b: TensorBuilder) -> None:
    """MiMo-7B: Qwen2 layers (q/k/v biases, none on ``o_proj``) and ``num_nextn_predict_layers`` MTP layers.

    Each MTP layer is stored as ``model.mtp_layers.{i}`` with ``token_layernorm``, ``hidden_layernorm``,
    ``input_proj`` [h, 2h], the tensors of a whole Qwen2 decoder layer and ``final_layernorm``, and
    reuses the main embedding and head: vLLM's loader for these checkpoints, github:vllm-project/vllm
    vllm/model_executor/models/mimo_mtp.py@0bb55d60cb667d2f4e263b55304a30b38fe2e55c, maps exactly
    those ``model.mtp_layers.{i}.*`` keys and takes ``embed_tokens``/``lm_head`` from the main model.
    """
    c = f.config
    add_embeddings(b, c)
    for layer in range(c.num_layers):
        _add_qwen2_layer(b, f, f"model.layers.{layer}")
    h = c.hidden_size
    for extra in range(f.integer("num_nextn_predict_layers")):
        p = f"model.mtp_layers.{extra}"
        for norm in ("token_layernorm", "hidden_layernorm", "final_layernorm"):
            b.norm(f"{p}.{norm}", h)
        b.linear(f"{p}.input_proj", h, 2 * h)
        _add_qwen2_layer(b, f, p)


def _add_qwen2_layer(b: TensorBuilder, f: Family, prefix: str) -> None:
    c = f.config
    h = c.hidden_size
    b.norm(f"{prefix}.input_layernorm", h)
    b.norm(f"{prefix}.post_attention_layernorm", h)
    q_dim, kv_dim = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    add_qkvo(b, f"{prefix}.self_attn", h, q_dim, kv_dim, qkv_bias=True)  # Qwen2 hardcodes q/k/v biases
    add_gated_mlp(b, f"{prefix}.mlp", h, c.intermediate_size or 4 * h)


BUILDERS = {"mimo_v2_flash": build_mimo_v2, "mimo_v2": build_mimo_v2, "mimo": build_mimo}
