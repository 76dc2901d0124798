"""Two catalog entries whose published totals differ from our count, each differing for a proven cause.

The published figures are not tensor counts under issue 10 §4 (every stored tensor minus quantization
bookkeeping and derived constants). These tests rebuild what each checkpoint stores from public records
of its files and check that our config count is exactly what the definition leaves, and that the
published figure is exactly that plus the tensors or bookkeeping it should not hold.
"""

from __future__ import annotations

from estimator import TensorInfo, account_from_config, account_from_tensors, parse_model_config
from tests.factories.catalog import catalog_entry

# Kimi-K2-Instruct's 61 shards, per tensor, as listed in a public model report of the checkpoint
# (header read of model-1-of-61 ... model-61-of-61.safetensors: 139,644 tensors, 1,026,470,731,056
# elements). Rows: name under model.layers.N, dtype, shape, scale shape of an FP8 weight (None: none).
_K2_ATTENTION = (
    ("input_layernorm.weight", "BF16", (7168,), None),
    ("post_attention_layernorm.weight", "BF16", (7168,), None),
    ("self_attn.kv_a_layernorm.weight", "BF16", (512,), None),
    ("self_attn.q_a_layernorm.weight", "BF16", (1536,), None),
    ("self_attn.rotary_emb.inv_freq", "BF16", (56,), None),
    ("self_attn.kv_a_proj_with_mqa.weight", "F8_E4M3", (576, 7168), (5, 56)),
    ("self_attn.kv_b_proj.weight", "F8_E4M3", (16384, 512), (128, 4)),
    ("self_attn.o_proj.weight", "F8_E4M3", (7168, 8192), (56, 64)),
    ("self_attn.q_a_proj.weight", "F8_E4M3", (1536, 7168), (12, 56)),
    ("self_attn.q_b_proj.weight", "F8_E4M3", (12288, 1536), (96, 12)),
)
_K2_DENSE_MLP = (
    ("mlp.down_proj.weight", "F8_E4M3", (7168, 18432), (56, 144)),
    ("mlp.gate_proj.weight", "F8_E4M3", (18432, 7168), (144, 56)),
    ("mlp.up_proj.weight", "F8_E4M3", (18432, 7168), (144, 56)),
)
_K2_EXPERT = (
    ("down_proj.weight", "F8_E4M3", (7168, 2048), (56, 16)),
    ("gate_proj.weight", "F8_E4M3", (2048, 7168), (16, 56)),
    ("up_proj.weight", "F8_E4M3", (2048, 7168), (16, 56)),
)
_K2_ROUTER = (
    ("mlp.gate.e_score_correction_bias", "F32", (384,), None),
    ("mlp.gate.weight", "BF16", (384, 7168), None),
)
# The Hub's element count of all those tensors (llmfit catalog, AlexsJones/llmfit
# llmfit-core/data/hf_models.json@a3e0eb27c57fe05298292f4c61699b9aed2824ea) and the index's total_size
# in bytes (quoted by a public Kimi K2/K3 comparison page as "safetensors index total").
_K2_HUB_ELEMENTS = 1_026_470_731_056
_K2_INDEX_BYTES = 1_029_173_256_720


def _kimi_k2_instruct_tensors() -> list[TensorInfo]:
    out = [
        TensorInfo("model.embed_tokens.weight", "BF16", (163840, 7168)),
        TensorInfo("lm_head.weight", "BF16", (163840, 7168)),
        TensorInfo("model.norm.weight", "BF16", (7168,)),
    ]

    def add(prefix: str, rows: tuple[tuple[str, str, tuple[int, ...], tuple[int, ...] | None], ...]) -> None:
        for name, dtype, shape, scale in rows:
            out.append(TensorInfo(f"{prefix}.{name}", dtype, shape))
            if scale is not None:
                out.append(TensorInfo(f"{prefix}.{name}_scale_inv", "F32", scale))

    for layer in range(61):
        p = f"model.layers.{layer}"
        add(p, _K2_ATTENTION)
        if layer == 0:
            add(p, _K2_DENSE_MLP)
            continue
        add(p, _K2_ROUTER)
        add(f"{p}.mlp.shared_experts", _K2_EXPERT)
        for expert in range(384):
            add(f"{p}.mlp.experts.{expert}", _K2_EXPERT)
    return out


