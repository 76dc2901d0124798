"""MLX rows (issue 12): mlx_lm's affine quantization priced by its own rule, the rows on Apple budgets,
and the advice that picks MLX where it does better than llama.cpp's pick."""

from __future__ import annotations

import dataclasses

import pytest

import estimator
from estimator._advice import LOW_BIT_QUANTS
from estimator._advice_llama import llama_pick
from estimator._advice_mlx import mlx_pick
from estimator._advice_policy import Question, Recommendation
from estimator._runtime import Runtime
from estimator._weights import MLX_4BIT, MLX_8BIT

# TinyLlama-1.1B (tests/factories configs.tinyllama_1_1b): the dimensions the rule is applied to.
HIDDEN, LAYERS, VOCAB, INTER, KV_DIM = 2048, 22, 32000, 5632, 4 * 64
GROUP, BF16 = 64, 2


def _mlx_bytes(params: int, bits: int) -> int:
    """mlx_lm affine quantization: ``bits`` per weight plus a BF16 scale and a BF16 bias per 64 weights."""
    return params * bits // 8 + 2 * BF16 * (params // GROUP)


def _tinyllama_mlx_bytes(bits: int) -> int:
    """Every Linear and the embedding quantized (all last dimensions divide by 64), norms in BF16."""
    # q_proj and o_proj, k_proj and v_proj, gate_proj, up_proj and down_proj
    per_layer = (HIDDEN * HIDDEN,) * 2 + (KV_DIM * HIDDEN,) * 2 + (INTER * HIDDEN,) * 3
    linear = LAYERS * sum(_mlx_bytes(params, bits) for params in per_layer)
    embeddings = 2 * _mlx_bytes(VOCAB * HIDDEN, bits)  # embed_tokens and the untied lm_head
    norms = BF16 * (2 * LAYERS * HIDDEN + HIDDEN)
    assert LAYERS * sum(per_layer) + 2 * VOCAB * HIDDEN + 2 * LAYERS * HIDDEN + HIDDEN == 1_100_048_384
    return linear + embeddings + norms


@pytest.mark.parametrize(("quant", "bits"), [(MLX_4BIT, 4), (MLX_8BIT, 8)])
def test_mlx_layout_follows_mlx_lm_rule(quant, bits, header_accounting, model_config):
    """MLX 4-/8-bit bytes are the rule's figure: 4.5 / 8.5 bits per quantized weight, embeddings included."""
    layout = estimator.layout_weights(quant, header_accounting("mlx-4bit"), model_config("mlx-4bit"))
    assert layout.total == _tinyllama_mlx_bytes(bits)
    assert layout.embedding == _mlx_bytes(VOCAB * HIDDEN, bits)


def test_mlx_4bit_layout_matches_an_mlx_checkpoint(header_accounting, config_accounting, model_config):
    """The 4-bit figure is the bytes of an mlx-community style checkpoint, from its headers or its config."""
    stored = header_accounting("mlx-4bit").stored_bytes
    for accounting in (header_accounting("mlx-4bit"), config_accounting("mlx-4bit")):
        assert estimator.layout_weights(MLX_4BIT, accounting, model_config("mlx-4bit")).total == stored


def test_mlx_keeps_rows_that_do_not_divide_by_the_group(header_accounting, model_config):
    """mlx_lm skips a Linear whose last dimension is not a multiple of 64: it stays in the model dtype."""
    accounting = header_accounting("mlx-4bit")
    groups = tuple(
        dataclasses.replace(g, row_size=5600) if g.role == "ffn_down" else g for g in accounting.tensor_groups
    )
    odd = dataclasses.replace(accounting, tensor_groups=groups)
    before = estimator.layout_weights(MLX_4BIT, accounting, model_config("mlx-4bit")).total
    after = estimator.layout_weights(MLX_4BIT, odd, model_config("mlx-4bit")).total
    down = INTER * HIDDEN * LAYERS
    assert after - before == BF16 * down - LAYERS * _mlx_bytes(INTER * HIDDEN, 4)


def test_mlx_quant_names_parse():
    """ "mlx-4bit" and "MLX_8BIT" name the MLX rows."""
    assert estimator.parse_quant("mlx-4bit") is estimator.Quant.MLX_4BIT
    assert estimator.parse_quant("MLX_8BIT") is estimator.Quant.MLX_8BIT


def _facts(header_accounting, model_config, key: str) -> estimator.ModelFacts:
    return estimator.ModelFacts(model_config(key), header_accounting(key))


