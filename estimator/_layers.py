"""What each decoder layer keeps between tokens, read from the family's own config keys.

One record per layer: a KV cache that grows with the context (full attention, MLA latent), one
capped at a window (sliding, chunked), a fixed per-sequence state (Gated DeltaNet, Kimi Delta
Attention, lightning attention, Mamba, Mamba2, LFM2's short convolution), both (Falcon-H1 and
Zamba2 hybrid layers run attention beside Mamba2), or nothing of its own (Gemma 3n/4 layers that
read an earlier layer's KV; Nemotron-H's MLP-only blocks).

The records live in ``_layer_records``; the recurrent and convolution state sizes in ``_layer_states``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ._layer_records import (
    AttentionCache,
    AttentionShape,
    Layer,
    LayerKind,
    LayerMap,
    RecurrentState,
    json_int,
)
from ._layer_states import (
    gated_deltanet_state,
    kda_state,
    lightning_state,
    mamba1_state,
    mamba2_state,
    short_conv_state,
)

__all__ = ["parse_layer_map"]

# Families whose "linear_attention"/"mamba" layers are Mamba2 mixers (transformers 5.x configs).
_MAMBA2_FAMILIES = frozenset({"nemotron_h", "bamba", "granitemoehybrid", "zamba2", "falcon_h1", "mamba2"})
_MAMBA1_FAMILIES = frozenset({"jamba", "mamba", "falcon_mamba"})


# MiniMax-M3's config names one NextN layer, but the released checkpoint stores no MTP tensor
# (layers 0-59 only: github:gogongxt/python/scripts/models/minimax_m3.md@b521199, a per-tensor report).
_MTP_NOT_STORED = frozenset({"minimax_m3", "minimax_m3_vl"})
# MiMo-V2's Hub checkpoints (V2-Flash, V2.5, V2.5-Pro) store three MTP blocks under model.mtp.layers that
# config.json does not name; llama.cpp's converter hardcodes the same count (ggml-org/llama.cpp
# conversion/mimo.py, ``_n_nextn = 3``). A config transformers saved (``layer_types``, no
# ``hybrid_layer_pattern``) has none: transformers drops them on load.
MIMO_V2_HUB_MTP_BLOCKS = 3


def parse_layer_map(text: Mapping[str, object], model_type: str, shape: AttentionShape) -> LayerMap:
    """Build the per-layer map from config.json's text section."""
    if model_type in _DEEPSEEK_V4:
        return _deepseek_v4_map(text, shape)
    names = _layer_names(text, model_type, shape.num_layers)
    shared_from = shape.num_layers - (json_int(text.get("num_kv_shared_layers")) or 0)
    # A layer depends on its index only through per_layer_config; without one, layers of the same
    # name are one record, built once (a fresh store parses every bundled config before answering).
    by_index = isinstance(text.get("per_layer_config"), Mapping) or isinstance(
        text.get("block_configs"), list
    )
    own_indexer = _own_indexer_layers(text, shape.num_layers)
    made: dict[tuple[str, bool, bool], Layer] = {}
    layers = []
    for i, name in enumerate(names):
        key = (name, i >= shared_from, own_indexer is None or i in own_indexer)
        layer = None if by_index else made.get(key)
        if layer is None:
            layer = made[key] = _layer(text, model_type, shape, name, i, shared=key[1])
            if not key[2] and layer.attention and layer.attention.indexer_head_dim:
                layer = made[key] = replace(layer, attention=replace(layer.attention, indexer_head_dim=0))
        layers.append(layer)
    mtp = json_int(text.get("num_nextn_predict_layers")) or json_int(text.get("mtp_num_hidden_layers")) or 0
    if model_type in _MTP_NOT_STORED:
        mtp = 0
    mimo = model_type in _MIMO_V2
    if mimo and not mtp and isinstance(text.get("hybrid_layer_pattern"), list):
        mtp = MIMO_V2_HUB_MTP_BLOCKS
    attention = _attention(text, shape, "sliding" if mimo else "full", 0)  # MiMo-V2's MTP blocks use SWA
    return LayerMap(tuple(layers), (Layer(attention.kind, attention),) * mtp)


