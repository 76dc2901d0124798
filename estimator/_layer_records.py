"""The per-layer memory records: what one decoder layer keeps between tokens, and the layer map.

``_layers`` builds these from config.json; ``_kv_cache`` turns them into bytes per runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LayerKind(StrEnum):
    """What a layer caches."""

    FULL = "full"
    SLIDING = "sliding"
    CHUNKED = "chunked"
    MLA = "mla"
    SHARED_KV = "shared-kv"
    GATED_DELTANET = "gated-deltanet"
    KIMI_DELTA = "kimi-delta"
    LIGHTNING = "lightning"
    MAMBA = "mamba"
    MAMBA2 = "mamba2"
    SHORT_CONV = "short-conv"
    MLP_ONLY = "mlp-only"
    COMPRESSED_SPARSE = "compressed-sparse"
    HEAVILY_COMPRESSED = "heavily-compressed"


GROWING_KINDS = frozenset({LayerKind.FULL, LayerKind.MLA})
WINDOWED_KINDS = frozenset({LayerKind.SLIDING, LayerKind.CHUNKED})
# DeepSeek-V4: a window of K=V rows plus one compressed row per ``compress_ratio`` tokens.
COMPRESSED_KINDS = frozenset({LayerKind.COMPRESSED_SPARSE, LayerKind.HEAVILY_COMPRESSED})
STATE_KINDS = frozenset(
    {
        LayerKind.GATED_DELTANET,
        LayerKind.KIMI_DELTA,
        LayerKind.LIGHTNING,
        LayerKind.MAMBA,
        LayerKind.MAMBA2,
        LayerKind.SHORT_CONV,
    }
)


@dataclass(frozen=True, slots=True)
class AttentionCache:
    """Per token: K rows of ``kv_heads·k_head_dim`` and V rows of ``kv_heads·v_head_dim`` values.

    MLA keeps one latent row (``kv_lora_rank + qk_rope_head_dim``) and no V, as llama.cpp and
    vLLM's ``MLAAttentionSpec`` do. ``indexer_head_dim`` is the DSA indexer's key per token
    (DeepSeek V3.2, GLM-5).

    DeepSeek-V4 (``compress_ratio`` ≥ 1, vLLM's ``DeepseekV4Attention.compress_ratio``, 1 for a
    window-only layer): one K=V row (no V) per token in a ``window``-token window, and, where the
    ratio r > 1, one compressed K=V row per r tokens that grows with the context, with the
    indexer key per compressed entry (``indexer_head_dim``, compressed sparse attention only).
    """

    kind: LayerKind
    kv_heads: int
    k_head_dim: int
    v_head_dim: int
    window: int | None = None
    indexer_head_dim: int = 0
    compress_ratio: int = 0

    @property
    def k_values(self) -> int:
        return self.kv_heads * self.k_head_dim

    @property
    def v_values(self) -> int:
        return self.kv_heads * self.v_head_dim

    @property
    def compressed(self) -> bool:
        """Keeps compressed entries that grow one per ``compress_ratio`` tokens (DeepSeek-V4 CSA/HCA)."""
        return self.compress_ratio > 1

    @property
    def compressor_state_values(self) -> int:
        """The compressors' running state per sequence (0 without compression).

        vLLM's ``CompressorStateCache`` (vllm/models/deepseek_v4/compressor.py): ``coff · r`` token
        slots of ``2 · coff · head_dim`` values (kv and score), coff 2 where windows overlap
        (compressed sparse attention, whose indexer has its own such compressor at
        ``indexer_head_dim``), else 1.
        """
        if not self.compressed:
            return 0
        coff = 2 if self.kind == LayerKind.COMPRESSED_SPARSE else 1
        slots = coff * self.compress_ratio
        return slots * 2 * coff * (self.k_values + self.indexer_head_dim)


@dataclass(frozen=True, slots=True)
class RecurrentState:
    """Fixed state per sequence: the convolution window and the recurrent (SSM / delta) matrix.

    ``recurrent_f32_in_vllm``: vLLM keeps this recurrent state in F32 whatever the model dtype
    (KDA: ``MambaStateDtypeCalculator.kda_state_dtype``); otherwise it uses the model dtype.
    """

    kind: LayerKind
    conv_values: int
    recurrent_values: int
    recurrent_f32_in_vllm: bool = False

    @property
    def values(self) -> int:
        return self.conv_values + self.recurrent_values


@dataclass(frozen=True, slots=True)
class Layer:
    """One decoder layer's memory: an attention cache, a fixed state, both, or neither."""

    kind: LayerKind
    attention: AttentionCache | None = None
    state: RecurrentState | None = None
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.kind, self.attention, self.state)))

    def __hash__(self) -> int:  # the fit looks layers up in caches on every call
        return self._hash

    @property
    def kinds(self) -> tuple[LayerKind, ...]:
        """Every kind this layer holds (Falcon-H1: attention and Mamba2 side by side)."""
        parts = tuple(p.kind for p in (self.attention, self.state) if p is not None)
        return parts or (self.kind,)


@dataclass(frozen=True, slots=True)
class LayerMap:
    """The decoder's layers, plus the multi-token-prediction (NextN) layers stored beside them."""

    layers: tuple[Layer, ...]
    mtp_layers: tuple[Layer, ...] = ()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The fit's caches hash ModelConfig on every call: hash the layers once, not per lookup.
        object.__setattr__(self, "_hash", hash((self.layers, self.mtp_layers)))

    def __hash__(self) -> int:
        return self._hash

    def kind_counts(self) -> dict[str, int]:
        """``{kind: layers}``; a layer that holds two kinds counts under both."""
        counts: dict[str, int] = {}
        for layer in self.layers:
            for kind in layer.kinds:
                counts[kind.value] = counts.get(kind.value, 0) + 1
        return counts


NO_LAYERS = LayerMap(())


@dataclass(frozen=True, slots=True)
class AttentionShape:
    """The config's plain attention facts, already parsed by ``_config``."""

    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    mla_latent: int = 0  # kv_lora_rank + qk_rope_head_dim, 0 without MLA


def json_int(value: object) -> int | None:
    """A JSON number that is a whole number (not a bool), else None; config.json parsing shares it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)
