"""Weight bytes of a model at each quantization, laid out layer by layer.

The layout is what placement needs: which bytes belong to which decoder layer (for
multi-GPU splits and ``-ngl`` offload), which of those are routed experts (for
``--n-cpu-moe``), and the input embedding and output head, which runtimes place apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ._accounting import HEADER, ParamAccounting, TensorGroup
from ._config import MlaDims, ModelConfig
from ._gguf import FILE_TYPES, MixContext, counter_key, gguf_tensor_type, tensor_bytes
from ._kv_cache import model_dtype_bytes
from .errors import QuantParseError

# Bytes of one layer of a tensor group: (group, offset of the layer within the group).
_Sizer = Callable[[TensorGroup, int], int]
# Bytes of every layer of a group whose type depends on the tensor's position (llama.cpp's mixes).
_PositionSizer = Callable[[TensorGroup], list[int]]

STORED = "stored"
FP8 = "FP8"
NON_GGUF = (STORED, FP8)
MLX_4BIT = "MLX_4BIT"
MLX_8BIT = "MLX_8BIT"
MLX_BITS = {MLX_8BIT: 8, MLX_4BIT: 4}  # mlx_lm.convert -q --q-bits N, affine mode, group size 64
QUANT_NAMES = (
    STORED,
    "BF16",
    "F16",
    FP8,
    *(q for q in FILE_TYPES if q not in ("F16", "BF16")),
    MLX_4BIT,
    MLX_8BIT,
)


class Quant(StrEnum):
    """The quantizations we model, in QUANT_NAMES order (a test keeps the two equal)."""

    STORED = "stored"
    BF16 = "BF16"
    F16 = "F16"
    FP8 = "FP8"
    Q8_0 = "Q8_0"
    Q6_K = "Q6_K"
    Q5_K_M = "Q5_K_M"
    Q5_K_S = "Q5_K_S"
    Q4_K_M = "Q4_K_M"
    Q4_K_S = "Q4_K_S"
    Q4_0 = "Q4_0"
    Q3_K_L = "Q3_K_L"
    Q3_K_M = "Q3_K_M"
    Q3_K_S = "Q3_K_S"
    Q2_K = "Q2_K"
    IQ4_XS = "IQ4_XS"
    IQ3_XXS = "IQ3_XXS"
    IQ2_XXS = "IQ2_XXS"
    MXFP4_MOE = "MXFP4_MOE"
    MLX_4BIT = "MLX_4BIT"
    MLX_8BIT = "MLX_8BIT"


_EXCLUDED_ROLES = frozenset({"mtp"})
_GGUF_EXCLUDED_ROLES = frozenset({"mtp", "vision"})
_FP8_ROLES_PREFIX = ("attn_", "ffn_")
_FP8_SCALE_BLOCK = 128 * 128  # DeepSeek-style F32 block scales
_MLX_GROUP = 64  # mlx_lm quantize_model: affine mode defaults to group size 64
_MLX_KEPT_ROLES = frozenset({"norm", "bias"})  # not nn.Linear/nn.Embedding weights: no to_quantized


@dataclass(frozen=True, slots=True)
class WeightLayout:
    """Where the weight bytes of one quantized copy sit."""

    quant: str
    per_layer: tuple[int, ...]  # all weights of each decoder layer
    per_layer_experts: tuple[int, ...]  # the routed-expert part of each layer
    embedding: int  # input token embedding
    output: int  # output head; a tied model's copy of the embedding when the runtime makes one
    other: int  # final norm, vision tower and other non-layer tensors

    @property
    def total(self) -> int:
        return sum(self.per_layer) + self.embedding + self.output + self.other


def parse_quant(text: str) -> Quant:
    """Normalise a quantization name ("q4_k_m", "bf16", "fp8", "stored").

    Raises:
        QuantParseError: not one we model.
    """
    key = text.strip().upper().replace("-", "_")
    key = {"FP16": "F16", "AS_STORED": STORED.upper(), "F8": FP8}.get(key, key)
    if key == STORED.upper():
        return Quant.STORED
    if key not in QUANT_NAMES:
        raise QuantParseError(text, QUANT_NAMES)
    return Quant(key)


@lru_cache(maxsize=1024)
def layout_weights(quant: str, accounting: ParamAccounting, config: ModelConfig) -> WeightLayout:
    """Bytes of each part of the model at ``quant`` (a name from ``QUANT_NAMES``).

    Memoised: a layout depends only on the model and the quantization, never on the budget.
    """
    groups = accounting.tensor_groups
    tied = accounting.tied_embeddings
    if quant in FILE_TYPES:
        ctx = MixContext(
            num_layers=config.num_layers,
            n_gqa=max(1, config.num_heads // max(1, config.num_kv_heads)),
            n_expert=accounting.moe.num_experts if accounting.moe else 0,
            llama_70b=config.num_layers == 80 and config.num_heads // max(1, config.num_kv_heads) == 8,
        )
        sizer, by_position = _gguf_sizers(quant, groups, ctx, tied, _mla_split(config))
        return _build(quant, groups, config.num_layers, sizer, copy_tied_head=tied, by_position=by_position)
    if quant == FP8:
        return _build(quant, groups, config.num_layers, _fp8_bytes)
    if quant == STORED:
        return _build(quant, groups, config.num_layers, _stored_sizer(accounting))
    if quant in MLX_BITS:
        sizer = _mlx_sizer(MLX_BITS[quant], model_dtype_bytes(config))
        return _build(quant, groups, config.num_layers, sizer)
    raise QuantParseError(quant, QUANT_NAMES)


def stored_available(accounting: ParamAccounting) -> bool:
    """Whether the checkpoint's own bytes are known (read from headers)."""
    return accounting.provenance == HEADER and bool(accounting.stored_bytes)