def _own_indexer_layers(text: Mapping[str, object], layers: int) -> frozenset[int] | None:
    """GLM-5.2: only layers whose ``indexer_types`` entry is "full" run (and cache keys for) their own
    DSA indexer; "shared" layers reuse another layer's top-k. None: every layer has its own. The
    checkpoint agrees: indexer weights on layers 0-2, 6, 10, ..., 74 and the MTP layer only
    (github:gogongxt/python/scripts/models/glm_5.2.md@b521199), and llama.cpp's log sizes the
    indexer cache for 21 of 78 layers (dfch/biz.dfch.LlmOps, quoted in bench/data/measurements.toml)."""
    kinds = text.get("indexer_types")
    if isinstance(kinds, list) and len(kinds) == layers:
        return frozenset(i for i, kind in enumerate(kinds) if kind != "shared")
    return None


# DeepSeek-V4 under its own name and sgl-project's FP8 re-release ("deepseek_ref", same keys).
_DEEPSEEK_V4 = frozenset({"deepseek_v4", "deepseek_ref"})
_V4_KINDS = {
    "sliding_attention": LayerKind.SLIDING,
    "compressed_sparse_attention": LayerKind.COMPRESSED_SPARSE,
    "heavily_compressed_attention": LayerKind.HEAVILY_COMPRESSED,
}
# transformers' DeepseekV4Config.default_compress_rates
_V4_DEFAULT_RATES = {LayerKind.COMPRESSED_SPARSE: 4, LayerKind.HEAVILY_COMPRESSED: 128}


def _deepseek_v4_map(text: Mapping[str, object], shape: AttentionShape) -> LayerMap:
    """DeepSeek-V4: every layer a 1×head_dim K=V window; CSA and HCA layers add compressed entries.

    DeepSeek's config lists ``compress_ratios`` (0 window only, 4 compressed sparse attention with
    the indexer, 128 heavily compressed; the entries past ``num_hidden_layers`` are the MTP
    blocks'); transformers' lists ``layer_types`` and ``compress_rates``. The MTP draft keeps the
    window only: vLLM gives every layer past ``num_hidden_layers`` compress ratio 1
    (vllm/models/deepseek_v4/attention.py, ``DeepseekV4Attention.__init__``).
    """
    window = json_int(text.get("sliding_window")) or 128
    kinds: list[tuple[LayerKind, int]] = []
    ratios = text.get("compress_ratios")
    listed = text.get("layer_types")
    if isinstance(ratios, list) and len(ratios) >= shape.num_layers:
        for value in ratios[: shape.num_layers]:
            ratio = json_int(value) or 0
            kind = (
                LayerKind.SLIDING
                if ratio <= 1
                else LayerKind.COMPRESSED_SPARSE
                if ratio == 4
                else LayerKind.HEAVILY_COMPRESSED
            )
            kinds.append((kind, max(1, ratio)))
    elif isinstance(listed, list) and len(listed) == shape.num_layers:
        given = text.get("compress_rates")
        rates: Mapping[str, object] = given if isinstance(given, Mapping) else {}
        for name in listed:
            kind = _V4_KINDS.get(str(name), LayerKind.SLIDING)
            named = json_int(rates.get(str(name)))
            kinds.append((kind, 1 if kind == LayerKind.SLIDING else named or _V4_DEFAULT_RATES[kind]))
    else:  # transformers' default (DeepseekV4Config.__post_init__): two HCA layers, then HCA/CSA alternating
        pattern = [LayerKind.HEAVILY_COMPRESSED] * min(shape.num_layers, 2)
        pattern += [
            (LayerKind.HEAVILY_COMPRESSED, LayerKind.COMPRESSED_SPARSE)[i % 2]
            for i in range(shape.num_layers - len(pattern))
        ]
        kinds = [(kind, _V4_DEFAULT_RATES[kind]) for kind in pattern]
    indexer = json_int(text.get("index_head_dim")) or 0
    made: dict[tuple[LayerKind, int], Layer] = {}
    for kind, ratio in kinds:
        if (kind, ratio) not in made:
            cache = AttentionCache(
                kind,
                1,
                shape.head_dim,
                0,
                window,
                indexer if kind == LayerKind.COMPRESSED_SPARSE else 0,
                ratio,
            )
            made[(kind, ratio)] = Layer(kind, cache)
    mtp = json_int(text.get("num_nextn_predict_layers")) or 0
    mtp_layer = Layer(
        LayerKind.SLIDING, AttentionCache(LayerKind.SLIDING, 1, shape.head_dim, 0, window, 0, 1)
    )
    return LayerMap(tuple(made[k] for k in kinds), (mtp_layer,) * mtp)