def test_apple_budget_has_mlx_rows_without_reserve(header_accounting, model_config):
    """A Mac gets MLX 8-bit and 4-bit rows run by mlx, with no CUDA reserve; an NVIDIA card gets none."""
    facts = _facts(header_accounting, model_config, "llama-3.1-8b")
    mac = estimator.estimate_fit(facts, estimator.parse_budget("M3 Max 128GB"))
    rows = {o.quant: o for o in mac.options if o.runtime == Runtime.MLX}
    assert set(rows) == {MLX_8BIT, MLX_4BIT} and "FP8" not in {o.quant for o in mac.options}
    for option in rows.values():
        assert option.reserve_bytes == 0 and option.verdict == estimator.FITS
        layout = estimator.layout_weights(option.quant, facts.accounting, facts.config)
        assert option.weights_bytes == layout.total == option.weights_gpu_bytes  # all in unified memory
    cuda = estimator.estimate_fit(facts, estimator.parse_budget("RTX 4090"))
    assert not [o for o in cuda.options if o.runtime == Runtime.MLX]


def test_fit_best_leaves_the_mlx_choice_to_the_advice(header_accounting, model_config):
    """MLX rows never become the report's "best": on a 32GB Mac, MLX 4-bit fits and outweighs IQ4_XS,
    yet best is the llama.cpp pick, the same as without MLX rows."""
    facts = _facts(header_accounting, model_config, "qwen2.5-32b-instruct")
    budget = estimator.parse_budget("M2 Max 32GB")
    report = estimator.estimate_fit(facts, budget)
    mlx4 = next(o for o in report.options if o.quant == MLX_4BIT)
    assert (
        mlx4.verdict == "fits" and report.best is not None and mlx4.weights_bytes > report.best.weights_bytes
    )
    without = tuple(
        q for q in estimator.default_quants(facts.accounting, budget) if q not in (MLX_4BIT, MLX_8BIT)
    )
    assert report.best == estimator.estimate_fit(facts, budget, quants=without).best


def _question(header_accounting, model_config, key: str, budget: str) -> tuple[Question, Recommendation]:
    """The advice's question for ``key`` on ``budget`` at the default context, and llama.cpp's pick."""
    facts = _facts(header_accounting, model_config, key)
    parsed = estimator.parse_budget(budget)
    base = estimator.estimate_fit(facts, parsed)
    q = Question(facts, "org/m", parsed, base, None, False, True, None)
    return q, llama_pick(q, [])


def test_mlx_8bit_replaces_a_lower_precision_llama_pick(header_accounting, model_config):
    """On a Mac with room for MLX 8-bit at a usable speed, a llama.cpp pick below 8 bits gives way to it."""
    q, rec = _question(header_accounting, model_config, "llama-3.1-8b", "M3 Max 128GB")
    assert rec.runtime == Runtime.LLAMA_CPP and rec.quant == "Q8_0"
    assert mlx_pick(q, rec, []) is None  # Q8_0 already has 8 bits
    pick = mlx_pick(q, dataclasses.replace(rec, quant="Q6_K"), [])
    assert pick is not None and (pick.runtime, pick.quant, pick.verdict) == (Runtime.MLX, MLX_8BIT, "fits")
    assert "--q-bits 8" in pick.launch_map["mlx"] and "llama.cpp" in pick.launch_map
    assert pick.context == q.target and pick.decode_tokens_per_s


def test_mlx_4bit_replaces_a_low_bit_llama_pick(header_accounting, model_config):
    """Where only MLX 4-bit fits, it replaces a below-4-bit llama.cpp pick, not a 4-bit one."""
    q, rec = _question(header_accounting, model_config, "qwen2.5-32b-instruct", "M4 Max 36GB")
    options = {o.quant: o for o in q.base.options}
    assert options[MLX_4BIT].verdict == "fits" and options[MLX_8BIT].verdict != "fits"
    assert rec.quant not in LOW_BIT_QUANTS
    assert mlx_pick(q, rec, []) is None
    pick = mlx_pick(q, dataclasses.replace(rec, quant="Q3_K_M"), [])
    assert pick is not None and pick.quant == MLX_4BIT and "--q-bits 4" in pick.launch_map["mlx"]


def test_mlx_is_never_picked_off_apple(header_accounting, model_config):
    """On an NVIDIA card the MLX rule does not apply, whatever llama.cpp picked."""
    q, rec = _question(header_accounting, model_config, "llama-3.1-8b", "RTX 4090")
    assert mlx_pick(q, dataclasses.replace(rec, quant="Q3_K_M"), []) is None