def _build(
    quant: str,
    groups: tuple[TensorGroup, ...],
    num_layers: int,
    sizer: _Sizer,
    *,
    copy_tied_head: bool = False,
    by_position: _PositionSizer | None = None,
) -> WeightLayout:
    """Sum the groups into the layout; a group is sized once unless its type depends on its position.

    Sizing once and adding over layer ranges (a difference array) keeps a layout at O(groups + layers)
    instead of O(tensors): an unseen model's /fit prices twelve quantizations (issue 13).
    """
    per_layer = [0] * (num_layers + 1)  # differences; summed into per-layer bytes at the end
    experts = [0] * (num_layers + 1)
    buckets = {"token_embd": 0, "output": 0}
    other = 0
    # llama.cpp's GGUF and mlx_lm (text only: mlx-vlm runs vision) leave the vision tower out.
    excluded = _GGUF_EXCLUDED_ROLES if quant in FILE_TYPES or quant in MLX_BITS else _EXCLUDED_ROLES
    for group in groups:
        if group.role in excluded:
            continue
        sizes = by_position(group) if by_position and _depends_on_index(group.role) else None
        uniform = sizer(group, 0) if sizes is None else 0
        first, count = group.first_layer, group.layer_count
        inside = max(0, min(first + count, num_layers) - first) if first >= 0 else 0
        is_expert = group.role.endswith("_exps")
        if sizes is None:
            if inside:
                per_layer[first] += uniform
                per_layer[first + inside] -= uniform
                if is_expert:
                    experts[first] += uniform
                    experts[first + inside] -= uniform
            outside = uniform * (count - inside)
        else:
            for offset in range(inside):
                per_layer[first + offset] += sizes[offset]
                per_layer[first + offset + 1] -= sizes[offset]
                if is_expert:
                    experts[first + offset] += sizes[offset]
                    experts[first + offset + 1] -= sizes[offset]
            outside = sum(sizes[inside:])
        if group.role in buckets:
            buckets[group.role] += outside
        else:
            other += outside
    embedding, output = buckets["token_embd"], buckets["output"]
    if copy_tied_head:
        output = embedding  # llama.cpp keeps the input copy on the host and a second as the head
    return WeightLayout(quant, _running(per_layer), _running(experts), embedding, output, other)


def _running(differences: list[int]) -> tuple[int, ...]:
    """Per-layer values from a difference array (its last cell only closes ranges)."""
    values, total = [], 0
    for delta in differences[:-1]:
        total += delta
        values.append(total)
    return tuple(values)


def _depends_on_index(role: str) -> bool:
    """Only these roles get a type that depends on the tensor's position (use_more_bits)."""
    return role in ("attn_v", "attn_qkv") or role.startswith("ffn_down")


def _mla_split(config: ModelConfig) -> tuple[int, int, int, int] | None:
    """(parameters, row size) of ``attn_k_b`` and of ``attn_v_b`` per layer, when the model has MLA."""
    mla: MlaDims | None = config.mla
    if mla is None:
        return None
    heads, rank = config.num_heads, mla.kv_lora_rank
    return heads * mla.qk_nope_head_dim * rank, mla.qk_nope_head_dim, heads * mla.v_head_dim * rank, rank


