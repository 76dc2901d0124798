"""The ranged GGUF header reader against llama.cpp's own gguf package, and against hostile files."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estimator import GgufHeaderError, SkippedValue, parse_gguf_bytes, parse_gguf_header
from tests.factories.gguf_files import (
    GgufSpec,
    dense_spec,
    gguf_bytes,
    gguf_split_bytes,
    raw_gguf,
    raw_kv,
    raw_string,
    raw_tensor_info,
    raw_u32_kv,
)

F32 = int(GGMLQuantizationType.F32)


def _reader(data: bytes, tmp_path: Path) -> GGUFReader:
    path = tmp_path / "reference.gguf"
    path.write_bytes(data)
    return GGUFReader(path)


def _assert_matches_reader(data: bytes, tmp_path: Path, *, chunk_bytes: int = 1 << 20) -> None:
    header = parse_gguf_bytes(data, chunk_bytes=chunk_bytes)
    reader = _reader(data, tmp_path)
    fields = {f.name: f for f in reader.fields.values() if not f.name.startswith("GGUF.")}
    assert [k for k, _ in header.metadata] == list(fields)
    for key, value in header.metadata:
        expected = fields[key].contents()
        if isinstance(value, SkippedValue):
            assert value.count == len(expected)
        elif isinstance(value, tuple):
            assert list(value) == pytest.approx(expected) if fields[key].types[-1] == GGUFValueType.FLOAT32 \
                else list(value) == expected
        elif isinstance(value, float):
            assert math.isclose(value, expected, rel_tol=1e-7)
        else:
            assert value == expected
    assert header.alignment == reader.alignment
    got = [(t.name, t.ggml_type, t.shape, header.data_offset + t.offset, t.size_bytes) for t in header.tensors]
    want = [(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape), t.data_offset, t.n_bytes)
            for t in reader.tensors]
    assert got == want


def test_small_model_matches_the_package_reader(tmp_path: Path) -> None:
    """Every key, value and tensor info agrees with gguf.GGUFReader on a GGUFWriter file."""
    _assert_matches_reader(gguf_bytes(dense_spec()), tmp_path)


def test_large_vocabulary_is_skipped_and_matches(tmp_path: Path) -> None:
    """A 40k-token vocabulary is counted, not kept, and the tensors still match the reader."""
    data = gguf_bytes(dense_spec(tokens=40_000))
    header = parse_gguf_bytes(data, chunk_bytes=64 * 1024)
    tokens = header.get("tokenizer.ggml.tokens")
    assert isinstance(tokens, SkippedValue) and tokens.count == 40_000
    _assert_matches_reader(data, tmp_path, chunk_bytes=64 * 1024)


def test_fixed_width_arrays_are_never_fetched() -> None:
    """Scores and token types (fixed width) are stepped over: the bytes asked for are fewer than the header."""
    data = gguf_bytes(dense_spec(tokens=150_000))
    steps = parse_gguf_header(len(data), chunk_bytes=16 * 1024)
    asked = 0
    wanted = next(steps)
    try:
        while True:
            asked += wanted.length
            wanted = steps.send(data[wanted.start:wanted.end])
    except StopIteration as done:
        header = done.value
    skipped_fixed = sum(v.size_bytes for _, v in header.metadata
                        if isinstance(v, SkippedValue) and v.value_type != "STRING")
    assert skipped_fixed > 150_000 * 4
    # each of the three windows (before, between and after the skipped arrays) may over-read one chunk
    assert asked <= header.data_offset - skipped_fixed + 3 * 16 * 1024


def test_a_sibling_header_length_makes_one_request() -> None:
    """Given a first_read as long as the header, the parser asks for exactly one range."""
    data = gguf_bytes(dense_spec(tokens=20_000))
    first = parse_gguf_bytes(data)
    steps = parse_gguf_header(len(data), first_read=first.data_offset)
    wanted = next(steps)
    with pytest.raises(StopIteration) as done:
        steps.send(data[wanted.start:wanted.end])
    assert done.value.value == first


def test_split_files_each_parse_and_sum_to_the_whole(tmp_path: Path) -> None:
    """Each shard of a split file is a GGUF of its own; their tensors add up to the unsplit file's."""
    spec = dense_spec(layers=3)
    shards = gguf_split_bytes(spec, "tiny-Q4_K_M", 10)
    assert len(shards) > 1
    headers = [parse_gguf_bytes(b) for b in shards.values()]
    assert [h.get("split.no") for h in headers] == list(range(len(shards)))
    assert sum(h.tensor_bytes for h in headers) == parse_gguf_bytes(gguf_bytes(spec)).tensor_bytes
    for data in shards.values():
        _assert_matches_reader(data, tmp_path)


def test_tensor_bytes_equal_the_data_section() -> None:
    """Tensor sizes plus alignment padding fill the data section exactly."""
    data = gguf_bytes(dense_spec())
    header = parse_gguf_bytes(data)
    last = max(header.tensors, key=lambda t: t.offset)
    assert header.data_offset + last.offset + last.size_bytes == len(data)
    assert header.total_params == sum(t.numel for t in header.tensors)


