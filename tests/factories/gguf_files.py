"""Real GGUF files written by llama.cpp's own ``gguf.GGUFWriter``, and hand-made hostile ones.

Nothing here imports ``estimator``: these files are the oracle for its GGUF reader.
Shapes are given in ggml order (``ne[0]``, the row length, first), as GGUF stores them.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType, GGUFWriter

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GgufSpec:
    """What to write: architecture, metadata and tensors (name, ggml type name, ggml shape)."""

    arch: str
    metadata: tuple[tuple[str, Any], ...]
    tensors: tuple[tuple[str, str, Shape], ...]
    vocab: int = 0  # tokenizer.ggml.tokens/scores/token_type of this length


def tensor_nbytes(type_name: str, shape: Shape) -> int:
    """Bytes of a tensor by the package's own block table."""
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[type_name]]
    numel = int(np.prod(shape))
    return numel // block * size


def write_gguf(spec: GgufSpec, directory: Path, stem: str, *, split_max_tensors: int = 0) -> list[Path]:
    """Write ``spec`` with ``GGUFWriter`` (split into shards if asked); returns the paths written."""
    path = directory / f"{stem}.gguf"
    writer = GGUFWriter(path, spec.arch, split_max_tensors=split_max_tensors)
    for key, value in spec.metadata:
        _add(writer, key, value)
    if spec.vocab:
        writer.add_token_list([f"tok{i}" for i in range(spec.vocab)])
        writer.add_token_scores([float(i % 7) for i in range(spec.vocab)])
        writer.add_token_types([1] * spec.vocab)
    for name, type_name, shape in spec.tensors:
        kind = GGMLQuantizationType[type_name]
        if kind == GGMLQuantizationType.F32:
            writer.add_tensor(name, np.zeros(tuple(reversed(shape)), dtype=np.float32))
        else:
            row_bytes = tensor_nbytes(type_name, (shape[0],))
            byte_shape = (*reversed(shape[1:]), row_bytes)
            writer.add_tensor(name, np.zeros(byte_shape, dtype=np.uint8), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return sorted(directory.glob(f"{stem}*.gguf"))


def _add(writer: GGUFWriter, key: str, value: Any) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_uint32(key, value) if 0 <= value < 1 << 32 else writer.add_int64(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    elif isinstance(value, str):
        writer.add_string(key, value)
    else:
        writer.add_array(key, list(value))


def gguf_bytes(spec: GgufSpec) -> bytes:
    """The bytes of ``spec`` written as one file."""
    return _cached_bytes(spec)


@lru_cache(maxsize=64)
def _cached_bytes(spec: GgufSpec) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = write_gguf(spec, Path(tmp), "model")
        return path.read_bytes()


def gguf_split_bytes(spec: GgufSpec, stem: str, shards_of: int) -> dict[str, bytes]:
    """``spec`` written as split files of ``shards_of`` tensors each: {file name: bytes}."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_gguf(spec, Path(tmp), stem, split_max_tensors=shards_of)
        return {p.name: p.read_bytes() for p in paths}


def dense_spec(*, layers: int = 2, hidden: int = 256, ffn: int = 512, vocab: int = 1024, heads: int = 8,
               kv_heads: int = 2, quant: str = "Q4_K", tokens: int = 0, arch: str = "llama", tied: bool = False,
               extra: Mapping[str, Any] | None = None,
               extra_tensors: Sequence[tuple[str, str, Shape]] = ()) -> GgufSpec:
    """A small llama-style model; ``quant`` types its attention and FFN matrices, ``tokens`` sizes its tokenizer."""
    head_dim = hidden // heads
    tensors: list[tuple[str, str, Shape]] = [("token_embd.weight", "Q8_0", (hidden, vocab))]
    for i in range(layers):
        tensors += [
            (f"blk.{i}.attn_norm.weight", "F32", (hidden,)),
            (f"blk.{i}.attn_q.weight", quant, (hidden, hidden)),
            (f"blk.{i}.attn_k.weight", quant, (hidden, kv_heads * head_dim)),
            (f"blk.{i}.attn_v.weight", "Q6_K", (hidden, kv_heads * head_dim)),
            (f"blk.{i}.attn_output.weight", quant, (hidden, hidden)),
            (f"blk.{i}.ffn_norm.weight", "F32", (hidden,)),
            (f"blk.{i}.ffn_gate.weight", quant, (hidden, ffn)),
            (f"blk.{i}.ffn_up.weight", quant, (hidden, ffn)),
            (f"blk.{i}.ffn_down.weight", "Q6_K", (ffn, hidden)),
        ]
    tensors += [("output_norm.weight", "F32", (hidden,)), *extra_tensors]
    if not tied:
        tensors.append(("output.weight", "Q6_K", (hidden, vocab)))
    metadata = {
        "general.name": "Tiny",
        "general.file_type": 15,
        "general.base_model.count": 1,
        "general.base_model.0.name": "Tiny Base",
        "general.base_model.0.organization": "Zoo",
        "general.base_model.0.repo_url": "https://huggingface.co/zoo/tiny",
        f"{arch}.block_count": layers,
        f"{arch}.context_length": 4096,
        f"{arch}.embedding_length": hidden,
        f"{arch}.feed_forward_length": ffn,
        f"{arch}.attention.head_count": heads,
        f"{arch}.attention.head_count_kv": kv_heads,
        f"{arch}.attention.layer_norm_rms_epsilon": 1e-5,
        **(extra or {}),
    }
    return GgufSpec(arch, tuple(metadata.items()), tuple(tensors), tokens)


def raw_gguf(*, magic: bytes = b"GGUF", version: int = 3, kvs: Sequence[bytes] = (),
             tensor_infos: Sequence[bytes] = (), kv_count: int | None = None,
             tensor_count: int | None = None, data_bytes: int = 64, alignment: int = 32) -> bytes:
    """A GGUF file assembled field by field, so that any field can lie."""
    head = magic + struct.pack("<IQQ", version, len(tensor_infos) if tensor_count is None else tensor_count,
                               len(kvs) if kv_count is None else kv_count)
    body = head + b"".join(kvs) + b"".join(tensor_infos)
    body += b"\0" * (-len(body) % alignment)
    return body + b"\0" * data_bytes


def raw_string(text: str, *, length: int | None = None) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data) if length is None else length) + data


def raw_kv(key: str, value_type: int, payload: bytes) -> bytes:
    """One key/value: key, uint32 type, then ``payload`` as already encoded."""
    return raw_string(key) + struct.pack("<I", value_type) + payload


def raw_u32_kv(key: str, value: int) -> bytes:
    return raw_kv(key, GGUFValueType.UINT32, struct.pack("<I", value))


def raw_tensor_info(name: str, shape: Shape, type_id: int, offset: int) -> bytes:
    return raw_string(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape) + \
        struct.pack("<IQ", type_id, offset)
