"""Will it fit? Verdicts per quantization, largest context, offload and decode speed.

Placement follows llama.cpp's layer split: decoder layers go to the GPUs in proportion to
their memory, each layer's KV cache sits with the layer, the output head goes with the
last layer, and ``-ngl`` style offload keeps the first layers in system RAM; MoE offload
(``--n-cpu-moe N``) keeps only the routed experts of the first N layers there.
Every figure is an estimate from the documented models in ``_runtime`` and ``_kv_cache``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ._accounting import ParamAccounting
from ._budget import Budget, Device
from ._config import CHUNKED, FULL, RECURRENT, SLIDING, ModelConfig
from ._kv_cache import layer_bytes_per_token
from ._runtime import (
    LLAMA_CPP_PROFILE,
    TRANSFORMERS_PROFILE,
    RuntimeProfile,
    estimate_compute_buffers,
)
from ._units import GIB
from ._weights import NON_GGUF, STORED, WeightLayout, layout_weights, stored_available

FITS = "fits"
FITS_REDUCED_CONTEXT = "fits_reduced_context"
NEEDS_OFFLOAD = "needs_offload"
DOES_NOT_FIT = "does_not_fit"

DEFAULT_CONTEXT = 8192
# The desktop, browser and driver also use VRAM: the recommended option leaves 5% free.
BEST_CHOICE_HEADROOM = 0.05
MIN_USEFUL_CONTEXT = 4096  # llama.cpp --fit-ctx: the least context worth running
ASSUMED_SYSTEM_RAM_BYTES = 32 * GIB  # the most common desktop size (Steam survey); say "+64GB RAM" to change
SYSTEM_RAM_BANDWIDTH = 89.6e9  # dual-channel DDR5-5600, spec sheet
DEFAULT_QUANTS = ("stored", "BF16", "FP8", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS")
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
class DeviceUse:
    """One GPU's share at the evaluated context."""

    first_layer: int
    layer_count: int
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    reserve_bytes: int
    capacity_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.compute_bytes + self.reserve_bytes


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


@dataclass(frozen=True, slots=True)
class _Share:
    """A device's fixed part of a placement; the context-dependent part is computed on demand."""

    first_layer: int
    layer_count: int
    kind_counts: tuple[tuple[str, int], ...]
    weights_bytes: int
    has_output: bool
    capacity_bytes: int
    reserve_bytes: int
    device: Device


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
    quants = quants or default_quants(accounting)
    llama = LLAMA_CPP_PROFILE if flash_attention else replace(LLAMA_CPP_PROFILE, flash_attention=False)
    ctx = context or min(DEFAULT_CONTEXT, config.max_context or DEFAULT_CONTEXT)
    ram = budget.system_ram_bytes or ASSUMED_SYSTEM_RAM_BYTES
    options = []
    for quant in quants:
        if quant == STORED and not stored_available(accounting):
            continue
        layout = layout_weights(quant, accounting, config)
        profile = TRANSFORMERS_PROFILE if quant in NON_GGUF else llama
        options.append(_evaluate(quant, layout, model, budget, ctx, kv_type, profile, ram))
    best = _best(options)
    return FitReport(
        budget, ctx, kv_type, tuple(options), best, ram, budget.system_ram_bytes is None, config.max_context, flash_attention
    )


def default_quants(accounting: ParamAccounting) -> tuple[str, ...]:
    """The options worth showing: ours, plus MXFP4_MOE for models that ship MXFP4 experts."""
    if accounting.quantization == "mxfp4":
        return (*DEFAULT_QUANTS[:3], "MXFP4_MOE", *DEFAULT_QUANTS[3:])
    return DEFAULT_QUANTS


