"""Exact parameter accounting of a checkpoint: totals, components, MoE layout, active count.

Conventions (shown to users wherever the numbers appear):

* ``total_params`` counts every logical parameter in the counted checkpoint, packed
  storage undone, bookkeeping tensors (scales, zero points...) left out.
* ``active_params`` = total − input embedding (unless tied to the output head) − per-layer
  embeddings (Gemma 3n/4) − MTP layers − vision tower − Σ over MoE layers of routed-expert
  params × (1 − k/E).
  It is what one decoded token reads, so decode speed follows it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from . import _tensor_roles as roles
from ._config import ModelConfig, QuantConfig
from ._dtypes import storage_bytes
from ._quant_unpack import BOOKKEEPING_SUFFIXES, LogicalTensor, unpack_tensor
from ._safetensors import TensorInfo

HEADER = "header"
CONFIG = "config"


class CountBasis(StrEnum):
    """How far the counts can be trusted."""

    EXACT = "exact"  # every tensor the checkpoint stores is accounted for
    # config.json names a family the config path does not describe: the numbers are a
    # Llama-style placeholder for sizing only, never to be shown as counts; the headers decide.
    NEEDS_HEADERS = "needs_headers"


# Gemma 3n / Gemma 4 per-layer embeddings: a token reads one row, never the table, even when
# the main embedding is tied to the head (the "E" in Gemma 3n E4B leaves them out).
_LOOKUP_ONLY = "embed_tokens_per_layer"
_EXPERT_INDEX = re.compile(r"\.experts\.(\d+)\.")
# A name's numbered segments (layer, expert, block...): splitting on them leaves its template.
_NUMBERED = re.compile(r"\.(\d+)(?=\.|$)")


@dataclass(frozen=True, slots=True)
class Components:
    """Logical parameters per component; they sum to the total."""

    embedding: int = 0
    lm_head: int = 0
    attention: int = 0
    mlp: int = 0
    shared_experts: int = 0
    routed_experts: int = 0
    router: int = 0
    norm: int = 0
    mtp: int = 0
    vision: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return sum(count for _, count in self.items())

    def items(self) -> tuple[tuple[str, int], ...]:
        return tuple((name, getattr(self, name)) for name in roles.COMPONENTS)


@dataclass(frozen=True, slots=True)
class MoeLayout:
    """Mixture-of-experts layout: routed experts per MoE layer, top-k, shared experts."""

    num_experts: int
    experts_per_token: int
    shared_experts: int
    moe_layers: int


@dataclass(frozen=True, slots=True)
class TensorGroup:
    """Parameters of one llama.cpp tensor role over a run of consecutive, equal layers."""

    role: str
    params: int  # per layer (or in total when first_layer is -1)
    row_size: int  # ggml ne[0]; K-quants need a multiple of 256, 0 means unknown
    first_layer: int = -1
    layer_count: int = 1


@dataclass(frozen=True, slots=True)
class ParamAccounting:
    """The exact accounting of one checkpoint (or its estimate from config.json)."""

    total_params: int
    active_params: int
    components: Components
    moe: MoeLayout | None
    stored_bytes: int | None
    stored_dtypes: tuple[tuple[str, int], ...]
    quantization: str | None
    provenance: str
    tied_embeddings: bool
    tensor_groups: tuple[TensorGroup, ...]
    notes: tuple[str, ...] = field(default=(), compare=False)
    count_basis: CountBasis = CountBasis.EXACT

    @property
    def counts_known(self) -> bool:
        """False when the family is unknown to the config path and the headers must be read."""
        return self.count_basis is CountBasis.EXACT


@dataclass
class _Tally:
    components: dict[str, int] = field(default_factory=lambda: dict.fromkeys(roles.COMPONENTS, 0))
    stored: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    routed_by_layer: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    experts_by_layer: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    router_rows: dict[int, int] = field(default_factory=dict)
    has_shared: bool = False
    lookup_only: int = 0
    groups: dict[tuple[str, int], list[int]] = field(default_factory=dict)


def account_from_tensors(
    tensors: Iterable[TensorInfo],
    config: ModelConfig | None,
    *,
    provenance: str = HEADER,
    exact_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> ParamAccounting:
    """Count a checkpoint's parameters from its tensors (all shards together)."""
    if exact_shapes:  # exact shapes are per tensor name: no two tensors share a counting
        return account_each_tensor(tensors, config, provenance=provenance, exact_shapes=exact_shapes)
    quant = config.quantization if config else None
    num_layers = config.num_layers if config else None
    tally = _Tally()
    # DeepSeek-V3 stores 92,000 tensors that differ only in layer and expert numbers. How a
    # tensor counts (bytes, logical parameters, component, role) depends only on its name with
    # the numbers taken out, its dtype and shape, so the loop only counts tensors per (name
    # template, layer, dtype, shape) and keeps each such run's highest expert number; each run is
    # then worked out once and multiplied (bench.crawler_scale).
    tensors = tuple(tensors)  # read twice if one layer's routers disagree
    places: dict[tuple[str, ...], tuple[int, int]] = {}
    runs: dict[_RunKey, _Run] = {}
    bookkeeping: dict[tuple[str, tuple[int, ...]], int] = {}
    split = _NUMBERED.split
    for tensor in tensors:
        name = tensor.name
        if name[name.rfind(".") + 1 :] in BOOKKEEPING_SUFFIXES:  # half of an FP8 checkpoint: bytes only
            key = (tensor.dtype, tensor.shape)
            bookkeeping[key] = bookkeeping.get(key, 0) + 1
            continue
        parts = split(name)
        template = tuple(parts[0::2])
        place = places.get(template)
        if place is None:
            place = places[template] = _number_places(name)
        at_layer, at_expert = place
        run_key = (template, parts[at_layer] if at_layer else None, tensor.dtype, tensor.shape)
        run = runs.get(run_key)
        if run is None:
            run = runs[run_key] = _Run(tensor, at_expert)
        run.count += 1
        if at_expert:
            expert = int(parts[at_expert])
            if expert > run.top_expert:
                run.top_expert = expert
    for (dtype, shape), count in bookkeeping.items():
        tally.stored[dtype] += storage_bytes(dtype, math.prod(shape)) * count
    if not _tally_runs(tally, runs, quant, num_layers):  # a layer's routers disagree: order decides
        return account_each_tensor(tensors, config, provenance=provenance)
    return _finish(tally, config, provenance)


