"""Where the bytes go: layers split across GPUs, KV cache with its layers, buffers per device.

Placement follows llama.cpp's layer split: decoder layers go to the GPUs in proportion to
their memory, each layer's KV cache sits with the layer, the output head goes with the
last layer, and ``-ngl`` style offload keeps the first layers in system RAM; MoE offload
(``--n-cpu-moe N``) keeps only the routed experts of the first N layers there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ._budget import Budget, Device
from ._config import ModelConfig
from ._kv_cache import layer_cache_bytes, model_dtype_bytes
from ._layer_records import Layer, LayerMap
from ._runtime import RuntimeProfile, estimate_compute_buffers
from ._weights import WeightLayout


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
class Share:
    """A device's fixed part of a placement; the context-dependent part is computed on demand."""

    first_layer: int
    layer_count: int
    kind_counts: tuple[tuple[Layer, int], ...]
    weights_bytes: int
    has_output: bool
    capacity_bytes: int
    reserve_bytes: int
    device: Device


@dataclass(frozen=True, slots=True)
class Prefix:
    """Running sums over the layers, so any layer range is summed in O(1).

    ``kinds`` counts each distinct layer record (Gemma 4's global and local layers differ in
    heads and head_dim, so a kind name alone does not size a layer).
    """

    weights: tuple[int, ...]
    experts: tuple[int, ...]
    kinds: tuple[tuple[Layer, tuple[int, ...]], ...]

    def kind_counts(self, start: int, end: int) -> tuple[tuple[Layer, int], ...]:
        return tuple((kind, sums[end] - sums[start]) for kind, sums in self.kinds if sums[end] > sums[start])


@dataclass(frozen=True, slots=True)
class Offload:
    """What stays in system RAM: the first ``cpu_layers`` whole layers (``-ngl``), and the routed
    experts of the first ``cpu_expert_layers`` layers (``--n-cpu-moe``)."""

    cpu_layers: int = 0
    cpu_expert_layers: int = 0


NO_OFFLOAD = Offload()


@dataclass(frozen=True, slots=True, eq=False)
class Placement:
    """One quantized copy of a model on one budget under one runtime rule: what every split, KV sum
    and buffer is evaluated against.

    Compared and hashed by identity: ``placement_for`` hands out one record per set of inputs. Its
    layer splits are memoised on the record itself, so they live exactly as long as it does: a
    module-wide cache keyed by the record kept up to 4,096 records (and through them whole model
    configs) alive after ``placement_for`` had let them go, which was the bot soak's slow growth.
    """

    layout: WeightLayout
    config: ModelConfig
    budget: Budget
    profile: RuntimeProfile
    prefix: Prefix
    splits: dict[Offload, tuple[Share, ...]] = field(default_factory=dict, init=False, repr=False)


def new_placement(
    layout: WeightLayout, config: ModelConfig, budget: Budget, profile: RuntimeProfile
) -> Placement:
    """A placement record, built fresh (for one-off questions such as the export's)."""
    per_layer, experts = _running(layout.per_layer), _running(layout.per_layer_experts)
    return Placement(
        layout, config, budget, profile, Prefix(per_layer, experts, _kind_sums(config.layer_map))
    )


@lru_cache(maxsize=1024)
def placement_for(
    layout: WeightLayout, config: ModelConfig, budget: Budget, profile: RuntimeProfile
) -> Placement:
    """The placement record for these inputs, the same record each time (see ``Placement``)."""
    return new_placement(layout, config, budget, profile)


def _running(values: Iterable[int]) -> tuple[int, ...]:
    out = [0]
    for value in values:
        out.append(out[-1] + value)
    return tuple(out)


@lru_cache(maxsize=1024)
def _kind_sums(layer_map: LayerMap) -> tuple[tuple[Layer, tuple[int, ...]], ...]:
    """Running counts of each distinct layer record: the same for every quantization of a model."""
    layers = layer_map.layers
    return tuple(
        (kind, _running(1 if layer == kind else 0 for layer in layers)) for kind in dict.fromkeys(layers)
    )


def split_layers(placement: Placement, offload: Offload = NO_OFFLOAD) -> tuple[Share, ...]:
    """Assign GPU layers to devices in proportion to their memory (llama.cpp's default split).

    Memoised on the placement: a split does not depend on the context, which is what users vary most.
    """
    split = placement.splits.get(offload)
    if split is None:
        split = placement.splits[offload] = _split_layers(placement, offload)
    return split