def test_kimi_k2_published_figure_counts_its_stored_rotary_buffers():
    """Kimi-K2-Instruct stores a [56] rotary inv_freq per layer: the header path drops those 3,416 derived
    constants and the block scales and lands on the config count; the published figure drops only the scales.

    Published (HF Hub safetensors.total, recorded 2026-09-25): since huggingface.js#2321 (2026-07-27) the
    Hub's parser skips ``*.weight_scale_inv`` under a quantization_config but not ``inv_freq``
    (packages/hub/src/lib/parse-safetensors-metadata.ts@fe42e68, QUANTIZATION_AUXILIARY_SUFFIXES); llmfit's
    May 2026 figure predates it and counts every element. vLLM's loader skips ``rotary_emb.inv_freq``
    (vllm-project/vllm vllm/model_executor/models/deepseek_v2.py@002d607).
    """
    entry = catalog_entry("moonshotai/Kimi-K2-Instruct")
    tensors = _kimi_k2_instruct_tensors()
    assert len(tensors) == 139_644
    assert sum(t.numel for t in tensors) == _K2_HUB_ELEMENTS
    assert sum(t.size_bytes for t in tensors) == _K2_INDEX_BYTES

    config_count = account_from_config(entry["config"]).total_params
    header = account_from_tensors(tensors, parse_model_config(entry["config"]))
    assert header.total_params == config_count
    assert header.stored_bytes == _K2_INDEX_BYTES

    scales = sum(t.numel for t in tensors if t.name.endswith(".weight_scale_inv"))
    rotary = sum(t.numel for t in tensors if t.name.endswith(".inv_freq"))
    assert entry["published_total_params"] == _K2_HUB_ELEMENTS - scales
    assert entry["published_total_params"] - config_count == rotary


def test_gemma_4_26b_published_figure_is_the_index_self_report_not_its_tensors():
    """Gemma 4 26B A4B's index says total_size 51,611,872,412 bytes for a BF16 checkpoint: two bytes per
    element of our config count. Its total_parameters (the published figure) is transformers'
    num_parameters() at save time: stored tensors less the persistent buffers it keeps outside parameters,
    plus vocab x hidden.

    Index metadata quoted in ReneSchwarzer/WebExpress.LLM
    src/WebExpress.LLM.Test/SafeTensors/SafeTensorIndexTests.cs@b418f40 (total_parameters 26544131376,
    total_size 51611872412); save_pretrained writes ``"total_parameters": self.num_parameters()``
    (transformers 5.24 modeling_utils.py), which walks named_parameters(), not buffers. The Hub showed that
    self-report verbatim until huggingface.js#2340 (2026-08-03) capped it at the header count; llmfit's
    figure is from May 2026.
    """
    entry = catalog_entry("google/gemma-4-26B-A4B")
    config, text, vision = entry["config"], entry["config"]["text_config"], entry["config"]["vision_config"]
    assert text["dtype"] == vision["dtype"] == "bfloat16"
    config_count = account_from_config(config).total_params
    assert 2 * config_count == 51_611_872_412

    # Persistent buffers of modeling_gemma4 (transformers 5.24): one layer_scalar per decoder layer, the
    # vision tower's std_bias and std_scale when it standardizes; clip bounds only with use_clipped_linears.
    assert vision["standardize"] and not vision["use_clipped_linears"]
    buffers = text["num_hidden_layers"] + 2 * vision["hidden_size"]
    assert buffers == 2_334
    assert entry["published_total_params"] == 26_544_131_376
    head = text["vocab_size"] * text["hidden_size"]
    assert entry["published_total_params"] == config_count - buffers + head
