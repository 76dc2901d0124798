"""Safetensors header and index parsing against independent header replicas."""

from __future__ import annotations

import json
import math
import string
import struct

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import estimator
from estimator import HeaderParseError, UnknownDtypeError
from tests.factories import (
    ANCHORS, DTYPE_BITS, INDEX_FILE, OTHER_LAYOUTS, QUANTIZED_VARIANTS, SINGLE_FILE, all_malformed,
    build_sharded, data_size, declared_file_size, file_prefix, header_json, header_tensors,
    index_json, make_header, numel, replica, shard_names,
)

PARSED = [*ANCHORS, *OTHER_LAYOUTS, *QUANTIZED_VARIANTS, "mistral-consolidated", "gated"]
SHARDED = [key for key in PARSED if replica(key).index is not None]
FIRST_WINDOW = 100_001  # huggingface_hub's first GET asks for bytes=0-100000
ERRORS = {"HeaderParseError": HeaderParseError, "UnknownDtypeError": UnknownDtypeError}


def fetch_like_hub(data: bytes) -> bytes:
    """The bytes a crawler holds after huggingface_hub's fetch: one 100 kB window, then
    ``bytes=8-{N+7}`` when the header is longer than the window."""
    first = data[:FIRST_WINDOW]
    length = estimator.parse_header_length(first)
    if 8 + length <= len(first):
        return first
    return first[:8] + data[8 : 8 + length]


def _as_triples(header: estimator.SafetensorsHeader) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(t.name, t.dtype, t.shape) for t in header.tensors]


# --- real checkpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", PARSED)
def test_replica_headers_parse_to_their_tensors(key, parsed_headers):
    """Every file of every replica parses to exactly the tensors, offsets and sizes it declares."""
    rep = replica(key)
    parsed = parsed_headers(key)
    assert set(parsed) == set(rep.files)
    for name, header in rep.files.items():
        result = parsed[name]
        assert sorted(_as_triples(result)) == sorted(header_tensors(header))
        assert result.header_size_bytes == len(header_json(header))
        assert result.data_size_bytes == data_size(header)
        offsets = {t.name: list(t.data_offsets) for t in result.tensors}
        assert offsets == {n: e["data_offsets"] for n, e in header.items() if n != "__metadata__"}
        assert dict(result.metadata) == {"format": "pt"}


@pytest.mark.parametrize("key", PARSED)
def test_parsed_sizes_match_dtype_widths(key, parsed_tensors):
    """numel and size_bytes of each parsed tensor equal prod(shape) and its dtype width × numel."""
    for tensor in parsed_tensors(key):
        assert tensor.numel == math.prod(tensor.shape)
        assert tensor.size_bytes == (math.prod(tensor.shape) * DTYPE_BITS[tensor.dtype] + 7) // 8


@pytest.mark.parametrize("key", PARSED)
def test_header_parser_agrees_with_file_parser(key, parsed_headers):
    """parse_safetensors_header on each file's JSON gives what parse_safetensors_file gives on its prefix."""
    for name, header in replica(key).files.items():
        prefix = file_prefix(header)
        assert estimator.parse_header_length(prefix) == len(header_json(header))
        from_json = estimator.parse_safetensors_header(header_json(header), file_size=declared_file_size(header))
        assert from_json == parsed_headers(key)[name]


def test_header_over_the_first_window_needs_the_second_fetch():
    """A ~400 kB single header is truncated in the first 100 kB window and whole after the second fetch."""
    header = replica("olmoe-single-file").files[SINGLE_FILE]
    prefix = file_prefix(header)
    assert len(prefix) > 4 * FIRST_WINDOW
    with pytest.raises(HeaderParseError, match="truncated"):
        estimator.parse_safetensors_file(prefix[:FIRST_WINDOW])
    parsed = estimator.parse_safetensors_file(fetch_like_hub(prefix), file_size=declared_file_size(header))
    assert len(parsed.tensors) == 16 * (64 * 3 + 9) + 3


def test_fp8_and_f32_raw_elements_of_deepseek_v3(parsed_tensors):
    """DeepSeek-V3's raw F8_E4M3 + BF16 + F32 element count is the Hub's 684,531,386,000."""
    tensors = parsed_tensors("deepseek-v3")
    assert sum(t.numel for t in tensors) == 684_531_386_000
    assert {t.dtype for t in tensors} == {"F8_E4M3", "F32", "BF16"}
    assert len({t.name for t in tensors}) == len(tensors) == 91_991