def _evaluate(quant, layout: WeightLayout, model: ModelFacts, budget: Budget, ctx: int, kv_type: str, profile: RuntimeProfile, ram: int) -> QuantOption:
    config = model.config
    shares = _split(layout, config, budget, profile, cpu_layers=0, cpu_expert_layers=0)
    uses = _uses(shares, config, profile, ctx, kv_type)
    max_ctx = _max_context(shares, config, profile, kv_type)
    host = _host_bytes(layout, config, profile, ctx, cpu_layers=0, cpu_expert_layers=0, kv_type=kv_type)
    fits = all(u.total_bytes <= u.capacity_bytes for u in uses)
    offload = None
    if fits:
        verdict = FITS
    elif max_ctx >= min(ctx, MIN_USEFUL_CONTEXT):
        verdict = FITS_REDUCED_CONTEXT
    else:
        offload = None if budget.unified else _offload_plan(layout, model, budget, ctx, kv_type, profile, ram)
        verdict = NEEDS_OFFLOAD if offload and offload.ram_bytes <= ram else DOES_NOT_FIT
    return QuantOption(
        quant=quant,
        runtime=profile.name,
        weights_bytes=layout.total,
        weights_gpu_bytes=sum(u.weights_bytes for u in uses),
        kv_cache_bytes=sum(u.kv_cache_bytes for u in uses),
        compute_bytes=sum(u.compute_bytes for u in uses),
        reserve_bytes=sum(u.reserve_bytes for u in uses),
        host_bytes=host,
        verdict=verdict,
        max_context=max_ctx,
        devices=uses,
        offload=offload,
        decode_tokens_per_s=_decode_speed(layout, model, budget, shares, ctx, kv_type, 0, 0) if fits or verdict == FITS_REDUCED_CONTEXT else None,
    )


@dataclass(frozen=True, slots=True)
class _Prefix:
    """Running sums over the layers, so any layer range is summed in O(1)."""

    weights: tuple[int, ...]
    experts: tuple[int, ...]
    kinds: tuple[tuple[str, tuple[int, ...]], ...]

    def kind_counts(self, start: int, end: int) -> tuple[tuple[str, int], ...]:
        return tuple((kind, sums[end] - sums[start]) for kind, sums in self.kinds if sums[end] > sums[start])


@lru_cache(maxsize=1024)
def _prefix(layout: WeightLayout, layer_kinds: tuple[str, ...]) -> _Prefix:
    def running(values) -> tuple[int, ...]:
        out = [0]
        for value in values:
            out.append(out[-1] + value)
        return tuple(out)

    kinds = tuple((k, running(1 if kind == k else 0 for kind in layer_kinds)) for k in sorted(set(layer_kinds)))
    return _Prefix(running(layout.per_layer), running(layout.per_layer_experts), kinds)


def _split(layout: WeightLayout, config: ModelConfig, budget: Budget, profile: RuntimeProfile, *, cpu_layers: int, cpu_expert_layers: int) -> tuple[_Share, ...]:
    """Assign GPU layers to devices in proportion to their memory (llama.cpp's default split)."""
    prefix = _prefix(layout, config.layer_kinds)
    devices = budget.devices
    n = config.num_layers
    gpu_count = n - cpu_layers
    total_cap = sum(d.usable_bytes for d in devices) or 1
    shares, start, acc = [], cpu_layers, 0
    for i, device in enumerate(devices):
        acc += device.usable_bytes
        last = i == len(devices) - 1
        end = n if last else cpu_layers + round(gpu_count * acc / total_cap)
        offloaded_end = max(start, min(end, cpu_expert_layers))
        weights = prefix.weights[end] - prefix.weights[start]
        weights -= prefix.experts[offloaded_end] - prefix.experts[start]
        has_output = last and cpu_layers == 0
        if has_output:
            weights += layout.output + layout.other
        if i == 0 and not profile.embeddings_on_host:
            weights += layout.embedding
        shares.append(
            _Share(
                first_layer=start,
                layer_count=end - start,
                kind_counts=prefix.kind_counts(start, end),
                weights_bytes=weights,
                has_output=has_output,
                capacity_bytes=device.usable_bytes,
                reserve_bytes=0 if device.unified else profile.reserve_bytes_per_gpu,
                device=device,
            )
        )
        start = end
    return tuple(shares)