def _split_layers(placement: Placement, offload: Offload) -> tuple[Share, ...]:
    layout, prefix, profile = placement.layout, placement.prefix, placement.profile
    devices = placement.budget.devices
    cpu_layers = offload.cpu_layers
    n = placement.config.num_layers
    gpu_count = n - cpu_layers
    total_cap = sum(d.usable_bytes for d in devices) or 1
    shares, start, acc = [], cpu_layers, 0
    for i, device in enumerate(devices):
        acc += device.usable_bytes
        last = i == len(devices) - 1
        end = n if last else cpu_layers + round(gpu_count * acc / total_cap)
        offloaded_end = max(start, min(end, offload.cpu_expert_layers))
        weights = prefix.weights[end] - prefix.weights[start]
        weights -= prefix.experts[offloaded_end] - prefix.experts[start]
        has_output = last and cpu_layers == 0
        if has_output:
            weights += layout.output + layout.other
        if i == 0 and not profile.embeddings_on_host:
            weights += layout.embedding
        shares.append(
            Share(
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


def layer_kv_bytes(config: ModelConfig, layer: Layer, ctx: int, kv_type: str, profile: RuntimeProfile) -> int:
    """One layer's KV cache and fixed state at ``ctx`` tokens, in ``profile``'s runtime rule."""
    return layer_cache_bytes(layer, ctx, kv_type, profile.kv_policy, model_dtype_bytes(config))


def device_uses(
    shares: tuple[Share, ...], placement: Placement, ctx: int, kv_type: str
) -> tuple[DeviceUse, ...]:
    """Each device's weights, KV cache, compute buffer and reserve at ``ctx``."""
    config, profile = placement.config, placement.profile
    buffers = estimate_compute_buffers(config, ctx, profile)
    uses = []
    for share in shares:
        kv = sum(layer_kv_bytes(config, layer, ctx, kv_type, profile) * n for layer, n in share.kind_counts)
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


def fits_at(shares: tuple[Share, ...], placement: Placement, ctx: int, kv_type: str) -> bool:
    """Whether every device holds its share at ``ctx`` (the bisections call this a lot)."""
    config, profile = placement.config, placement.profile
    buffers = estimate_compute_buffers(config, ctx, profile)
    policy, dtype = profile.kv_policy, model_dtype_bytes(config)
    for share in shares:
        compute = buffers.device_bytes if share.has_output else buffers.attention_stage_bytes
        if not share.layer_count and not share.has_output:
            compute = 0
        kv = sum(layer_cache_bytes(layer, ctx, kv_type, policy, dtype) * n for layer, n in share.kind_counts)
        if share.weights_bytes + kv + compute + share.reserve_bytes > share.capacity_bytes:
            return False
    return True


def max_context(shares: tuple[Share, ...], placement: Placement, kv_type: str) -> int:
    """The largest context (a multiple of the runtime's padding) that fits on the GPUs."""
    step = max(placement.profile.kv_policy.pad_cells, 256)
    ceiling = placement.config.max_context or 131072
    if not fits_at(shares, placement, step, kv_type):
        return 0
    lo, hi = 1, ceiling // step
    if fits_at(shares, placement, hi * step, kv_type):
        return hi * step
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if fits_at(shares, placement, mid * step, kv_type):
            lo = mid
        else:
            hi = mid
    return lo * step


def host_bytes(placement: Placement, ctx: int, kv_type: str, offload: Offload = NO_OFFLOAD) -> int:
    """System RAM the runtime uses: host-resident weights, their KV, host buffers."""
    layout, config, profile = placement.layout, placement.config, placement.profile
    cpu_layers = offload.cpu_layers
    buffers = estimate_compute_buffers(config, ctx, profile)
    host = buffers.host_bytes + (layout.embedding if profile.embeddings_on_host else 0)
    host += sum(layout.per_layer[:cpu_layers])
    policy, dtype = profile.kv_policy, model_dtype_bytes(config)
    counts = placement.prefix.kind_counts(0, cpu_layers)
    host += sum(layer_cache_bytes(layer, ctx, kv_type, policy, dtype) * n for layer, n in counts)
    host += sum(layout.per_layer_experts[cpu_layers : offload.cpu_expert_layers])
    if cpu_layers:
        host += layout.output + layout.other
    return host
