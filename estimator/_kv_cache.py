"""KV cache and recurrent state, per layer, per token and per context, in each runtime's rule.

Per layer and token, attention stores a K row and a V row (``_layers.AttentionCache``); MLA stores
one latent row. Windowed layers stop growing at their window; recurrent and convolution layers hold
a fixed state per sequence whatever the context. Where llama.cpp and vLLM differ, ``CacheRule``
names the runtime whose rule applies:

* window caps: llama.cpp keeps ``pad(min(n_ctx, n_swa·n_seq + n_ubatch), 256)`` cells for the SWA
  layers (``llama_kv_cache_iswa`` in ``src/llama-kv-cache-iswa.cpp``); vLLM's ``SlidingWindowSpec``
  keeps ``min(window − 1 + max_num_batched_tokens, max_model_len)`` tokens in 16-token blocks plus
  one block, and ``ChunkedLocalAttentionSpec`` ``min(chunk + batched, max_model_len)``
  (``vllm/v1/kv_cache_interface.py``);
* fixed state: llama.cpp allocates ``n_embd_r + n_embd_s`` values per layer and sequence in F32
  (``llama_memory_recurrent``, ``src/llama-memory-recurrent.cpp``; types set in
  ``src/llama-model.cpp`` ``create_memory``); vLLM's ``MambaSpec`` keeps conv and SSM state in the
  model dtype (``mamba_cache_dtype`` "auto"), except KDA's recurrent state in F32
  (``MambaStateDtypeCalculator`` in ``vllm/model_executor/layers/mamba/mamba_utils.py``), one page
  per sequence (``1 + num_speculative_blocks`` with speculative decoding);
* not modelled: vLLM's hybrid allocator pads Mamba pages up to the attention page size
  (``page_size_padded``) and keeps extra pages with prefix caching ("align") or speculative tokens;
* the DSA indexer key: llama.cpp rule here keeps it in the cache type (an assumption, not read from
  llama.cpp's DSA code); vLLM stores it as FP8 plus
  one F32 scale per 128 values: 132 bytes for ``index_head_dim`` 128 (``DeepseekV32IndexerCache``
  in ``vllm/model_executor/models/deepseek_v2.py``).
* DeepSeek-V4 (``AttentionCache.compress_ratio``): a window of K=V rows, one compressed row per r
  tokens (plus the indexer key on compressed sparse attention layers) and the compressors' F32
  running state. vLLM (FlashMLA, ``fp8_ds_mla``) ignores the KV type: 584 bytes a row (448 FP8
  NoPE + 64 BF16 RoPE + 8 scale bytes), pages padded to 576 bytes, the window in 64-token blocks
  (``DeepseekV4SWACache``, ``vllm/v1/attention/backends/mla/sparse_swa.py``), compressed rows and
  the 132-byte indexer keys ``256 / r`` to a 256-token block (``DeepseekV4Attention`` /
  ``DeepseekV4IndexerCache.get_kv_cache_spec`` in ``vllm/models/deepseek_v4/attention.py``,
  ``MLAAttentionSpec.storage_block_size`` in ``vllm/v1/kv_cache_interface.py``), and the state
  as a window of ``coff · r`` token slots plus the batched tokens, in 4-slot (r = 4) or 8-slot
  blocks (``CompressorStateCache``, ``vllm/models/deepseek_v4/compressor.py``). llama.cpp
  (``llama_kv_cache_dsv4``, ggml-org/llama.cpp@8eb9c86 ``src/llama-kv-cache-dsv4.cpp``) keeps every
  layer's window in an ISWA cache of K-only rows (``dsv4_make_k_only``: the MLA storage path) of the
  cache type, the compressed rows and the indexer keys in caches of ``pad(max(1, ⌈cells / r⌉), 256)``
  cells (``dsv4_comp_size``), and the compressor state in F32 (``llama_dsv4_comp_state``: kv and
  score, ``2r × 2·head_dim`` for r = 4 and its indexer, ``r × head_dim`` for r = 128), one per
  sequence stream. EXACT keeps ``min(context, window)`` window rows and ``⌊context / r⌋`` entries,
  what transformers' ``DeepseekV4CSACache``/``HCACache`` hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache

from ._config import ModelConfig
from ._layer_records import AttentionCache, Layer, LayerKind, RecurrentState
from .errors import InputError


class KvCacheType(StrEnum):
    """The KV cache element types we model (llama.cpp's -ctk/-ctv names)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"


# Cache element types: (elements per block, bytes per block), from ggml.
KV_TYPES: dict[str, tuple[int, int]] = {
    KvCacheType.F16: (1, 2),
    KvCacheType.Q8_0: (32, 34),
    KvCacheType.Q4_0: (32, 18),
}
_F32 = 4
_VLLM_INDEXER_BLOCK = 128  # quant_block_size of vLLM's FP8 indexer cache
_VLLM_BLOCK_TOKENS = 16
_V4_ROW = 584  # vLLM fp8_ds_mla: bytes per DeepSeek-V4 K=V row (window or compressed)
_V4_ALIGN = 576  # fp8_ds_mla page alignment (``_apply_alignment_padding``)
_V4_BLOCK = 256  # tokens per block (DeepseekSparseSWABackend.get_preferred_block_size)
_V4_SWA_BLOCK = 64  # DeepseekV4SWACache.block_size
_F32_NAMES = frozenset({"float32", "fp32", "F32", "torch.float32"})


class KvTypeError(InputError):
    """An unknown KV cache type."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"'{text}' is not a KV cache type: use f16, q8_0 or q4_0")


class CacheRule(StrEnum):
    """Whose cache-sizing rule applies."""

    EXACT = "exact"  # what the tokens need: min(context, window) cells, state in F32
    LLAMA_CPP = "llama.cpp"
    VLLM = "vllm"


@dataclass(frozen=True, slots=True)
class KvCachePolicy:
    """How a runtime sizes its cache beyond the plain formula.

    llama.cpp pads every cache to a multiple of 256 cells and gives windowed layers
    ``n_ubatch`` cells beyond the window (``llama-kv-cache-iswa.cpp``); vLLM gives them its
    batched-token budget (``window_slack``) in 16-token blocks.
    """

    pad_cells: int = 1
    window_slack: int = 0
    rule: CacheRule = CacheRule.EXACT
    n_seq: int = 1


EXACT = KvCachePolicy()
LLAMA_CPP_POLICY = KvCachePolicy(pad_cells=256, window_slack=512, rule=CacheRule.LLAMA_CPP)
VLLM_POLICY = KvCachePolicy(pad_cells=1, window_slack=2048, rule=CacheRule.VLLM)


def parse_kv_type(text: str) -> KvCacheType:
    """Normalise a KV cache type name ("F16", "q8") to f16, q8_0 or q4_0.

    Raises:
        KvTypeError: not one of the three.
    """
    key = text.strip().lower().replace("-", "_")
    key = {"fp16": "f16", "16": "f16", "q8": "q8_0", "q4": "q4_0", "8": "q8_0", "4": "q4_0"}.get(key, key)
    if key not in KV_TYPES:
        raise KvTypeError(text)
    return KvCacheType(key)


def kv_row_bytes(elements: int, kv_type: str) -> int:
    block_elements, block_bytes = KV_TYPES[kv_type]
    return -(-elements // block_elements) * block_bytes


def layer_bytes_per_token(config: ModelConfig, kv_type: str = "f16") -> int:
    """KV bytes one uniform attention layer stores per token (the config's plain heads × head_dim)."""
    if config.mla:
        return kv_row_bytes(config.mla.kv_lora_rank + config.mla.qk_rope_head_dim, kv_type)
    return 2 * kv_row_bytes(config.num_kv_heads * config.head_dim, kv_type)


def attention_bytes_per_token(
    cache: AttentionCache, kv_type: str = "f16", rule: CacheRule = CacheRule.EXACT
) -> int:
    """K and V rows (and the DSA indexer key) one layer stores per token; DeepSeek-V4: its window row."""
    own = kv_row_bytes(cache.k_values, kv_type) + kv_row_bytes(cache.v_values, kv_type)
    if cache.compress_ratio:  # V4's indexer key is kept per compressed entry, not per token
        return own
    return own + indexer_bytes_per_token(cache, kv_type, rule)


def compressed_entry_bytes(
    cache: AttentionCache, kv_type: str = "f16", rule: CacheRule = CacheRule.EXACT
) -> int:
    """One compressed entry of a DeepSeek-V4 layer, kept every ``compress_ratio`` tokens (0 without)."""
    if not cache.compressed:
        return 0
    row = _V4_ROW if rule == CacheRule.VLLM else kv_row_bytes(cache.k_values, kv_type)
    return row + indexer_bytes_per_token(cache, kv_type, rule)


def compressor_state_bytes(cache: AttentionCache) -> int:
    """A DeepSeek-V4 layer's compressor state per sequence in F32 (vLLM and transformers keep F32)."""
    return _F32 * cache.compressor_state_values


def indexer_bytes_per_token(
    cache: AttentionCache, kv_type: str = "f16", rule: CacheRule = CacheRule.EXACT
) -> int:
    """The sparse-attention indexer's key per token (0 without an indexer)."""
    dim = cache.indexer_head_dim
    if rule == CacheRule.VLLM:
        return dim + dim // _VLLM_INDEXER_BLOCK * _F32
    return kv_row_bytes(dim, kv_type)


def state_bytes(
    state: RecurrentState, rule: CacheRule = CacheRule.LLAMA_CPP, model_dtype_bytes: int = 2
) -> int:
    """Fixed bytes of one layer's state for one sequence, in the runtime's dtype."""
    if rule != CacheRule.VLLM:
        return _F32 * state.values
    recurrent = _F32 if state.recurrent_f32_in_vllm else model_dtype_bytes
    return state.conv_values * model_dtype_bytes + state.recurrent_values * recurrent


def kv_bytes_per_token(config: ModelConfig, kv_type: str = "f16") -> int:
    """KV bytes per token of context across the layers that keep growing (full attention, MLA)."""
    return sum(
        attention_bytes_per_token(layer.attention, kv_type)
        for layer in config.layer_map.layers
        if layer.attention and layer.attention.window is None
    )


def state_bytes_per_sequence(config: ModelConfig, rule: CacheRule = CacheRule.LLAMA_CPP) -> int:
    """Fixed recurrent and convolution state for one sequence (llama.cpp: F32)."""
    dtype = model_dtype_bytes(config)
    layers = config.layer_map.layers
    compressors = sum(compressor_state_bytes(layer.attention) for layer in layers if layer.attention)
    return compressors + sum(state_bytes(layer.state, rule, dtype) for layer in layers if layer.state)


def compressed_groups(config: ModelConfig, kv_type: str = "f16") -> tuple[tuple[int, int, int], ...]:
    """``(ratio, layers, bytes per entry)`` for each compress ratio among DeepSeek-V4's layers."""
    groups: dict[int, list[int]] = {}
    for layer in config.layer_map.layers:
        cache = layer.attention
        if cache and cache.compressed:
            group = groups.setdefault(cache.compress_ratio, [0, 0])
            group[0] += 1
            group[1] += compressed_entry_bytes(cache, kv_type)
    return tuple((ratio, n, per_entry) for ratio, (n, per_entry) in sorted(groups.items()))


def growing_bytes_per_token(config: ModelConfig, kv_type: str = "f16") -> int:
    """KV bytes per token of context that keep growing, compressed entries spread over their r tokens
    (rounded up): what a runtime adds per extra token of context, on average."""
    compressed = sum(Fraction(per_entry, ratio) for ratio, _, per_entry in compressed_groups(config, kv_type))
    return kv_bytes_per_token(config, kv_type) + math.ceil(compressed)


def sliding_groups(config: ModelConfig, kv_type: str = "f16") -> tuple[tuple[int, int, int], ...]:
    """``(window, layers, bytes per token)`` for each window size among the windowed layers."""
    groups: dict[int, list[int]] = {}
    for layer in config.layer_map.layers:
        cache = layer.attention
        if cache and cache.window is not None:
            group = groups.setdefault(cache.window, [0, 0])
            group[0] += 1
            group[1] += attention_bytes_per_token(cache, kv_type)
    return tuple((window, n, per_token) for window, (n, per_token) in sorted(groups.items()))


def model_dtype_bytes(config: ModelConfig) -> int:
    """Bytes per value of the checkpoint's compute dtype (vLLM sizes its state with it)."""
    return _F32 if config.torch_dtype in _F32_NAMES else 2


def layer_cache_bytes(
    layer: Layer, context: int, kv_type: str = "f16", policy: KvCachePolicy = EXACT, dtype_bytes: int = 2
) -> int:
    """One layer's cache and state for ``context`` tokens under ``policy``.

    Written flat: the fit's bisections call this tens of thousands of times per answer.
    """
    vllm = policy.rule is CacheRule.VLLM
    attention = layer.attention
    if attention is not None and attention.compress_ratio:
        return _deepseek_v4_bytes(attention, context, kv_type, policy)
    per_cell, fixed = _layer_rates(layer, kv_type, vllm, dtype_bytes)
    n_seq = policy.n_seq
    if not per_cell:
        return n_seq * fixed
    window = attention.window if attention else None
    if vllm:
        cells = (
            _vllm_cells(window, attention.kind if attention else layer.kind, context, policy.window_slack)
            * n_seq
        )
    else:
        pad = policy.pad_cells
        cells = -(-context * n_seq // pad) * pad
        if window is not None:
            cap = -(-(window * n_seq + policy.window_slack) // pad) * pad
            cells = min(cells, cap)
    return n_seq * fixed + per_cell * cells


@lru_cache(maxsize=4096)
def _layer_rates(layer: Layer, kv_type: str, vllm: bool, dtype_bytes: int) -> tuple[int, int]:
    """(bytes per cached token, fixed state bytes per sequence) of one layer.

    Keyed by a bool, not the rule: an enum member hashes in Python, a bool in C.
    """
    rule = CacheRule.VLLM if vllm else CacheRule.LLAMA_CPP
    per_cell = attention_bytes_per_token(layer.attention, kv_type, rule) if layer.attention else 0
    return per_cell, state_bytes(layer.state, rule, dtype_bytes) if layer.state else 0


def _deepseek_v4_bytes(cache: AttentionCache, context: int, kv_type: str, policy: KvCachePolicy) -> int:
    """A DeepSeek-V4 layer: its window, its compressed entries and its compressors' state."""
    n_seq = policy.n_seq
    if policy.rule is CacheRule.VLLM:
        return n_seq * _vllm_deepseek_v4_bytes(cache, context, policy.window_slack)
    pad = policy.pad_cells
    cells = _pad(context * n_seq, pad)
    window_cells = min(cells, _pad((cache.window or 0) * n_seq + policy.window_slack, pad))
    total = window_cells * kv_row_bytes(cache.k_values, kv_type)
    if not cache.compressed:
        return total
    ratio = cache.compress_ratio
    if policy.rule is CacheRule.LLAMA_CPP:
        entries = _pad(max(1, _cdiv(cells, ratio)), 256)  # GGML_PAD(dsv4_comp_size(kv_size, ratio), 256)
    else:
        entries = context // ratio * n_seq  # an entry once r tokens have arrived (transformers' caches)
    return (
        total
        + entries * compressed_entry_bytes(cache, kv_type, policy.rule)
        + n_seq * compressor_state_bytes(cache)
    )


def _vllm_deepseek_v4_bytes(cache: AttentionCache, context: int, batched: int) -> int:
    """One sequence's pages, each spec's ``max_memory_usage_bytes`` (fp8_ds_mla layout)."""
    window = cache.window or 0
    swa_page = _pad(_V4_SWA_BLOCK * _V4_ROW, _V4_ALIGN)
    total = (_cdiv(min(window - 1 + batched, context), _V4_SWA_BLOCK) + 1) * swa_page  # SlidingWindowSpec
    if not cache.compressed:
        return total
    ratio = cache.compress_ratio
    slots = _V4_BLOCK // ratio  # MLAAttentionSpec.storage_block_size
    blocks = _cdiv(context, _V4_BLOCK)  # FullAttentionSpec: cdiv(max_model_len, block_size) pages
    total += blocks * _pad(slots * _V4_ROW, _V4_ALIGN)
    overlap = cache.kind == LayerKind.COMPRESSED_SPARSE
    coff = 2 if overlap else 1
    state_block = 4 if overlap else 8  # CompressorStateCache.block_size (r = 4: 4, r = 128: 8)
    state_blocks = _cdiv(min(coff * ratio - 1 + batched, context), state_block) + 1
    dims = [cache.k_values]
    if cache.indexer_head_dim:
        index_row = indexer_bytes_per_token(cache, rule=CacheRule.VLLM)
        total += blocks * _pad(slots * index_row, _V4_ALIGN)
        dims.append(cache.indexer_head_dim)
    for dim in dims:  # kv + score, F32
        total += state_blocks * _pad(state_block * 2 * coff * dim * _F32, _V4_ALIGN)
    return total


def _cdiv(value: int, divisor: int) -> int:
    return -(-value // divisor)


def _vllm_cells(window: int | None, kind: LayerKind, context: int, batched: int) -> int:
    """Token slots vLLM allocates per sequence: 16-token blocks; windows keep window + batched tokens."""
    if window is None:
        return _pad(context, _VLLM_BLOCK_TOKENS)
    if kind == LayerKind.SLIDING:  # SlidingWindowSpec: window − 1 + batched tokens, plus one block
        return _pad(min(window - 1 + batched, context), _VLLM_BLOCK_TOKENS) + _VLLM_BLOCK_TOKENS
    return _pad(min(window + batched, context), _VLLM_BLOCK_TOKENS)  # ChunkedLocalAttentionSpec


def estimate_kv_cache_bytes(
    config: ModelConfig, context: int, kv_type: str = "f16", policy: KvCachePolicy = EXACT
) -> int:
    """KV cache (and recurrent state) bytes for one sequence of ``context`` tokens."""
    dtype = model_dtype_bytes(config)
    return sum(layer_cache_bytes(layer, context, kv_type, policy, dtype) for layer in config.layer_map.layers)


def estimate_mtp_draft_kv_bytes(
    config: ModelConfig, context: int, kv_type: str = "f16", policy: KvCachePolicy = EXACT
) -> int:
    """KV of the multi-token-prediction (NextN) layers when they draft, sized from ``context``.

    Sized from the context the user chose, not ``n_ctx_train``; the draft's weights are the
    accounting's ``mtp`` component.
    """
    dtype = model_dtype_bytes(config)
    return sum(
        layer_cache_bytes(layer, context, kv_type, policy, dtype) for layer in config.layer_map.mtp_layers
    )


@dataclass(frozen=True, slots=True)
class MtpDraft:
    """What the multi-token-prediction (NextN) draft adds when speculative decoding uses it."""

    layers: int
    weights_bytes: int
    kv_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes


def estimate_mtp_draft(
    config: ModelConfig,
    mtp_params: int,
    bits_per_weight: float,
    context: int,
    kv_type: str = "f16",
    policy: KvCachePolicy = EXACT,
) -> MtpDraft:
    """The draft's weights (``mtp_params``, the accounting's ``mtp`` component, at ``bits_per_weight``)
    and its own KV for ``context`` tokens: the context the user chose, not ``n_ctx_train``."""
    weights = int(mtp_params * bits_per_weight / 8)
    kv = estimate_mtp_draft_kv_bytes(config, context, kv_type, policy)
    return MtpDraft(len(config.layer_map.mtp_layers), weights, kv)


def _pad(value: int, multiple: int) -> int:
    return _cdiv(value, multiple) * multiple


@dataclass(frozen=True, slots=True)
class SlidingGroup:
    """Windowed layers that share one window size."""

    window: int
    layers: int
    bytes_per_token_f16: int


@dataclass(frozen=True, slots=True)
class CompressedGroup:
    """DeepSeek-V4 layers that keep one compressed entry per ``ratio`` tokens."""

    ratio: int
    layers: int
    bytes_per_entry_f16: int


@dataclass(frozen=True, slots=True)
class KindSummary:
    """Layers of one kind, and the fixed state each holds (F32; 0 for plain attention)."""

    kind: LayerKind
    layers: int
    state_bytes_each: int
    window: int | None = None
    compress_ratio: int = 0


@dataclass(frozen=True, slots=True)
class MemorySummary:
    """What a model keeps per token and per sequence: the ``memory`` part of the model answer."""

    num_layers: int
    kv_bytes_per_token_f16: int
    sliding: tuple[SlidingGroup, ...]
    state_bytes_per_sequence: int
    kinds: tuple[KindSummary, ...]
    mtp_layers: int = 0
    compressed: tuple[CompressedGroup, ...] = ()

    @property
    def layer_kinds(self) -> dict[str, int]:
        """``{kind: layers}``; a layer holding attention beside a state counts under both."""
        counts: dict[str, int] = {}
        for k in self.kinds:
            counts[k.kind.value] = counts.get(k.kind.value, 0) + k.layers
        return counts


def summarize_memory(config: ModelConfig) -> MemorySummary:
    """Growing KV per token (f16), window groups, compressed groups, fixed state (F32) and layer kinds."""
    kinds: dict[tuple[LayerKind, int, int | None, int], int] = {}
    for layer in config.layer_map.layers:
        for part in (layer.attention, layer.state):
            if part is not None:
                key: tuple[LayerKind, int, int | None, int]
                if isinstance(part, RecurrentState):
                    key = (part.kind, state_bytes(part), None, 0)
                else:
                    key = (part.kind, compressor_state_bytes(part), part.window, part.compress_ratio)
                kinds[key] = kinds.get(key, 0) + 1
        if layer.attention is None and layer.state is None:
            kinds[(layer.kind, 0, None, 0)] = kinds.get((layer.kind, 0, None, 0), 0) + 1
    return MemorySummary(
        num_layers=len(config.layer_map.layers),
        kv_bytes_per_token_f16=kv_bytes_per_token(config),
        sliding=tuple(SlidingGroup(*group) for group in sliding_groups(config)),
        state_bytes_per_sequence=state_bytes_per_sequence(config),
        kinds=tuple(
            KindSummary(kind, n, each, window, ratio) for (kind, each, window, ratio), n in kinds.items()
        ),
        mtp_layers=len(config.layer_map.mtp_layers),
        compressed=tuple(CompressedGroup(*group) for group in compressed_groups(config)),
    )