def _gguf_sizers(
    quant: str,
    groups: tuple[TensorGroup, ...],
    ctx: MixContext,
    tied: bool,
    mla_split: tuple[int, int, int, int] | None = None,
) -> tuple[_Sizer, _PositionSizer]:
    """A sizer for groups of one type, and one that sizes every layer of a position-dependent group."""
    index, counts = _file_order(groups)

    def position(group: TensorGroup, layer: int) -> int:
        if ctx.n_expert > 1 and layer >= 0 and counter_key(group.role) == "ffn_down":
            return layer  # for MoE models llama.cpp reads the block number from the name
        return index[(group.role, layer)]

    def size(group: TensorGroup, offset: int) -> int:
        layer = group.first_layer + offset
        role = "output" if tied and group.role == "token_embd" else group.role
        ggml = gguf_tensor_type(quant, role, position(group, layer), counts.get(counter_key(role), 1), ctx)
        if role == "attn_kv_b" and mla_split and mla_split[0] + mla_split[2] == group.params:
            # convert_hf_to_gguf.py writes kv_b_proj as attn_k_b, rows of qk_nope_head_dim (128:
            # not a K-quant block, so llama.cpp falls back to Q5_0/Q8_0/Q4_0), and attn_v_b,
            # rows of kv_lora_rank.
            k_params, k_row, v_params, v_row = mla_split
            k_type = gguf_tensor_type(quant, "attn_k_b", position(group, layer), 1, ctx)
            v_type = gguf_tensor_type(quant, "attn_v_b", position(group, layer), 1, ctx)
            return tensor_bytes(k_type, k_params, k_row) + tensor_bytes(v_type, v_params, v_row)
        return tensor_bytes(ggml, group.params, group.row_size)

    def sizes(group: TensorGroup) -> list[int]:
        # Position-dependent roles (attn_v, attn_qkv, ffn_down*) are never the tied embedding or MLA's
        # kv_b, so only the type changes along the group: price each distinct type once.
        first = group.first_layer
        positions = [position(group, first + offset) for offset in range(group.layer_count)]
        count = counts.get(counter_key(group.role), 1)
        types = _type_table(quant, group.role, count, ctx, max(positions) + 1)
        priced: dict[str, int] = {}
        for ggml in set(types[p] for p in positions):
            priced[ggml] = tensor_bytes(ggml, group.params, group.row_size)
        return [priced[types[p]] for p in positions]

    return size, sizes


@lru_cache(maxsize=4096)
def _type_table(quant: str, role: str, count: int, ctx: MixContext, length: int) -> tuple[str, ...]:
    """The type llama.cpp gives the tensor of ``role`` at each position: shared by every model of
    the same shape (layer count, GQA, experts), so an unseen model mostly finds it already made."""
    return tuple(gguf_tensor_type(quant, role, p, count, ctx) for p in range(length))


@lru_cache(maxsize=256)
def _file_order(groups: tuple[TensorGroup, ...]) -> tuple[dict[tuple[str, int], int], dict[str, int]]:
    """Each tensor's number among those llama.cpp counts together, and how many there are.

    llama.cpp numbers tensors of a role in file order (block by block); rules such as use_more_bits
    pick by that number. It depends on the model only, so every quantization shares it (callers
    never mutate the dicts).
    """
    pairs = sorted(
        (layer, group.role)
        for group in groups
        for layer in range(group.first_layer, group.first_layer + group.layer_count)
    )
    index: dict[tuple[str, int], int] = {}
    counts: dict[str, int] = {}
    for layer, role in pairs:
        key = counter_key(role)
        index[(role, layer)] = counts.get(key, 0)
        counts[key] = counts.get(key, 0) + 1
    return index, counts


def _fp8_bytes(group: TensorGroup, offset: int) -> int:
    if group.role.startswith(_FP8_ROLES_PREFIX) and group.row_size and group.role not in ("ffn_gate_inp",):
        return group.params + 4 * -(-group.params // _FP8_SCALE_BLOCK)
    return 2 * group.params


def _mlx_sizer(bits: int, dtype_bytes: int) -> _Sizer:
    """Bytes of a tensor as ``mlx_lm.convert -q --q-bits bits`` writes it.

    mlx-lm's ``quantize_model`` (mlx_lm/utils.py, ml-explore/mlx-lm d78bf58) calls ``nn.quantize``
    in "affine" mode with group size 64 and, by default, 4 bits, on every module that has
    ``to_quantized`` (``nn.Linear``, ``nn.Embedding``, MoE ``SwitchLinear``) and whose weight's last
    dimension divides by the group size: the token embedding and output head are quantized too.
    Each group of 64 weights keeps a scale and a bias in the model dtype (``convert`` casts to
    config.json's ``torch_dtype``): with BF16, 4 + 32/64 = 4.5 and 8 + 32/64 = 8.5 bits per weight.
    Norms and 1-D biases stay in the model dtype. Not modelled: family ``quant_predicate`` overrides
    (routers kept at 8 bits in MiniMax and GraniteMoE, for example), a small share of the bytes.
    """

    def size(group: TensorGroup, offset: int) -> int:
        if group.role in _MLX_KEPT_ROLES or (group.row_size and group.row_size % _MLX_GROUP):
            return dtype_bytes * group.params
        groups = -(-group.params // _MLX_GROUP)
        return group.params * bits // 8 + 2 * dtype_bytes * groups

    return size


def _stored_sizer(accounting: ParamAccounting) -> _Sizer:
    """Spread the exact stored bytes over the groups in proportion to their parameters."""
    total_params = max(1, accounting.total_params)
    stored = accounting.stored_bytes or 0

    def size(group: TensorGroup, offset: int) -> int:
        return stored * group.params // total_params

    return size
