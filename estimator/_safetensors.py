"""Pure parsing of safetensors headers and shard indexes, and the choice of files to count.

The layout of a ``.safetensors`` file is: 8 bytes little-endian header length N, then N
bytes of JSON, then the tensor data. The JSON maps each tensor name to its dtype, shape
and ``data_offsets`` (relative to the end of the header), plus an optional
``__metadata__`` of strings. Nothing here does I/O: callers hand in bytes.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._dtypes import DTYPE_BITS, storage_bytes
from .errors import HeaderParseError, UnknownDtypeError

# The Rust safetensors crate refuses headers over 100 MB (huggingface_hub stops at 25 MB);
# a larger declared length is a corrupt or hostile file, never a real checkpoint.
MAX_HEADER_BYTES = 100_000_000
# No real tensor comes near 2**48 elements; larger products are overflow attacks.
MAX_TENSOR_ELEMENTS = 1 << 48
MAX_SHAPE_RANK = 8
_U64 = 1 << 63

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One tensor entry of a safetensors header."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    data_offsets: tuple[int, int] = (0, 0)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def size_bytes(self) -> int:
        return storage_bytes(self.dtype, self.numel)


@dataclass(frozen=True, slots=True)
class SafetensorsHeader:
    """The parsed header of one safetensors file."""

    tensors: tuple[TensorInfo, ...]
    metadata: tuple[tuple[str, str], ...] = ()
    header_size_bytes: int = 0

    @property
    def data_size_bytes(self) -> int:
        return max((t.data_offsets[1] for t in self.tensors), default=0)


@dataclass(frozen=True, slots=True)
class SafetensorsIndex:
    """The parsed ``model.safetensors.index.json`` of a sharded checkpoint."""

    weight_map: tuple[tuple[str, str], ...]  # (tensor name, shard file)
    total_size_bytes: int | None = None
    total_parameters: int | None = None

    @property
    def shards(self) -> tuple[str, ...]:
        """Shard files in first-mention order."""
        return tuple(dict.fromkeys(shard for _, shard in self.weight_map))

    def tensor_counts(self) -> dict[str, int]:
        """How many tensors each shard holds, which predicts its header size."""
        counts: dict[str, int] = {}
        for _, shard in self.weight_map:
            counts[shard] = counts.get(shard, 0) + 1
        return counts


def parse_header_length(prefix: bytes, *, filename: str | None = None) -> int:
    """Read the 8-byte little-endian header length at the start of a file.

    Raises:
        HeaderParseError: fewer than 8 bytes, or a length over ``MAX_HEADER_BYTES``.
    """
    if len(prefix) < 8:
        raise HeaderParseError(
            f"file is {len(prefix)} bytes long, too short for the 8-byte length", filename=filename
        )
    length: int = struct.unpack("<Q", prefix[:8])[0]
    if length > MAX_HEADER_BYTES:
        raise HeaderParseError(
            f"declared header length {length:,} bytes is over the {MAX_HEADER_BYTES:,} limit",
            filename=filename,
        )
    if length < 2:
        raise HeaderParseError(f"declared header length {length} is too small", filename=filename)
    return length


def parse_safetensors_header(
    header_json: bytes, *, file_size: int | None = None, filename: str | None = None
) -> SafetensorsHeader:
    """Parse and validate the JSON header of one safetensors file.

    ``file_size`` is the whole file's size when known; it lets us reject offsets that
    point past the end. Validation follows the Rust safetensors crate: tensor data must
    be contiguous from offset 0, each tensor's byte span must match dtype × shape.

    Raises:
        HeaderParseError: truncated or non-JSON text, wrong JSON types, missing keys,
            bad/overlapping/out-of-range offsets, or shapes whose product overflows.
        UnknownDtypeError: a dtype that safetensors does not define.
    """
    raw = _load_json_object(header_json, filename)
    return parse_header_object(
        raw, header_size_bytes=len(header_json), file_size=file_size, filename=filename
    )


def parse_header_object(
    raw: object, *, header_size_bytes: int = 0, file_size: int | None = None, filename: str | None = None
) -> SafetensorsHeader:
    """Validate a header already decoded from JSON (the Hub's one-call metadata endpoint
    returns every shard's header inside one JSON answer).

    Raises:
        HeaderParseError, UnknownDtypeError: as ``parse_safetensors_header``.
    """
    if not isinstance(raw, dict):
        raise HeaderParseError(f"header JSON is a {type(raw).__name__}, not an object", filename=filename)
    raw = dict(raw)
    metadata = _parse_metadata(raw.pop("__metadata__", None), filename)
    tensors = tuple(_parse_tensor(name, entry, filename) for name, entry in raw.items())
    _check_offsets(tensors, filename)
    header = SafetensorsHeader(tensors, metadata, header_size_bytes)
    if file_size is not None and header_size_bytes:
        data_end = 8 + header_size_bytes + header.data_size_bytes
        if data_end != file_size:
            raise HeaderParseError(
                f"tensor data ends at byte {data_end:,} but the file is {file_size:,} bytes",
                filename=filename,
            )
    return header


class TensorEntry(Protocol):
    """One tensor entry already decoded into typed fields (None where the JSON lacked it)."""

    @property
    def dtype(self) -> str | None: ...
    @property
    def shape(self) -> Sequence[int] | None: ...
    @property
    def data_offsets(self) -> Sequence[int] | None: ...


def parse_tensor_entries(
    entries: Iterable[tuple[str, TensorEntry]], *, filename: str | None = None, counts_checked: bool = False
) -> SafetensorsHeader:
    """Validate tensor entries a typed JSON decoder produced (the crawler decodes the Hub's
    one-call answer with msgspec), by the same rules as ``parse_header_object``. Metadata is
    not kept; ``__metadata__`` is skipped.

    ``counts_checked`` says the decoder already holds every shape to at most ``MAX_SHAPE_RANK``
    dimensions and every dimension and offset to an ``int`` (not a bool) in [0, 2**63), as tuples.

    Raises:
        HeaderParseError, UnknownDtypeError: as ``parse_safetensors_header``.
    """
    tensors: list[TensorInfo] = []
    append, bits_of, prod = tensors.append, DTYPE_BITS.get, math.prod
    # DeepSeek-V3 has 92,000 entries: a frozen dataclass's __init__ (one object.__setattr__ per
    # field) took a third of this loop, so the fields are set through their slots (bench.crawler_scale).
    new, set_name, set_dtype, set_shape, set_offsets = _TENSOR_INFO_SLOTS
    # DeepSeek-V3's 92,000 tensors have a few dozen shapes: one tuple per shape is 92,000 fewer
    # objects to hold and for the cycle collector to walk next (measured: its first collection
    # after the parse went from 23-37 ms to 19-25 ms).
    shapes: dict[tuple[int, ...], tuple[int, ...]] = {}
    for name, entry in entries:
        if name == "__metadata__":
            continue
        dtype, shape, offsets = entry.dtype, entry.shape, entry.data_offsets
        bits = bits_of(dtype) if dtype else None
        if (
            bits
            and shape is not None
            and offsets is not None
            and (counts_checked or _counts_ok(shape, offsets))
        ):
            numel = prod(shape)
            start, end = offsets
            if start <= end and numel <= MAX_TENSOR_ELEMENTS and end - start == (numel * bits + 7) // 8:
                info = new(TensorInfo)
                set_name(info, name)
                set_dtype(info, dtype)
                dims = shape if type(shape) is tuple else tuple(shape)
                set_shape(info, shapes.setdefault(dims, dims))
                set_offsets(info, offsets if type(offsets) is tuple else (start, end))
                append(info)
                continue
        # anything odd: the checked path names the defect
        fields = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
        raw = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items() if v is not None}
        append(_parse_tensor_checked(name, raw, filename))
    header = SafetensorsHeader(tuple(tensors))
    if not _contiguous(header.tensors):
        _check_offsets(header.tensors, filename)
    return header


def _slot_setters() -> tuple[Callable[..., Any], ...]:
    slots = (getattr(TensorInfo, field).__set__ for field in ("name", "dtype", "shape", "data_offsets"))
    return (object.__new__, *slots)


_TENSOR_INFO_SLOTS = _slot_setters()


def _counts_ok(shape: Sequence[int], offsets: Sequence[int]) -> bool:
    if len(shape) > MAX_SHAPE_RANK or len(offsets) != 2:
        return False
    return all(type(n) is int and 0 <= n < _U64 for n in (*shape, *offsets))


def _contiguous(tensors: tuple[TensorInfo, ...]) -> bool:
    """Whether the tensors' data spans tile the data from offset 0, with no gap or overlap."""
    spans = sorted([t.data_offsets for t in tensors])
    return [start for start, _ in spans] == [0, *(end for _, end in spans[:-1])]


def parse_safetensors_file(
    content: bytes, *, file_size: int | None = None, filename: str | None = None
) -> SafetensorsHeader:
    """Parse a header from the first bytes of a file (length prefix + JSON).

    Raises:
        HeaderParseError: see ``parse_header_length`` and ``parse_safetensors_header``;
            also when ``content`` stops before the header does (truncated).
    """
    length = parse_header_length(content, filename=filename)
    if len(content) < 8 + length:
        raise HeaderParseError(
            f"header is truncated: {len(content) - 8:,} of {length:,} bytes present",
            filename=filename,
        )
    return parse_safetensors_header(content[8 : 8 + length], file_size=file_size, filename=filename)


def parse_safetensors_index(content: bytes, *, filename: str = INDEX_FILE) -> SafetensorsIndex:
    """Parse ``model.safetensors.index.json``.

    Raises:
        HeaderParseError: not JSON, or no usable ``weight_map``.
    """
    raw = _load_json_object(content, filename)
    weight_map = raw.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise HeaderParseError("index has no weight_map object", filename=filename)
    for tensor, shard in weight_map.items():
        if not isinstance(shard, str) or not shard.endswith(".safetensors") or "/" in shard:
            raise HeaderParseError(
                f"weight_map entry '{tensor}' names an unusable shard {shard!r}", filename=filename
            )
    metadata = raw.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return SafetensorsIndex(
        weight_map=tuple(weight_map.items()),
        total_size_bytes=_optional_int(metadata.get("total_size")),
        total_parameters=_optional_int(metadata.get("total_parameters")),
    )


def select_checkpoint_files(filenames: Iterable[str]) -> str | None:
    """Name the one root file that defines the counted checkpoint, or None.

    The index wins over a single file; copies such as ``consolidated.safetensors`` or an
    ``original/`` folder are never counted, so a repo is never counted twice.
    """
    names = set(filenames)
    if INDEX_FILE in names:
        return INDEX_FILE
    if SINGLE_FILE in names:
        return SINGLE_FILE
    return None


def _load_json_object(content: bytes, filename: str | None) -> dict[str, object]:
    try:
        value = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise HeaderParseError("header is not UTF-8 text", filename=filename) from e
    except RecursionError as e:
        raise HeaderParseError("header JSON is nested absurdly deep", filename=filename) from e
    except ValueError as e:  # JSONDecodeError, or a plain ValueError for a 4,300-digit integer
        reason = getattr(e, "msg", None) or str(e)[:80]
        raise HeaderParseError(f"header is not valid JSON ({reason})", filename=filename) from e
    if not isinstance(value, dict):
        raise HeaderParseError(f"header JSON is a {type(value).__name__}, not an object", filename=filename)
    return value


def _parse_metadata(value: object, filename: str | None) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise HeaderParseError("__metadata__ is not an object", filename=filename)
    return tuple((str(k), v) for k, v in value.items() if isinstance(v, str))


def _parse_tensor(name: str, entry: object, filename: str | None) -> TensorInfo:
    """One tensor entry, validated. Well-formed entries take the fast path (a DeepSeek-V3
    checkpoint has 92,000 of them); anything odd goes through ``_parse_tensor_checked``,
    which names the defect."""
    if type(entry) is dict:
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if type(shape) is list and type(offsets) is list:
            tensor = _fast_tensor(name, entry.get("dtype"), shape, offsets)
            if tensor is not None:
                return tensor
    return _parse_tensor_checked(name, entry, filename)


def _fast_tensor(
    name: str, dtype: object, shape: Sequence[object], offsets: Sequence[object]
) -> TensorInfo | None:
    """The tensor if its entry is well-formed, else None (``_parse_tensor_checked`` says why)."""
    bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
    if not bits or not isinstance(dtype, str) or len(shape) > MAX_SHAPE_RANK or len(offsets) != 2:
        return None
    numel = 1
    for dim in shape:
        if type(dim) is not int or not 0 <= dim < _U64:
            return None
        numel *= dim
    start, end = offsets
    if (
        type(start) is int
        and type(end) is int
        and 0 <= start <= end < _U64
        and numel <= MAX_TENSOR_ELEMENTS
        and end - start == (numel * bits + 7) // 8
    ):
        return TensorInfo(name, dtype, tuple(shape), (start, end))  # type: ignore[arg-type]  # dims checked int
    return None


def _parse_tensor_checked(name: str, entry: object, filename: str | None) -> TensorInfo:
    if not isinstance(entry, dict):
        raise HeaderParseError(f"tensor '{name}' is not an object", filename=filename)
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in entry]
    if missing:
        raise HeaderParseError(f"tensor '{name}' lacks {', '.join(missing)}", filename=filename)
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise HeaderParseError(f"tensor '{name}' has a non-string dtype", filename=filename)
    if dtype not in DTYPE_BITS:
        raise UnknownDtypeError(dtype, name, filename=filename)
    if not isinstance(shape, list) or len(shape) > MAX_SHAPE_RANK or not all(_is_count(d) for d in shape):
        raise HeaderParseError(f"tensor '{name}' has a bad shape {shape!r:.80}", filename=filename)
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise HeaderParseError(f"tensor '{name}' has bad data_offsets {offsets!r:.80}", filename=filename)
    numel = math.prod(shape)
    if numel > MAX_TENSOR_ELEMENTS:
        raise HeaderParseError(f"tensor '{name}' shape {shape} overflows", filename=filename)
    start, end = offsets
    if end < start or end - start != storage_bytes(dtype, numel):
        raise HeaderParseError(
            f"tensor '{name}' spans bytes {start}-{end}, but {dtype}{shape} needs "
            f"{storage_bytes(dtype, numel):,}",
            filename=filename,
        )
    return TensorInfo(name, dtype, tuple(shape), (start, end))


def _check_offsets(tensors: tuple[TensorInfo, ...], filename: str | None) -> None:
    expected = 0
    for tensor in sorted(tensors, key=lambda t: t.data_offsets):
        start, end = tensor.data_offsets
        if start != expected:
            problem = "overlaps the previous tensor" if start < expected else "leaves a gap"
            raise HeaderParseError(
                f"tensor '{tensor.name}' starts at {start:,} and {problem} (expected {expected:,})",
                filename=filename,
            )
        expected = end


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 63


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