def _layer_names(text: Mapping[str, object], model_type: str, layers: int) -> list[str]:
    """Each layer's type name, from whichever key the family uses."""
    for key in ("layer_types", "layers_block_type"):
        listed = text.get(key)
        if isinstance(listed, list) and len(listed) == layers:
            return [str(t).lower() for t in listed]
    flags = text.get("hybrid_layer_pattern")  # MiMo-V2: 1 sliding window, 0 full attention
    if isinstance(flags, list) and len(flags) == layers:
        return ["sliding_attention" if json_int(flag) == 1 else "full_attention" for flag in flags]
    blocks = text.get("block_configs")  # Nemotron-NAS (DeciLM): a no-op or linear attention caches nothing
    if isinstance(blocks, list) and len(blocks) == layers:
        return ["full_attention" if _deci_attends(block) else "mlp" for block in blocks]
    pattern = text.get("hybrid_override_pattern")
    if isinstance(pattern, str) and len(pattern) == layers:  # Nemotron-H: M mamba, * attention, - / E MLP
        return [{"M": "mamba", "*": "full_attention"}.get(c, "mlp") for c in pattern]
    attn_types = text.get("attn_type_list")
    if isinstance(attn_types, list) and len(attn_types) == layers:  # MiniMax-01: 0 lightning, 1 softmax
        return ["full_attention" if json_int(t) == 1 else "linear_attention" for t in attn_types]
    indices = _indices(text, layers)
    if indices is not None:
        other = (
            "conv" if isinstance(text.get("full_attn_idxs"), list) else "linear_attention"
        )  # LFM2: short conv
        return ["full_attention" if i in indices else other for i in range(layers)]
    if model_type in _MAMBA1_FAMILIES | {"mamba2"}:
        return ["mamba"] * layers
    if model_type == "falcon_h1":
        return ["hybrid"] * layers
    return _window_names(text, model_type, layers)


def _indices(text: Mapping[str, object], layers: int) -> frozenset[int] | None:
    """Attention layer indices, where the family lists them instead of naming every layer."""
    lfm = text.get("full_attn_idxs")  # LFM2
    if isinstance(lfm, list):
        return frozenset(json_int(i) or 0 for i in lfm)
    bamba = text.get("attn_layer_indices")
    if isinstance(bamba, list):
        return frozenset(json_int(i) or 0 for i in bamba)
    kimi = text.get("linear_attn_config")
    if isinstance(kimi, Mapping) and isinstance(kimi.get("full_attn_layers"), list):
        return frozenset(
            (json_int(i) or 1) - 1 for i in kimi["full_attn_layers"]
        )  # 1-indexed in Kimi's config
    interval = json_int(text.get("full_attention_interval"))  # Qwen3-Next, Qwen3.5
    if interval:
        return frozenset(i for i in range(layers) if (i + 1) % interval == 0)
    period = json_int(text.get("attn_layer_period"))  # Jamba
    if period:
        offset = json_int(text.get("attn_layer_offset")) or 0
        return frozenset(i for i in range(layers) if i % period == offset)
    return None


