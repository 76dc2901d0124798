"""Will it fit? Verdicts per quantization, largest context, offload and decode speed.

Every figure is an estimate from the documented models in ``_runtime``, ``_kv_cache`` and
``_placement``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from ._accounting import ParamAccounting
from ._budget import ASSUMED_SYSTEM_RAM_BYTES, SYSTEM_RAM_BANDWIDTH, Budget, Device
from ._config import ModelConfig
from ._placement import (
    NO_OFFLOAD,
    DeviceUse,
    Offload,
    Placement,
    Share,
    device_uses,
    fits_at,
    host_bytes,
    layer_kv_bytes,
    max_context,
    placement_for,
    split_layers,
)
from ._runtime import LLAMA_CPP_PROFILE, MLX_PROFILE, TRANSFORMERS_PROFILE, RuntimeProfile
from ._weights import MLX_4BIT, MLX_8BIT, MLX_BITS, NON_GGUF, STORED, layout_weights, stored_available


class Verdict(StrEnum):
    """How one quantization fits a budget."""

    FITS = "fits"
    FITS_REDUCED_CONTEXT = "fits_reduced_context"
    NEEDS_OFFLOAD = "needs_offload"
    DOES_NOT_FIT = "does_not_fit"


FITS = Verdict.FITS
FITS_REDUCED_CONTEXT = Verdict.FITS_REDUCED_CONTEXT
NEEDS_OFFLOAD = Verdict.NEEDS_OFFLOAD
DOES_NOT_FIT = Verdict.DOES_NOT_FIT

DEFAULT_CONTEXT = 8192
# The desktop, browser and driver also use VRAM: the recommended option leaves 5% free.
BEST_CHOICE_HEADROOM = 0.05
MIN_USEFUL_CONTEXT = 4096  # llama.cpp --fit-ctx: the least context worth running
# ASSUMED_SYSTEM_RAM_BYTES (32 GiB) and SYSTEM_RAM_BANDWIDTH (DDR5-5600) live in _budget, which
# also reads CPU-only budgets; they are re-exported here for existing callers.
DEFAULT_QUANTS = (
    "stored",
    "BF16",
    "FP8",
    "Q8_0",
    "Q6_K",
    "Q5_K_M",
    "Q4_K_M",
    "IQ4_XS",
    "Q3_K_M",
    "IQ3_XXS",
    "Q2_K",
    "IQ2_XXS",
)
# Decode reaches ~60-70% of spec bandwidth on NVIDIA and Max-class Apple chips and ~45% on
# Ultra chips (llama.cpp tg128 results, discussions #4167 and #15013).
_EFFICIENCY_DISCRETE = 0.65
_EFFICIENCY_APPLE = 0.60
_EFFICIENCY_APPLE_ULTRA = 0.45


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the fit needs to know about one model."""

    config: ModelConfig
    accounting: ParamAccounting


@dataclass(frozen=True, slots=True)
class FitRequest:
    """One question: this model on this budget at ``context`` tokens with a ``kv_type`` cache, and
    the system RAM it may use (given or assumed)."""

    model: ModelFacts
    budget: Budget
    context: int
    kv_type: str
    ram_bytes: int


@dataclass(frozen=True, slots=True)
class OffloadPlan:
    """Keeping part of the weights in system RAM."""

    kind: str  # "experts" (--n-cpu-moe) or "layers" (-ngl)
    cpu_layers: int
    total_layers: int
    gpu_bytes: int
    ram_bytes: int
    ram_available_bytes: int
    decode_tokens_per_s: float | None


@dataclass(frozen=True, slots=True)
class QuantOption:
    """The estimate for one quantization."""

    quant: str
    runtime: str
    weights_bytes: int
    weights_gpu_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    reserve_bytes: int
    host_bytes: int
    verdict: str
    max_context: int
    devices: tuple[DeviceUse, ...]
    offload: OffloadPlan | None = None
    decode_tokens_per_s: float | None = None

    @property
    def overhead_bytes(self) -> int:
        return self.compute_bytes + self.reserve_bytes

    @property
    def total_bytes(self) -> int:
        return self.weights_gpu_bytes + self.kv_cache_bytes + self.overhead_bytes