def test_naive_u8_count_of_gpt_oss_20b(parsed_tensors):
    """Counting gpt-oss-20b's stored elements naively (U8 blocks and scales as one each) gives 11,956,805,184."""
    assert sum(t.numel for t in parsed_tensors("gpt-oss-20b")) == 11_956_805_184


# --- shard indexes ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", SHARDED)
def test_index_names_every_tensor_and_its_shard(key):
    """The parsed index maps each tensor to the shard whose header holds it, and sums the data bytes."""
    rep = replica(key)
    index = estimator.parse_safetensors_index(index_json(rep.index))
    assert set(index.shards) == set(rep.files)
    where = {name: shard for shard, h in rep.files.items() for name, *_ in header_tensors(h)}
    assert dict(index.weight_map) == where
    assert index.total_size_bytes == sum(data_size(h) for h in rep.files.values())
    assert index.total_parameters is None
    counts = index.tensor_counts()
    assert {s: counts[s] for s in rep.files} == {s: len(header_tensors(h)) for s, h in rep.files.items()}


def test_index_total_parameters_is_read():
    """An index that carries metadata.total_parameters (transformers ≥ 4.53) reports it."""
    tensors = [(f"w{i}", "BF16", (8, 8)) for i in range(6)]
    _, index = build_sharded(tensors, shard_names(2), total_parameters=384)
    assert estimator.parse_safetensors_index(index_json(index)).total_parameters == 384


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"metadata": {}}', b'{"weight_map": {}}',
     b'{"weight_map": {"a": "model.bin"}}', b'{"weight_map": {"a": "sub/model.safetensors"}}',
     b'{"weight_map": {"a": 5}}'],
    ids=["not-json", "list", "no-weight-map", "empty-map", "not-safetensors", "subfolder", "not-a-name"],
)
def test_unusable_index_is_rejected(content):
    """An index that is not JSON, has no weight_map, or names unusable shards raises HeaderParseError."""
    with pytest.raises(HeaderParseError):
        estimator.parse_safetensors_index(content)


# --- which files count --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [("gpt-oss-20b", INDEX_FILE), ("mistral-consolidated", INDEX_FILE), ("deepseek-v3", INDEX_FILE),
     ("olmoe-single-file", SINGLE_FILE), ("bin-only", None), ("missing", None)],
)
def test_select_checkpoint_files_on_repo_listings(key, expected):
    """The counted file is the root index (or model.safetensors); original/, consolidated.* and .bin never count."""
    assert estimator.select_checkpoint_files(replica(key).file_names()) == expected


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["original/model.safetensors", "original/config.json", "config.json"], None),
        (["consolidated.safetensors", "params.json"], None),
        (["consolidated.safetensors", SINGLE_FILE], SINGLE_FILE),
        ([SINGLE_FILE, INDEX_FILE, "model-00001-of-00002.safetensors"], INDEX_FILE),
        (["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], None),
        (["original/model.safetensors.index.json", "original/model.safetensors"], None),
    ],
    ids=["original-only", "consolidated-only", "consolidated-beside-single", "index-wins",
         "shards-without-index", "index-in-subfolder"],
)
def test_select_checkpoint_files_ignores_copies(names, expected):
    """Only a root index or root model.safetensors is counted; copies and subfolders are not."""
    assert estimator.select_checkpoint_files(names) == expected


# --- malformed files ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in all_malformed()])
def test_malformed_header_raises_with_reason(case):
    """Each malformed file raises HeaderParseError (UnknownDtypeError for a bad dtype) naming the defect."""
    with pytest.raises(ERRORS[case.error]) as caught:
        estimator.parse_safetensors_file(case.content, file_size=case.file_size, filename="bad.safetensors")
    message = str(caught.value).lower()
    assert "bad.safetensors" in message
    for word in case.mentions:
        assert word.lower() in message, (word, message)
    assert caught.value.filename == "bad.safetensors"


def test_unknown_dtype_error_carries_dtype_and_tensor():
    """UnknownDtypeError says which dtype and which tensor, as attributes."""
    case = next(c for c in all_malformed() if c.name == "unknown_dtype")
    with pytest.raises(UnknownDtypeError) as caught:
        estimator.parse_safetensors_file(case.content)
    assert (caught.value.dtype, caught.value.tensor) == ("F7", "odd.weight")


