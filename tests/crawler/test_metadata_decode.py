"""The one-call answer's typed decoder (msgspec) agrees with the dict path (json.loads + the
estimator's checks) on good headers and on every malformed class the factories build."""

from __future__ import annotations

import json
import struct

import pytest

from crawler._read import decode_sharded_metadata, parse_sharded_metadata
from estimator import HeaderParseError, UnknownDtypeError, parse_header_object, parse_tensor_entries
from tests.factories import all_malformed, replica
from tests.factories.headers import file_prefix


def _answer(headers: dict[str, object]) -> bytes:
    return json.dumps({"index": {"metadata": None}, "headers": headers}, separators=(",", ":")).encode()


def _header_json(content: bytes) -> object:
    """The JSON of a file's header, or None when the bytes hold no parseable JSON object."""
    if len(content) < 8:
        return None
    (length,) = struct.unpack("<Q", content[:8])
    try:
        return json.loads(content[8 : 8 + length])
    except (ValueError, RecursionError):
        return None


def _outcome(parse, body: bytes) -> object:
    try:
        return [(shard, header.tensors) for shard, header in parse(body)]
    except HeaderParseError as e:
        return type(e).__name__, str(e)


@pytest.mark.parametrize("key", ["qwen3-30b-a3b", "gpt-oss-20b", "llama-3.2-1b-tied"])
def test_good_headers_decode_to_the_same_tensors(key):
    """Real layouts: the same shards, tensors, dtypes, shapes and offsets either way."""
    rep = replica(key)
    body = _answer({name: json.loads(file_prefix(h)[8:]) for name, h in rep.files.items()})
    typed = _outcome(decode_sharded_metadata, body)
    assert typed == _outcome(lambda b: parse_sharded_metadata(json.loads(b)), body)
    assert sum(len(tensors) for _, tensors in typed) == sum(len(h) - ("__metadata__" in h) for h in (
        json.loads(file_prefix(h)[8:]) for h in rep.files.values()))


@pytest.mark.parametrize("case", [c for c in all_malformed() if isinstance(_header_json(c.content), dict)],
                         ids=lambda c: c.name)
def test_every_malformed_header_fails_with_the_dict_paths_message(case):
    """A malformed header raises the same error, word for word, as the dict path; none passes."""
    body = _answer({"model-00001-of-00001.safetensors": _header_json(case.content)})
    # Some cases are wrong only about the file (its size, its data): both paths then pass alike.
    assert _outcome(decode_sharded_metadata, body) == _outcome(lambda b: parse_sharded_metadata(json.loads(b)), body)


def test_an_answer_that_is_not_json_falls_back_to_ranged_reads():
    """Not JSON: None, so the crawler reads the shards instead of failing the repo."""
    assert decode_sharded_metadata(b"<html>busy</html>") is None


def test_an_answer_without_headers_is_a_header_parse_error():
    """No shard headers at all is the repo's problem, said as such."""
    with pytest.raises(HeaderParseError, match="no shard headers"):
        decode_sharded_metadata(_answer({}))


# Entries whose byte span fits their shape's product, so only the type and range checks catch them
_ODD = {
    "bool-dim": {"dtype": "F32", "shape": [True, 4], "data_offsets": [0, 16]},
    "bool-offset": {"dtype": "F32", "shape": [1], "data_offsets": [False, 4]},
    "float-dim": {"dtype": "F32", "shape": [1.0, 4], "data_offsets": [0, 16]},
    "rank-9": {"dtype": "U8", "shape": [1] * 9, "data_offsets": [0, 1]},
    "dim-2**63": {"dtype": "U8", "shape": [2**63, 0], "data_offsets": [0, 0]},
    "three-offsets": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 1]},
}


@pytest.mark.parametrize("name", list(_ODD))
def test_typed_decode_refuses_what_the_dict_path_refuses(name):
    """Bools, floats, ranks over 8 and counts past 2**63 fail the typed decode's own checks and
    take the dict path, which names the defect: the same error, word for word."""
    body = _answer({"model.safetensors": {"t": _ODD[name]}})
    typed = _outcome(decode_sharded_metadata, body)
    assert typed == _outcome(lambda b: parse_sharded_metadata(json.loads(b)), body)
    assert isinstance(typed, tuple)


class _Entry:
    """A tensor entry as an untyped decoder might give it: lists, any JSON type, None if absent."""

    def __init__(self, entry: dict) -> None:
        self.dtype, self.shape, self.data_offsets = (entry.get(k) for k in ("dtype", "shape", "data_offsets"))


def _entries_outcome(header: dict) -> object:
    try:
        return parse_tensor_entries([(name, _Entry(e)) for name, e in header.items()]).tensors
    except (HeaderParseError, UnknownDtypeError) as e:
        return type(e).__name__, str(e)


def _object_outcome(header: dict) -> object:
    try:
        return parse_header_object({k: v for k, v in header.items() if k != "__metadata__"}).tensors
    except (HeaderParseError, UnknownDtypeError) as e:
        return type(e).__name__, str(e)


def _entry_headers() -> list[tuple[str, dict]]:
    good = [(key, json.loads(file_prefix(h)[8:])) for key in ("qwen3-30b-a3b", "gpt-oss-20b")
            for h in replica(key).files.values()]
    bad = [(c.name, _header_json(c.content)) for c in all_malformed()]
    bad += [(name, {"t": entry}) for name, entry in _ODD.items()]
    tensor_like = {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}
    bad.append(("metadata-shaped-like-a-tensor", {"__metadata__": tensor_like, "t": tensor_like}))
    return good + [
        (name, h) for name, h in bad
        if isinstance(h, dict) and all(isinstance(e, dict) for k, e in h.items() if k != "__metadata__")
    ]


@pytest.mark.parametrize(("name", "header"), _entry_headers(), ids=lambda v: v if isinstance(v, str) else "")
def test_unchecked_entries_are_checked_as_the_dict_path_checks_them(name, header):
    """Entries no typed decoder checked (lists, bools, negative or huge numbers) pass or fail
    exactly as parse_header_object does, tensor for tensor and word for word."""
    assert _entries_outcome(header) == _object_outcome(header)