@dataclass(frozen=True, slots=True)
class FitReport:
    """Every option for one model, budget and context."""

    budget: Budget
    context: int
    kv_type: str
    options: tuple[QuantOption, ...]
    best: QuantOption | None
    system_ram_bytes: int
    system_ram_assumed: bool
    model_max_context: int | None
    flash_attention: bool = True
    context_asked: bool = False  # the user named a context, so the advice puts context first


def estimate_fit(
    model: ModelFacts,
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: str = "f16",
    quants: tuple[str, ...] | None = None,
    flash_attention: bool = True,
) -> FitReport:
    """Estimate, for each quantization, whether ``model`` fits ``budget`` at ``context``.

    ``flash_attention=False`` models llama.cpp run with ``-fa off`` (a much larger compute
    buffer at long contexts).
    """
    config, accounting = model.config, model.accounting
    quants = quants or default_quants(accounting, budget)
    llama = LLAMA_CPP_PROFILE if flash_attention else replace(LLAMA_CPP_PROFILE, flash_attention=False)
    if budget.cpu_only:
        # One memory holds everything: the token embedding counts against it like any weight.
        llama = replace(llama, embeddings_on_host=False)
    ctx = context or min(DEFAULT_CONTEXT, config.max_context or DEFAULT_CONTEXT)
    ram = budget.system_ram_bytes or ASSUMED_SYSTEM_RAM_BYTES
    request = FitRequest(model, budget, ctx, kv_type, ram)
    options = []
    for quant in quants:
        if quant == STORED and not stored_available(accounting):
            continue
        layout = layout_weights(quant, accounting, config)
        options.append(
            evaluate_option(request, placement_for(layout, config, budget, profile_for(quant, llama)))
        )
    # MLX rows are shown, but choosing MLX over llama.cpp is the advice's call (``_advice_mlx``).
    best = _best([o for o in options if o.quant not in MLX_BITS])
    return FitReport(
        budget,
        ctx,
        kv_type,
        tuple(options),
        best,
        ram,
        budget.system_ram_bytes is None,
        config.max_context,
        flash_attention,
        context is not None,
    )


def profile_for(quant: str, llama: RuntimeProfile = LLAMA_CPP_PROFILE) -> RuntimeProfile:
    """The runtime that runs ``quant``: vLLM/transformers for checkpoints as stored and FP8, mlx_lm
    for MLX, else llama.cpp (``llama``, with the caller's flash-attention setting)."""
    if quant in NON_GGUF:
        return TRANSFORMERS_PROFILE
    return MLX_PROFILE if quant in MLX_BITS else llama


def default_quants(accounting: ParamAccounting, budget: Budget | None = None) -> tuple[str, ...]:
    """The options worth showing: ours, plus MXFP4_MOE for models that ship MXFP4 experts.

    Apple GPUs and CPU-only machines get no FP8 row: FP8 checkpoints are a CUDA (vLLM) format.
    Apple GPUs get MLX 8-bit and 4-bit rows (issue 12), run by mlx_lm.
    """
    quants: tuple[str, ...] = DEFAULT_QUANTS
    if accounting.quantization == "mxfp4":
        quants = (*DEFAULT_QUANTS[:3], "MXFP4_MOE", *DEFAULT_QUANTS[3:])
    apple = budget is not None and any(d.gpu and d.gpu.vendor == "apple" for d in budget.devices)
    if budget is not None and (budget.cpu_only or apple):
        quants = tuple(q for q in quants if q != "FP8")
    if apple:
        quants = (*quants, MLX_8BIT, MLX_4BIT)
    return quants


