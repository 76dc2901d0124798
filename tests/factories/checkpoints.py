"""Header replicas of real checkpoints: config.json, shard headers, index, extra files, expected counts.

A ``Replica`` is what a Hub repo serves, minus the tensor data. Builders are cached (the
DeepSeek-V3 replica has ~92k tensors): treat what they return as read-only and
``copy.deepcopy`` before changing anything. Expected totals are the published figures
(docs/reference/anchor-models.md) where there are some; the rest come from the
family generators in ``families``, which tag every tensor by construction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import configs
from .families import LogicalModel, logical_model
from .headers import (
    FileImage, Tensor, build_sharded, header_tensors, index_json, make_header, safetensors_image,
    shard_names,
)
from .storage import store_fp8_block, store_mxfp4, store_plain

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


@dataclass
class Replica:
    """One Hub repo as header replicas."""

    repo_id: str
    config: dict | None
    files: dict[str, dict | bytes]  # the counted checkpoint: model.safetensors or the shards
    index: dict | None = None
    extra_files: dict[str, dict | bytes] = field(default_factory=dict)  # copies, .bin, subfolders
    expected_total: int | None = None
    expected_active: int | None = None  # without the input embedding (unless tied)
    facts: dict[str, Any] = field(default_factory=dict)
    gated: bool | str = False  # False, "auto" or "manual", as the Hub's model_info says
    exists: bool = True
    payloads: dict[str, dict[str, bytes]] = field(default_factory=dict)  # file -> tensor -> data
    logical: LogicalModel | None = field(default=None, repr=False)

    def tensors(self) -> list[Tensor]:
        """Every tensor of the counted checkpoint, all shards together."""
        return [t for header in self.files.values() if isinstance(header, dict) for t in header_tensors(header)]

    @property
    def expected_components(self) -> dict[str, int]:
        assert self.logical is not None
        return self.logical.components()

    @property
    def expected_moe(self) -> tuple[int, int, int, int] | None:
        """(experts, top-k, shared experts, MoE layers) or None."""
        assert self.logical is not None
        return self.logical.moe_layout

    def file_names(self) -> list[str]:
        """Every path the repo lists (what ``list_repo_tree`` would show)."""
        names = ["config.json"] if self.config is not None else []
        names += [INDEX_FILE] if self.index is not None else []
        return names + list(self.files) + list(self.extra_files)

    def repo_files(self) -> dict[str, FileImage]:
        """Every path the repo serves, as FileImages: config.json, index, shards, extra files."""
        out: dict[str, FileImage] = {}
        if self.config is not None:
            raw = (json.dumps(self.config, indent=2, sort_keys=True) + "\n").encode()
            out["config.json"] = FileImage(raw, len(raw))
        if self.index is not None:
            raw = index_json(self.index)
            out[INDEX_FILE] = FileImage(raw, len(raw))
        for name, content in {**self.files, **self.extra_files}.items():
            if isinstance(content, dict):
                out[name] = safetensors_image(content, self.payloads.get(name))
            else:
                out[name] = FileImage(content, len(content))
        return out


def all_tensors(replica: Replica) -> list[Tensor]:
    """Every tensor of a replica's counted checkpoint as (name, dtype, shape)."""
    return replica.tensors()


def _single(tensors: list[Tensor]) -> dict[str, dict]:
    return {SINGLE_FILE: make_header(tensors)}


def _sharded(tensors: list[Tensor], count: int, **naming) -> tuple[dict[str, dict], dict]:
    return build_sharded(tensors, shard_names(count, **naming))


def _replica(repo_id: str, config: dict, model: LogicalModel, tensors: list[Tensor], *, shards: int = 0,
             naming: dict | None = None, **kwargs) -> Replica:
    if shards:
        files, index = _sharded(tensors, shards, **(naming or {}))
    else:
        files, index = _single(tensors), None
    kwargs.setdefault("expected_total", model.total)
    kwargs.setdefault("expected_active", model.active)
    return Replica(repo_id, config, files, index, logical=model, **kwargs)


# --- the anchors -----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def llama_3_1_8b() -> Replica:
    """meta-llama/Llama-3.1-8B: dense, untied, BF16, 4 shards, gated."""
    config = configs.llama_3_1_8b()
    model = logical_model(config)
    return _replica("meta-llama/Llama-3.1-8B", config, model, store_plain(model), shards=4,
                    expected_total=8_030_261_248, gated="manual")


@lru_cache(maxsize=None)
def qwen2_5_32b_instruct() -> Replica:
    """Qwen/Qwen2.5-32B-Instruct: q/k/v biases, 17 shards."""
    config = configs.qwen2_5_32b_instruct()
    model = logical_model(config)
    return _replica("Qwen/Qwen2.5-32B-Instruct", config, model, store_plain(model), shards=17,
                    expected_total=32_763_876_352)


