"""Kimi-K2.5/K2.6 and Kimi-K3 counted from config.json equal their stored tensors, per per-tensor reports.

Ground truth: model_inspector.py reports of local downloads in github:gogongxt/python, each giving the
verbatim config.json, every stored tensor (grouped: ``layers.1-60.…`` ×60 layers, ×384 experts) and the
element total ("参数总量"). The rows below transcribe those groups as data; the test expands them to the
full tensor list, checks it against the report's tensor count and element total, and runs it through the
header path. Issue 10 §4: the header path and the config path must agree to the integer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from estimator import CountBasis, TensorInfo, account_from_config, account_from_tensors, parse_model_config
from tests.factories.catalog import catalog_entry

Row = tuple[str, str, tuple[int, ...]]  # name (``{}`` where the layer/block/expert number goes), dtype, shape



Group = tuple[
    tuple[Row, ...], tuple[Sequence[int], ...]
]  # rows, then the layers (and experts) they repeat over


def _expand(groups: tuple[Group, ...]) -> Iterator[TensorInfo]:
    """Each group's rows once per index tuple (layer, then expert) of its ranges."""
    for rows, ranges in groups:
        indexes: list[tuple[int, ...]] = [()]
        for span in ranges:
            indexes = [(*index, i) for index in indexes for i in span]
        for name, dtype, shape in rows:
            for index in indexes:
                yield TensorInfo(name.format(*index), dtype, shape)


