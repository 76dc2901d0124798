"""Read config.json into a frozen ``ModelConfig``.

config.json is a dict at the boundary; everything after this module works on records.
Field names differ between families (``n_embd``, ``d_model``, ``ffn_config``...), and
multimodal models nest the language model under ``text_config``: this is the one place
that knows those spellings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._layer_records import NO_LAYERS, AttentionShape, LayerKind, LayerMap
from ._layer_records import json_int as _int
from ._layers import parse_layer_map
from .errors import ConfigError

FULL = LayerKind.FULL
SLIDING = LayerKind.SLIDING
CHUNKED = LayerKind.CHUNKED
RECURRENT = "recurrent"  # no layer has this kind any more: see _layer_records.STATE_KINDS

_KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "hidden_size": ("hidden_size", "n_embd", "d_model", "model_dim", "dim"),
    "num_hidden_layers": ("num_hidden_layers", "n_layer", "n_layers", "num_layers"),
    "num_attention_heads": ("num_attention_heads", "n_head", "n_heads", "num_heads"),
    "num_key_value_heads": (
        "num_key_value_heads",
        "num_kv_heads",
        "n_kv_heads",
        "multi_query_group_num",
        "kv_n_heads",
    ),
    "intermediate_size": ("intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "max_position_embeddings": (
        "max_position_embeddings",
        "max_seq_len",
        "n_positions",
        "seq_length",
        "max_sequence_length",
        "model_max_length",  # Kimi-Linear's config states its 1M context only here
    ),
}
_EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
# Every spelling of top-k seen in published configs: Kimi-Linear ``num_experts_per_token``,
# Gemma 4 ``top_k_experts``, Hunyuan ``moe_topk`` (a per-layer list), JetMoE ``num_experts_per_tok``.
_TOP_K_KEYS = (
    "num_experts_per_tok",
    "num_experts_per_token",
    "top_k_experts",
    "moe_top_k",
    "moe_k",
    "moe_topk",
    "top_k",
)
_SHARED_KEYS = ("n_shared_experts", "moe_num_shared_experts", "num_shared_experts", "num_shared_expert")
# Families whose MoE block always holds one shared expert that config.json does not count.
_ALWAYS_SHARED = ("llama4", "hunyuan_v1_moe")
# transformers' per-family default when config.json omits tie_word_embeddings.
_UNTIED_BY_DEFAULT = frozenset(
    "llama mistral mixtral qwen2 qwen2_moe qwen3 qwen3_moe qwen3_next deepseek_v2 deepseek_v3 "
    "kimi_k2 gpt_oss phi3 phimoe olmo2 olmoe glm4 glm4_moe dbrx jamba llama4_text".split()
)


@dataclass(frozen=True, slots=True)
class MlaDims:
    """Multi-head latent attention sizes (DeepSeek-V2/V3, Kimi-K2)."""

    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


@dataclass(frozen=True, slots=True)
class MoeConfig:
    """Mixture-of-experts settings as config.json states them."""

    num_experts: int
    experts_per_token: int
    shared_experts: int
    moe_layers: tuple[int, ...]
    moe_intermediate_size: int | None = None
    shared_intermediate_size: int | None = None


@dataclass(frozen=True, slots=True)
class QuantConfig:
    """``quantization_config`` (or MLX's ``quantization``), reduced to what counting needs."""

    method: str
    bits: int | None = None
    group_size: int | None = None
    fmt: str | None = None
    not_converted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """The architecture facts of a language model, from config.json."""

    model_type: str
    architectures: tuple[str, ...]
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int | None
    vocab_size: int
    tie_word_embeddings: bool
    max_context: int | None
    layer_kinds: tuple[LayerKind, ...]
    sliding_window: int | None = None
    attention_chunk_size: int | None = None
    mla: MlaDims | None = None
    moe: MoeConfig | None = None
    mtp_layers: int = 0
    attention_bias: bool = False
    torch_dtype: str | None = None
    quantization: QuantConfig | None = None
    has_vision: bool = False
    # Memory per layer (issue 10): what each layer caches, from the family's own keys.
    layer_map: LayerMap = NO_LAYERS

    @property
    def full_attention_layers(self) -> int:
        """Layers whose cache grows with the context (full attention, MLA)."""
        return sum(1 for layer in self.layer_map.layers if layer.attention and layer.attention.window is None)

    @property
    def recurrent_state_elements(self) -> int:
        """Fixed state values of the first recurrent layer (0 without any)."""
        return next((layer.state.values for layer in self.layer_map.layers if layer.state), 0)


# Some published configs leave fields at transformers' class defaults: Gemma 3's text
# config (Gemma3TextConfig) omits heads, head_dim and vocab size. Only missing keys are filled.
_FAMILY_DEFAULTS: dict[str, dict[str, object]] = {
    "gemma3_text": {
        "vocab_size": 262208,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "sliding_window": 4096,
        "sliding_window_pattern": 6,
        "tie_word_embeddings": True,
        "max_position_embeddings": 131072,
    },
}


def _is_hunyuan_v1_moe(text: Mapping[str, object], raw: Mapping[str, object]) -> bool:
    """Hunyuan-A13B's Hub release (remote code, ``model_type`` "hunyuan") has the layout transformers later
    ported as ``hunyuan_v1_moe``: the same module names in its modeling_hunyuan.py (query/key_layernorm,
    ``mlp.gate.wg``, ``mlp.shared_mlp``), checked at github:Tencent-Hunyuan/Hunyuan-A13B models/@df832eb.
    Cross-layer attention (``use_cla``, Hunyuan-Large) and MLA change that layout, so they are left out."""
    architectures = raw.get("architectures")
    return (
        isinstance(architectures, list)
        and "HunYuanMoEV1ForCausalLM" in architectures
        and not text.get("use_cla")
        and not text.get("use_mla")
    )


def parse_model_config(raw: Mapping[str, object]) -> ModelConfig:
    """Turn config.json into a ``ModelConfig``.

    Raises:
        ConfigError: the fields that size a language model are missing or not numbers.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("it is not a JSON object")
    text = _text_section(raw)
    model_type = str(text.get("model_type") or raw.get("model_type") or "unknown")
    if model_type == "gemma3" and isinstance(raw.get("text_config"), Mapping):
        model_type = "gemma3_text"
    if model_type == "hunyuan" and _is_hunyuan_v1_moe(text, raw):
        model_type = "hunyuan_v1_moe"
    for key, value in _FAMILY_DEFAULTS.get(model_type, {}).items():
        text.setdefault(key, value)
    hidden = _required(text, "hidden_size")
    if _lookup_int(text, "num_hidden_layers") is None:
        derived = _layers_from_pattern(text)
        if derived:
            text["num_hidden_layers"] = derived
    layers = _required(text, "num_hidden_layers")
    heads = _required(text, "num_attention_heads")
    kv_heads = _lookup_int(text, "num_key_value_heads") or _deci_kv_heads(text, heads) or heads
    head_dim = _int(text.get("head_dim")) or hidden // heads
    mla = _parse_mla(text)
    latent = mla.kv_lora_rank + mla.qk_rope_head_dim if mla else 0
    layer_map = parse_layer_map(
        _with_layer_sections(text, raw),
        model_type,
        AttentionShape(hidden, layers, heads, kv_heads, head_dim, latent),
    )
    moe = _parse_moe(text, raw, model_type, layers)
    tie_default = model_type not in _UNTIED_BY_DEFAULT
    return ModelConfig(
        model_type=model_type,
        architectures=tuple(str(a) for a in _list(raw.get("architectures"))),
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=_lookup_int(text, "intermediate_size"),
        vocab_size=_required(text, "vocab_size"),
        tie_word_embeddings=_bool(
            text.get("tie_word_embeddings", raw.get("tie_word_embeddings")), tie_default
        ),
        max_context=_lookup_int(text, "max_position_embeddings"),
        layer_kinds=tuple(layer.kind for layer in layer_map.layers),
        sliding_window=_int(text.get("sliding_window")),
        attention_chunk_size=_int(text.get("attention_chunk_size")),
        mla=mla,
        moe=moe,
        mtp_layers=len(layer_map.mtp_layers),
        attention_bias=_bool(text.get("attention_bias"), model_type.startswith("qwen2")),
        torch_dtype=_str(text.get("torch_dtype") or text.get("dtype") or raw.get("torch_dtype")),
        quantization=_parse_quant(raw, text),
        has_vision=isinstance(raw.get("vision_config"), Mapping),
        layer_map=layer_map,
    )


def _deci_kv_heads(text: Mapping[str, object], heads: int) -> int | None:
    """Nemotron-NAS has no ``num_key_value_heads``: its first attending block's ``n_heads_in_group`` says."""
    blocks = text.get("block_configs")
    for block in blocks if isinstance(blocks, list) else []:
        attention = block.get("attention") if isinstance(block, Mapping) else None
        group = _int(attention.get("n_heads_in_group")) if isinstance(attention, Mapping) else None
        if group:
            return heads // group
    return None


def _layers_from_pattern(text: Mapping[str, object]) -> int | None:
    """The depth of a config that states it only as its per-layer pattern: transformers' Nemotron-H
    (Nemotron-3 Super/Ultra) saves ``layers_block_type`` and no ``num_hidden_layers``; older Nemotron-H
    configs carry ``hybrid_override_pattern``, one character per layer."""
    listed = text.get("layers_block_type")
    if isinstance(listed, list) and listed:
        return len(listed)
    pattern = text.get("hybrid_override_pattern")
    if isinstance(pattern, str) and pattern:
        return len(pattern)
    return None


def _text_section(raw: Mapping[str, object]) -> dict[str, object]:
    """Merge the language-model fields, wherever the family keeps them, into one dict."""
    merged: dict[str, object] = {k: v for k, v in raw.items() if not isinstance(v, Mapping)}
    for nested in ("attn_config", "ffn_config", "llm_config", "language_config", "text_config"):
        section = raw.get(nested)
        if isinstance(section, Mapping):
            merged.update(section)
    return merged


def _with_layer_sections(text: dict[str, object], raw: Mapping[str, object]) -> dict[str, object]:
    """The text section plus the nested sections that describe layers: Kimi-Linear's
    ``linear_attn_config``, transformers' ``per_layer_config`` overrides (Gemma 4) and
    DeepSeek-V4's ``compress_rates``."""
    nested = raw.get("text_config")
    merged = dict(text)
    for source in (raw, nested if isinstance(nested, Mapping) else {}):
        for key in ("linear_attn_config", "per_layer_config", "compress_rates"):
            section = source.get(key)
            if isinstance(section, Mapping):
                merged[key] = section
    return merged


def _required(text: Mapping[str, object], key: str) -> int:
    value = _lookup_int(text, key)
    if value is None or value <= 0:
        names = " / ".join(_KEY_ALIASES[key])
        raise ConfigError(f"it has no positive integer {names}")
    return value


def _lookup_int(text: Mapping[str, object], key: str) -> int | None:
    for alias in _KEY_ALIASES[key]:
        value = _int(text.get(alias))
        if value is not None:
            return value
    return None


def _first_int(text: Mapping[str, object], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = _int(text.get(key))
        if value is not None:
            return value
    return None


def _bool(value: object, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _parse_mla(text: Mapping[str, object]) -> MlaDims | None:
    kv_rank = _int(text.get("kv_lora_rank"))
    if not kv_rank:
        return None
    rope = _int(text.get("qk_rope_head_dim")) or 0
    nope = _int(text.get("qk_nope_head_dim")) or 0
    return MlaDims(
        q_lora_rank=_int(text.get("q_lora_rank")),
        kv_lora_rank=kv_rank,
        qk_nope_head_dim=nope,
        qk_rope_head_dim=rope,
        v_head_dim=_int(text.get("v_head_dim")) or nope,
    )


def _parse_moe(
    text: Mapping[str, object], raw: Mapping[str, object], model_type: str, layers: int
) -> MoeConfig | None:
    experts = _first_count(text, _EXPERT_KEYS)
    if not experts or experts <= 1 or text.get("enable_moe_block") is False:  # Gemma 4 dense sizes
        return None
    top_k = _first_count(text, _TOP_K_KEYS) or 1
    shared = _first_count(text, _SHARED_KEYS) or 0
    shared_size = _int(text.get("shared_expert_intermediate_size")) or _int(
        text.get("shared_intermediate_size")
    )
    if not shared and (shared_size or model_type.startswith(_ALWAYS_SHARED)):
        shared = 1
    return MoeConfig(
        num_experts=experts,
        experts_per_token=min(top_k, experts),
        shared_experts=shared,
        moe_layers=_moe_layers(text, layers),
        moe_intermediate_size=_int(text.get("moe_intermediate_size")),
        shared_intermediate_size=shared_size,
    )


def _first_count(text: Mapping[str, object], keys: tuple[str, ...]) -> int | None:
    """The first key present; a per-layer list (Hunyuan's ``moe_topk``) gives its largest entry."""
    for key in keys:
        value = text.get(key)
        if isinstance(value, list):
            counts = [n for n in (_int(v) for v in value) if n is not None]
            if counts:
                return max(counts)
        elif (number := _int(value)) is not None:
            return number
    return None


def _moe_layers(text: Mapping[str, object], layers: int) -> tuple[int, ...]:
    kinds = _list(text.get("mlp_layer_types"))  # Kimi-Linear: "dense" / "sparse" per layer
    if len(kinds) == layers:
        return tuple(i for i, kind in enumerate(kinds) if kind == "sparse")
    explicit = _list(text.get("moe_layers"))
    explicit_ints = [n for i in explicit if (n := _int(i)) is not None]
    if explicit and len(explicit_ints) == len(explicit):
        return tuple(sorted(n for n in explicit_ints if 0 <= n < layers))
    per_layer = _list(text.get("moe_layer_freq"))  # MiniMax-M3: a 0/1 flag per layer
    if len(per_layer) == layers:
        return tuple(i for i, flag in enumerate(per_layer) if _int(flag))
    if "first_k_dense_replace" in text or "moe_layer_freq" in text:
        first = _int(text.get("first_k_dense_replace")) or 0
        freq = _int(text.get("moe_layer_freq")) or 1
        return tuple(i for i in range(first, layers) if i % freq == 0)
    if "expert_layer_period" in text:
        period = _int(text.get("expert_layer_period")) or 1
        offset = _int(text.get("expert_layer_offset")) or 0
        return tuple(i for i in range(layers) if i % period == offset)
    if "moe_layer_start_index" in text:
        start = _int(text.get("moe_layer_start_index")) or 0
        step = _int(text.get("moe_layer_interval")) or 1
        return tuple(i for i in range(start, layers) if (i - start) % step == 0)
    step = _int(text.get("interleave_moe_layer_step")) or _int(text.get("decoder_sparse_step")) or 1
    dense = {n for i in _list(text.get("mlp_only_layers")) if (n := _int(i)) is not None}
    return tuple(i for i in range(layers) if (i + 1) % step == 0 and i not in dense)


def _parse_quant(raw: Mapping[str, object], text: Mapping[str, object]) -> QuantConfig | None:
    section = raw.get("quantization_config") or text.get("quantization_config")
    mlx = raw.get("quantization")
    # mlx-lm writes "quantization" and a copy as "quantization_config" without a quant_method.
    if isinstance(mlx, Mapping) and _int(mlx.get("bits")):
        if not isinstance(section, Mapping) or "quant_method" not in section:
            return QuantConfig("mlx", _int(mlx.get("bits")), _int(mlx.get("group_size")))
    if not isinstance(section, Mapping):
        return None
    method = str(section.get("quant_method") or "unknown").lower()
    bits = _int(section.get("bits")) or _int(section.get("w_bit"))
    fmt = _str(section.get("format"))
    groups = section.get("config_groups")
    if isinstance(groups, Mapping):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            if isinstance(weights, Mapping):
                bits = bits or _int(weights.get("num_bits"))
                fmt = fmt or _str(group.get("format"))
                break
    if method == "bitsandbytes":
        bits = 4 if section.get("load_in_4bit") else 8 if section.get("load_in_8bit") else bits
    not_converted = _list(section.get("modules_to_not_convert")) or _list(section.get("ignore"))
    return QuantConfig(
        method=method,
        bits=bits,
        group_size=_int(section.get("group_size")) or _int(section.get("q_group_size")),
        fmt=fmt,
        not_converted=tuple(str(m) for m in not_converted if isinstance(m, str)),
    )
