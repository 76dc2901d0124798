"""Runtime profiles: the memory a runtime adds beyond weights and KV cache.

llama.cpp (GGUF types, BF16) is modelled from its own buffer logs (research notes in the
closing note of the foundation issue; the published measured run is in
docs/reference/anchor-models.md):

* device compute buffer = the larger of two graph stages, both F32 with n_ubatch rows:
  logits (n_vocab + n_embd) · n_ubatch · 4, and attention. Without flash attention the
  attention stage holds the KQ matrix n_head · n_kv · n_ubatch · 4 plus a mask copy
  n_kv · n_ubatch · 4 and four hidden-sized rows 4 · n_embd · n_ubatch · 4. With flash
  attention KQ is never materialised: an F16 mask n_kv · n_ubatch · 2 plus the rows.
  For Llama-3.1-8B at 8192 tokens without flash attention this gives 560.00 MiB, the
  measured figure; with it, 258.50 MiB at any context below ~220k.
* host compute buffer = n_embd · n_ubatch · 4 + F32 mask n_kv · n_ubatch · 4 (24.01 MiB measured).
* the token embedding stays in host memory ("there is very little benefit to offloading the
  input layer", llama-model.cpp); the cache is padded to 256 cells, and windowed layers
  keep window + n_ubatch cells.
* per GPU, 457 MiB for the CUDA context and driver: ollama's reserve per GPU.
* fixed recurrent state (Gated DeltaNet, Mamba, short conv) in F32 per sequence, and SWA layers
  capped at ``pad(n_swa·n_seq + n_ubatch, 256)`` cells: ``_kv_cache.LLAMA_CPP_POLICY``.

transformers/vLLM (FP8 and checkpoints as stored) is not calibrated yet: 1 GiB reserve
(CUDA context, cuBLAS workspace, allocator slack) and activations for a 2048-token
prefill chunk, both stated as assumptions. Its cache follows vLLM's rules
(``_kv_cache.VLLM_POLICY``): sliding layers keep the window plus 2048 batched tokens, recurrent
state is kept in the model dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ._config import ModelConfig
from ._kv_cache import LLAMA_CPP_POLICY, VLLM_POLICY, KvCachePolicy
from ._units import GIB, MIB


class Runtime(StrEnum):
    """The runtimes whose memory layout we model, and that a recommendation can name."""

    LLAMA_CPP = "llama.cpp"
    VLLM = "vllm"
    MLX = "mlx"
    TRANSFORMERS = "transformers"


LLAMA_CPP = Runtime.LLAMA_CPP
TRANSFORMERS = Runtime.TRANSFORMERS


@dataclass(frozen=True, slots=True)
class RuntimeProfile:
    """How one runtime lays out memory."""

    name: str
    flash_attention: bool
    n_ubatch: int
    kv_policy: KvCachePolicy
    embeddings_on_host: bool
    reserve_bytes_per_gpu: int
    activation_chunk_tokens: int = 0


LLAMA_CPP_PROFILE = RuntimeProfile(
    name=LLAMA_CPP,
    flash_attention=True,
    n_ubatch=512,
    kv_policy=LLAMA_CPP_POLICY,
    embeddings_on_host=True,
    reserve_bytes_per_gpu=457 * MIB,
)
TRANSFORMERS_PROFILE = RuntimeProfile(
    name=TRANSFORMERS,
    flash_attention=True,
    n_ubatch=2048,
    kv_policy=VLLM_POLICY,
    embeddings_on_host=False,
    reserve_bytes_per_gpu=1 * GIB,
    activation_chunk_tokens=2048,
)

# mlx_lm (Apple unified memory) is not calibrated either. It keeps K and V in the model dtype
# (``KVCache`` grows 256 tokens at a time, ``RotatingKVCache`` holds a sliding window) and
# prefills in chunks of ``prefill_step_size`` = 2048 tokens (mlx_lm/generate.py), which is
# close to the transformers/vLLM rule above, so that rule stands in; there is no CUDA context.
MLX_PROFILE = RuntimeProfile(
    name=Runtime.MLX,
    flash_attention=True,
    n_ubatch=2048,
    kv_policy=VLLM_POLICY,
    embeddings_on_host=False,
    reserve_bytes_per_gpu=0,
    activation_chunk_tokens=2048,
)


@dataclass(frozen=True, slots=True)
class ComputeBuffers:
    """Working memory of one forward pass, on the GPU and on the host."""

    device_bytes: int
    host_bytes: int
    logits_stage_bytes: int
    attention_stage_bytes: int


def estimate_compute_buffers(config: ModelConfig, context: int, profile: RuntimeProfile) -> ComputeBuffers:
    """Compute-buffer bytes for a context of ``context`` tokens."""
    ub, h = profile.n_ubatch, config.hidden_size
    n_kv = -(-context // profile.kv_policy.pad_cells) * profile.kv_policy.pad_cells
    if profile.activation_chunk_tokens:
        inter = config.intermediate_size or 4 * h
        chunk = min(profile.activation_chunk_tokens, max(1, context))
        activations = chunk * (2 * inter + 4 * h) * 2
        logits = config.vocab_size * 4 * 2  # last-token logits only, F32, double-buffered
        return ComputeBuffers(activations + logits, 0, logits, activations)
    logits = (config.vocab_size + h) * ub * 4
    rows = 4 * h * ub * 4
    if profile.flash_attention:
        attention = n_kv * ub * 2 + rows
    else:
        attention = config.num_heads * n_kv * ub * 4 + n_kv * ub * 4 + rows
    host = h * ub * 4 + n_kv * ub * 4
    return ComputeBuffers(max(logits, attention), host, logits, attention)
