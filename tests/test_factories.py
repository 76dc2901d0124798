"""The header replicas themselves: byte-identical to the safetensors writer, and faithful to published counts.

These checks use no estimator code, so a failure here is a factory bug, never an estimator one.
"""

from __future__ import annotations

import ctypes
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import TensorSpec, deserialize, serialize

from tests.factories import (
    ANCHORS, INDEX_FILE, OTHER_LAYOUTS, QUANTIZED_VARIANTS, REPO_SHAPES, SINGLE_FILE, TINYLLAMA_TOTAL,
    all_malformed, data_size, declared_file_size, file_prefix, header_json, header_tensors, make_header,
    nbytes, numel, replica, replica_from_config, shard_names, small_deepseek_config, small_dense_config,
    small_moe_config, split_into_shards,
)

TORCH_NAMES = {
    "BOOL": "bool", "U8": "uint8", "I8": "int8", "F8_E5M2": "float8_e5m2", "F8_E4M3": "float8_e4m3fn",
    "F8_E8M0": "float8_e8m0fnu", "I16": "int16", "U16": "uint16", "F16": "float16", "BF16": "bfloat16",
    "I32": "int32", "U32": "uint32", "F32": "float32", "C64": "complex64", "F64": "float64",
    "I64": "int64", "U64": "uint64",
}
EVERY_FILE_KEY = [*ANCHORS, *QUANTIZED_VARIANTS, *OTHER_LAYOUTS, "mistral-consolidated", "gated"]


def _real_safetensors_prefix(tensors) -> bytes:
    """What the safetensors library itself writes before the data, for zero-filled tensors."""
    buffers, specs = [], {}
    for name, dtype, shape in tensors:
        size = nbytes(dtype, shape)
        buffer = ctypes.create_string_buffer(max(size, 1))
        buffers.append(buffer)
        specs[name] = TensorSpec(dtype=TORCH_NAMES[dtype], shape=list(shape),
                                 data_ptr=ctypes.addressof(buffer), data_len=size)
    out = bytes(serialize(specs, metadata={"format": "pt"}))
    (length,) = struct.unpack("<Q", out[:8])
    return out[: 8 + length]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text("abcxyz._0123456789", min_size=1, max_size=12), st.sampled_from(sorted(TORCH_NAMES)),
                          st.lists(st.integers(0, 6), max_size=3).map(tuple)),
                max_size=12, unique_by=lambda t: t[0]))
def test_headers_are_byte_identical_to_the_safetensors_writer(tensors):
    """make_header + file_prefix produce exactly the bytes safetensors.serialize writes (order, offsets, padding)."""
    assert file_prefix(make_header(tensors)) == _real_safetensors_prefix(tensors)


def test_safetensors_reads_a_replica_file_back():
    """A small replica, completed with zero data, deserialises with the safetensors library to its tensors."""
    header = replica("gated").files[SINGLE_FILE]
    content = file_prefix(header) + bytes(data_size(header))
    read = {name: (info["dtype"], tuple(info["shape"])) for name, info in deserialize(content)}
    assert read == {n: (d, s) for n, d, s in header_tensors(header)}


@pytest.mark.parametrize("key", EVERY_FILE_KEY)
def test_every_file_is_a_valid_layout(key):
    """Offsets run contiguously from 0, each span is dtype width × elements, JSON is padded to 8 bytes."""
    for name, header in replica(key).files.items():
        position = 0
        for tensor, entry in header.items():
            if tensor == "__metadata__":
                continue
            start, end = entry["data_offsets"]
            assert start == position, (name, tensor)
            assert end - start == nbytes(entry["dtype"], entry["shape"]), (name, tensor)
            position = end
        assert len(header_json(header)) % 8 == 0
        assert declared_file_size(header) == 8 + len(header_json(header)) + position


@pytest.mark.parametrize(
    ("key", "total", "active"),
    [("llama-3.1-8b", 8_030_261_248, None), ("qwen2.5-32b-instruct", 32_763_876_352, None),
     ("mixtral-8x7b", 46_702_792_704, 12_748_853_248), ("qwen3-30b-a3b", 30_532_122_624, 3_041_867_776),
     ("deepseek-v3", 684_489_845_504, 36_625_618_432), ("gpt-oss-20b", 20_914_757_184, 3_608_307_264),
     ("qwen1.5-moe-a2.7b", 14_315_784_192, None), ("llama-3.2-1b-tied", 1_235_814_400, None),
     ("olmoe-single-file", 6_919_161_856, None), ("gemma3-4b-multimodal", 4_300_079_472, None),
     ("mistral-consolidated", 7_248_023_552, None), ("gptq-4bit", TINYLLAMA_TOTAL, None)],
)
def test_replicas_reproduce_published_counts(key, total, active):
    """Each replica's logical tensors add up to the published total (and active count, where published)."""
    rep = replica(key)
    assert rep.logical.total == rep.expected_total == total
    if active is not None:
        assert rep.logical.active == rep.expected_active == active


def test_deepseek_v3_replica_shape():
    """DeepSeek-V3: 163 shards named -of-000163, 91,991 tensors, raw elements 684,531,386,000, MTP 13,463,426,304."""
    rep = replica("deepseek-v3")
    assert list(rep.files)[0] == "model-00001-of-000163.safetensors" and len(rep.files) == 163
    tensors = rep.tensors()
    assert len(tensors) == 91_991
    assert sum(numel(s) for _, _, s in tensors) == 684_531_386_000
    assert rep.logical.components()["mtp"] == 13_463_426_304
    scales = [t for t in tensors if t[0].endswith("weight_scale_inv")]
    assert all(d == "F32" for _, d, _ in scales)
    assert not any(n.startswith(("model.embed_tokens", "lm_head")) or ".gate." in n or "norm" in n
                   for n, _, _ in scales)
    assert "model.layers.61.eh_proj.weight_scale_inv" not in {n for n, _, _ in scales}


