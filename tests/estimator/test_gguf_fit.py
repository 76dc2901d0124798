"""The fit of a real GGUF file goes through the same evaluation as the estimated quantizations."""

from __future__ import annotations

from estimator import (
    ModelFacts,
    estimate_fit,
    estimate_gguf_file_fit,
    gguf_file_accounting,
    gguf_model_config,
    layout_gguf_weights,
    layout_weights,
    parse_budget,
    parse_gguf_bytes,
    parse_gguf_facts,
)
from tests.factories.gguf_files import dense_spec, gguf_bytes


def test_a_file_with_the_estimated_layout_gets_the_estimated_answer(model_config, header_accounting):
    """Given the layout the estimator predicts, the file fit equals estimate_fit's option to the byte."""
    config, accounting = model_config("qwen2.5-32b-instruct"), header_accounting("qwen2.5-32b-instruct")
    budget = parse_budget("24GB")
    layout = layout_weights("Q4_K_M", accounting, config)
    expected = next(o for o in estimate_fit(ModelFacts(config, accounting), budget, context=8192).options
                    if o.quant == "Q4_K_M")
    assert estimate_gguf_file_fit(config, layout, accounting, budget, context=8192) == expected


def test_a_real_file_is_priced_by_its_tensor_data():
    """A GGUFWriter file's weights are its tensor data; its KV cache follows its metadata."""
    header = parse_gguf_bytes(gguf_bytes(dense_spec()))
    facts = parse_gguf_facts((header,))
    layout = layout_gguf_weights(header.tensors, facts.block_count, "Q4_K_M")
    config = gguf_model_config(facts)
    option = estimate_gguf_file_fit(config, layout, gguf_file_accounting(facts, layout), parse_budget("24GB"),
                                    context=4096)
    assert option.weights_bytes == header.tensor_bytes
    assert option.kv_cache_bytes == 2 * 2 * 4096 * 2 * 32 * 2  # 2 layers · K,V · 4096 tokens · 2 heads · 32 dims · f16
    assert option.verdict == "fits"