def offload_plan(
    model: ModelFacts,
    budget: Budget,
    quant: str,
    context: int,
    *,
    kv_type: str = "f16",
    flash_attention: bool = True,
    system_ram_bytes: int | None = None,
) -> OffloadPlan | None:
    """The least llama.cpp offload that runs ``quant`` at ``context``, even where less context would fit.

    None on unified memory (there is nothing to offload to) or when the RAM it needs is not there.
    """
    if budget.unified:
        return None
    llama = LLAMA_CPP_PROFILE if flash_attention else replace(LLAMA_CPP_PROFILE, flash_attention=False)
    ram = system_ram_bytes or budget.system_ram_bytes or ASSUMED_SYSTEM_RAM_BYTES
    layout = layout_weights(quant, model.accounting, model.config)
    request = FitRequest(model, budget, context, kv_type, ram)
    plan = _offload_plan(request, placement_for(layout, model.config, budget, llama))
    return plan if plan is not None and plan.ram_bytes <= ram else None


def evaluate_option(request: FitRequest, placement: Placement) -> QuantOption:
    """The verdict, memory, largest context and speed of one quantized copy (``placement``)."""
    budget, ctx, kv_type = request.budget, request.context, request.kv_type
    shares = split_layers(placement)
    uses = device_uses(shares, placement, ctx, kv_type)
    max_ctx = max_context(shares, placement, kv_type)
    host = host_bytes(placement, ctx, kv_type)
    fits = all(u.total_bytes <= u.capacity_bytes for u in uses)
    offload = None
    if fits:
        verdict = FITS
    elif max_ctx >= min(ctx, MIN_USEFUL_CONTEXT):
        verdict = FITS_REDUCED_CONTEXT
    else:
        offload = None if budget.unified else _offload_plan(request, placement)
        verdict = NEEDS_OFFLOAD if offload and offload.ram_bytes <= request.ram_bytes else DOES_NOT_FIT
    return QuantOption(
        quant=placement.layout.quant,
        runtime=placement.profile.name,
        weights_bytes=placement.layout.total,
        weights_gpu_bytes=sum(u.weights_bytes for u in uses),
        kv_cache_bytes=sum(u.kv_cache_bytes for u in uses),
        compute_bytes=sum(u.compute_bytes for u in uses),
        reserve_bytes=sum(u.reserve_bytes for u in uses),
        host_bytes=host,
        verdict=verdict,
        max_context=max_ctx,
        devices=uses,
        offload=offload,
        decode_tokens_per_s=_decode_speed(request, placement, shares, NO_OFFLOAD)
        if fits or verdict == FITS_REDUCED_CONTEXT
        else None,
    )


def _offload_plan(request: FitRequest, placement: Placement) -> OffloadPlan | None:
    """The least offload that lets the rest fit on the GPUs at the request's context.

    Offloading more never needs more GPU memory, so the count is found by bisection.
    """
    ctx, kv_type = request.context, request.kv_type
    n = placement.config.num_layers
    # Keeping only experts in RAM is llama.cpp's --n-cpu-moe; other runtimes offload whole layers.
    experts = any(placement.layout.per_layer_experts) and placement.profile.name == LLAMA_CPP_PROFILE.name

    def offload(cpu: int) -> Offload:
        return Offload(cpu_expert_layers=cpu) if experts else Offload(cpu_layers=cpu)

    if not fits_at(split_layers(placement, offload(n)), placement, ctx, kv_type):
        return None
    lo, hi = 0, n  # lo does not fit, hi fits
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if fits_at(split_layers(placement, offload(mid)), placement, ctx, kv_type):
            hi = mid
        else:
            lo = mid
    chosen = offload(hi)
    shares = split_layers(placement, chosen)
    uses = device_uses(shares, placement, ctx, kv_type)
    return OffloadPlan(
        kind="experts" if experts else "layers",
        cpu_layers=hi,
        total_layers=n,
        gpu_bytes=sum(u.total_bytes for u in uses),
        ram_bytes=host_bytes(placement, ctx, kv_type, chosen),
        ram_available_bytes=request.ram_bytes,
        decode_tokens_per_s=_decode_speed(request, placement, shares, chosen),
    )


