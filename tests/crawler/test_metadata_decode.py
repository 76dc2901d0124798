"""The one-call answer's typed decoder (msgspec) agrees with the dict path (json.loads + the
estimator's checks) on good headers and on every malformed class the factories build."""

from __future__ import annotations

import json
import struct

import pytest

from crawler._read import decode_sharded_metadata, parse_sharded_metadata
from estimator import HeaderParseError
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
