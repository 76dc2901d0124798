"""MiniMax-M3: the config path against the tensors the released checkpoint stores.

The rows below transcribe the public per-tensor report of a local download of MiniMaxAI/MiniMax-M3
(github:gogongxt/python/scripts/models/minimax_m3.md@b521199165b8936d12197280607fc420c1d6b489: 59
shards, 23,416 tensors, "参数总量: 427,040,140,160"), grouped as the report groups them: a name
template, its shape and dtype, and over which layers / experts it repeats. The header path reads
those tensors; the config path synthesises them from config.json; both must agree to the integer.
"""

from __future__ import annotations

from estimator import account_from_config, account_from_tensors, parse_model_config
from tests.estimator.report_rows import Row, expand_rows
from tests.factories.catalog import catalog_config

REPORT_TOTAL = 427_040_140_160
REPORT_TENSORS = 23_416
_ALL, _DENSE, _MOE = range(60), range(3), range(3, 60)
_LM = "language_model.model.layers.{}."

# (name, dtype, shape, layers or None for a top-level tensor, experts per layer or 0)
_ROWS: tuple[Row, ...] = (
    ("language_model.lm_head.weight", "BF16", (200064, 6144), None, 0),
    ("language_model.model.embed_tokens.weight", "BF16", (200064, 6144), None, 0),
    ("language_model.model.norm.weight", "BF16", (6144,), None, 0),
    (_LM + "mlp.down_proj.weight", "BF16", (6144, 12288), _DENSE, 0),
    (_LM + "mlp.gate_proj.weight", "BF16", (12288, 6144), _DENSE, 0),
    (_LM + "mlp.up_proj.weight", "BF16", (12288, 6144), _DENSE, 0),
    (_LM + "input_layernorm.weight", "BF16", (6144,), _ALL, 0),
    (_LM + "post_attention_layernorm.weight", "BF16", (6144,), _ALL, 0),
    (_LM + "self_attn.k_norm.weight", "BF16", (128,), _ALL, 0),
    (_LM + "self_attn.k_proj.weight", "BF16", (512, 6144), _ALL, 0),
    (_LM + "self_attn.o_proj.weight", "BF16", (6144, 8192), _ALL, 0),
    (_LM + "self_attn.q_norm.weight", "BF16", (128,), _ALL, 0),
    (_LM + "self_attn.q_proj.weight", "BF16", (8192, 6144), _ALL, 0),
    (_LM + "self_attn.v_proj.weight", "BF16", (512, 6144), _ALL, 0),
    (_LM + "block_sparse_moe.e_score_correction_bias", "F32", (128,), _MOE, 0),
    (_LM + "block_sparse_moe.experts.{}.w1.weight", "BF16", (3072, 6144), _MOE, 128),
    (_LM + "block_sparse_moe.experts.{}.w2.weight", "BF16", (6144, 3072), _MOE, 128),
    (_LM + "block_sparse_moe.experts.{}.w3.weight", "BF16", (3072, 6144), _MOE, 128),
    (_LM + "block_sparse_moe.gate.weight", "F32", (128, 6144), _MOE, 0),
    (_LM + "block_sparse_moe.shared_experts.down_proj.weight", "BF16", (6144, 3072), _MOE, 0),
    (_LM + "block_sparse_moe.shared_experts.gate_proj.weight", "BF16", (3072, 6144), _MOE, 0),
    (_LM + "block_sparse_moe.shared_experts.up_proj.weight", "BF16", (3072, 6144), _MOE, 0),
    (_LM + "self_attn.index_k_norm.weight", "BF16", (128,), _MOE, 0),
    (_LM + "self_attn.index_k_proj.weight", "BF16", (128, 6144), _MOE, 0),
    (_LM + "self_attn.index_q_norm.weight", "BF16", (128,), _MOE, 0),
    (_LM + "self_attn.index_q_proj.weight", "BF16", (512, 6144), _MOE, 0),
    ("multi_modal_projector.linear_1.bias", "BF16", (6144,), None, 0),
    ("multi_modal_projector.linear_1.weight", "BF16", (6144, 1280), None, 0),
    ("multi_modal_projector.linear_2.bias", "BF16", (6144,), None, 0),
    ("multi_modal_projector.linear_2.weight", "BF16", (6144, 6144), None, 0),
    ("patch_merge_mlp.linear_1.bias", "BF16", (6144,), None, 0),
    ("patch_merge_mlp.linear_1.weight", "BF16", (6144, 24576), None, 0),
    ("patch_merge_mlp.linear_2.bias", "BF16", (6144,), None, 0),
    ("patch_merge_mlp.linear_2.weight", "BF16", (6144, 6144), None, 0),
    ("vision_tower.vision_model.embeddings.patch_embedding.weight", "F32", (1280, 3, 2, 14, 14), None, 0),
    *(
        (f"vision_tower.vision_model.encoder.layers.{{}}.{name}", "BF16", shape, range(32), 0)
        for name, shape in (
            ("layer_norm1.bias", (1280,)),
            ("layer_norm1.weight", (1280,)),
            ("layer_norm2.bias", (1280,)),
            ("layer_norm2.weight", (1280,)),
            ("mlp.fc1.bias", (5120,)),
            ("mlp.fc1.weight", (5120, 1280)),
            ("mlp.fc2.bias", (1280,)),
            ("mlp.fc2.weight", (1280, 5120)),
            ("self_attn.k_proj.bias", (1280,)),
            ("self_attn.k_proj.weight", (1280, 1280)),
            ("self_attn.out_proj.bias", (1280,)),
            ("self_attn.out_proj.weight", (1280, 1280)),
            ("self_attn.q_proj.bias", (1280,)),
            ("self_attn.q_proj.weight", (1280, 1280)),
            ("self_attn.v_proj.bias", (1280,)),
            ("self_attn.v_proj.weight", (1280, 1280)),
        )
    ),
    ("vision_tower.vision_model.pre_layrnorm.bias", "BF16", (1280,), None, 0),
    ("vision_tower.vision_model.pre_layrnorm.weight", "BF16", (1280,), None, 0),
)




def test_the_transcribed_report_is_the_whole_checkpoint() -> None:
    """The transcription holds every tensor and element the report counts."""
    tensors = expand_rows(_ROWS)
    assert len(tensors) == REPORT_TENSORS
    assert sum(t.numel for t in tensors) == REPORT_TOTAL


def test_config_count_equals_the_stored_checkpoint() -> None:
    """config.json alone gives the checkpoint's total, component by component, and the same active count."""
    raw = catalog_config("MiniMaxAI/MiniMax-M3")
    from_config = account_from_config(raw)
    from_headers = account_from_tensors(expand_rows(_ROWS), parse_model_config(raw))
    assert from_config.counts_known
    assert from_config.total_params == from_headers.total_params == REPORT_TOTAL
    assert from_config.components == from_headers.components
    assert from_config.active_params == from_headers.active_params
    assert from_config.components.mtp == 0  # the config names a NextN layer the checkpoint does not store
    assert from_config.components.vision == 631_185_920 + 234_381_312  # tower + projector and patch merge


def test_no_mtp_layer_is_offered_for_a_checkpoint_without_one() -> None:
    """The parsed config has no MTP layer, so no speculative-decoding draft is sized from missing weights."""
    assert parse_model_config(catalog_config("MiniMaxAI/MiniMax-M3")).mtp_layers == 0
