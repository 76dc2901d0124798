"""KV cache size per token and per context.

Per layer and token, full attention stores K and V: 2 · kv_heads · head_dim values.
Multi-head latent attention (DeepSeek) stores one compressed latent of
kv_lora_rank + qk_rope_head_dim values instead. Sliding-window and chunked layers stop
growing at their window; recurrent layers hold a fixed F32 state whatever the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ._config import CHUNKED, FULL, RECURRENT, SLIDING, ModelConfig
from .errors import InputError



class KvCacheType(StrEnum):
    """The KV cache element types we model (llama.cpp's -ctk/-ctv names)."""

    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"


# Cache element types: (elements per block, bytes per block), from ggml.
KV_TYPES: dict[str, tuple[int, int]] = {KvCacheType.F16: (1, 2), KvCacheType.Q8_0: (32, 34), KvCacheType.Q4_0: (32, 18)}


class KvTypeError(InputError):
    """An unknown KV cache type."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"'{text}' is not a KV cache type: use f16, q8_0 or q4_0")


@dataclass(frozen=True, slots=True)
class KvCachePolicy:
    """How a runtime sizes its cache beyond the plain formula.

    llama.cpp pads every cache to a multiple of 256 cells and gives windowed layers
    ``n_ubatch`` cells beyond the window (``llama-kv-cache-iswa.cpp``).
    """

    pad_cells: int = 1
    window_slack: int = 0


EXACT = KvCachePolicy()


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
    """KV bytes one attention layer stores per token."""
    if config.mla:
        return kv_row_bytes(config.mla.kv_lora_rank + config.mla.qk_rope_head_dim, kv_type)
    return 2 * kv_row_bytes(config.num_kv_heads * config.head_dim, kv_type)


def kv_bytes_per_token(config: ModelConfig, kv_type: str = "f16") -> int:
    """KV bytes per token of context across the layers that keep growing (full attention)."""
    return config.full_attention_layers * layer_bytes_per_token(config, kv_type)


def estimate_kv_cache_bytes(
    config: ModelConfig, context: int, kv_type: str = "f16", policy: KvCachePolicy = EXACT
) -> int:
    """KV cache (and recurrent state) bytes for one sequence of ``context`` tokens."""
    per_layer = layer_bytes_per_token(config, kv_type)
    cells = _pad(context, policy.pad_cells)
    total = 0
    for kind in config.layer_kinds:
        if kind == FULL:
            total += cells * per_layer
        elif kind in (SLIDING, CHUNKED):
            window = (config.sliding_window if kind == SLIDING else config.attention_chunk_size) or context
            total += min(cells, _pad(window + policy.window_slack, policy.pad_cells)) * per_layer
        elif kind == RECURRENT:
            total += 4 * config.recurrent_state_elements
    return total


def _pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