# --- Kimi-K2.5 / K2.6 / K2.7-Code --------------------------------------------------------------------
# github:gogongxt/python scripts/models/kimi_k2.5.md@ec9962697819add8f24ce1b180cf98ca6a53c40f (64 shards,
# 208,550 tensors, 554.27 GB, 参数总量 170,738,182,128). kimi_k2.6.md@b521199165b8936d12197280607fc420c1d6b489
# and kimi_k2.7_code.md@a0d3871ab6f58cbda18c00a8b8c79f84fcc043eb list the same 52 rows, shapes and totals.
_K25_LM = "language_model.model.layers.{}"
_K25_EXPERT = _K25_LM + ".mlp.experts.{}"
_K25_GROUPS: tuple[Group, ...] = (
    (
        (
            ("language_model.lm_head.weight", "BF16", (163840, 7168)),
            ("language_model.model.embed_tokens.weight", "BF16", (163840, 7168)),
            ("language_model.model.norm.weight", "BF16", (7168,)),
        ),
        (),
    ),
    (
        (
            (_K25_LM + ".input_layernorm.weight", "BF16", (7168,)),
            (_K25_LM + ".post_attention_layernorm.weight", "BF16", (7168,)),
            (_K25_LM + ".self_attn.kv_a_layernorm.weight", "BF16", (512,)),
            (_K25_LM + ".self_attn.kv_a_proj_with_mqa.weight", "BF16", (576, 7168)),
            (_K25_LM + ".self_attn.kv_b_proj.weight", "BF16", (16384, 512)),
            (_K25_LM + ".self_attn.o_proj.weight", "BF16", (7168, 8192)),
            (_K25_LM + ".self_attn.q_a_layernorm.weight", "BF16", (1536,)),
            (_K25_LM + ".self_attn.q_a_proj.weight", "BF16", (1536, 7168)),
            (_K25_LM + ".self_attn.q_b_proj.weight", "BF16", (12288, 1536)),
        ),
        (range(61),),
    ),
    (
        (
            (_K25_LM + ".mlp.down_proj.weight", "BF16", (7168, 18432)),
            (_K25_LM + ".mlp.gate_proj.weight", "BF16", (18432, 7168)),
            (_K25_LM + ".mlp.up_proj.weight", "BF16", (18432, 7168)),
        ),
        (range(1),),
    ),
    (
        (
            (_K25_LM + ".mlp.gate.e_score_correction_bias", "F32", (384,)),
            (_K25_LM + ".mlp.gate.weight", "BF16", (384, 7168)),
            (_K25_LM + ".mlp.shared_experts.down_proj.weight", "BF16", (7168, 2048)),
            (_K25_LM + ".mlp.shared_experts.gate_proj.weight", "BF16", (2048, 7168)),
            (_K25_LM + ".mlp.shared_experts.up_proj.weight", "BF16", (2048, 7168)),
        ),
        (range(1, 61),),
    ),
    (  # INT4 compressed-tensors pack-quantized: 8 values per int32, a BF16 scale per group of 32
        (
            (_K25_EXPERT + ".down_proj.weight_packed", "I32", (7168, 256)),
            (_K25_EXPERT + ".down_proj.weight_scale", "BF16", (7168, 64)),
            (_K25_EXPERT + ".down_proj.weight_shape", "I32", (2,)),
            (_K25_EXPERT + ".gate_proj.weight_packed", "I32", (2048, 896)),
            (_K25_EXPERT + ".gate_proj.weight_scale", "BF16", (2048, 224)),
            (_K25_EXPERT + ".gate_proj.weight_shape", "I32", (2,)),
            (_K25_EXPERT + ".up_proj.weight_packed", "I32", (2048, 896)),
            (_K25_EXPERT + ".up_proj.weight_scale", "BF16", (2048, 224)),
            (_K25_EXPERT + ".up_proj.weight_shape", "I32", (2,)),
        ),
        (range(1, 61), range(384)),
    ),
    (
        (
            ("mm_projector.pre_norm.bias", "BF16", (1152,)),
            ("mm_projector.pre_norm.weight", "BF16", (1152,)),
            ("mm_projector.proj.0.bias", "BF16", (4608,)),
            ("mm_projector.proj.0.weight", "BF16", (4608, 4608)),
            ("mm_projector.proj.2.bias", "BF16", (7168,)),
            ("mm_projector.proj.2.weight", "BF16", (7168, 4608)),
            ("vision_tower.encoder.final_layernorm.bias", "BF16", (1152,)),
            ("vision_tower.encoder.final_layernorm.weight", "BF16", (1152,)),
            ("vision_tower.patch_embed.pos_emb.weight", "BF16", (64, 64, 1152)),
            ("vision_tower.patch_embed.proj.bias", "BF16", (1152,)),
            ("vision_tower.patch_embed.proj.weight", "BF16", (1152, 3, 14, 14)),
        ),
        (),
    ),
    (
        (
            ("vision_tower.encoder.blocks.{}.mlp.fc0.bias", "BF16", (4304,)),
            ("vision_tower.encoder.blocks.{}.mlp.fc0.weight", "BF16", (4304, 1152)),
            ("vision_tower.encoder.blocks.{}.mlp.fc1.bias", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.mlp.fc1.weight", "BF16", (1152, 4304)),
            ("vision_tower.encoder.blocks.{}.norm0.bias", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.norm0.weight", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.norm1.bias", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.norm1.weight", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.wo.bias", "BF16", (1152,)),
            ("vision_tower.encoder.blocks.{}.wo.weight", "BF16", (1152, 1152)),
            ("vision_tower.encoder.blocks.{}.wqkv.bias", "BF16", (3456,)),
            ("vision_tower.encoder.blocks.{}.wqkv.weight", "BF16", (3456, 1152)),
        ),
        (range(27),),
    ),
)
_K25_TENSORS = 208_550
_K25_ELEMENTS = 170_738_182_128
_K25_GIB = 554.27  # 张量累计大小, two decimals


@pytest.fixture(scope="module")
def k25_tensors() -> list[TensorInfo]:
    """The Kimi-K2.5 checkpoint's tensor list, expanded from the report's rows."""
    return list(_expand(_K25_GROUPS))


def test_k25_rows_rebuild_the_reported_checkpoint(k25_tensors):
    """The transcribed rows expand to the report's tensor count, element total and byte size."""
    assert len(k25_tensors) == _K25_TENSORS
    assert sum(t.numel for t in k25_tensors) == _K25_ELEMENTS
    assert round(sum(t.size_bytes for t in k25_tensors) / 2**30, 2) == _K25_GIB


@pytest.mark.parametrize(
    ("part", "repo"),
    [
        ("kimi_minimax.json", "moonshotai/Kimi-K2.5"),
        ("kimi_minimax.json", "moonshotai/Kimi-K2.6"),
    ],
)
def test_k25_config_count_equals_the_stored_tensors(part, repo, k25_tensors):
    """The catalog config gives an exact count equal to the header path on the report's tensors: total,
    active and every component (vision tower and projector included)."""
    config = catalog_entry(repo)["config"]
    from_config = account_from_config(config)
    header = account_from_tensors(k25_tensors, parse_model_config(config))
    assert from_config.count_basis is CountBasis.EXACT, from_config.notes
    assert from_config.total_params == header.total_params
    assert from_config.active_params == header.active_params
    assert from_config.components == header.components
    vision = sum(t.numel for t in k25_tensors if t.name.startswith(("vision_tower.", "mm_projector.")))
    assert header.components.vision == vision > 0


def test_k25_published_figure_is_the_reported_element_total(k25_tensors):
    """The catalog's published figure is the report's element total (packed INT4 and scales as stored);
    the parameters behind it are the header path's count, with each int32 holding eight values."""
    for repo in ("moonshotai/Kimi-K2.5", "moonshotai/Kimi-K2.6"):
        assert catalog_entry(repo)["published_total_params"] == _K25_ELEMENTS
    packed = sum(t.numel for t in k25_tensors if t.name.endswith(".weight_packed"))
    bookkeeping = sum(t.numel for t in k25_tensors if t.name.endswith((".weight_scale", ".weight_shape")))
    config = catalog_entry("moonshotai/Kimi-K2.5")["config"]
    assert account_from_config(config).total_params == _K25_ELEMENTS - packed - bookkeeping + 8 * packed


@pytest.mark.parametrize(
    "repo", ["nvidia/Kimi-K2.5-NVFP4", "nvidia/Kimi-K2.6-NVFP4", "nvidia/Kimi-K2.7-Code-NVFP4"]
)
def test_nvfp4_kimi_configs_are_counted_from_config(repo):
    """NVIDIA's NVFP4 Kimi configs (same MoonViT with no model_type) are counted, not sent to the headers."""
    accounting = account_from_config(catalog_entry(repo)["config"])
    assert accounting.count_basis is CountBasis.EXACT, accounting.notes
    assert accounting.components.vision > 0


# --- Kimi-K3 -------------------------------------------------------------------------------------------
# github:gogongxt/python scripts/models/kimi_k3.md@a0d3871ab6f58cbda18c00a8b8c79f84fcc043eb (96 shards,
# 497,220 tensors, 1453.66 GB, 参数总量 1,503,647,073,024). The report's layer groups: KDA layers
# "0-2,4-6,…,88-90" (×69), MLA layers "3,7,…,83,87,91-92" (×24), every layer "0-92", MoE "1-92".
_K3_KDA = tuple(i for i in range(91) if i % 4 != 3)
_K3_MLA = (*range(3, 92, 4), 92)
_K3_LM = "language_model.model.layers.{}"
_K3_MOE = _K3_LM + ".block_sparse_moe"
_K3_EXPERT = _K3_MOE + ".experts.{}"
_K3_GROUPS: tuple[Group, ...] = (
    (
        (
            ("language_model.lm_head.weight", "BF16", (163840, 7168)),
            ("language_model.model.embed_tokens.weight", "BF16", (163840, 7168)),
            ("language_model.model.norm.weight", "BF16", (7168,)),
            ("language_model.model.output_attn_res_norm.weight", "BF16", (7168,)),
            ("language_model.model.output_attn_res_proj.weight", "BF16", (1, 7168)),
        ),
        (),
    ),
    (
        (
            (_K3_LM + ".self_attn.A_log", "F32", (128,)),
            (_K3_LM + ".self_attn.b_proj.weight", "BF16", (96, 7168)),
            (_K3_LM + ".self_attn.dt_bias", "F32", (12288,)),
            (_K3_LM + ".self_attn.f_a_proj.weight", "BF16", (128, 7168)),
            (_K3_LM + ".self_attn.f_b_proj.weight", "BF16", (12288, 128)),
            (_K3_LM + ".self_attn.k_conv1d.weight", "F32", (12288, 1, 4)),
            (_K3_LM + ".self_attn.k_proj.weight", "BF16", (12288, 7168)),
            (_K3_LM + ".self_attn.o_norm.weight", "F32", (128,)),
            (_K3_LM + ".self_attn.q_conv1d.weight", "F32", (12288, 1, 4)),
            (_K3_LM + ".self_attn.q_proj.weight", "BF16", (12288, 7168)),
            (_K3_LM + ".self_attn.v_conv1d.weight", "F32", (12288, 1, 4)),
            (_K3_LM + ".self_attn.v_proj.weight", "BF16", (12288, 7168)),
        ),
        (_K3_KDA,),
    ),
    (
        (
            (_K3_LM + ".input_layernorm.weight", "BF16", (7168,)),
            (_K3_LM + ".mlp_res_norm.weight", "BF16", (7168,)),
            (_K3_LM + ".mlp_res_proj.weight", "BF16", (1, 7168)),
            (_K3_LM + ".post_attention_layernorm.weight", "BF16", (7168,)),
            (_K3_LM + ".self_attention_res_norm.weight", "BF16", (7168,)),
            (_K3_LM + ".self_attention_res_proj.weight", "BF16", (1, 7168)),
            (_K3_LM + ".self_attn.g_proj.weight", "BF16", (12288, 7168)),
            (_K3_LM + ".self_attn.o_proj.weight", "BF16", (7168, 12288)),
        ),
        (range(93),),
    ),
    (
        (
            (_K3_LM + ".mlp.down_proj.weight", "BF16", (7168, 33792)),
            (_K3_LM + ".mlp.gate_proj.weight", "BF16", (33792, 7168)),
            (_K3_LM + ".mlp.up_proj.weight", "BF16", (33792, 7168)),
        ),
        (range(1),),
    ),
    (  # MXFP4 compressed-tensors: two values per uint8 weight_packed, a uint8 exponent per group of 32
        (
            (_K3_EXPERT + ".w1.weight_packed", "U8", (3072, 1792)),
            (_K3_EXPERT + ".w1.weight_scale", "U8", (3072, 112)),
            (_K3_EXPERT + ".w2.weight_packed", "U8", (3584, 1536)),
            (_K3_EXPERT + ".w2.weight_scale", "U8", (3584, 96)),
            (_K3_EXPERT + ".w3.weight_packed", "U8", (3072, 1792)),
            (_K3_EXPERT + ".w3.weight_scale", "U8", (3072, 112)),
        ),
        (range(1, 93), range(896)),
    ),
    (
        (
            (_K3_MOE + ".gate.e_score_correction_bias", "F32", (896,)),
            (_K3_MOE + ".gate.weight", "BF16", (896, 7168)),
            (_K3_MOE + ".routed_expert_down_proj.weight", "BF16", (3584, 7168)),
            (_K3_MOE + ".routed_expert_norm.weight", "BF16", (3584,)),
            (_K3_MOE + ".routed_expert_up_proj.weight", "BF16", (7168, 3584)),
            (_K3_MOE + ".shared_experts.down_proj.weight", "BF16", (7168, 6144)),
            (_K3_MOE + ".shared_experts.gate_proj.weight", "BF16", (6144, 7168)),
            (_K3_MOE + ".shared_experts.up_proj.weight", "BF16", (6144, 7168)),
        ),
        (range(1, 93),),
    ),
    (
        (
            (_K3_LM + ".self_attn.kv_a_layernorm.weight", "BF16", (512,)),
            (_K3_LM + ".self_attn.kv_a_proj_with_mqa.weight", "BF16", (576, 7168)),
            (_K3_LM + ".self_attn.kv_b_proj.weight", "BF16", (24576, 512)),
            (_K3_LM + ".self_attn.q_a_layernorm.weight", "BF16", (1536,)),
            (_K3_LM + ".self_attn.q_a_proj.weight", "BF16", (1536, 7168)),
            (_K3_LM + ".self_attn.q_b_proj.weight", "BF16", (18432, 1536)),
        ),
        (_K3_MLA,),
    ),
    (
        (
            ("mm_projector.post_norm.weight", "BF16", (7168,)),
            ("mm_projector.proj.0.weight", "BF16", (4096, 4096)),
            ("mm_projector.proj.2.weight", "BF16", (7168, 4096)),
            ("vision_tower.encoder.final_layernorm.weight", "BF16", (1024,)),
            ("vision_tower.patch_embed.pos_emb.weight", "BF16", (64, 64, 1024)),
            ("vision_tower.patch_embed.proj.weight", "BF16", (1024, 3, 14, 14)),
        ),
        (),
    ),
    (
        (
            ("vision_tower.encoder.blocks.{}.mlp.fc0.weight", "BF16", (4096, 1024)),
            ("vision_tower.encoder.blocks.{}.mlp.fc1.weight", "BF16", (1024, 4096)),
            ("vision_tower.encoder.blocks.{}.norm0.weight", "BF16", (1024,)),
            ("vision_tower.encoder.blocks.{}.norm1.weight", "BF16", (1024,)),
            ("vision_tower.encoder.blocks.{}.wo.weight", "BF16", (1024, 1536)),
            ("vision_tower.encoder.blocks.{}.wqkv.weight", "BF16", (4608, 1024)),
        ),
        (range(27),),
    ),
)
_K3_TENSORS = 497_220
_K3_ELEMENTS = 1_503_647_073_024
_K3_GIB = 1453.66


@pytest.fixture(scope="module")
def k3_tensors() -> list[TensorInfo]:
    """The Kimi-K3 checkpoint's tensor list, expanded from the report's rows."""
    return list(_expand(_K3_GROUPS))


def test_k3_rows_rebuild_the_reported_checkpoint(k3_tensors):
    """The transcribed rows expand to the report's layer groups, tensor count, element total and size."""
    assert (len(_K3_KDA), len(_K3_MLA)) == (69, 24)
    assert len(k3_tensors) == _K3_TENSORS
    assert sum(t.numel for t in k3_tensors) == _K3_ELEMENTS
    assert round(sum(t.size_bytes for t in k3_tensors) / 2**30, 2) == _K3_GIB


def test_k3_config_count_equals_the_stored_tensors(k3_tensors):
    """Kimi-K3's config gives an exact count equal to the header path on the report's tensors: total,
    active and every component (latent MoE, attention residuals, MoonViT with patchmergerv2)."""
    config = catalog_entry("moonshotai/Kimi-K3")["config"]
    from_config = account_from_config(config)
    header = account_from_tensors(k3_tensors, parse_model_config(config))
    assert from_config.count_basis is CountBasis.EXACT, from_config.notes
    assert from_config.total_params == header.total_params
    assert from_config.active_params == header.active_params
    assert from_config.components == header.components
    vision = sum(t.numel for t in k3_tensors if t.name.startswith(("vision_tower.", "mm_projector.")))
    assert header.components.vision == vision > 0


def test_k3_active_count_is_top_16_of_896_routed_experts(k3_tensors):
    """The active count holds 16 of the 896 routed experts in each of the 92 MoE layers and every other
    weight but the input embedding (a lookup) and the vision tower (the accounting's definition)."""
    config = catalog_entry("moonshotai/Kimi-K3")["config"]
    accounting = account_from_config(config)
    routed = sum(
        2 * t.numel for t in k3_tensors if ".experts." in t.name and t.name.endswith(".weight_packed")
    )
    assert accounting.components.routed_experts == routed
    others = accounting.total_params - routed - accounting.components.embedding - accounting.components.vision
    assert accounting.active_params == others + routed * 16 // 896


def test_k3_published_figure_is_the_reported_element_total(k3_tensors):
    """The catalog's published figure is the report's element total (MXFP4 bytes and exponents as
    stored); as parameters each packed byte holds two values and the exponents are bookkeeping."""
    assert catalog_entry("moonshotai/Kimi-K3")["published_total_params"] == _K3_ELEMENTS
    packed = sum(t.numel for t in k3_tensors if t.name.endswith(".weight_packed"))
    scales = sum(t.numel for t in k3_tensors if t.name.endswith(".weight_scale"))
    config = catalog_entry("moonshotai/Kimi-K3")["config"]
    assert account_from_config(config).total_params == _K3_ELEMENTS - scales + packed


def test_kimi_linear_48b_keeps_its_own_layout():
    """Kimi-Linear-48B's config (no K3 keys) is still counted with its low-rank gate and per-head A_log:
    its published stored-tensor total."""
    entry = catalog_entry("moonshotai/Kimi-Linear-48B-A3B-Instruct")
    assert account_from_config(entry["config"]).total_params == entry["published_total_params"]


def test_kimi_linear_context_is_read_from_model_max_length():
    """Kimi-Linear's config.json states its 1M context only as ``model_max_length``: the largest context uses it."""
    config = catalog_entry("moonshotai/Kimi-Linear-48B-A3B-Instruct")["config"]
    assert "max_position_embeddings" not in config
    assert parse_model_config(config).max_context == 1_048_576