def account_each_tensor(
    tensors: Iterable[TensorInfo],
    config: ModelConfig | None,
    *,
    provenance: str = HEADER,
    exact_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> ParamAccounting:
    """``account_from_tensors`` the plain way, one tensor after another: the reference its runs
    must match (tests/estimator/test_accounting_runs.py), and the path for exact shapes."""
    quant = config.quantization if config else None
    num_layers = config.num_layers if config else None
    tally = _Tally()
    shapes = dict(exact_shapes or {})
    for tensor in tensors:
        _count_tensor(tally, tensor, unpack_tensor(tensor, quant, shapes), num_layers)
    return _finish(tally, config, provenance)


def _tally_runs(
    tally: _Tally,
    runs: dict[_RunKey, _Run],
    quant: QuantConfig | None,
    num_layers: int | None,
) -> bool:
    """Add each run of like tensors to the tally, in the order of their first tensors (the first
    tensor of a role and layer gives its row size, the first of a layer its place in the notes).

    Returns False when one layer's router weights give different expert counts, where only the
    per-tensor order can say which one counts.
    """
    memo: dict[tuple[tuple[str, ...], str, tuple[int, ...], bool], _Counting] = {}
    stored, components, groups = tally.stored, tally.components, tally.groups
    routers: dict[int, int] = {}
    for (template, layer_text, dtype, shape), run in runs.items():
        count = run.count
        layer = None if layer_text is None else int(layer_text)
        beyond = num_layers is not None and layer is not None and layer >= num_layers
        key = (template, dtype, shape, beyond)
        counting = memo.get(key)
        if counting is None:
            counting = memo[key] = _counting(run.first, quant, num_layers)
        stored[dtype] += counting.size_bytes * count
        if counting.params is None:
            continue
        params = counting.params * count
        components[counting.component] += params
        group = groups.setdefault((counting.role, -1 if layer is None else layer), [0, counting.row_size])
        group[0] += params
        if counting.lookup_only:
            tally.lookup_only += params
        if layer is None or not counting.in_moe:
            continue
        if counting.router_rows is not None and routers.setdefault(layer, counting.router_rows) != (
            counting.router_rows
        ):
            return False
        expert = run.top_expert + 1 if run.at_expert else counting.experts_in_shape
        _add_moe(tally, counting, layer, params, expert)
    return True


# A run: tensors whose names differ only in their numbers, in one layer, with one dtype and shape.
_RunKey = tuple[tuple[str, ...], str | None, str, tuple[int, ...]]  # template, layer, dtype, shape


@dataclass(slots=True)
class _Run:
    first: TensorInfo  # how the run counts is worked out from its first tensor
    at_expert: int  # where the expert number sits in the split name (0: not there)
    count: int = 0
    top_expert: int = -1


def _number_places(name: str) -> tuple[int, int]:
    """Where the layer and the expert number sit in ``_NUMBERED.split(name)`` (0: not there)."""
    starts = [m.start(1) for m in _NUMBERED.finditer(name)]
    layer = roles.layer_match(name)
    expert = _EXPERT_INDEX.search(name)
    return (
        2 * starts.index(layer.start(1)) + 1 if layer else 0,
        2 * starts.index(expert.start(1)) + 1 if expert else 0,
    )


def _add_moe(tally: _Tally, counting: _Counting, layer: int, params: int, expert_count: int) -> None:
    if counting.component == roles.ROUTED_EXPERTS:
        tally.routed_by_layer[layer] += params
        tally.experts_by_layer[layer] = max(tally.experts_by_layer[layer], expert_count)
    elif counting.router_rows is not None:
        tally.router_rows[layer] = counting.router_rows
    elif counting.component == roles.SHARED_EXPERTS:
        tally.has_shared = True


@dataclass(frozen=True, slots=True)
class _Counting:
    """How one shape of tensor counts, whatever its layer and expert numbers."""

    size_bytes: int
    params: int | None  # None: bookkeeping or a derived constant
    row_size: int = 0
    component: str = ""
    role: str = ""
    lookup_only: bool = False
    router_rows: int | None = None  # a router weight's expert count (its first dimension)
    experts_in_shape: int = 0  # fused experts: the expert count is the first dimension

    @property
    def in_moe(self) -> bool:
        """Whether the MoE layout needs to see this tensor."""
        return self.component in (roles.ROUTED_EXPERTS, roles.SHARED_EXPERTS) or self.router_rows is not None


def _counting(tensor: TensorInfo, quant: QuantConfig | None, num_layers: int | None) -> _Counting:
    logical = unpack_tensor(tensor, quant)
    if logical is None:
        return _Counting(tensor.size_bytes, None)
    place = roles.classify_tensor(logical.name, logical.ndim, num_layers)
    router = (
        place.component == roles.ROUTER
        and place.role == "ffn_gate_inp"
        and len(tensor.shape) == 2
        and logical.name.endswith("weight")
        and "shared_expert_gate" not in logical.name
    )
    return _Counting(
        tensor.size_bytes,
        logical.params,
        logical.row_size,
        place.component,
        place.role,
        _LOOKUP_ONLY in logical.name,
        tensor.shape[0] if router else None,
        tensor.shape[0] if len(tensor.shape) >= 3 else 0,
    )


def _count_tensor(
    tally: _Tally, tensor: TensorInfo, logical: LogicalTensor | None, num_layers: int | None
) -> None:
    tally.stored[tensor.dtype] += tensor.size_bytes
    if logical is None:
        return
    place = roles.classify_tensor(logical.name, logical.ndim, num_layers)
    tally.components[place.component] += logical.params
    if _LOOKUP_ONLY in logical.name:
        tally.lookup_only += logical.params
    _tally_group(tally, place, logical.params, logical.row_size)
    if place.layer is not None:
        _tally_moe(tally, place, tensor, logical.name, logical.params)


def _tally_group(tally: _Tally, place: roles.TensorPlace, params: int, row_size: int) -> None:
    key = (place.role, -1 if place.layer is None else place.layer)
    entry = tally.groups.setdefault(key, [0, row_size])
    entry[0] += params


def _tally_moe(tally: _Tally, place: roles.TensorPlace, tensor: TensorInfo, name: str, params: int) -> None:
    layer = place.layer
    assert layer is not None
    if place.component == roles.ROUTED_EXPERTS:
        tally.routed_by_layer[layer] += params
        match = _EXPERT_INDEX.search(name)
        count = int(match.group(1)) + 1 if match else tensor.shape[0] if len(tensor.shape) >= 3 else 0
        tally.experts_by_layer[layer] = max(tally.experts_by_layer[layer], count)
    elif place.component == roles.ROUTER and place.role == "ffn_gate_inp" and len(tensor.shape) == 2:
        if name.endswith("weight") and "shared_expert_gate" not in name:
            tally.router_rows[layer] = tensor.shape[0]
    elif place.component == roles.SHARED_EXPERTS:
        tally.has_shared = True


def _finish(tally: _Tally, config: ModelConfig | None, provenance: str) -> ParamAccounting:
    components = Components(**tally.components)
    notes: list[str] = []
    moe, discount = _moe_layout(tally, config, notes)
    tied = components.lm_head == 0 and components.embedding > 0
    active = (
        components.total
        - (0 if tied else components.embedding)
        - components.mtp
        - components.vision
        - discount
        - tally.lookup_only
    )
    stored = tuple(sorted(tally.stored.items(), key=lambda kv: (-kv[1], kv[0])))
    return ParamAccounting(
        total_params=components.total,
        active_params=active,
        components=components,
        moe=moe,
        stored_bytes=sum(tally.stored.values()) if provenance == HEADER else None,
        stored_dtypes=stored if provenance == HEADER else (),
        quantization=config.quantization.method if config and config.quantization else None,
        provenance=provenance,
        tied_embeddings=tied,
        tensor_groups=_compress_groups(tally.groups),
        notes=tuple(notes),
    )


def _moe_layout(tally: _Tally, config: ModelConfig | None, notes: list[str]) -> tuple[MoeLayout | None, int]:
    """Work out experts per layer from the tensors, cross-checked with config.json.

    Returns the layout and the routed parameters that a token does not touch.
    """
    config_moe = config.moe if config else None
    if not tally.routed_by_layer:
        if config_moe:
            notes.append("config.json describes experts, but no expert tensors were found")
        return None, 0
    top_k = config_moe.experts_per_token if config_moe else 1
    if not config_moe:
        notes.append("config.json gives no experts-per-token; assuming 1 for the active count")
    discount = 0
    expert_counts: list[int] = []
    for layer, routed in tally.routed_by_layer.items():
        experts = (
            tally.experts_by_layer.get(layer)
            or tally.router_rows.get(layer)
            or (config_moe.num_experts if config_moe else 0)
        )
        if experts <= 0:
            notes.append(f"layer {layer}: expert count unknown; counted all experts as active")
            continue
        expert_counts.append(experts)
        discount += routed * (experts - min(top_k, experts)) // experts
    num_experts = max(expert_counts, default=0)
    if config_moe and num_experts and num_experts != config_moe.num_experts:
        notes.append(
            f"tensors hold {num_experts} experts per layer, config.json says {config_moe.num_experts}"
        )
    shared = config_moe.shared_experts if config_moe else 0
    if tally.has_shared and not shared:
        shared = 1
    layout = MoeLayout(num_experts, top_k, shared, len(tally.routed_by_layer))
    return layout, discount


def _compress_groups(groups: dict[tuple[str, int], list[int]]) -> tuple[TensorGroup, ...]:
    """Merge runs of consecutive layers whose role has the same size into one group."""
    out: list[TensorGroup] = []
    for (role, layer), (params, row_size) in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        last = out[-1] if out else None
        if (
            last is not None
            and layer >= 0
            and last.role == role
            and last.first_layer >= 0
            and last.first_layer + last.layer_count == layer
            and last.params == params
            and last.row_size == row_size
        ):
            out[-1] = TensorGroup(role, params, row_size, last.first_layer, last.layer_count + 1)
        else:
            out.append(TensorGroup(role, params, row_size, layer, 1))
    return tuple(out)