def test_truncation_is_not_hidden_by_padding():
    """Cutting the padded prefix only inside its trailing spaces still counts as truncated."""
    header = make_header([("a.weight", "F32", (3,))])
    prefix = file_prefix(header)
    padding = len(header_json(header)) - len(header_json(header, pad=False))
    assert padding > 0
    with pytest.raises(HeaderParseError, match="truncated"):
        estimator.parse_safetensors_file(prefix[:-1])


# --- property tests -----------------------------------------------------------------------------

_NAMES = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=48).filter(
    lambda n: n != "__metadata__"
)
_TENSOR = st.tuples(_NAMES, st.sampled_from(sorted(DTYPE_BITS)),
                    st.lists(st.integers(0, 300), max_size=4).map(tuple))
_TENSORS = st.lists(_TENSOR, max_size=24, unique_by=lambda t: t[0])


@settings(max_examples=150, deadline=None)
@given(_TENSORS)
def test_parsed_numel_equals_sum_of_shape_products(tensors):
    """For any valid header, the parsed tensors' numel sum is the sum of the generated shapes' products."""
    header = make_header(tensors)
    parsed = estimator.parse_safetensors_file(file_prefix(header), file_size=declared_file_size(header))
    assert sum(t.numel for t in parsed.tensors) == sum(math.prod(s) for _, _, s in tensors)
    assert sorted(_as_triples(parsed)) == sorted(tensors)


def _header_of_length(tensors, length: int, spaces: int) -> bytes | None:
    """Header JSON of exactly ``length`` bytes: metadata filler, then ``spaces`` trailing spaces."""
    bare = header_json(make_header(tensors, {"format": "pt", "fill": ""}), pad=False)
    fill = length - spaces - len(bare)
    if fill < 0:
        return None
    body = header_json(make_header(tensors, {"format": "pt", "fill": "x" * fill}), pad=False) + b" " * spaces
    assert len(body) == length
    return body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _TENSORS,
    st.one_of(st.integers(FIRST_WINDOW - 8 - 24, FIRST_WINDOW - 8 + 24), st.integers(99_976, 100_024)),
    st.integers(0, 7),
)
def test_headers_either_side_of_the_first_window_parse_identically(tensors, length, spaces):
    """Headers just under and just over the 100 kB first fetch parse to the same tensors after the Hub-style fetch."""
    body = _header_of_length(tensors, length, spaces)
    assume(body is not None)
    prefix = struct.pack("<Q", len(body)) + body
    size = len(prefix) + sum((math.prod(s) * DTYPE_BITS[d] + 7) // 8 for _, d, s in tensors)
    fetched = fetch_like_hub(prefix)
    assert fetched == prefix
    parsed = estimator.parse_safetensors_file(fetched, file_size=size)
    assert parsed.header_size_bytes == length
    assert sorted(_as_triples(parsed)) == sorted(tensors)
    assert sum(t.numel for t in parsed.tensors) == sum(numel(s) for _, _, s in tensors)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_header_parse_error(data):
    """Arbitrary bytes either parse or raise HeaderParseError, never anything else."""
    for content in (data, struct.pack("<Q", len(data)) + data):
        try:
            estimator.parse_safetensors_file(content, file_size=len(content))
        except HeaderParseError:
            pass
    try:
        estimator.parse_safetensors_index(data)
    except HeaderParseError:
        pass


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from([*DTYPE_BITS, "F7", ""]) | _JSON,
        "shape": st.lists(st.integers(-2, 2**65), max_size=9) | _JSON,
        "data_offsets": st.lists(st.integers(-2, 2**65), max_size=3) | _JSON,
    },
) | _JSON


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _ENTRY, max_size=5), st.integers(0, 2**20))
def test_arbitrary_json_headers_raise_only_header_parse_error(entries, file_size):
    """Any JSON object as a header either parses or raises HeaderParseError, never a crash."""
    body = json.dumps(entries).encode()
    try:
        estimator.parse_safetensors_header(body, file_size=file_size)
    except HeaderParseError:
        pass


def test_header_object_validates_like_header_bytes():
    """A header decoded elsewhere (the Hub's one-call answer) passes the same checks as raw bytes."""
    good = {"a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}, "__metadata__": {"format": "pt"}}
    parsed = estimator.parse_header_object(good)
    assert [(t.name, t.numel) for t in parsed.tensors] == [("a", 6)]
    bad = {"a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 10]}}
    with pytest.raises(estimator.HeaderParseError, match="needs 12"):
        estimator.parse_header_object(bad)
    with pytest.raises(estimator.HeaderParseError, match="not an object"):
        estimator.parse_header_object([1, 2])
