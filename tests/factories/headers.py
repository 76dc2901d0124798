"""Safetensors header dicts and the bytes of a file's first part, built without the estimator.

A ``.safetensors`` file is an 8-byte little-endian header length N, N bytes of JSON, then
the tensor data. The Rust writer orders tensors by dtype (in reverse declaration order of
its Dtype enum, so the widest come first) then by name, writes
compact JSON with ``__metadata__`` first, and pads the JSON with spaces to a multiple of 8.
Every helper here is an independent oracle for the estimator's parser: it knows the
format from the safetensors specification, not from ``estimator``.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Tensor = tuple[str, str, tuple[int, ...]]  # (name, dtype, shape)

# Bits per element, from the safetensors specification (Dtype enum, safetensors 0.8).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32,
    "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
_DTYPE_RANK = {dtype: rank for rank, dtype in enumerate(DTYPE_BITS)}  # declaration order of the Rust enum
DEFAULT_METADATA = {"format": "pt"}


def numel(shape: Sequence[int]) -> int:
    """Elements of a tensor; a scalar (shape []) has one."""
    return math.prod(shape)


def nbytes(dtype: str, shape: Sequence[int]) -> int:
    """Bytes a tensor occupies on disk; sub-byte dtypes round up to whole bytes."""
    return (numel(shape) * DTYPE_BITS[dtype] + 7) // 8


def make_header(
    tensors: Iterable[Tensor],
    metadata: Mapping[str, str] | None = DEFAULT_METADATA,
    *,
    safetensors_order: bool = True,
) -> dict:
    """A header dict with contiguous ``data_offsets`` from 0, as the Rust writer lays them out."""
    items = list(tensors)
    if safetensors_order:  # safetensors `prepare`: dtype (enum order) descending, then name
        items.sort(key=lambda t: (-_DTYPE_RANK[t[1]], t[0]))
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, dtype, shape in items:
        end = offset + nbytes(dtype, shape)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, end]}
        offset = end
    return header


def header_json(header: Mapping, *, pad: bool = True) -> bytes:
    """Compact JSON of a header, padded with spaces to a multiple of 8 when ``pad``."""
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        raw += b" " * (-len(raw) % 8)
    return raw


def file_prefix(header: Mapping, *, pad: bool = True) -> bytes:
    """The first bytes of the file: 8-byte little-endian length, then the JSON."""
    body = header_json(header, pad=pad)
    return struct.pack("<Q", len(body)) + body


def data_size(header: Mapping) -> int:
    """Bytes of tensor data the header declares (the largest end offset)."""
    return max(
        (entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"),
        default=0,
    )


def declared_file_size(header: Mapping, *, pad: bool = True) -> int:
    """Size of the whole file: 8 + header length + tensor data."""
    return 8 + len(header_json(header, pad=pad)) + data_size(header)


def header_tensors(header: Mapping) -> list[Tensor]:
    """(name, dtype, shape) of every tensor in a header, in header order."""
    return [
        (name, entry["dtype"], tuple(entry["shape"]))
        for name, entry in header.items()
        if name != "__metadata__"
    ]


def split_into_shards(tensors: Sequence[Tensor], count: int) -> list[list[Tensor]]:
    """Cut a state dict (in order) into ``count`` runs of about equal bytes, like save_pretrained."""
    sizes = [nbytes(dtype, shape) for _, dtype, shape in tensors]
    total = sum(sizes) or 1
    shards: list[list[Tensor]] = [[] for _ in range(count)]
    before = 0
    for tensor, size in zip(tensors, sizes):
        slot = min(count - 1, (2 * before + size) * count // (2 * total))
        shards[slot].append(tensor)
        before += size
    if any(not shard for shard in shards):
        raise ValueError(f"cannot cut {len(tensors)} tensors into {count} non-empty shards")
    return shards


def shard_names(count: int, *, zero_based: bool = False, total_width: int = 5) -> list[str]:
    """Shard file names: ``model-00001-of-00004.safetensors`` (transformers); gpt-oss counts
    from 00000 to 00002 "of-00002", DeepSeek-V3 writes the total with six digits."""
    last = count - 1 if zero_based else count
    first = 0 if zero_based else 1
    return [
        f"model-{i:05d}-of-{last:0{total_width}d}.safetensors" for i in range(first, first + count)
    ]


def build_sharded(
    tensors: Sequence[Tensor],
    names: Sequence[str],
    *,
    metadata: Mapping[str, str] | None = DEFAULT_METADATA,
    total_parameters: int | None = None,
) -> tuple[dict[str, dict], dict]:
    """Shard headers plus ``model.safetensors.index.json`` (weight_map sorted, as transformers writes it)."""
    files: dict[str, dict] = {}
    weight_map: dict[str, str] = {}
    for name, part in zip(names, split_into_shards(tensors, len(names)), strict=True):
        files[name] = make_header(part, metadata)
        weight_map.update((tensor[0], name) for tensor in part)
    index_meta: dict = {"total_size": sum(data_size(h) for h in files.values())}
    if total_parameters is not None:
        index_meta["total_parameters"] = total_parameters
    return files, {"metadata": index_meta, "weight_map": dict(sorted(weight_map.items()))}


def index_json(index: Mapping) -> bytes:
    """The index file's bytes, as transformers writes them (indent 2, sorted keys)."""
    return (json.dumps(index, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class FileImage:
    """A file as a Hub stand-in serves it: real prefix bytes, zero data, a few real payloads.

    Only the requested range is ever materialised, so a 700 GB checkpoint costs nothing.
    """

    prefix: bytes
    size: int
    payloads: tuple[tuple[int, bytes], ...] = field(default=())  # (absolute offset, bytes)

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive, clamped to the file)."""
        end = min(end, self.size)
        if start >= end:
            return b""
        out = bytearray(end - start)
        head = self.prefix[start:end]
        out[: len(head)] = head
        for offset, data in self.payloads:
            lo, hi = max(start, offset), min(end, offset + len(data))
            if lo < hi:
                out[lo - start : hi - start] = data[lo - offset : hi - offset]
        return bytes(out)


def safetensors_image(header: Mapping, payloads: Mapping[str, bytes] | None = None) -> FileImage:
    """The FileImage of a header, with the data of some tensors filled in."""
    prefix = file_prefix(header)
    placed = []
    for name, data in (payloads or {}).items():
        start, end = header[name]["data_offsets"]
        if len(data) != end - start:
            raise ValueError(f"payload for {name} is {len(data)} bytes, its span is {end - start}")
        placed.append((len(prefix) + start, bytes(data)))
    return FileImage(prefix, len(prefix) + data_size(header), tuple(placed))
