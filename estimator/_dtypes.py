"""Safetensors dtypes and their storage width."""

from __future__ import annotations

# Bits per element of every dtype the safetensors format defines (safetensors 0.8).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}


def storage_bytes(dtype: str, numel: int) -> int:
    """Bytes that ``numel`` elements of ``dtype`` occupy; sub-byte types round up."""
    return (numel * DTYPE_BITS[dtype] + 7) // 8