@lru_cache(maxsize=None)
def mixtral_8x7b() -> Replica:
    """mistralai/Mixtral-8x7B-v0.1: unfused block_sparse_moe experts, 19 shards."""
    config = configs.mixtral_8x7b()
    model = logical_model(config)
    return _replica("mistralai/Mixtral-8x7B-v0.1", config, model, store_plain(model), shards=19,
                    expected_total=46_702_792_704, expected_active=12_748_853_248,
                    facts={"active_with_input_embedding": 12_879_925_248})


@lru_cache(maxsize=None)
def qwen3_30b_a3b() -> Replica:
    """Qwen/Qwen3-30B-A3B: 128 experts top-8, q/k norms, 16 shards."""
    config = configs.qwen3_30b_a3b()
    model = logical_model(config)
    return _replica("Qwen/Qwen3-30B-A3B", config, model, store_plain(model), shards=16,
                    expected_total=30_532_122_624, expected_active=3_041_867_776)


@lru_cache(maxsize=None)
def deepseek_v3() -> Replica:
    """deepseek-ai/DeepSeek-V3: FP8 block-scaled, MLA, 256+1 experts, MTP layer 61, 163 shards."""
    config = configs.deepseek_v3()
    model = logical_model(config)
    return _replica(
        "deepseek-ai/DeepSeek-V3", config, model, store_fp8_block(model), shards=163,
        naming={"total_width": 6}, expected_total=684_489_845_504, expected_active=36_625_618_432,
        facts={"main_total": 671_026_419_200, "mtp": 13_463_426_304,
               "hub_total_with_scales": 684_531_386_000},
    )


def _gpt_oss_original(config: dict) -> dict:
    """``original/model.safetensors``: the same weights under OpenAI's own names."""
    h, v, e = config["hidden_size"], config["vocab_size"], config["num_local_experts"]
    heads, kv, hd, inter = 64, 8, config["head_dim"], config["intermediate_size"]
    t: list[Tensor] = [("embedding.weight", "BF16", (v, h))]
    for i in range(config["num_hidden_layers"]):
        b = f"block.{i}"
        t += [(f"{b}.attn.norm.scale", "BF16", (h,)), (f"{b}.attn.qkv.weight", "BF16", ((heads + 2 * kv) * hd, h)),
              (f"{b}.attn.qkv.bias", "BF16", ((heads + 2 * kv) * hd,)), (f"{b}.attn.sinks", "BF16", (heads,)),
              (f"{b}.attn.out.weight", "BF16", (h, heads * hd)), (f"{b}.attn.out.bias", "BF16", (h,)),
              (f"{b}.mlp.norm.scale", "BF16", (h,)), (f"{b}.mlp.gate.weight", "BF16", (e, h)),
              (f"{b}.mlp.gate.bias", "BF16", (e,)),
              (f"{b}.mlp.mlp1_weight.blocks", "U8", (e, 2 * inter, h // 32, 16)),
              (f"{b}.mlp.mlp1_weight.scales", "U8", (e, 2 * inter, h // 32)),
              (f"{b}.mlp.mlp1_bias", "BF16", (e, 2 * inter)),
              (f"{b}.mlp.mlp2_weight.blocks", "U8", (e, h, inter // 32, 16)),
              (f"{b}.mlp.mlp2_weight.scales", "U8", (e, h, inter // 32)),
              (f"{b}.mlp.mlp2_bias", "BF16", (e, h))]
    t += [("norm.scale", "BF16", (h,)), ("unembedding.weight", "BF16", (v, h))]
    return make_header(t)


@lru_cache(maxsize=None)
def gpt_oss_20b() -> Replica:
    """openai/gpt-oss-20b: MXFP4 experts, 3 shards numbered 00000-00002, plus ``original/``."""
    config = configs.gpt_oss_20b()
    model = logical_model(config)
    original_config = (json.dumps(configs.gpt_oss_20b_original(), indent=2) + "\n").encode()
    return _replica(
        "openai/gpt-oss-20b", config, model, store_mxfp4(model), shards=3,
        naming={"zero_based": True}, expected_total=20_914_757_184, expected_active=3_608_307_264,
        facts={"naive_element_count": 11_956_805_184},
        extra_files={"original/model.safetensors": _gpt_oss_original(config),
                     "original/config.json": original_config},
    )


ANCHORS = {
    "llama-3.1-8b": llama_3_1_8b, "qwen2.5-32b-instruct": qwen2_5_32b_instruct,
    "mixtral-8x7b": mixtral_8x7b, "qwen3-30b-a3b": qwen3_30b_a3b, "deepseek-v3": deepseek_v3,
    "gpt-oss-20b": gpt_oss_20b,
}
