"""Malformed safetensors files, one builder per defect, each with the error a parser must raise.

Every case is the first bytes of a file plus the file size a server would declare.
``error`` names the estimator exception class expected (``HeaderParseError`` or its
subclass ``UnknownDtypeError``) as a string, so this module stays independent of the
estimator; ``mentions`` are words a useful message has to contain (case-insensitive).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from .headers import declared_file_size, file_prefix, header_json, make_header

HEADER_PARSE_ERROR = "HeaderParseError"
UNKNOWN_DTYPE_ERROR = "UnknownDtypeError"
DEEP = 100_000


@dataclass(frozen=True)
class Malformed:
    """A broken file's first bytes, its declared size, and what parsing it must raise."""

    name: str
    content: bytes
    file_size: int | None
    error: str = HEADER_PARSE_ERROR
    mentions: tuple[str, ...] = ()


def _small_header() -> dict:
    return make_header([
        ("model.embed_tokens.weight", "BF16", (256, 64)),
        ("model.layers.0.self_attn.q_proj.weight", "BF16", (64, 64)),
        ("model.norm.weight", "BF16", (64,)),
        ("lm_head.weight", "BF16", (256, 64)),
    ])


def _raw(body: bytes, *, file_size: int | None = None) -> tuple[bytes, int]:
    """Length prefix + body exactly as given (no padding), and a size that fits it."""
    content = struct.pack("<Q", len(body)) + body
    return content, file_size if file_size is not None else len(content)


def _entries(entries: dict) -> bytes:
    return json.dumps({"__metadata__": {"format": "pt"}, **entries}, separators=(",", ":")).encode()


def declared_length_too_large() -> Malformed:
    """A length prefix of 100,000,001 bytes: over the 100 MB limit, never a real header."""
    content = struct.pack("<Q", 100_000_001) + b'{"__metadata__":{}}'
    return Malformed("declared_length_too_large", content, 100_000_001 + 8, mentions=("length",))


def truncated_header() -> Malformed:
    """The length prefix promises more JSON than arrived, and the cut falls inside the JSON
    itself (past the padding), so no amount of trailing spaces could hide it."""
    header = _small_header()
    full = file_prefix(header)
    body = header_json(header, pad=False)
    cut = 8 + len(body) - 20  # 20 bytes into the real JSON, beyond any space padding
    return Malformed("truncated_header", full[:cut], declared_file_size(header), mentions=("truncat",))


def truncated_json_consistent_length() -> Malformed:
    """A header cut in half whose length prefix was rewritten to match: the JSON is unterminated."""
    body = header_json(_small_header(), pad=False)
    content, size = _raw(body[: len(body) // 2])
    return Malformed("truncated_json_consistent_length", content, size, mentions=("json",))


def not_json() -> Malformed:
    """Header bytes that are not JSON at all."""
    content, size = _raw(b"this is not json: {dtype: F32, shape: [1]}")
    return Malformed("not_json", content, size, mentions=("json",))


def not_utf8() -> Malformed:
    """Header bytes that are not UTF-8."""
    content, size = _raw(b'{"\xff\xfe":1}')
    return Malformed("not_utf8", content, size, mentions=("utf",))


def json_list() -> Malformed:
    """Valid JSON of the wrong type: a list, not an object."""
    content, size = _raw(b'[{"dtype":"F32","shape":[1],"data_offsets":[0,4]}]')
    return Malformed("json_list", content, size, mentions=("list",))


def missing_keys() -> Malformed:
    """A tensor entry without ``data_offsets``."""
    body = _entries({"lm_head.weight": {"dtype": "F32", "shape": [2, 2]}})
    content, size = _raw(body)
    return Malformed("missing_keys", content, size, mentions=("lm_head.weight", "data_offsets"))


def end_before_start() -> Malformed:
    """``data_offsets`` with end < start."""
    body = _entries({"a.weight": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})
    content, size = _raw(body, file_size=8 + len(body) + 8)
    return Malformed("end_before_start", content, size, mentions=("a.weight",))


def overlapping_offsets() -> Malformed:
    """Two tensors whose byte spans overlap."""
    body = _entries({
        "a.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b.weight": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    })
    content, size = _raw(body, file_size=8 + len(body) + 12)
    return Malformed("overlapping_offsets", content, size, mentions=("b.weight", "overlap"))


def gap_in_offsets() -> Malformed:
    """A gap of unused bytes between two tensors."""
    body = _entries({
        "a.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b.weight": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]},
    })
    content, size = _raw(body, file_size=8 + len(body) + 24)
    return Malformed("gap_in_offsets", content, size, mentions=("b.weight", "gap"))


