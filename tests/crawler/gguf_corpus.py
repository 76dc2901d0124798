"""GGUF repos for the Hub stand-in: real files written by llama.cpp's ``GGUFWriter``.

A quantizer's repo with a large vocabulary, three quantizations, a split file and a vision
projector; MLA, sliding-window and hybrid (SSM) models; and a repo of hostile files next to a
good one. Each repo names its base model in the card and in ``general.base_model.*``.
"""

from __future__ import annotations

import struct
from functools import lru_cache

from gguf import GGMLQuantizationType, GGUFValueType

from tests.factories import FileImage
from tests.factories.gguf_files import (
    GgufSpec,
    dense_spec,
    gguf_bytes,
    gguf_split_bytes,
    raw_gguf,
    raw_kv,
    raw_string,
    raw_tensor_info,
)

from .hub_standin import StandInRepo, commit_sha

QUANTIZER = "bartowski"
BASE = "zoo/Tiny-Instruct"
TINY = f"{QUANTIZER}/Tiny-Instruct-GGUF"
MLA = "unsloth/Tiny-MLA-GGUF"
SWA = "lmstudio-community/Tiny-SWA-GGUF"
HYBRID = "ggml-org/Tiny-Hybrid-GGUF"
HOSTILE = "mradermacher/Tiny-Hostile-GGUF"
TOKENS = 100_000  # tokenizer arrays of about 1.5 MB: more than one 1 MiB read
F32 = int(GGMLQuantizationType.F32)


def _image(data: bytes) -> FileImage:
    return FileImage(data, len(data))


def _base_meta(base: str) -> dict[str, object]:
    org, name = base.split("/")
    return {"general.base_model.count": 1, "general.base_model.0.name": name,
            "general.base_model.0.organization": org,
            "general.base_model.0.repo_url": f"https://huggingface.co/{base}"}


def _repo(repo_id: str, files: dict[str, bytes], *, downloads: int, base: str = BASE) -> StandInRepo:
    images = {name: _image(data) for name, data in files.items()}
    images["README.md"] = FileImage(b"# card\n", 7)
    return StandInRepo(
        repo_id, commit_sha(repo_id, *sorted(files)), images, library_name="gguf", pipeline_tag="text-generation",
        tags=("gguf", f"base_model:quantized:{base}"), downloads=downloads, card_data={"base_model": base},
    )


SPLIT_FILE = "Tiny-Instruct-Q8_0/Tiny-Instruct-Q8_0-00001-of-00002.gguf"


@lru_cache(maxsize=1)
def tiny_specs() -> dict[str, GgufSpec]:
    """The quantizer repo's model files (file name -> what was written; the split file by its first part)."""
    meta = _base_meta(BASE)
    return {
        "Tiny-Instruct-Q4_K_M.gguf": dense_spec(quant="Q4_K", tokens=TOKENS, extra=meta),
        "Tiny-Instruct-Q5_K_M.gguf": dense_spec(quant="Q5_K", tokens=TOKENS, extra={**meta, "general.file_type": 17}),
        "Tiny-Instruct-IQ4_XS.gguf": dense_spec(quant="IQ4_XS", tokens=TOKENS, extra={**meta, "general.file_type": 30}),
        SPLIT_FILE: dense_spec(quant="Q8_0", tokens=TOKENS, extra={**meta, "general.file_type": 7}),
    }


@lru_cache(maxsize=1)
def tiny_repo() -> StandInRepo:
    """Three quants, one more split in two parts under a folder, and an mmproj add-on."""
    specs = tiny_specs()
    files = {name: gguf_bytes(spec) for name, spec in specs.items() if name != SPLIT_FILE}
    split = gguf_split_bytes(specs[SPLIT_FILE], "Tiny-Instruct-Q8_0", 12)
    files.update({f"Tiny-Instruct-Q8_0/{name}": data for name, data in split.items()})
    files["mmproj-Tiny-Instruct-f16.gguf"] = gguf_bytes(dense_spec(layers=1, quant="F16", arch="clip"))
    return _repo(TINY, files, downloads=5000)


