"""vLLM with tensor parallelism: does a checkpoint fit T GPUs, at what context, how fast (estimates).

vLLM shards every linear layer, the embedding and the LM head across the T ranks of a
tensor-parallel group, so each GPU holds about 1/T of the weights. It then fills what is left
of ``gpu_memory_utilization`` x memory with KV-cache blocks (``vllm/engine/arg_utils.py``,
default 0.90). K and V are split by KV head; with fewer KV heads than ranks each rank keeps
one head, and an MLA latent is replicated on every rank.

Not calibrated against a run: activation memory uses the transformers profile of ``_runtime``
(a 2048-token prefill chunk) plus 1 GiB for the CUDA context, cuBLAS and NCCL buffers and CUDA
graphs, both stated as assumptions. Decode speed assumes ideal scaling: each GPU streams its 1/T
share; the all-reduce after every layer is not modelled, so real figures are lower.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._budget import Budget
from ._config import ModelConfig
from ._kv_cache import growing_bytes_per_token
from ._runtime import TRANSFORMERS_PROFILE, estimate_compute_buffers
from ._units import GIB
from ._weights import WeightLayout

GPU_MEMORY_UTILIZATION = 0.9  # vLLM's default (EngineArgs.gpu_memory_utilization)
_RESERVE_BYTES = 1 * GIB
_BLOCK_TOKENS = 16  # vLLM's default KV block size
_EFFICIENCY = 0.65  # share of spec bandwidth reached when decoding (as for llama.cpp)
# vLLM needs CUDA compute capability 7.0 or newer (Pascal is 6.x) or ROCm on CDNA2/3 (gfx90a/gfx942).
_NO_VLLM = frozenset({"p40", "p100", "mi50", "mi60"})


@dataclass(frozen=True, slots=True)
class VllmPlan:
    """One vLLM configuration and what it gives."""

    quant: str
    tensor_parallel: int
    kv_cache_dtype: str  # "auto" or "fp8"
    per_gpu_weights_bytes: int
    per_gpu_capacity_bytes: int
    max_context: int
    fits: bool
    decode_tokens_per_s: float | None


def vllm_capable(budget: Budget) -> bool:
    """Whether every device is a GPU that current vLLM supports."""
    return bool(budget.devices) and all(
        d.gpu is not None
        and d.gpu.vendor in ("nvidia", "amd")
        and not d.gpu.unified
        and d.gpu.key not in _NO_VLLM
        for d in budget.devices
    )


def tensor_parallel_size(config: ModelConfig, gpus: int) -> int:
    """The largest power of two up to ``gpus`` that divides the attention heads (vLLM requires it)."""
    size = 1
    while size * 2 <= gpus and config.num_heads % (size * 2) == 0:
        size *= 2
    return size


def plan_vllm(
    config: ModelConfig,
    layout: WeightLayout,
    budget: Budget,
    context: int,
    *,
    kv_cache_dtype: str = "auto",
    active_fraction: float = 1.0,
) -> VllmPlan:
    """Fit ``layout`` on the budget's GPUs with vLLM; ``active_fraction`` is k/E of the routed experts."""
    gpus = len(budget.devices)
    tp = tensor_parallel_size(config, gpus)
    devices = budget.devices[:tp]
    capacity = int(min(d.usable_bytes for d in devices) * GPU_MEMORY_UTILIZATION)
    weights = -(-layout.total // tp)
    activations = estimate_compute_buffers(config, context, TRANSFORMERS_PROFILE).device_bytes
    per_token = _kv_per_gpu(config, tp) // (2 if kv_cache_dtype == "fp8" else 1)
    free = capacity - weights - activations - _RESERVE_BYTES
    limit = config.max_context or context
    max_ctx = 0
    if free > 0 and per_token:
        max_ctx = min(free // per_token // _BLOCK_TOKENS * _BLOCK_TOKENS, max(limit, context))
    fits = free > 0 and max_ctx >= context
    bandwidth = min((d.bandwidth_bytes_per_s or 0) for d in devices)
    speed = None
    if bandwidth:
        experts = sum(layout.per_layer_experts)
        read = (layout.total - experts + experts * active_fraction) / tp + per_token * context
        speed = bandwidth * _EFFICIENCY / read
    return VllmPlan(layout.quant, tp, kv_cache_dtype, weights, capacity, int(max_ctx), fits, speed)


def _kv_per_gpu(config: ModelConfig, tp: int) -> int:
    """BF16 KV bytes per token on one rank (DeepSeek-V4's compressed entries spread over their r tokens)."""
    total = growing_bytes_per_token(config, "f16")
    if config.mla or tp <= 1:
        return total
    heads = max(1, config.num_kv_heads)
    return -(-total * max(1, heads // tp) // heads)
