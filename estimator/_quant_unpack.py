"""Undo packed quantized storage: how many logical parameters a stored tensor holds.

Quantized checkpoints store several low-bit values in one integer and add bookkeeping
tensors (scales, zero points, group indexes). The Hub's ``safetensors.total`` counts raw
elements; we count what the model has. The rules are in
docs/reference/hub-protocol.md §6 and huggingface.js ``parse-safetensors-metadata.ts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._config import QuantConfig
from ._dtypes import DTYPE_BITS
from ._safetensors import TensorInfo

# Tensors that carry quantization state, not model parameters. Matched on the last
# name segment (``...q_proj.weight_scale_inv``) or, for bitsandbytes, on a segment prefix.
_BOOKKEEPING_SUFFIXES = frozenset(
    [
        "qzeros",
        "g_idx",
        "weight_scale",
        "weight_scale_inv",
        "weight_scale_2",
        "weight_global_scale",
        "input_scale",
        "input_global_scale",
        "weight_zero_point",
        "input_zero_point",
        "zero_point",
        "weight_shape",
        "weight_g_idx",
        "absmax",
        "quant_map",
        "nested_absmax",
        "nested_quant_map",
        "SCB",
        "weight_format",
        "k_scale",
        "v_scale",
        "kv_scale",
    ]
)

# Last name segments that are bookkeeping whatever the dtype or method (the accounting skips
# them without further checks).
BOOKKEEPING_SUFFIXES = _BOOKKEEPING_SUFFIXES

# Buffers that some checkpoints save but that are constants, not learned parameters: rotary
# frequencies, causal masks, MiniMax lightning attention's slopes and decays (all computed from
# config), xIELU's fixed beta/eps (Apertus). Seen in tiny transformers 5.24 checkpoints.
_DERIVED_CONSTANT_SUFFIXES = frozenset(
    ["inv_freq", "masked_bias", "slope_rate", "query_decay", "key_decay", "diagonal_decay"]
)
_DERIVED_CONSTANT_ENDINGS = ("act_fn.beta", "act_fn.eps")


@dataclass(frozen=True, slots=True)
class LogicalTensor:
    """A stored tensor seen as the model's parameter: logical name, count and row size."""

    name: str
    params: int
    row_size: int  # elements per row of the logical matrix (ggml's ne[0]); 0 when unknown
    ndim: int


def unpack_tensor(
    tensor: TensorInfo, quant: QuantConfig | None, exact_shapes: dict[str, tuple[int, ...]] | None = None
) -> LogicalTensor | None:
    """The logical parameter behind a stored tensor, or None for bookkeeping and derived constants.

    ``exact_shapes`` maps a weight's name to its logical shape when the caller has read it
    (bitsandbytes ``quant_state`` JSON, compressed-tensors ``weight_shape``).
    """
    if _is_bookkeeping(tensor, quant) or is_derived_constant(tensor.name):
        return None
    name, shape, dtype = tensor.name, tensor.shape, tensor.dtype
    method = quant.method if quant else None
    bits = (quant.bits if quant else None) or 4
    if exact_shapes and name in exact_shapes:
        logical = exact_shapes[name]
        return LogicalTensor(name, math.prod(logical), logical[-1] if logical else 1, len(logical))
    if name.endswith("_blocks") and dtype == "U8":  # MXFP4 (gpt-oss): [E, rows, groups, 16] bytes
        row = shape[-2] * shape[-1] * 2 if len(shape) >= 2 else 0
        return LogicalTensor(name[: -len("_blocks")], tensor.numel * 2, row, max(len(shape) - 1, 1))
    container = DTYPE_BITS[dtype]
    if name.endswith(".qweight") and method in ("gptq", "awq"):
        # GPTQ packs along the input dimension (rows of the stored matrix), AWQ along the output.
        row = shape[0] * container // bits if method == "gptq" else shape[0]
        base = name[: -len(".qweight")] + ".weight"
        return LogicalTensor(base, tensor.numel * container // bits, row, 2)
    if name.endswith(".weight_packed"):  # compressed-tensors pack-quantized, NVFP4, MXFP4
        base = name[: -len(".weight_packed")] + ".weight"
        per_value = bits if container > 8 else 4
        return LogicalTensor(
            base, tensor.numel * container // per_value, shape[-1] * container // per_value, len(shape)
        )
    if method == "fp8" and dtype in ("I8", "U8") and name.endswith(".weight"):
        # An FP8-block checkpoint stores no 8-bit integer weights: these are FP4 pairs, two per byte.
        # DeepSeek-V4's experts (``expert_dtype`` "fp4", I8 [I, h/2] beside e8m0 scales [I, h/32];
        # vLLM deepseek_v4.py DeepseekV4FP8Config -> Mxfp4MoEMethod, w13_weight [E, 2I, h // 2]
        # uint8). ModelOpt's NVFP4 export packs U8 [out, in/2] the same way (nvidia's V4 NVFP4 headers
        # not yet seen).
        return LogicalTensor(name, tensor.numel * 2, shape[-1] * 2 if shape else 0, len(shape))
    if method == "mlx" and dtype == "U32" and name.endswith(".weight"):
        return LogicalTensor(name, tensor.numel * 32 // bits, shape[-1] * 32 // bits, len(shape))
    if method == "bitsandbytes" and bits == 4 and dtype == "U8" and name.endswith(".weight"):
        return LogicalTensor(name, tensor.numel * 2, 0, 2)  # flattened; exact shape is in quant_state
    return LogicalTensor(name, tensor.numel, shape[-1] if shape else 1, len(shape))


def is_derived_constant(name: str) -> bool:
    """True for saved buffers that are computed from config (not parameters under either path)."""
    return name.rsplit(".", 1)[-1] in _DERIVED_CONSTANT_SUFFIXES or name.endswith(_DERIVED_CONSTANT_ENDINGS)


def _is_bookkeeping(tensor: TensorInfo, quant: QuantConfig | None) -> bool:
    last = tensor.name.rsplit(".", 1)[-1]
    if last in _BOOKKEEPING_SUFFIXES or tensor.dtype == "F8_E8M0":
        return True
    if ".quant_state." in tensor.name or last.startswith("quant_state"):
        return True
    if last.endswith("_scales") and tensor.dtype == "U8":  # MXFP4 block exponents
        return True
    method = quant.method if quant else None
    if last == "scales" and method in ("gptq", "awq", "mlx", "compressed-tensors"):
        return True
    if last == "biases" and method == "mlx":  # MLX affine offsets, not layer biases
        return True
    return False
