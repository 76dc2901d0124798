"""How quantizers store a logical model: the tensors they write, with real names, dtypes, shapes.

Each function maps a ``LogicalModel`` to the stored tensor list of one scheme (see
docs/reference/hub-protocol.md §6 and docs/reference/anchor-models.md "Quantized storage"), plus the
data bytes of the few tensors whose contents matter to a reader (bitsandbytes
``quant_state`` JSON, compressed-tensors ``weight_shape``). Embeddings, the output head,
norms and routers stay unquantized, as GPTQ/AWQ/bitsandbytes/llm-compressor leave them.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator

from .families import EMBEDDING, LM_HEAD, ROUTED, Entry, LogicalModel
from .headers import Tensor, numel

Payloads = dict[str, bytes]


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _base(entry: Entry) -> str:
    assert entry.name.endswith(".weight"), entry.name
    return entry.name[: -len(".weight")]


def _quantized(entry: Entry) -> bool:
    return entry.linear and len(entry.shape) == 2


def store_plain(model: LogicalModel) -> list[Tensor]:
    """Every parameter at its own dtype (BF16 unless the family says otherwise)."""
    return model.tensors()


def store_fp8_block(model: LogicalModel, block: int = 128) -> list[Tensor]:
    """DeepSeek-V3 FP8: Linear weights F8_E4M3 at logical shape, F32 ``weight_scale_inv`` per 128×128 block."""
    out: list[Tensor] = []
    for e in model.entries:
        if _quantized(e):
            rows, cols = e.shape
            out.append((e.name, "F8_E4M3", e.shape))
            out.append((f"{e.name}_scale_inv", "F32", (_ceil(rows, block), _ceil(cols, block))))
        else:
            out.append((e.name, e.dtype, e.shape))
    return out


def store_mxfp4(model: LogicalModel) -> list[Tensor]:
    """gpt-oss MXFP4: expert [E, R, C] → ``_blocks`` U8 [E, R, C/32, 16] + ``_scales`` U8 [E, R, C/32]."""
    out: list[Tensor] = []
    for e in model.entries:
        if e.component == ROUTED and len(e.shape) == 3:
            experts, rows, cols = e.shape
            out.append((f"{e.name}_blocks", "U8", (experts, rows, cols // 32, 16)))
            out.append((f"{e.name}_scales", "U8", (experts, rows, cols // 32)))
        else:
            out.append((e.name, e.dtype, e.shape))
    return out


def store_gptq(model: LogicalModel, bits: int = 4, group: int = 128) -> list[Tensor]:
    """auto-gptq QuantLinear: qweight I32 [in·bits/32, out], qzeros, scales F16, g_idx I32 [in]."""
    out: list[Tensor] = []
    for e in model.entries:
        if not _quantized(e):
            out.append((e.name, "F16", e.shape))
            continue
        cols_out, cols_in = e.shape
        assert cols_in * bits % 32 == 0 and cols_out * bits % 32 == 0
        b = _base(e)
        out += [
            (f"{b}.qweight", "I32", (cols_in * bits // 32, cols_out)),
            (f"{b}.qzeros", "I32", (_ceil(cols_in, group), cols_out * bits // 32)),
            (f"{b}.scales", "F16", (_ceil(cols_in, group), cols_out)),
            (f"{b}.g_idx", "I32", (cols_in,)),
        ]
    return out


def store_awq(model: LogicalModel, bits: int = 4, group: int = 128) -> list[Tensor]:
    """AutoAWQ WQLinear_GEMM: qweight I32 [in, out·bits/32], qzeros [in/g, out·bits/32], scales F16 [in/g, out]."""
    out: list[Tensor] = []
    for e in model.entries:
        if not _quantized(e):
            out.append((e.name, "F16", e.shape))
            continue
        cols_out, cols_in = e.shape
        b = _base(e)
        out += [
            (f"{b}.qweight", "I32", (cols_in, cols_out * bits // 32)),
            (f"{b}.qzeros", "I32", (_ceil(cols_in, group), cols_out * bits // 32)),
            (f"{b}.scales", "F16", (_ceil(cols_in, group), cols_out)),
        ]
    return out


def bnb_quant_state(shape: tuple[int, ...], quant_type: str = "nf4") -> bytes:
    """The JSON that bitsandbytes packs into ``weight.quant_state.bitsandbytes__nf4`` (QuantState.as_dict)."""
    state = {"quant_type": quant_type, "blocksize": 64, "dtype": "bfloat16", "shape": list(shape),
             "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.02170657366514206}
    return json.dumps(state).encode("utf-8")


def store_bnb_4bit(model: LogicalModel, quant_type: str = "nf4") -> tuple[list[Tensor], Payloads]:
    """bitsandbytes 4-bit with double quantization: U8 [⌈n/2⌉, 1] + absmax, quant_map, nested_*, quant_state."""
    out: list[Tensor] = []
    payloads: Payloads = {}
    for e in model.entries:
        if not _quantized(e):
            out.append((e.name, e.dtype, e.shape))
            continue
        n = numel(e.shape)
        blocks = _ceil(n, 64)
        state = bnb_quant_state(e.shape, quant_type)
        state_name = f"{e.name}.quant_state.bitsandbytes__{quant_type}"
        payloads[state_name] = state
        out += [
            (e.name, "U8", (_ceil(n, 2), 1)),
            (f"{e.name}.absmax", "U8", (blocks,)),  # double-quantized: 8-bit codes
            (f"{e.name}.nested_absmax", "F32", (_ceil(blocks, 256),)),
            (f"{e.name}.nested_quant_map", "F32", (256,)),
            (f"{e.name}.quant_map", "F32", (16,)),
            (state_name, "U8", (len(state),)),
        ]
    return out, payloads


def store_compressed_pack(model: LogicalModel, bits: int = 4, group: int = 128) -> tuple[list[Tensor], Payloads]:
    """compressed-tensors pack-quantized: weight_packed I32 [out, in·bits/32], weight_scale, weight_zero_point,
    weight_shape I64 [2] (whose 16 data bytes hold the logical shape)."""
    out: list[Tensor] = []
    payloads: Payloads = {}
    for e in model.entries:
        if not _quantized(e):
            out.append((e.name, e.dtype, e.shape))
            continue
        cols_out, cols_in = e.shape
        b = _base(e)
        payloads[f"{b}.weight_shape"] = struct.pack("<2q", cols_out, cols_in)
        out += [
            (f"{b}.weight_packed", "I32", (cols_out, _ceil(cols_in * bits, 32))),
            (f"{b}.weight_scale", "BF16", (cols_out, _ceil(cols_in, group))),
            (f"{b}.weight_zero_point", "I32", (_ceil(cols_out * bits, 32), _ceil(cols_in, group))),
            (f"{b}.weight_shape", "I64", (2,)),
        ]
    return out, payloads


def _mlx_targets(model: LogicalModel, quantize_embeddings: bool) -> Iterator[tuple[Entry, bool]]:
    for e in model.entries:
        packable = _quantized(e) or (quantize_embeddings and e.component in (EMBEDDING, LM_HEAD))
        yield e, packable


def store_mlx(model: LogicalModel, bits: int = 4, group: int = 64, *, quantize_embeddings: bool = True) -> list[Tensor]:
    """MLX affine quantization: weight U32 [out, in·bits/32], scales and biases BF16 [out, in/group].

    mlx-lm quantizes every Linear and Embedding whose last dimension divides by the group
    size, embeddings and output head included.
    """
    out: list[Tensor] = []
    for e, packable in _mlx_targets(model, quantize_embeddings):
        if not packable:
            out.append((e.name, e.dtype, e.shape))
            continue
        rows, cols = e.shape
        b = _base(e)
        out += [
            (e.name, "U32", (rows, cols * bits // 32)),
            (f"{b}.scales", "BF16", (rows, cols // group)),
            (f"{b}.biases", "BF16", (rows, cols // group)),
        ]
    return out