def _layer_kv(config: ModelConfig, kind: str, ctx: int, per_token: int, profile: RuntimeProfile) -> int:
    policy = profile.kv_policy
    cells = -(-ctx // policy.pad_cells) * policy.pad_cells
    if kind == FULL:
        return cells * per_token
    if kind in (SLIDING, CHUNKED):
        window = (config.sliding_window if kind == SLIDING else config.attention_chunk_size) or ctx
        capped = -(-(window + policy.window_slack) // policy.pad_cells) * policy.pad_cells
        return min(cells, capped) * per_token
    if kind == RECURRENT:
        return 4 * config.recurrent_state_elements
    return 0


def _uses(shares: tuple[_Share, ...], config: ModelConfig, profile: RuntimeProfile, ctx: int, kv_type: str) -> tuple[DeviceUse, ...]:
    per_token = layer_bytes_per_token(config, kv_type)
    buffers = estimate_compute_buffers(config, ctx, profile)
    uses = []
    for share in shares:
        kv = sum(_layer_kv(config, kind, ctx, per_token, profile) * count for kind, count in share.kind_counts)
        compute = buffers.device_bytes if share.has_output else buffers.attention_stage_bytes
        if not share.layer_count and not share.has_output:
            compute = 0
        uses.append(
            DeviceUse(
                first_layer=share.first_layer,
                layer_count=share.layer_count,
                weights_bytes=share.weights_bytes,
                kv_cache_bytes=kv,
                compute_bytes=compute,
                reserve_bytes=share.reserve_bytes,
                capacity_bytes=share.capacity_bytes,
            )
        )
    return tuple(uses)


def _fits_at(shares, config, profile, ctx, kv_type) -> bool:
    """Whether every device holds its share at ``ctx`` (the bisections call this a lot)."""
    per_token = layer_bytes_per_token(config, kv_type)
    buffers = estimate_compute_buffers(config, ctx, profile)
    for share in shares:
        compute = buffers.device_bytes if share.has_output else buffers.attention_stage_bytes
        if not share.layer_count and not share.has_output:
            compute = 0
        kv = sum(_layer_kv(config, kind, ctx, per_token, profile) * n for kind, n in share.kind_counts)
        if share.weights_bytes + kv + compute + share.reserve_bytes > share.capacity_bytes:
            return False
    return True


def _max_context(shares, config: ModelConfig, profile: RuntimeProfile, kv_type: str) -> int:
    """The largest context (a multiple of the runtime's padding) that fits on the GPUs."""
    step = max(profile.kv_policy.pad_cells, 256)
    ceiling = config.max_context or 131072
    if not _fits_at(shares, config, profile, step, kv_type):
        return 0
    lo, hi = 1, ceiling // step
    if _fits_at(shares, config, profile, hi * step, kv_type):
        return hi * step
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if _fits_at(shares, config, profile, mid * step, kv_type):
            lo = mid
        else:
            hi = mid
    return lo * step


def _host_bytes(layout: WeightLayout, config: ModelConfig, profile: RuntimeProfile, ctx: int, *, cpu_layers: int, cpu_expert_layers: int, kv_type: str) -> int:
    """System RAM the runtime uses: host-resident weights, their KV, host buffers."""
    buffers = estimate_compute_buffers(config, ctx, profile)
    per_token = layer_bytes_per_token(config, kv_type)
    host = buffers.host_bytes + (layout.embedding if profile.embeddings_on_host else 0)
    host += sum(layout.per_layer[:cpu_layers])
    host += sum(_layer_kv(config, config.layer_kinds[l], ctx, per_token, profile) for l in range(cpu_layers))
    host += sum(layout.per_layer_experts[cpu_layers:cpu_expert_layers])
    if cpu_layers:
        host += layout.output + layout.other
    return host


def _offload_plan(layout: WeightLayout, model: ModelFacts, budget: Budget, ctx: int, kv_type: str, profile: RuntimeProfile, ram: int) -> OffloadPlan | None:
    """The least offload that lets the rest fit on the GPUs at ``ctx``.

    Offloading more never needs more GPU memory, so the count is found by bisection.
    """
    config = model.config
    n = config.num_layers
    # Keeping only experts in RAM is llama.cpp's --n-cpu-moe; other runtimes offload whole layers.
    experts = any(layout.per_layer_experts) and profile.name == LLAMA_CPP_PROFILE.name

    def shares_for(cpu: int) -> tuple[_Share, ...]:
        if experts:
            return _split(layout, config, budget, profile, cpu_layers=0, cpu_expert_layers=cpu)
        return _split(layout, config, budget, profile, cpu_layers=cpu, cpu_expert_layers=0)

    if not _fits_at(shares_for(n), config, profile, ctx, kv_type):
        return None
    lo, hi = 0, n  # lo does not fit, hi fits
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if _fits_at(shares_for(mid), config, profile, ctx, kv_type):
            hi = mid
        else:
            lo = mid
    shares = shares_for(hi)
    cpu_layers, cpu_experts = (0, hi) if experts else (hi, 0)
    uses = _uses(shares, config, profile, ctx, kv_type)
    return OffloadPlan(
        kind="experts" if experts else "layers",
        cpu_layers=hi,
        total_layers=n,
        gpu_bytes=sum(u.total_bytes for u in uses),
        ram_bytes=_host_bytes(layout, config, profile, ctx, cpu_layers=cpu_layers, cpu_expert_layers=cpu_experts, kv_type=kv_type),
        ram_available_bytes=ram,
        decode_tokens_per_s=_decode_speed(layout, model, budget, shares, ctx, kv_type, cpu_layers, cpu_experts),
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


def _decode_speed(layout: WeightLayout, model: ModelFacts, budget: Budget, shares, ctx: int, kv_type: str, cpu_layers: int, cpu_experts: int) -> float | None:
    """Tokens per second if decoding is bound by memory bandwidth (an estimate).

    Per token, every device reads its layers' dense weights, the chosen k/E of their
    routed experts and their whole KV cache; the CPU reads whatever was offloaded.
    """
    if not budget.names_gpu:
        return None
    config, moe = model.config, model.accounting.moe
    active = (moe.experts_per_token / moe.num_experts) if moe and moe.num_experts else 1.0
    prefix = _prefix(layout, config.layer_kinds)
    per_token = layer_bytes_per_token(config, kv_type)
    profile = LLAMA_CPP_PROFILE

    def read(start: int, end: int, experts_end: int) -> float:
        """Bytes read per token for layers [start, end); experts of layers < experts_end are on the CPU."""
        weights = prefix.weights[end] - prefix.weights[start]
        experts = prefix.experts[end] - prefix.experts[start]
        cpu_experts_here = prefix.experts[max(start, min(end, experts_end))] - prefix.experts[start]
        kv = sum(_layer_kv(config, kind, ctx, per_token, profile) * n for kind, n in prefix.kind_counts(start, end))
        return weights - experts + (experts - cpu_experts_here) * active + kv

    seconds = 0.0
    for share in shares:
        bytes_read = read(share.first_layer, share.first_layer + share.layer_count, cpu_experts)
        if share.has_output:
            bytes_read += layout.output
        bandwidth = share.device.bandwidth_bytes_per_s or 0
        if bandwidth:
            seconds += bytes_read / (bandwidth * _efficiency(share.device))
    cpu_read = read(0, cpu_layers, 0) + (prefix.experts[cpu_experts] - prefix.experts[min(cpu_layers, cpu_experts)]) * active
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