def offsets_past_file_end() -> Malformed:
    """A valid header whose data would end past the file size the server declares."""
    header = _small_header()
    content = file_prefix(header)
    return Malformed("offsets_past_file_end", content, declared_file_size(header) - 1024,
                     mentions=("file",))


def span_does_not_match_shape() -> Malformed:
    """A byte span that is not dtype width × elements (F32 [2] needs 8 bytes, not 6)."""
    body = _entries({"a.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 6]}})
    content, size = _raw(body, file_size=8 + len(body) + 6)
    return Malformed("span_does_not_match_shape", content, size, mentions=("a.weight",))


def shape_overflow() -> Malformed:
    """A shape whose product (2**80 elements) overflows any 64-bit size."""
    body = _entries({"huge.weight": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 4]}})
    content, size = _raw(body, file_size=8 + len(body) + 4)
    return Malformed("shape_overflow", content, size, mentions=("huge.weight",))


def negative_dimension() -> Malformed:
    """A negative dimension in a shape."""
    body = _entries({"neg.weight": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}})
    content, size = _raw(body, file_size=8 + len(body) + 8)
    return Malformed("negative_dimension", content, size, mentions=("neg.weight",))


def unknown_dtype() -> Malformed:
    """A dtype safetensors does not define ("F7")."""
    body = _entries({"odd.weight": {"dtype": "F7", "shape": [2], "data_offsets": [0, 2]}})
    content, size = _raw(body, file_size=8 + len(body) + 2)
    return Malformed("unknown_dtype", content, size, UNKNOWN_DTYPE_ERROR, ("F7", "odd.weight"))


def deep_metadata() -> Malformed:
    """A metadata value nested 100,000 lists deep (a recursion bomb)."""
    bomb = b"[" * DEEP + b"]" * DEEP
    content, size = _raw(b'{"__metadata__":{"x":' + bomb + b"}}")
    return Malformed("deep_metadata", content, size, mentions=("deep",))


def deep_top_level() -> Malformed:
    """A header that is nothing but 100,000 nested lists."""
    content, size = _raw(b"[" * DEEP + b"]" * DEEP)
    return Malformed("deep_top_level", content, size, mentions=("deep",))


def huge_integer_literal() -> Malformed:
    """A 5,000-digit integer in a shape: Python's int parser refuses it (ValueError, not JSONDecodeError)."""
    digits = b"9" * 5000
    body = b'{"a.weight":{"dtype":"F32","shape":[' + digits + b'],"data_offsets":[0,4]}}'
    content, size = _raw(body)
    return Malformed("huge_integer_literal", content, size, mentions=("json",))


def too_short_for_length() -> Malformed:
    """A file of 5 bytes: not even the 8-byte length prefix."""
    return Malformed("too_short_for_length", b"\x10\x00\x00\x00\x00", 5, mentions=("short",))


ALL = (
    declared_length_too_large, truncated_header, truncated_json_consistent_length, not_json,
    not_utf8, json_list, missing_keys, end_before_start, overlapping_offsets, gap_in_offsets,
    offsets_past_file_end, span_does_not_match_shape, shape_overflow, negative_dimension,
    unknown_dtype, deep_metadata, deep_top_level, huge_integer_literal, too_short_for_length,
)


def all_malformed() -> list[Malformed]:
    """One instance of every malformed case."""
    return [build() for build in ALL]