def _window_names(text: Mapping[str, object], model_type: str, layers: int) -> list[str]:
    """Sliding and chunked patterns; everything else is full attention.

    Sliding windows apply only where the config says so: Qwen2.5 sets ``sliding_window``
    with ``use_sliding_window: false``, and then no window applies.
    """
    window = json_int(text.get("sliding_window"))
    pattern = json_int(text.get("sliding_window_pattern"))
    if window and pattern and pattern > 0:
        return ["full" if (i + 1) % pattern == 0 else "sliding" for i in range(layers)]
    if window and model_type == "gemma2":
        # Gemma 2 alternates local and global layers in code, starting with a local one.
        return ["sliding" if i % 2 == 0 else "full" for i in range(layers)]
    if window and text.get("use_sliding_window") is True:
        first = json_int(text.get("max_window_layers")) or 0
        return ["sliding" if i >= first else "full" for i in range(layers)]
    if json_int(text.get("attention_chunk_size")) and model_type.startswith("llama4"):
        # Llama 4: RoPE layers are chunked, NoPE layers global; without the list, transformers puts
        # a NoPE layer every no_rope_layer_interval (4) layers (Llama4TextConfig).
        no_rope = text.get("no_rope_layers")
        if not (isinstance(no_rope, list) and len(no_rope) == layers):
            interval = json_int(text.get("no_rope_layer_interval")) or 4
            no_rope = [(i + 1) % interval != 0 for i in range(layers)]
        return ["chunked" if flag else "full" for flag in no_rope]
    return ["full"] * layers


def _layer(
    text: Mapping[str, object], model_type: str, shape: AttentionShape, name: str, index: int, *, shared: bool
) -> Layer:
    if name in ("mlp", "moe"):
        return Layer(LayerKind.MLP_ONLY)
    if name == "hybrid" or (name == "attention" and model_type == "falcon_h1"):
        return Layer(LayerKind.MAMBA2, _attention(text, shape, "full", index), mamba2_state(text, shape))
    recurrent = _state_for(text, model_type, shape, name)
    if recurrent is not None:
        return Layer(recurrent.kind, state=recurrent)
    kind_name = "sliding" if "sliding" in name or name in ("local", "local_attention") else name
    kind_name = "chunked" if "chunk" in kind_name else kind_name
    if shared:
        return Layer(LayerKind.SHARED_KV)
    attention = _attention(text, shape, kind_name, index)
    return Layer(attention.kind, attention)


def _state_for(
    text: Mapping[str, object], model_type: str, shape: AttentionShape, name: str
) -> RecurrentState | None:
    if name in ("conv", "short_conv"):
        return short_conv_state(text, shape)
    if not any(word in name for word in ("linear", "mamba", "recurrent", "ssm", "deltanet", "kda")):
        return None
    if model_type in _MAMBA2_FAMILIES:
        return mamba2_state(text, shape)
    if model_type in _MAMBA1_FAMILIES:
        return mamba1_state(text, shape)
    if isinstance(text.get("linear_attn_config"), Mapping) or model_type == "kimi_linear":
        return kda_state(text, shape)
    if json_int(text.get("linear_num_value_heads")):
        return gated_deltanet_state(text)
    if model_type.startswith("minimax"):
        return lightning_state(text, shape)
    return mamba2_state(text, shape) if json_int(text.get("mamba_n_heads")) else mamba1_state(text, shape)


_GLOBAL_NAMES = ("full", "full_attention", "attention", "global")