def _headroom(option: QuantOption) -> float:
    capacity = sum(d.capacity_bytes for d in option.devices)
    return 1 - option.total_bytes / capacity if capacity else 0.0


def _efficiency(device: Device) -> float:
    gpu = device.gpu
    if gpu is None:
        return _EFFICIENCY_DISCRETE
    if gpu.vendor == "apple":
        return _EFFICIENCY_APPLE_ULTRA if "ultra" in gpu.key else _EFFICIENCY_APPLE
    return _EFFICIENCY_DISCRETE


def _decode_speed(
    request: FitRequest, placement: Placement, shares: tuple[Share, ...], offload: Offload
) -> float | None:
    """Tokens per second if decoding is bound by memory bandwidth (an estimate).

    Per token, every device reads its layers' dense weights, the chosen k/E of their
    routed experts and their whole KV cache; the CPU reads whatever was offloaded.
    """
    budget, ctx, kv_type = request.budget, request.context, request.kv_type
    if not all(d.bandwidth_bytes_per_s for d in budget.devices):
        return None  # a bare size names no GPU; the advice layer says which card it assumes
    config, moe, layout = request.model.config, request.model.accounting.moe, placement.layout
    active = (moe.experts_per_token / moe.num_experts) if moe and moe.num_experts else 1.0
    prefix = placement.prefix
    profile = LLAMA_CPP_PROFILE
    cpu_layers, cpu_experts = offload.cpu_layers, offload.cpu_expert_layers

    def read(start: int, end: int, experts_end: int) -> float:
        """Bytes read per token for layers [start, end); experts of layers < experts_end are on the CPU."""
        weights = prefix.weights[end] - prefix.weights[start]
        experts = prefix.experts[end] - prefix.experts[start]
        cpu_experts_here = prefix.experts[max(start, min(end, experts_end))] - prefix.experts[start]
        kv = sum(
            layer_kv_bytes(config, layer, ctx, kv_type, profile) * n
            for layer, n in prefix.kind_counts(start, end)
        )
        return weights - experts + (experts - cpu_experts_here) * active + kv

    seconds = 0.0
    for share in shares:
        bytes_read = read(share.first_layer, share.first_layer + share.layer_count, cpu_experts)
        if share.has_output:
            bytes_read += layout.output
        bandwidth = share.device.bandwidth_bytes_per_s or 0
        if bandwidth:
            seconds += bytes_read / (bandwidth * _efficiency(share.device))
    cpu_read = (
        read(0, cpu_layers, 0)
        + (prefix.experts[cpu_experts] - prefix.experts[min(cpu_layers, cpu_experts)]) * active
    )
    if cpu_layers:
        cpu_read += layout.output
    seconds += cpu_read / (SYSTEM_RAM_BANDWIDTH * _EFFICIENCY_DISCRETE)
    return 1.0 / seconds if seconds > 0 else None


def _best(options: list[QuantOption]) -> QuantOption | None:
    """The highest-precision option that fits with some headroom; else the tightest fit;
    else the best with less context; else offload."""

    def precision(option: QuantOption) -> int:
        return option.weights_bytes

    roomy = [o for o in options if o.verdict == FITS and _headroom(o) >= BEST_CHOICE_HEADROOM]
    if roomy:
        return max(roomy, key=precision)
    for verdict in (FITS, FITS_REDUCED_CONTEXT, NEEDS_OFFLOAD):
        candidates = [o for o in options if o.verdict == verdict]
        if verdict == NEEDS_OFFLOAD and candidates:
            # With offload, the smallest file that still has decent quality keeps most on the GPU.
            preferred = [o for o in candidates if o.quant in ("Q4_K_M", "IQ4_XS", "Q3_K_M")]
            return (preferred or sorted(candidates, key=precision))[0]
        if candidates:
            return max(candidates, key=precision)
    return None
