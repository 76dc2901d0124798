"""DeepSeek-V4's config-derived counts equal the header counts of its real checkpoints, tensor for tensor.

Ground truth: model_inspector.py reports of local downloads in the public repo gogongxt/python, each with the
verbatim config.json and every stored tensor (name, shape, dtype), compressed by layer and expert ranges:
- Flash: scripts/models/deepseek_v4_flash.md@ec9962697819add8f24ce1b180cf98ca6a53c40f (46 shards,
  69,187 tensors, 158,069,433,298 elements; the file's later version lists only 26 shards of a partial copy);
- Pro: scripts/models/deepseek_v4_pro.md@cbff706dc959707a9944e38e8164783122dfa32a (64 shards, 145,116
  tensors, 861,608,274,846 elements);
- Flash-0731 (DSpark draft): scripts/models/deepseek_v4_flash_0731.md@c1feefbda85d61ad5cca42410a39cc194aa790fc
  (48 shards, 72,317 tensors, 165,265,454,782 elements).
The tables below transcribe those lists. Their element totals are the reports' figures, which count the e8m0
block scales and the packed FP4 experts as stored (one byte per two weights); the header path drops the
scales and unpacks the experts, and must land on the config count exactly (issue 10 §4).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from bench.tiny_families import read_saved
from estimator import (
    TensorInfo,
    account_from_config,
    account_from_tensors,
    parse_model_config,
)
from tests.factories.catalog import catalog_config

Row = tuple[str, str, tuple[int, ...], tuple[int, ...] | None]  # name, dtype, shape, e8m0 scale shape
F8, I8, BF, F32 = "F8_E4M3", "I8", "BF16", "F32"

# Flash (hidden 4096, 64 heads, q rank 1024, 256 experts of 2048). Rows of every block, layers and mtp.0.
_FLASH_ATTN: tuple[Row, ...] = (
    ("attn.attn_sink", F32, (64,), None),
    ("attn.kv_norm.weight", BF, (512,), None),
    ("attn.q_norm.weight", BF, (1024,), None),
    ("attn.wkv.weight", F8, (512, 4096), (4, 32)),
    ("attn.wo_a.weight", F8, (8192, 4096), (64, 32)),
    ("attn.wo_b.weight", F8, (4096, 8192), (32, 64)),
    ("attn.wq_a.weight", F8, (1024, 4096), (8, 32)),
    ("attn.wq_b.weight", F8, (32768, 1024), (256, 8)),
    ("attn_norm.weight", BF, (4096,), None),
    ("ffn.gate.weight", BF, (256, 4096), None),
    ("ffn.shared_experts.w1.weight", F8, (2048, 4096), (16, 32)),
    ("ffn.shared_experts.w2.weight", F8, (4096, 2048), (32, 16)),
    ("ffn.shared_experts.w3.weight", F8, (2048, 4096), (16, 32)),
    ("ffn_norm.weight", BF, (4096,), None),
    ("hc_attn_base", F32, (24,), None),
    ("hc_attn_fn", F32, (24, 16384), None),
    ("hc_attn_scale", F32, (3,), None),
    ("hc_ffn_base", F32, (24,), None),
    ("hc_ffn_fn", F32, (24, 16384), None),
    ("hc_ffn_scale", F32, (3,), None),
)
_FLASH_EXPERT: tuple[Row, ...] = (  # x256 per block: FP4 pairs in int8, e8m0 scale per 32 weights
    ("w1.weight", I8, (2048, 2048), (2048, 128)),
    ("w2.weight", I8, (4096, 1024), (4096, 64)),
    ("w3.weight", I8, (2048, 2048), (2048, 128)),
)
_FLASH_RATIO_4: tuple[Row, ...] = (  # layers 2, 4, ..., 42
    ("attn.compressor.ape", F32, (4, 1024), None),
    ("attn.compressor.wgate.weight", BF, (1024, 4096), None),
    ("attn.compressor.wkv.weight", BF, (1024, 4096), None),
    ("attn.indexer.compressor.ape", F32, (4, 256), None),
    ("attn.indexer.compressor.norm.weight", BF, (128,), None),
    ("attn.indexer.compressor.wgate.weight", BF, (256, 4096), None),
    ("attn.indexer.compressor.wkv.weight", BF, (256, 4096), None),
    ("attn.indexer.weights_proj.weight", BF, (64, 4096), None),
    ("attn.indexer.wq_b.weight", F8, (8192, 1024), (64, 8)),
)
_FLASH_RATIO_128: tuple[Row, ...] = (  # layers 3, 5, ..., 41
    ("attn.compressor.ape", F32, (128, 512), None),
    ("attn.compressor.wgate.weight", BF, (512, 4096), None),
    ("attn.compressor.wkv.weight", BF, (512, 4096), None),
)
_FLASH_COMPRESSED = (("attn.compressor.norm.weight", BF, (512,), None),)  # layers 2-42
_FLASH_HASHED = (("ffn.gate.tid2eid", "I64", (129280, 6), None),)  # layers 0-2
_FLASH_BIASED = (("ffn.gate.bias", F32, (256,), None),)  # layers 3-42 and every mtp block
_FLASH_TOP: tuple[Row, ...] = (
    ("embed.weight", BF, (129280, 4096), None),
    ("hc_head_base", F32, (4,), None),
    ("hc_head_fn", F32, (4, 16384), None),
    ("hc_head_scale", F32, (1,), None),
    ("head.weight", BF, (129280, 4096), None),
    ("norm.weight", BF, (4096,), None),
)
_FLASH_MTP: tuple[Row, ...] = (  # mtp.0 only (its head rows also end the DSpark draft's last block)
    ("e_proj.weight", F8, (4096, 4096), (32, 32)),
    ("h_proj.weight", F8, (4096, 4096), (32, 32)),
    ("enorm.weight", BF, (4096,), None),
    ("hnorm.weight", BF, (4096,), None),
    ("norm.weight", BF, (4096,), None),
    ("hc_head_base", F32, (4,), None),
    ("hc_head_fn", F32, (4, 16384), None),
    ("hc_head_scale", F32, (1,), None),
)
# Flash-0731's DSpark draft: mtp.0-2 are plain blocks; mtp.0 reads three target layers, mtp.2 has the heads.
_DSPARK_FIRST: tuple[Row, ...] = (
    ("main_norm.weight", BF, (4096,), None),
    ("main_proj.weight", F8, (4096, 12288), (32, 96)),
)
_DSPARK_LAST: tuple[Row, ...] = (
    ("confidence_head.proj.weight", BF, (1, 4352), None),
    ("hc_head_base", F32, (4,), None),
    ("hc_head_fn", F32, (4, 16384), None),
    ("hc_head_scale", F32, (1,), None),
    ("markov_head.markov_w1.weight", BF, (129280, 256), None),
    ("markov_head.markov_w2.weight", BF, (129280, 256), None),
    ("norm.weight", BF, (4096,), None),
)

# Pro (hidden 7168, 128 heads, q rank 1536, 384 experts of 3072).
_PRO_ATTN: tuple[Row, ...] = (
    ("attn.attn_sink", F32, (128,), None),
    ("attn.kv_norm.weight", BF, (512,), None),
    ("attn.q_norm.weight", BF, (1536,), None),
    ("attn.wkv.weight", F8, (512, 7168), (4, 56)),
    ("attn.wo_a.weight", F8, (16384, 4096), (128, 32)),
    ("attn.wo_b.weight", F8, (7168, 16384), (56, 128)),
    ("attn.wq_a.weight", F8, (1536, 7168), (12, 56)),
    ("attn.wq_b.weight", F8, (65536, 1536), (512, 12)),
    ("attn_norm.weight", BF, (7168,), None),
    ("ffn.gate.weight", BF, (384, 7168), None),
    ("ffn.shared_experts.w1.weight", F8, (3072, 7168), (24, 56)),
    ("ffn.shared_experts.w2.weight", F8, (7168, 3072), (56, 24)),
    ("ffn.shared_experts.w3.weight", F8, (3072, 7168), (24, 56)),
    ("ffn_norm.weight", BF, (7168,), None),
    ("hc_attn_base", F32, (24,), None),
    ("hc_attn_fn", F32, (24, 28672), None),
    ("hc_attn_scale", F32, (3,), None),
    ("hc_ffn_base", F32, (24,), None),
    ("hc_ffn_fn", F32, (24, 28672), None),
    ("hc_ffn_scale", F32, (3,), None),
)
_PRO_EXPERT: tuple[Row, ...] = (
    ("w1.weight", I8, (3072, 3584), (3072, 224)),
    ("w2.weight", I8, (7168, 1536), (7168, 96)),
    ("w3.weight", I8, (3072, 3584), (3072, 224)),
)
_PRO_RATIO_4: tuple[Row, ...] = (  # layers 2, 4, ..., 60
    ("attn.compressor.ape", F32, (4, 1024), None),
    ("attn.compressor.wgate.weight", BF, (1024, 7168), None),
    ("attn.compressor.wkv.weight", BF, (1024, 7168), None),
    ("attn.indexer.compressor.ape", F32, (4, 256), None),
    ("attn.indexer.compressor.norm.weight", BF, (128,), None),
    ("attn.indexer.compressor.wgate.weight", BF, (256, 7168), None),
    ("attn.indexer.compressor.wkv.weight", BF, (256, 7168), None),
    ("attn.indexer.weights_proj.weight", BF, (64, 7168), None),
    ("attn.indexer.wq_b.weight", F8, (8192, 1536), (64, 12)),
)
_PRO_RATIO_128: tuple[Row, ...] = (  # layers 0, 1, 3, 5, ..., 59
    ("attn.compressor.ape", F32, (128, 512), None),
    ("attn.compressor.wgate.weight", BF, (512, 7168), None),
    ("attn.compressor.wkv.weight", BF, (512, 7168), None),
)
_PRO_HASHED = (("ffn.gate.tid2eid", "I64", (129280, 6), None),)  # layers 0-2
_PRO_BIASED = (("ffn.gate.bias", F32, (384,), None),)  # layers 3-60 and mtp.0
_PRO_TOP: tuple[Row, ...] = (
    ("embed.weight", BF, (129280, 7168), None),
    ("hc_head_base", F32, (4,), None),
    ("hc_head_fn", F32, (4, 28672), None),
    ("hc_head_scale", F32, (1,), None),
    ("head.weight", BF, (129280, 7168), None),
    ("norm.weight", BF, (7168,), None),
)
_PRO_MTP: tuple[Row, ...] = (
    ("e_proj.weight", F8, (7168, 7168), (56, 56)),
    ("h_proj.weight", F8, (7168, 7168), (56, 56)),
    ("enorm.weight", BF, (7168,), None),
    ("hnorm.weight", BF, (7168,), None),
    ("norm.weight", BF, (7168,), None),
    ("hc_head_base", F32, (4,), None),
    ("hc_head_fn", F32, (4, 28672), None),
    ("hc_head_scale", F32, (1,), None),
)


def _add(out: list[TensorInfo], prefix: str, rows: tuple[Row, ...]) -> None:
    for name, dtype, shape, scale in rows:
        full = f"{prefix}{name}"
        out.append(TensorInfo(full, dtype, shape))
        if scale is not None:
            out.append(TensorInfo(full.removesuffix(".weight") + ".scale", "F8_E8M0", scale))


def _block(
    out: list[TensorInfo], prefix: str, attn: tuple[Row, ...], expert: tuple[Row, ...], n: int
) -> None:
    _add(out, prefix, attn)
    for e in range(n):
        _add(out, f"{prefix}ffn.experts.{e}.", expert)


def _flash_layers(out: list[TensorInfo]) -> None:
    for i in range(43):
        p = f"layers.{i}."
        _block(out, p, _FLASH_ATTN, _FLASH_EXPERT, 256)
        _add(out, p, _FLASH_HASHED if i < 3 else _FLASH_BIASED)
        if i >= 2:
            _add(out, p, _FLASH_COMPRESSED + (_FLASH_RATIO_4 if i % 2 == 0 else _FLASH_RATIO_128))


def _flash_tensors() -> list[TensorInfo]:
    out: list[TensorInfo] = []
    _add(out, "", _FLASH_TOP)
    _flash_layers(out)
    _block(out, "mtp.0.", _FLASH_ATTN + _FLASH_BIASED, _FLASH_EXPERT, 256)
    _add(out, "mtp.0.", _FLASH_MTP)
    return out


def _flash_0731_tensors() -> list[TensorInfo]:
    out: list[TensorInfo] = []
    _add(out, "", _FLASH_TOP)
    _flash_layers(out)
    for k in range(3):
        _block(out, f"mtp.{k}.", _FLASH_ATTN + _FLASH_BIASED, _FLASH_EXPERT, 256)
    _add(out, "mtp.0.", _DSPARK_FIRST)
    _add(out, "mtp.2.", _DSPARK_LAST)
    return out


def _pro_tensors() -> list[TensorInfo]:
    out: list[TensorInfo] = []
    _add(out, "", _PRO_TOP)
    for i in range(61):
        p = f"layers.{i}."
        _block(out, p, _PRO_ATTN + _FLASH_COMPRESSED, _PRO_EXPERT, 384)
        _add(out, p, _PRO_HASHED if i < 3 else _PRO_BIASED)
        _add(out, p, _PRO_RATIO_4 if i >= 2 and i % 2 == 0 else _PRO_RATIO_128)
    _block(out, "mtp.0.", _PRO_ATTN + _PRO_BIASED, _PRO_EXPERT, 384)
    _add(out, "mtp.0.", _PRO_MTP)
    return out



def _flash_0731_config() -> dict[str, object]:
    """The 0731 report's config.json: Flash's, with three draft blocks and the DSpark keys."""
    config = dict(catalog_config("deepseek-ai/DeepSeek-V4-Flash"))
    ratios = config["compress_ratios"]
    assert isinstance(ratios, list)
    config["compress_ratios"] = [*ratios, 0, 0]
    config.update(
        dspark_block_size=5,
        dspark_noise_token_id=128799,
        dspark_target_layer_ids=[40, 41, 42],
        dspark_markov_rank=256,
    )
    return config


_CASES = {
    "flash": (
        lambda: catalog_config("deepseek-ai/DeepSeek-V4-Flash"),
        _flash_tensors,
        69_187,
        158_069_433_298,
    ),
    "pro": (
        lambda: catalog_config("deepseek-ai/DeepSeek-V4-Pro"),
        _pro_tensors,
        145_116,
        861_608_274_846,
    ),
    "flash-0731": (_flash_0731_config, _flash_0731_tensors, 72_317, 165_265_454_782),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_config_count_equals_header_count_of_the_report(case: str) -> None:
    """The transcribed list holds the report's tensor and element totals; the header path on it and the
    config path agree on the total, every component, the MoE layout and the active count."""
    config_of, tensors_of, tensor_count, element_total = _CASES[case]
    config, tensors = config_of(), tensors_of()
    assert len(tensors) == tensor_count
    assert sum(t.numel for t in tensors) == element_total

    header = account_from_tensors(tensors, parse_model_config(config))
    derived = account_from_config(config)
    assert derived.counts_known
    assert derived.total_params == header.total_params
    assert derived.components == header.components
    assert derived.moe == header.moe
    assert derived.active_params == header.active_params
    # The checkpoint's own names are understood: layers found, embedding, head and MTP told apart.
    assert header.moe is not None and header.moe.moe_layers == parse_model_config(config).num_layers
    assert header.components.embedding == header.components.lm_head > 0
    assert header.components.mtp > 0 and header.components.other > 0

    # What the definition leaves out of the stored elements: the e8m0 scales, and half of each unpacked
    # FP4 expert weight is added back.
    scales = sum(t.numel for t in tensors if t.dtype == "F8_E8M0")
    packed = sum(t.numel for t in tensors if t.dtype == I8)
    assert header.total_params == element_total - scales + packed


@pytest.mark.parametrize("size", ["Flash", "Pro"])
def test_catalog_publishes_the_report_totals(size: str) -> None:
    """The catalog's published figures are the reports' stored-element totals, cited."""
    text = resources.files("store").joinpath("data", "catalog", "deepseek.json").read_text(encoding="utf-8")
    entry = next(m for m in json.loads(text)["models"] if m["repo_id"] == f"deepseek-ai/DeepSeek-V4-{size}")
    assert entry["published_total_params"] == _CASES[size.lower()][3]
    assert "github:gogongxt/python/scripts/models/deepseek_v4_" in entry["published_source"]


def test_pro_layout_and_active_count() -> None:
    """Pro: 61 MoE layers of 384 experts, top-6 plus one shared; MTP block and embedding are not active."""
    derived = account_from_config(catalog_config("deepseek-ai/DeepSeek-V4-Pro"))
    assert derived.moe is not None
    assert (derived.moe.num_experts, derived.moe.experts_per_token, derived.moe.moe_layers) == (384, 6, 61)
    assert derived.moe.shared_experts == 1
    routed = derived.components.routed_experts
    assert routed == 61 * 384 * 3 * 3072 * 7168
    c = derived.components
    assert derived.active_params == c.total - c.embedding - c.mtp - routed * (384 - 6) // 384


def test_sgl_fp8_configs_count_as_the_originals() -> None:
    """sgl-project's FP8 re-quantizations (model_type deepseek_ref, architectures DeepseekV4ForCausalLM)
    count exactly as the checkpoints they convert."""
    for size in ("Flash", "Pro"):
        ref = account_from_config(catalog_config(f"sgl-project/DeepSeek-V4-{size}-FP8"))
        original = account_from_config(catalog_config(f"deepseek-ai/DeepSeek-V4-{size}"))
        assert ref.counts_known
        assert ref.total_params == original.total_params
        assert ref.active_params == original.active_params


# A tiny DeepSeek-V4 for transformers 5.24 (models/deepseek_v4): all three attention kinds, a compress rate
# other than DeepSeek's, hash-routed and top-k routed blocks. transformers writes its own config keys
# (layer_types, compress_rates, mlp_layer_types) and saves no MTP block although the config keeps
# num_nextn_predict_layers (it never builds one: _keys_to_ignore_on_load_unexpected ``mtp.*``).
_TINY_V4 = {
    "vocab_size": 128,
    "hidden_size": 64,
    "moe_intermediate_size": 32,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "head_dim": 16,
    "qk_rope_head_dim": 8,
    "q_lora_rank": 24,
    "num_experts_per_tok": 2,
    "n_routed_experts": 4,
    "n_shared_experts": 1,
    "layer_types": [
        "sliding_attention",
        "compressed_sparse_attention",
        "heavily_compressed_attention",
        "compressed_sparse_attention",
    ],
    "compress_rates": {"compressed_sparse_attention": 4, "heavily_compressed_attention": 8},
    "mlp_layer_types": ["hash_moe", "hash_moe", "moe", "moe"],
    "hc_mult": 2,
    "sliding_window": 8,
    "o_groups": 2,
    "o_lora_rank": 8,
    "index_n_heads": 2,
    "index_head_dim": 8,
    "index_topk": 4,
    "max_position_embeddings": 256,
}


def test_tiny_transformers_checkpoint_counts_like_its_config(tmp_path: Path) -> None:
    """transformers' own DeepSeek-V4, saved and read back: the header count equals torch's state_dict,
    and the config path equals the header path on total, components, MoE layout and active count."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    if "deepseek_v4" not in transformers.models.auto.configuration_auto.CONFIG_MAPPING_NAMES:
        pytest.skip("this transformers has no deepseek_v4")
    transformers.utils.logging.disable_progress_bar()
    torch.manual_seed(0)
    config = transformers.AutoConfig.for_model("deepseek_v4", **_TINY_V4)
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(tmp_path)
    stored = sum(t.numel() for name, t in model.state_dict().items() if not name.endswith("inv_freq"))
    saved, tensors = read_saved(tmp_path)

    header = account_from_tensors(tensors, parse_model_config(saved))
    derived = account_from_config(saved)
    assert header.total_params == stored
    assert derived.counts_known
    assert derived.total_params == header.total_params
    assert derived.components == header.components
    assert derived.moe == header.moe
    assert derived.active_params == header.active_params