def test_gpt_oss_replica_shape():
    """gpt-oss-20b: shards 00000..00002 of 00002, MXFP4 blocks [E, 2I, H/32, 16], an original/ copy."""
    rep = replica("gpt-oss-20b")
    assert list(rep.files) == [f"model-0000{i}-of-00002.safetensors" for i in range(3)]
    shapes = {n: s for n, _, s in rep.tensors()}
    assert shapes["model.layers.0.mlp.experts.gate_up_proj_blocks"] == (32, 5760, 90, 16)
    assert shapes["model.layers.0.mlp.experts.gate_up_proj_scales"] == (32, 5760, 90)
    assert shapes["model.layers.0.mlp.experts.gate_up_proj_bias"] == (32, 5760)
    assert sum(numel(s) for _, _, s in rep.tensors()) == 11_956_805_184
    original = header_tensors(rep.extra_files["original/model.safetensors"])
    assert sum(numel(s) for _, _, s in original) == 11_956_805_184
    assert "original/config.json" in rep.file_names()


def test_index_lists_every_tensor_sorted():
    """Indexes map every tensor to its shard, sorted by name as transformers writes them, with total_size."""
    rep = replica("mixtral-8x7b")
    weight_map = rep.index["weight_map"]
    assert list(weight_map) == sorted(weight_map)
    assert len(weight_map) == len(rep.tensors())
    assert rep.index["metadata"]["total_size"] == sum(data_size(h) for h in rep.files.values())


def test_split_into_shards_keeps_order_and_count():
    """Sharding keeps state-dict order and gives exactly the requested number of non-empty shards."""
    tensors = [(f"t{i}", "BF16", (i + 1, 16)) for i in range(40)]
    shards = split_into_shards(tensors, 7)
    assert len(shards) == 7 and all(shards)
    assert [t for shard in shards for t in shard] == tensors
    assert shard_names(2, zero_based=True) == ["model-00000-of-00001.safetensors", "model-00001-of-00001.safetensors"]


def test_file_image_serves_prefix_zeros_and_payloads():
    """A FileImage returns the real prefix, zero data, and the payload bytes where their tensor sits."""
    rep = replica("bnb-nf4")
    image = rep.repo_files()[SINGLE_FILE]
    header = rep.files[SINGLE_FILE]
    prefix = file_prefix(header)
    assert image.size == declared_file_size(header)
    assert image.read(0, len(prefix)) == prefix
    assert image.read(0, 100_001) == prefix[:100_001]
    name, payload = next(iter(rep.payloads[SINGLE_FILE].items()))
    start, end = header[name]["data_offsets"]
    assert image.read(len(prefix) + start, len(prefix) + end) == payload
    assert json.loads(payload)["shape"] == [2048, 2048]
    head_start = len(prefix) + header["lm_head.weight"]["data_offsets"][0]
    assert image.read(head_start, head_start + 64) == bytes(64)
    assert image.read(image.size - 4, image.size + 100) == image.read(image.size - 4, image.size)


def test_compressed_tensors_weight_shape_payloads():
    """compressed-tensors weight_shape payloads hold the logical [out, in] as two little-endian int64."""
    rep = replica("compressed-tensors-w4")
    payload = rep.payloads[SINGLE_FILE]["model.layers.0.mlp.down_proj.weight_shape"]
    assert struct.unpack("<2q", payload) == (2048, 5632)


@pytest.mark.parametrize("key", list(QUANTIZED_VARIANTS))
def test_quantized_variants_pack_the_same_model(key):
    """Every quantized variant is TinyLlama (1,100,048,384 parameters) and stores fewer bytes than BF16."""
    rep = replica(key)
    assert rep.logical.total == TINYLLAMA_TOTAL
    stored = sum(data_size(h) for h in rep.files.values())
    assert stored < 2 * TINYLLAMA_TOTAL * 0.5


def test_repo_shapes():
    """The crawler's repo shapes: gated, missing, .bin-only, and Mistral's consolidated copy beside shards."""
    assert replica("gated").gated == "manual"
    missing = replica("missing")
    assert not missing.exists and missing.file_names() == []
    assert replica("bin-only").file_names() == ["config.json", "pytorch_model.bin"]
    names = replica("mistral-consolidated").file_names()
    assert {"consolidated.safetensors", INDEX_FILE, "model-00003-of-00003.safetensors"} <= set(names)
    assert set(REPO_SHAPES) == {"gated", "missing", "bin-only", "mistral-consolidated"}


def test_malformed_cases_are_distinct_and_broken():
    """Every malformed builder yields a distinct case; truncated ones really stop inside the JSON."""
    cases = {case.name: case for case in all_malformed()}
    assert len(cases) == len(all_malformed())
    truncated = cases["truncated_header"]
    (declared,) = struct.unpack("<Q", truncated.content[:8])
    assert len(truncated.content) < 8 + declared
    assert truncated.content.rstrip(b" ") == truncated.content  # no padding left to hide behind


@pytest.mark.parametrize(
    "config",
    [small_dense_config(), small_dense_config(model_type="qwen2"), small_moe_config(),
     small_moe_config(model_type="mixtral"), small_deepseek_config()],
    ids=["llama", "qwen2", "qwen3-moe", "mixtral", "deepseek-v3"],
)
def test_small_configs_build(config):
    """Tiny configs build replicas whose components add up to their total."""
    rep = replica_from_config("tiny/model", config, shards=2)
    assert sum(rep.logical.components().values()) == rep.logical.total == sum(numel(s) for _, _, s in rep.tensors())
    assert len(rep.files) == 2
