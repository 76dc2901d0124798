"""Parameter accounting from config.json alone, marked "derived from config".

We synthesise the tensor list that the family's checkpoints carry (names and shapes as
transformers saves them) and run it through the same accounting as real headers, so
both paths classify, count and discount experts identically. Used when headers are not
available, and as a cross-check of header counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ._accounting import CONFIG, ParamAccounting, account_from_tensors
from ._config import ModelConfig, parse_model_config
from ._safetensors import TensorInfo

_QK_NORM = frozenset({"qwen3", "qwen3_moe", "gemma3", "gemma3_text", "qwen3_next"})
_FULL_WIDTH_QK_NORM = frozenset({"olmo2", "olmoe"})
_FOUR_NORMS = frozenset({"gemma2", "gemma3", "gemma3_text"})
_GLM4_NORMS = ("input_layernorm", "post_attention_layernorm", "post_self_attn_layernorm", "post_mlp_layernorm")
_POST_NORMS_ONLY = frozenset({"olmo2"})
_LAYERNORM_BIAS = frozenset({"phimoe"})
_QKV_BIAS_ONLY = frozenset({"qwen2", "qwen2_moe", "glm4", "glm4_moe"})
_ALL_ATTN_BIAS = frozenset({"gpt_oss", "phimoe"})
_FUSED_QKV = frozenset({"phi3"})
_SCORE_BIAS = frozenset({"glm4_moe"})
_SUPPORTED = frozenset(
    """llama mistral ministral qwen2 qwen3 gemma gemma2 gemma3 gemma3_text phi3 mixtral
    qwen2_moe qwen3_moe deepseek_v2 deepseek_v3 kimi_k2 gpt_oss olmo2 olmoe granite granitemoe
    granitemoeshared glm4 glm4_moe phimoe smollm3 llama4 llama4_text""".split()
)


class _Builder:
    def __init__(self) -> None:
        self.tensors: list[TensorInfo] = []

    def add(self, name: str, *shape: int) -> None:
        if all(dim > 0 for dim in shape):
            self.tensors.append(TensorInfo(name, "BF16", tuple(shape)))


def account_from_config(raw: Mapping[str, object]) -> ParamAccounting:
    """Accounting derived from config.json, for the families in ``supported_model_types``.

    Raises:
        ConfigError: config.json lacks the sizing fields.
    """
    config = parse_model_config(raw)
    text = _text(raw)
    builder = _Builder()
    _add_embeddings(builder, config)
    for layer in range(config.num_layers):
        _add_layer(builder, config, text, f"model.layers.{layer}", layer)
    for extra in range(config.mtp_layers):
        _add_mtp_layer(builder, config, text, config.num_layers + extra)
    notes = _add_vision(builder, config, raw)
    if config.model_type not in _SUPPORTED:
        notes.append(f"'{config.model_type}' is counted as a Llama-style decoder; check the headers")
    accounting = account_from_tensors(builder.tensors, config, provenance=CONFIG)
    return _with_notes(accounting, notes)


def supported_model_types() -> frozenset[str]:
    """The model types whose config-derived counts follow their real checkpoints."""
    return _SUPPORTED


def _text(raw: Mapping[str, object]) -> Mapping[str, object]:
    text = raw.get("text_config")
    return text if isinstance(text, Mapping) else raw


def _add_embeddings(b: _Builder, c: ModelConfig) -> None:
    b.add("model.embed_tokens.weight", c.vocab_size, c.hidden_size)
    b.add("model.norm.weight", c.hidden_size)
    if c.model_type in _LAYERNORM_BIAS:
        b.add("model.norm.bias", c.hidden_size)
    if not c.tie_word_embeddings:
        b.add("lm_head.weight", c.vocab_size, c.hidden_size)
        if c.model_type in _LAYERNORM_BIAS:
            b.add("lm_head.bias", c.vocab_size)


def _add_layer(b: _Builder, c: ModelConfig, text: Mapping[str, object], prefix: str, layer: int, *, moe: bool | None = None) -> None:
    _add_norms(b, c, prefix)
    if c.mla:
        _add_mla(b, c, f"{prefix}.self_attn")
    else:
        _add_attention(b, c, text, f"{prefix}.self_attn")
    if moe if moe is not None else bool(c.moe and layer in c.moe.moe_layers):
        _add_moe(b, c, text, prefix)
    else:
        _add_dense_mlp(b, c, text, prefix)


def _add_norms(b: _Builder, c: ModelConfig, prefix: str) -> None:
    h = c.hidden_size
    if c.model_type == "glm4":
        names = list(_GLM4_NORMS)
    elif c.model_type in _POST_NORMS_ONLY:
        names = ["post_attention_layernorm", "post_feedforward_layernorm"]
    elif c.model_type in _FOUR_NORMS:
        names = [
            "input_layernorm",
            "post_attention_layernorm",
            "pre_feedforward_layernorm",
            "post_feedforward_layernorm",
        ]
    else:
        names = ["input_layernorm", "post_attention_layernorm"]
    for name in names:
        b.add(f"{prefix}.{name}.weight", h)
        if c.model_type in _LAYERNORM_BIAS:
            b.add(f"{prefix}.{name}.bias", h)


def _add_attention(b: _Builder, c: ModelConfig, text: Mapping[str, object], prefix: str) -> None:
    h, q_dim, kv_dim = c.hidden_size, c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    if c.model_type in _FUSED_QKV:
        b.add(f"{prefix}.qkv_proj.weight", q_dim + 2 * kv_dim, h)
    else:
        b.add(f"{prefix}.q_proj.weight", q_dim, h)
        b.add(f"{prefix}.k_proj.weight", kv_dim, h)
        b.add(f"{prefix}.v_proj.weight", kv_dim, h)
    b.add(f"{prefix}.o_proj.weight", h, q_dim)
    all_bias = c.model_type in _ALL_ATTN_BIAS or (
        c.attention_bias and c.model_type not in _QKV_BIAS_ONLY
    )
    if all_bias or c.model_type in _QKV_BIAS_ONLY:
        b.add(f"{prefix}.q_proj.bias", q_dim)
        b.add(f"{prefix}.k_proj.bias", kv_dim)
        b.add(f"{prefix}.v_proj.bias", kv_dim)
    if all_bias:
        b.add(f"{prefix}.o_proj.bias", h)
    if c.model_type == "gpt_oss":
        b.add(f"{prefix}.sinks", c.num_heads)
    if c.model_type in _QK_NORM or (c.model_type == "glm4_moe" and text.get("use_qk_norm")):
        b.add(f"{prefix}.q_norm.weight", c.head_dim)
        b.add(f"{prefix}.k_norm.weight", c.head_dim)
    elif c.model_type in _FULL_WIDTH_QK_NORM:
        b.add(f"{prefix}.q_norm.weight", q_dim)
        b.add(f"{prefix}.k_norm.weight", kv_dim)


def _add_mla(b: _Builder, c: ModelConfig, prefix: str) -> None:
    m, h, heads = c.mla, c.hidden_size, c.num_heads
    assert m is not None
    q_head = m.qk_nope_head_dim + m.qk_rope_head_dim
    if m.q_lora_rank:
        b.add(f"{prefix}.q_a_proj.weight", m.q_lora_rank, h)
        b.add(f"{prefix}.q_a_layernorm.weight", m.q_lora_rank)
        b.add(f"{prefix}.q_b_proj.weight", heads * q_head, m.q_lora_rank)
    else:
        b.add(f"{prefix}.q_proj.weight", heads * q_head, h)
    b.add(f"{prefix}.kv_a_proj_with_mqa.weight", m.kv_lora_rank + m.qk_rope_head_dim, h)
    b.add(f"{prefix}.kv_a_layernorm.weight", m.kv_lora_rank)
    b.add(f"{prefix}.kv_b_proj.weight", heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank)
    b.add(f"{prefix}.o_proj.weight", h, heads * m.v_head_dim)


def _add_dense_mlp(b: _Builder, c: ModelConfig, text: Mapping[str, object], prefix: str) -> None:
    h = c.hidden_size
    inter = _int(text.get("intermediate_size_mlp")) or c.intermediate_size or 4 * h
    if c.model_type in _FUSED_QKV or c.model_type == "glm4":
        b.add(f"{prefix}.mlp.gate_up_proj.weight", 2 * inter, h)
    else:
        b.add(f"{prefix}.mlp.gate_proj.weight", inter, h)
        b.add(f"{prefix}.mlp.up_proj.weight", inter, h)
    b.add(f"{prefix}.mlp.down_proj.weight", h, inter)


def _add_moe(b: _Builder, c: ModelConfig, text: Mapping[str, object], prefix: str) -> None:
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
        _add_ffn(b, f"{prefix}.feed_forward.shared_expert", h, inter)
        return
    if family.startswith("granitemoe"):
        b.add(f"{prefix}.block_sparse_moe.input_linear.weight", experts, 2 * inter, h)
        b.add(f"{prefix}.block_sparse_moe.output_linear.weight", experts, h, inter)
        b.add(f"{prefix}.block_sparse_moe.router.layer.weight", experts, h)
        if moe.shared_intermediate_size:
            s = moe.shared_intermediate_size
            b.add(f"{prefix}.shared_mlp.input_linear.weight", 2 * s, h)
            b.add(f"{prefix}.shared_mlp.output_linear.weight", h, s)
        return
    _add_experts(b, f"{prefix}.mlp.experts", experts, h, inter, ("gate_proj", "up_proj", "down_proj"))
    b.add(f"{prefix}.mlp.gate.weight", experts, h)
    if text.get("topk_method") == "noaux_tc" or family in _SCORE_BIAS:
        b.add(f"{prefix}.mlp.gate.e_score_correction_bias", experts)
    if family == "qwen2_moe" or (family == "qwen3_next" and moe.shared_intermediate_size):
        _add_ffn(b, f"{prefix}.mlp.shared_expert", h, moe.shared_intermediate_size or inter)
        b.add(f"{prefix}.mlp.shared_expert_gate.weight", 1, h)
    elif moe.shared_experts:
        _add_ffn(b, f"{prefix}.mlp.shared_experts", h, inter * moe.shared_experts)


def _add_experts(
    b: _Builder, prefix: str, experts: int, h: int, inter: int, names: tuple[str, str, str]
) -> None:
    """Routed experts as one 3-D tensor per projection: the same counts as the checkpoint's
    per-expert tensors (the accounting reads the expert count from dimension 0), but a
    thousand times fewer tensors to classify for DeepSeek-sized models."""
    gate, up, down = names
    b.add(f"{prefix}.{gate}.weight", experts, inter, h)
    b.add(f"{prefix}.{up}.weight", experts, inter, h)
    b.add(f"{prefix}.{down}.weight", experts, h, inter)


def _add_ffn(b: _Builder, prefix: str, h: int, inter: int) -> None:
    b.add(f"{prefix}.gate_proj.weight", inter, h)
    b.add(f"{prefix}.up_proj.weight", inter, h)
    b.add(f"{prefix}.down_proj.weight", h, inter)


def _add_mtp_layer(b: _Builder, c: ModelConfig, text: Mapping[str, object], layer: int) -> None:
    """DeepSeek-V3 / GLM-4.5 multi-token-prediction layer, saved as ``model.layers.{L}``."""
    prefix, h = f"model.layers.{layer}", c.hidden_size
    b.add(f"{prefix}.embed_tokens.weight", c.vocab_size, h)
    b.add(f"{prefix}.enorm.weight", h)
    b.add(f"{prefix}.hnorm.weight", h)
    b.add(f"{prefix}.eh_proj.weight", h, 2 * h)
    b.add(f"{prefix}.shared_head.norm.weight", h)
    b.add(f"{prefix}.shared_head.head.weight", c.vocab_size, h)
    # DeepSeek builds the MTP block as decoder layer number L: MoE when L >= first_k_dense_replace
    # and L is a multiple of moe_layer_freq (modeling_deepseek_v3).
    first = _int(text.get("first_k_dense_replace")) or 0
    freq = _int(text.get("moe_layer_freq")) or 1
    _add_layer(b, c, text, prefix, layer, moe=bool(c.moe) and layer >= first and layer % freq == 0)


def _add_vision(b: _Builder, c: ModelConfig, raw: Mapping[str, object]) -> list[str]:
    vision = raw.get("vision_config")
    if not isinstance(vision, Mapping):
        return []
    if vision.get("model_type") == "siglip_vision_model" and c.model_type.startswith("gemma3"):
        _add_siglip(b, vision, c.hidden_size)
        return []
    return ["vision tower not counted from config.json; header counts include it"]


def _add_siglip(b: _Builder, v: Mapping[str, object], text_hidden: int) -> None:
    """SigLIP vision tower plus Gemma 3's projector (transformers ``modeling_siglip``)."""
    h, inter = _int(v.get("hidden_size")) or 0, _int(v.get("intermediate_size")) or 0
    patch, image = _int(v.get("patch_size")) or 14, _int(v.get("image_size")) or 224
    channels, layers = _int(v.get("num_channels")) or 3, _int(v.get("num_hidden_layers")) or 0
    p = "vision_tower.vision_model"
    b.add(f"{p}.embeddings.patch_embedding.weight", h, channels, patch, patch)
    b.add(f"{p}.embeddings.patch_embedding.bias", h)
    b.add(f"{p}.embeddings.position_embedding.weight", (image // patch) ** 2, h)
    for i in range(layers):
        lp = f"{p}.encoder.layers.{i}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            b.add(f"{lp}.self_attn.{proj}.weight", h, h)
            b.add(f"{lp}.self_attn.{proj}.bias", h)
        for norm in ("layer_norm1", "layer_norm2"):
            b.add(f"{lp}.{norm}.weight", h)
            b.add(f"{lp}.{norm}.bias", h)
        b.add(f"{lp}.mlp.fc1.weight", inter, h)
        b.add(f"{lp}.mlp.fc1.bias", inter)
        b.add(f"{lp}.mlp.fc2.weight", h, inter)
        b.add(f"{lp}.mlp.fc2.bias", h)
    b.add(f"{p}.post_layernorm.weight", h)
    b.add(f"{p}.post_layernorm.bias", h)
    b.add("multi_modal_projector.mm_input_projection_weight", h, text_hidden)
    b.add("multi_modal_projector.mm_soft_emb_norm.weight", h)


def _with_notes(accounting: ParamAccounting, notes: list[str]) -> ParamAccounting:
    return replace(accounting, notes=accounting.notes + tuple(notes)) if notes else accounting


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