_scalar = st.one_of(
    st.integers(0, (1 << 32) - 1),
    st.booleans(),
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
_array = st.one_of(
    st.lists(st.integers(0, 1000), min_size=1, max_size=50),
    st.lists(st.text(max_size=10), min_size=1, max_size=50),
)
_metadata = st.dictionaries(st.from_regex(r"[a-z]{1,8}\.[a-z_]{1,12}", fullmatch=True),
                            st.one_of(_scalar, _array), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=_metadata, chunk=st.integers(64, 4096))
def test_any_writer_metadata_matches_the_reader(metadata: dict[str, object], chunk: int, tmp_path: Path) -> None:
    """Whatever metadata GGUFWriter writes, read in any chunk size, equals what GGUFReader reads."""
    metadata.pop("general.architecture", None)
    metadata.pop("general.alignment", None)
    items = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in metadata.items())
    spec = GgufSpec("llama", items, (("output.weight", "Q4_K", (256, 4)),))
    _assert_matches_reader(gguf_bytes(spec), tmp_path, chunk_bytes=chunk)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_corrupted_bytes_parse_or_fail_cleanly(data: st.DataObject) -> None:
    """Any flipped bytes or truncation give a header or a GgufHeaderError, nothing else."""
    original = bytearray(gguf_bytes(dense_spec(layers=1)))
    cut = data.draw(st.integers(0, len(original)))
    for _ in range(data.draw(st.integers(0, 6))):
        at = data.draw(st.integers(0, max(0, len(original) - 1)))
        original[at] = data.draw(st.integers(0, 255))
    try:
        parse_gguf_bytes(bytes(original[:cut]), chunk_bytes=512)
    except GgufHeaderError:
        pass


_GOOD_TENSOR = raw_tensor_info("w", (32,), F32, 0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(raw_gguf(magic=b"GGML"), "magic", id="bad-magic"),
        pytest.param(raw_gguf(version=1), "version 1", id="version-1"),
        pytest.param(raw_gguf(version=4), "version 4", id="unknown-version"),
        pytest.param(raw_gguf(kv_count=1 << 40), "key/value count", id="kv-count-past-eof"),
        pytest.param(raw_gguf(tensor_count=1 << 62), "tensor count", id="tensor-count-past-eof"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.STRING, raw_string("x", length=1 << 63))]),
                     "claims", id="string-length-2^63"),
        pytest.param(raw_gguf(kvs=[raw_string("k", length=1 << 63)]), "claims", id="key-length-2^63"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.ARRAY, struct.pack("<IQ", 9, 1))]),
                     "array of arrays", id="nested-array"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", 13, b"\0" * 8)]), "unknown value type", id="unknown-value-type"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.ARRAY, struct.pack("<IQ", 77, 1))]),
                     "unknown element type", id="unknown-array-type"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.ARRAY, struct.pack("<IQ", 4, 1 << 61))]),
                     "length", id="array-count-past-eof"),
        pytest.param(raw_gguf(kvs=[raw_u32_kv("a.b", 1), raw_u32_kv("a.b", 2)]), "twice", id="duplicate-key"),
        pytest.param(raw_gguf(kvs=[raw_u32_kv("general.alignment", 48)]), "power of two", id="bad-alignment"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (32,), 99, 0)]), "unknown ggml type",
                     id="unknown-ggml-type"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (1,) * 5, F32, 0)]), "dimensions",
                     id="five-dimensions"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (1 << 40, 1 << 40), F32, 0)]), "blocks",
                     id="element-count-overflow"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (30,), int(GGMLQuantizationType.Q8_0), 0)]),
                     "blocks", id="partial-block"),
        pytest.param(raw_gguf(tensor_infos=[_GOOD_TENSOR, raw_tensor_info("v", (32,), F32, 64)], data_bytes=256),
                     "overlaps", id="overlapping-offsets"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (32,), F32, 8)]), "aligned", id="misaligned"),
        pytest.param(raw_gguf(tensor_infos=[raw_tensor_info("w", (1024,), F32, 0)]), "past the file",
                     id="tensor-past-eof"),
        pytest.param(raw_gguf(tensor_infos=[_GOOD_TENSOR, _GOOD_TENSOR]), "twice", id="duplicate-tensor"),
        pytest.param(raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.STRING, raw_string("x")[:-1] + b"\xff")]),
                     "UTF-8", id="bad-utf8"),
        pytest.param(b"GGUF\x03\0\0\0", "too short", id="truncated"),
    ],
)
def test_hostile_files_fail_with_a_reason(data: bytes, reason: str) -> None:
    """Each hostile header fails with a GgufHeaderError naming what is wrong."""
    with pytest.raises(GgufHeaderError, match=reason):
        parse_gguf_bytes(data)


def test_a_header_longer_than_the_cap_fails_before_it_is_downloaded() -> None:
    """Millions of empty strings in a huge file stop at the header cap, having asked for at most that much."""
    cap = 1 << 20  # the default is 128 MiB; the rule is the same
    count = 2 * cap // 8
    head = raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.ARRAY, struct.pack("<IQ", GGUFValueType.STRING, count))],
                    data_bytes=0)
    size = 4 * cap
    steps = parse_gguf_header(size, max_header_bytes=cap)
    asked = 0
    wanted = next(steps)
    with pytest.raises(GgufHeaderError, match="longer than"):
        while True:
            asked += wanted.length
            data = head[wanted.start:wanted.end]
            wanted = steps.send(data + b"\0" * (wanted.length - len(data)))
    assert asked <= cap


def test_the_package_reader_rejects_what_we_reject(tmp_path: Path) -> None:
    """The reference reader also refuses a bad magic, so our refusal is not stricter than llama.cpp's."""
    with pytest.raises(ValueError):
        _reader(raw_gguf(magic=b"GGML"), tmp_path)