@lru_cache(maxsize=1)
def mla_repo() -> StandInRepo:
    """DeepSeek-style MLA: kv_b split into attn_k_b (128-wide rows) and attn_v_b, as the converter writes."""
    heads, rank, nope = 4, 512, 128
    extra_tensors = []
    for i in range(2):
        extra_tensors += [(f"blk.{i}.attn_k_b.weight", "Q8_0", (nope, rank, heads)),
                          (f"blk.{i}.attn_v_b.weight", "Q4_K", (rank, nope, heads)),
                          (f"blk.{i}.attn_kv_a_mqa.weight", "Q4_K", (256, rank + 64))]
    meta = {**_base_meta("zoo/Tiny-MLA"), "deepseek2.attention.key_length_mla": 192,
            "deepseek2.attention.value_length_mla": 128, "deepseek2.attention.kv_lora_rank": rank,
            "deepseek2.attention.key_length": rank + 64, "deepseek2.attention.value_length": rank,
            "deepseek2.nextn_predict_layers": 1, "deepseek2.expert_count": 8, "deepseek2.expert_used_count": 2}
    spec = dense_spec(arch="deepseek2", extra=meta, extra_tensors=extra_tensors, heads=heads, kv_heads=1)
    return _repo(MLA, {"Tiny-MLA-Q4_K_M.gguf": gguf_bytes(spec)}, downloads=3000, base="zoo/Tiny-MLA")


@lru_cache(maxsize=1)
def swa_repo() -> StandInRepo:
    """Gemma-style sliding window, with a per-layer pattern array and a tied output head."""
    meta = {**_base_meta("zoo/Tiny-SWA"), "gemma3.attention.sliding_window": 512,
            "gemma3.attention.sliding_window_pattern": (True, False)}
    spec = dense_spec(arch="gemma3", tied=True, extra=meta)
    return _repo(SWA, {"Tiny-SWA-Q4_K_M.gguf": gguf_bytes(spec)}, downloads=2000, base="zoo/Tiny-SWA")


@lru_cache(maxsize=1)
def hybrid_repo() -> StandInRepo:
    """A hybrid attention/SSM model: per-layer KV head counts (0 for SSM layers) and ssm.* keys."""
    meta = {**_base_meta("zoo/Tiny-Hybrid"), "granitehybrid.attention.head_count_kv": (0, 2),
            "granitehybrid.ssm.state_size": 128, "granitehybrid.ssm.conv_kernel": 4,
            "granitehybrid.ssm.inner_size": 512, "granitehybrid.ssm.group_count": 1}
    spec = dense_spec(arch="granitehybrid", extra=meta)
    return _repo(HYBRID, {"Tiny-Hybrid-Q4_K_M.gguf": gguf_bytes(spec)}, downloads=1000, base="zoo/Tiny-Hybrid")


def hostile_files() -> dict[str, bytes]:
    """One file per hostile case (name -> bytes), each must fail alone."""
    good_tensor = raw_tensor_info("w", (32,), F32, 0)
    return {
        "bad-magic-Q4_K_M.gguf": raw_gguf(magic=b"GGML"),
        "unknown-version-Q4_K_M.gguf": raw_gguf(version=9),
        "count-past-eof-Q4_K_M.gguf": raw_gguf(kv_count=1 << 40),
        "huge-string-Q4_K_M.gguf": raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.STRING, raw_string("x", length=1 << 63))]),
        "nested-array-Q4_K_M.gguf": raw_gguf(kvs=[raw_kv("a.b", GGUFValueType.ARRAY, struct.pack("<IQ", 9, 1))]),
        "unknown-type-Q4_K_M.gguf": raw_gguf(kvs=[raw_kv("a.b", 42, b"\0" * 8)]),
        "overlap-Q4_K_M.gguf": raw_gguf(tensor_infos=[good_tensor, raw_tensor_info("v", (32,), F32, 64)],
                                        data_bytes=256),
    }


@lru_cache(maxsize=1)
def hostile_repo() -> StandInRepo:
    files = {**hostile_files(), "Tiny-good-Q4_K_M.gguf": gguf_bytes(dense_spec(extra=_base_meta(BASE)))}
    return _repo(HOSTILE, files, downloads=10)


def gguf_corpus() -> list[StandInRepo]:
    return [tiny_repo(), mla_repo(), swa_repo(), hybrid_repo(), hostile_repo()]