def _attention(
    text: Mapping[str, object], shape: AttentionShape, kind_name: str, index: int
) -> AttentionCache:
    if shape.mla_latent:
        indexer = json_int(text.get("index_head_dim")) if json_int(text.get("index_topk")) else None
        return AttentionCache(LayerKind.MLA, 1, shape.mla_latent, 0, indexer_head_dim=indexer or 0)
    kv_heads, head_dim = shape.num_kv_heads, shape.head_dim
    if "zamba" in str(text.get("model_type", "")):
        head_dim = json_int(text.get("attention_head_dim")) or 2 * shape.hidden_size // shape.num_heads
    if json_int(text.get("swa_num_key_value_heads")) or text.get("model_type") in _MIMO_V2:
        return _mimo_v2_attention(text, shape, kind_name)
    overrides = _layer_overrides(text, index)
    if overrides:  # transformers 5.x writes per-layer overrides (Gemma 4's global layers) as per_layer_config
        head_dim = json_int(overrides.get("head_dim")) or head_dim
        kv_heads = json_int(overrides.get("num_key_value_heads")) or kv_heads
    elif kind_name in ("full", "full_attention", "attention", "global") and json_int(
        text.get("global_head_dim")
    ):
        # Gemma 4: global layers use their own head size, and their own KV heads where K equals V.
        head_dim = json_int(text.get("global_head_dim")) or head_dim
        if text.get("attention_k_eq_v", True) and json_int(text.get("num_global_key_value_heads")):
            kv_heads = json_int(text.get("num_global_key_value_heads")) or kv_heads
    if kind_name == "sliding":
        return AttentionCache(
            LayerKind.SLIDING, kv_heads, head_dim, head_dim, json_int(text.get("sliding_window"))
        )
    if kind_name == "chunked":
        return AttentionCache(
            LayerKind.CHUNKED, kv_heads, head_dim, head_dim, json_int(text.get("attention_chunk_size"))
        )
    return AttentionCache(LayerKind.FULL, kv_heads, head_dim, head_dim)


def _layer_overrides(text: Mapping[str, object], index: int) -> Mapping[str, object]:
    table = text.get("per_layer_config")
    if not isinstance(table, Mapping):
        return _deci_overrides(text, index)
    entry = table.get(str(index), table.get(index))
    return entry if isinstance(entry, Mapping) else {}


_MIMO_V2 = frozenset({"mimo_v2_flash", "mimo_v2"})


def _mimo_v2_attention(text: Mapping[str, object], shape: AttentionShape, kind_name: str) -> AttentionCache:
    """MiMo-V2: K heads of ``head_dim``, V heads of the narrower ``v_head_dim``; sliding layers have their own
    KV heads (``swa_*``; transformers' default is twice the full layers'). llama.cpp's converter writes the
    same per-layer KV heads and the Hub's ``sliding_window`` (ggml-org/llama.cpp conversion/mimo.py)."""
    head_dim = json_int(text.get("head_dim")) or shape.head_dim
    v_dim = json_int(text.get("v_head_dim")) or head_dim
    if kind_name != "sliding":
        return AttentionCache(LayerKind.FULL, shape.num_kv_heads, head_dim, v_dim)
    return AttentionCache(
        LayerKind.SLIDING,
        json_int(text.get("swa_num_key_value_heads")) or 2 * shape.num_kv_heads,
        json_int(text.get("swa_head_dim")) or head_dim,
        json_int(text.get("swa_v_head_dim")) or v_dim,
        json_int(text.get("sliding_window")),
    )


def _deci_attends(block: object) -> bool:
    attention = block.get("attention") if isinstance(block, Mapping) else None
    if not isinstance(attention, Mapping):
        return True
    return attention.get("no_op") is not True and attention.get("replace_with_linear") is not True


def _deci_overrides(text: Mapping[str, object], index: int) -> Mapping[str, object]:
    """Nemotron-NAS: a layer's KV heads are ``num_attention_heads // n_heads_in_group`` (its block config)."""
    blocks = text.get("block_configs")
    block = blocks[index] if isinstance(blocks, list) and index < len(blocks) else None
    attention = block.get("attention") if isinstance(block, Mapping) else None
    group = json_int(attention.get("n_heads_in_group")) if isinstance(attention, Mapping) else None
    heads = json_int(text.get("num_attention_heads"))
    return {"num_key_value_heads": heads // group} if group and heads else {}
