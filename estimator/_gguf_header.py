"""A bounded, ranged GGUF header parser: bytes in, a frozen header record out, no I/O.

The parser is a generator in the sans-I/O style: it yields the byte range it needs next
(``ByteRange``) and is sent those bytes back, so a crawler can feed it HTTP range responses
and a test can feed it a file. It never holds more than one chunk plus one value, skips
large metadata values (tokenizer vocabularies of several MB) without building Python objects
for them, and skips fixed-width arrays without reading their bytes at all.

Layout (llama.cpp ``ggml/src/gguf.cpp``, versions 2 and 3): magic ``GGUF``, uint32 version,
uint64 tensor count, uint64 key/value count, the key/values, the tensor infos, padding to
``general.alignment`` (default 32), then tensor data. Every length, count and depth is
bounded by what the file could still hold before anything is allocated.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass, field

from ._ggml_constants import GGMLQuantizationType, GGUFValueType
from ._gguf import GGML_TYPES
from .errors import GgufHeaderError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = frozenset({2, 3})
DEFAULT_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_KEY_BYTES = 65_536  # a key is a dotted name; llama.cpp's own keys are under 64 bytes
MAX_KEPT_STRING_BYTES = 64 * 1024  # longer strings (chat templates) are skipped, not decoded
MAX_KEPT_ARRAY_ITEMS = 4096  # per-layer arrays are kept; vocabularies are skipped
FIRST_READ_BYTES = 64 * 1024  # most of a small header; a tokenizer's header grows the reads
DEFAULT_CHUNK_BYTES = 4 << 20  # the largest single read
# No header needs more: the largest tokenizers (260k tokens, 500k merges) take about 20 MB.
# A hostile count of tiny strings would otherwise make us download a whole file as "header".
MAX_HEADER_BYTES = 128 << 20

_SCALARS: dict[int, struct.Struct] = {
    GGUFValueType.UINT8: struct.Struct("<B"),
    GGUFValueType.INT8: struct.Struct("<b"),
    GGUFValueType.UINT16: struct.Struct("<H"),
    GGUFValueType.INT16: struct.Struct("<h"),
    GGUFValueType.UINT32: struct.Struct("<I"),
    GGUFValueType.INT32: struct.Struct("<i"),
    GGUFValueType.FLOAT32: struct.Struct("<f"),
    GGUFValueType.BOOL: struct.Struct("<?"),
    GGUFValueType.UINT64: struct.Struct("<Q"),
    GGUFValueType.INT64: struct.Struct("<q"),
    GGUFValueType.FLOAT64: struct.Struct("<d"),
}
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_MIN_KV_BYTES = 8 + 4 + 1  # empty key, type, the smallest value
_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # empty name, n_dims, type, offset

Scalar = int | float | bool | str


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``[start, end)`` of the file that the parser needs next."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class SkippedValue:
    """A metadata value left unread: a long string, or an array too long to keep."""

    value_type: str  # "STRING" or the array's element type
    count: int  # array length (1 for a string)
    size_bytes: int  # bytes it occupies in the file


MetadataValue = Scalar | tuple[Scalar, ...] | SkippedValue


@dataclass(frozen=True, slots=True)
class GgufTensorInfo:
    """One tensor of a GGUF file: shape in ggml order (``ne[0]`` is the row length)."""

    name: str
    ggml_type: str
    shape: tuple[int, ...]
    offset: int  # from the start of the tensor data
    size_bytes: int

    @property
    def numel(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(frozen=True, slots=True)
class GgufHeader:
    """Everything before the tensor data of one GGUF file."""

    version: int
    metadata: tuple[tuple[str, MetadataValue], ...]
    tensors: tuple[GgufTensorInfo, ...]
    alignment: int
    data_offset: int  # where tensor data starts: the header length
    file_size: int
    kv_bytes: int = field(compare=False)  # bytes of the key/value section

    def get(self, key: str, default: MetadataValue | None = None) -> MetadataValue | None:
        """The value of metadata ``key``, or ``default``."""
        for name, value in self.metadata:
            if name == key:
                return value
        return default

    @property
    def tensor_bytes(self) -> int:
        return sum(t.size_bytes for t in self.tensors)

    @property
    def total_params(self) -> int:
        return sum(t.numel for t in self.tensors)


HeaderSteps = Generator[ByteRange, bytes, GgufHeader]


def parse_gguf_header(
    file_size: int,
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    first_read: int | None = None,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> HeaderSteps:
    """Parse a GGUF header, yielding each ``ByteRange`` it needs and receiving its bytes.

    ``first_read`` sizes the first request (a sibling file's header length makes one request
    enough). Later requests double, up to ``chunk_bytes``, and start small again after a skipped
    array, so the bytes read past the header stay below what was needed. The generator returns
    the ``GgufHeader``.

    Raises:
        GgufHeaderError: the bytes are not a well-formed GGUF header (the reason says which part).
    """
    if file_size < 24:
        raise GgufHeaderError(f"{file_size} bytes is too short for a GGUF header (24 bytes at least)")
    cursor = _Cursor(file_size, max(64, chunk_bytes), first_read, max_header_bytes)
    return (yield from _parse(cursor))


def parse_gguf_bytes(data: bytes, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> GgufHeader:
    """Parse a header from bytes already in memory (the start of a file, or all of it).

    Raises:
        GgufHeaderError: not a well-formed GGUF header, or ``data`` ends inside it.
    """
    steps = parse_gguf_header(len(data), chunk_bytes=chunk_bytes)
    try:
        wanted = next(steps)
        while True:
            wanted = steps.send(bytes(data[wanted.start : wanted.end]))
    except StopIteration as done:
        header: GgufHeader = done.value
        return header


class _Cursor:
    """A read position over a window of the file; asks for bytes it lacks."""

    def __init__(self, file_size: int, chunk: int, first_read: int | None, max_header: int) -> None:
        self.file_size = file_size
        self.max_header = max_header
        self.chunk = chunk
        self.next_read = first_read or min(FIRST_READ_BYTES, chunk)
        self.pos = 0
        self._base = 0
        self._buf = b""

    def need(self, count: int, what: str) -> Generator[ByteRange, bytes, None]:
        if count < 0 or self.pos + count > self.file_size:
            raise GgufHeaderError(
                f"{what} at byte {self.pos} runs past the end of the file ({self.file_size} bytes)"
            )
        if self.pos + count > self.max_header:
            raise GgufHeaderError(
                f"{what} at byte {self.pos} makes the header longer than {self.max_header:,} bytes"
            )
        have_end = self._base + len(self._buf)
        if self.pos + count <= have_end:
            return
        if self.pos >= have_end:  # stepped past the window: start a fresh one at pos
            if self.pos - have_end > FIRST_READ_BYTES:  # over a skipped array: what follows is unknown
                self.next_read = min(FIRST_READ_BYTES, self.chunk)
            self._base, self._buf = self.pos, b""
        else:
            self._buf, self._base = self._buf[self.pos - self._base :], self.pos
        while self._base + len(self._buf) < self.pos + count:
            start = self._base + len(self._buf)
            end = min(self.file_size, self.max_header, max(self.pos + count, start + self.next_read))
            self.next_read = min(self.chunk, 2 * (end - start))
            data = yield ByteRange(start, end)
            if len(data) != end - start:
                raise GgufHeaderError(f"asked for bytes {start}-{end}, got {len(data)} bytes")
            self._buf += data

    def take(self, count: int) -> bytes:
        at = self.pos - self._base
        self.pos += count
        return self._buf[at : at + count]

    def remaining(self) -> int:
        return self.file_size - self.pos


def _parse(cur: _Cursor) -> HeaderSteps:
    yield from cur.need(24, "the fixed header")
    magic = cur.take(4)
    if magic != MAGIC:
        raise GgufHeaderError(f"not a GGUF file: magic is {magic!r}, not {MAGIC!r}")
    version = _U32.unpack(cur.take(4))[0]
    if version not in SUPPORTED_VERSIONS:
        raise GgufHeaderError(f"GGUF version {version} is not supported (only 2 and 3)")
    tensor_count = _U64.unpack(cur.take(8))[0]
    kv_count = _U64.unpack(cur.take(8))[0]
    _bound_count(cur, kv_count, _MIN_KV_BYTES, "key/value count")
    kv_start = cur.pos
    metadata: list[tuple[str, MetadataValue]] = []
    seen: set[str] = set()
    for _ in range(kv_count):
        key = yield from _read_string(cur, MAX_KEY_BYTES, "metadata key")
        if key in seen:
            raise GgufHeaderError(f"metadata key {key!r} appears twice")
        seen.add(key)
        yield from cur.need(4, f"type of {key!r}")
        value_type = _U32.unpack(cur.take(4))[0]
        value = yield from _read_value(cur, value_type, key)
        metadata.append((key, value))
    kv_bytes = cur.pos - kv_start
    alignment = _alignment(dict(metadata).get("general.alignment", DEFAULT_ALIGNMENT))
    _bound_count(cur, tensor_count, _MIN_TENSOR_INFO_BYTES, "tensor count")
    tensors: list[GgufTensorInfo] = []
    names: set[str] = set()
    for _ in range(tensor_count):
        tensor = yield from _read_tensor_info(cur)
        if tensor.name in names:
            raise GgufHeaderError(f"tensor {tensor.name!r} appears twice")
        names.add(tensor.name)
        tensors.append(tensor)
    data_offset = -(-cur.pos // alignment) * alignment
    if data_offset > cur.max_header:
        raise GgufHeaderError(f"the header is {data_offset:,} bytes long, more than {cur.max_header:,}")
    _check_layout(tensors, alignment, data_offset, cur.file_size)
    return GgufHeader(
        version, tuple(metadata), tuple(tensors), alignment, data_offset, cur.file_size, kv_bytes
    )


def _bound_count(cur: _Cursor, count: int, min_bytes: int, what: str) -> None:
    if count * min_bytes > cur.remaining():
        raise GgufHeaderError(
            f"{what} {count} needs at least {count * min_bytes} bytes;"
            f" only {cur.remaining()} remain in the file"
        )


def _read_string(cur: _Cursor, limit: int, what: str) -> Generator[ByteRange, bytes, str]:
    yield from cur.need(8, f"length of {what}")
    length = _U64.unpack(cur.take(8))[0]
    if length > limit or length > cur.remaining():
        raise GgufHeaderError(
            f"{what} at byte {cur.pos - 8} claims {length} bytes (limit {min(limit, cur.remaining())})"
        )
    yield from cur.need(length, what)
    raw = cur.take(length)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GgufHeaderError(f"{what} at byte {cur.pos - length} is not UTF-8") from exc


def _read_value(cur: _Cursor, value_type: int, key: str) -> Generator[ByteRange, bytes, MetadataValue]:
    if value_type == GGUFValueType.ARRAY:
        return (yield from _read_array(cur, key))
    if value_type == GGUFValueType.STRING:
        start = cur.pos
        yield from cur.need(8, f"length of {key!r}")
        length = _U64.unpack(cur.take(8))[0]
        if length > cur.remaining():
            raise GgufHeaderError(f"string {key!r} claims {length} bytes; only {cur.remaining()} remain")
        if length > MAX_KEPT_STRING_BYTES:
            cur.pos += length
            return SkippedValue("STRING", 1, cur.pos - start)
        cur.pos = start
        return (yield from _read_string(cur, MAX_KEPT_STRING_BYTES, f"value of {key!r}"))
    scalar = _SCALARS.get(value_type)
    if scalar is None:
        raise GgufHeaderError(f"metadata {key!r} has unknown value type {value_type}")
    yield from cur.need(scalar.size, f"value of {key!r}")
    value: Scalar = scalar.unpack(cur.take(scalar.size))[0]
    return value


def _read_array(cur: _Cursor, key: str) -> Generator[ByteRange, bytes, MetadataValue]:
    start = cur.pos
    yield from cur.need(12, f"array header of {key!r}")
    item_type = _U32.unpack(cur.take(4))[0]
    count = _U64.unpack(cur.take(8))[0]
    if item_type == GGUFValueType.ARRAY:
        raise GgufHeaderError(f"metadata {key!r} is an array of arrays, which llama.cpp does not read")
    if item_type == GGUFValueType.STRING:
        _bound_count(cur, count, 8, f"array {key!r} length")
        if count > MAX_KEPT_ARRAY_ITEMS:
            for _ in range(count):  # each length must be read; the strings are stepped over
                yield from cur.need(8, f"a string in {key!r}")
                length = _U64.unpack(cur.take(8))[0]
                if length > cur.remaining():
                    raise GgufHeaderError(
                        f"a string in {key!r} claims {length} bytes; only {cur.remaining()} remain"
                    )
                cur.pos += length
            return SkippedValue("STRING", count, cur.pos - start)
        items = []
        for _ in range(count):
            items.append((yield from _read_string(cur, MAX_KEPT_STRING_BYTES, f"a string in {key!r}")))
        return tuple(items)
    scalar = _SCALARS.get(item_type)
    if scalar is None:
        raise GgufHeaderError(f"array {key!r} has unknown element type {item_type}")
    _bound_count(cur, count, scalar.size, f"array {key!r} length")
    if count > MAX_KEPT_ARRAY_ITEMS:
        cur.pos += count * scalar.size  # fixed width: skipped without reading
        return SkippedValue(GGUFValueType(item_type).name, count, cur.pos - start)
    yield from cur.need(count * scalar.size, f"array {key!r}")
    raw = cur.take(count * scalar.size)
    return tuple(v for (v,) in scalar.iter_unpack(raw))


def _alignment(value: MetadataValue | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0 or value & (value - 1):
        raise GgufHeaderError(f"general.alignment {value!r} is not a positive power of two")
    return value


def _read_tensor_info(cur: _Cursor) -> Generator[ByteRange, bytes, GgufTensorInfo]:
    name = yield from _read_string(cur, MAX_KEY_BYTES, "tensor name")
    yield from cur.need(4, f"dimensions of tensor {name!r}")
    n_dims = _U32.unpack(cur.take(4))[0]
    if not 1 <= n_dims <= MAX_DIMS:
        raise GgufHeaderError(f"tensor {name!r} has {n_dims} dimensions (1 to {MAX_DIMS} allowed)")
    yield from cur.need(8 * n_dims + 12, f"shape of tensor {name!r}")
    shape = tuple(_U64.unpack(cur.take(8))[0] for _ in range(n_dims))
    type_id = _U32.unpack(cur.take(4))[0]
    offset = _U64.unpack(cur.take(8))[0]
    try:
        ggml_type = GGMLQuantizationType(type_id).name
    except ValueError:
        raise GgufHeaderError(f"tensor {name!r} has unknown ggml type {type_id}") from None
    block = GGML_TYPES.get(ggml_type)
    if block is None:
        raise GgufHeaderError(f"tensor {name!r} has ggml type {ggml_type} with no known block size")
    numel = 1
    for dim in shape:
        numel *= dim
    if numel == 0 or numel >= 1 << 63 or shape[0] % block.block_elements:
        raise GgufHeaderError(f"tensor {name!r} shape {shape} is not whole {ggml_type} blocks")
    return GgufTensorInfo(name, ggml_type, shape, offset, numel // block.block_elements * block.block_bytes)


def _check_layout(tensors: list[GgufTensorInfo], alignment: int, data_offset: int, file_size: int) -> None:
    data_size = file_size - data_offset
    end = 0
    for tensor in sorted(tensors, key=lambda t: t.offset):
        if tensor.offset % alignment:
            raise GgufHeaderError(f"tensor {tensor.name!r} offset {tensor.offset} is not {alignment}-aligned")
        if tensor.offset < end:
            raise GgufHeaderError(
                f"tensor {tensor.name!r} at offset {tensor.offset} overlaps the one before it"
            )
        end = tensor.offset + tensor.size_bytes
        if end > data_size:
            raise GgufHeaderError(
                f"tensor {tensor.name!r} ends at data byte {end}, past the file's {data_size} data bytes"
            )
