"""Fit verdicts, largest context, multi-GPU splits, offload plans and decode speed."""

from __future__ import annotations

import pytest

import estimator
from estimator import DOES_NOT_FIT, FITS, FITS_REDUCED_CONTEXT, GIB, MIB, NEEDS_OFFLOAD

VERDICTS = {"fits", "fits_reduced_context", "needs_offload", "does_not_fit"}
QWEN = "qwen2.5-32b-instruct"


@pytest.fixture(scope="module")
def qwen(model_config, config_accounting):
    """Qwen2.5-32B-Instruct from config.json alone (no headers)."""
    return estimator.ModelFacts(model_config(QWEN), config_accounting(QWEN))


def _fit(model, budget: str, context: int = 8192, **kwargs) -> dict[str, estimator.QuantOption]:
    report = estimator.estimate_fit(model, estimator.parse_budget(budget), context=context, **kwargs)
    assert report.context == context
    return {option.quant: option for option in report.options}


def test_verdict_names_are_stable():
    """The four verdicts are exactly fits / fits_reduced_context / needs_offload / does_not_fit."""
    assert {FITS, FITS_REDUCED_CONTEXT, NEEDS_OFFLOAD, DOES_NOT_FIT} == VERDICTS
    assert (FITS, FITS_REDUCED_CONTEXT, NEEDS_OFFLOAD, DOES_NOT_FIT) == (
        "fits", "fits_reduced_context", "needs_offload", "does_not_fit")


def test_q4_k_m_fits_24gb_and_bf16_does_not(qwen):
    """Qwen2.5-32B at 8192 tokens on 24GB: Q4_K_M fits; BF16 (61 GiB) fits neither VRAM nor VRAM + 32 GiB RAM."""
    options = _fit(qwen, "24GB")
    assert options["Q4_K_M"].verdict == FITS
    assert options["BF16"].verdict == DOES_NOT_FIT
    assert options["BF16"].weights_bytes > 24 * GIB + estimator.ASSUMED_SYSTEM_RAM_BYTES
    # llama.cpp keeps 1-D tensors (norms, q/k/v biases) in F32: 2 more bytes for each of those.
    one_d = 64 * (2 * 5120 + 5120 + 2 * 1024) + 5120
    assert options["BF16"].weights_bytes == 2 * 32_763_876_352 + 2 * one_d


def test_q4_k_m_on_24gb_adds_up(qwen, model_config):
    """The Q4_K_M estimate is weights (embedding on the host) + 2 GiB f16 cache + buffers + 457 MiB reserve."""
    option = _fit(qwen, "24GB")["Q4_K_M"]
    layout = estimator.layout_weights("Q4_K_M", qwen.accounting, qwen.config)
    assert option.weights_gpu_bytes == layout.total - layout.embedding
    assert option.kv_cache_bytes == 8192 * 262_144 == 2 * GIB
    assert option.reserve_bytes == 457 * MIB
    buffers = estimator.estimate_compute_buffers(model_config(QWEN), 8192, estimator.LLAMA_CPP_PROFILE)
    assert option.compute_bytes == buffers.device_bytes
    assert option.total_bytes == option.weights_gpu_bytes + option.kv_cache_bytes + option.compute_bytes + option.reserve_bytes
    assert option.total_bytes <= 24 * GIB


@pytest.mark.parametrize("budget", ["24GB", "RTX 4090", "2x24GB", "16GB"])
def test_max_context_is_the_largest_fitting_multiple_of_256(qwen, budget):
    """max_context fits when re-run, and 256 tokens more does not (unless it is the model's own limit)."""
    model_limit = qwen.config.max_context
    for quant, option in _fit(qwen, budget).items():
        if option.max_context == 0:
            continue
        assert option.max_context % 256 == 0, quant
        assert _fit(qwen, budget, option.max_context, quants=(quant,))[quant].verdict == FITS, quant
        if option.max_context < model_limit:
            assert _fit(qwen, budget, option.max_context + 256, quants=(quant,))[quant].verdict != FITS, quant


def test_reduced_context_when_only_a_shorter_context_fits(qwen):
    """Q5_K_M on 24GB fits 8192 tokens but not 16384: at 16384 it is fits_reduced_context with a smaller max."""
    option = _fit(qwen, "24GB", 16384)["Q5_K_M"]
    assert option.verdict == FITS_REDUCED_CONTEXT
    assert 4096 <= option.max_context < 16384
    assert option.decode_tokens_per_s is None  # a bare size names no GPU, so no bandwidth


def test_two_gpus_split_the_layers(qwen):
    """On 2x24GB every option spreads the 64 layers over two devices, first to last, none idle."""
    for quant, option in _fit(qwen, "2x24GB").items():
        first, second = option.devices
        assert first.layer_count + second.layer_count == 64, quant
        assert (first.first_layer, second.first_layer) == (0, first.layer_count)
        assert first.layer_count > 0 and second.layer_count > 0
        assert all(d.capacity_bytes == 24 * GIB for d in option.devices)


def test_second_gpu_makes_q8_0_fit(qwen):
    """Q8_0 (34 GB of weights) does not fit one 24GB card but fits two."""
    assert _fit(qwen, "24GB")["Q8_0"].verdict != FITS
    assert _fit(qwen, "2x24GB")["Q8_0"].verdict == FITS


def test_uneven_gpus_split_in_proportion(qwen):
    """24+12GB gives the 24 GB card about two thirds of the layers."""
    first, second = _fit(qwen, "24+12GB")["Q4_K_M"].devices
    assert first.layer_count + second.layer_count == 64
    assert abs(first.layer_count - 64 * 2 / 3) <= 1


def test_moe_that_does_not_fit_offloads_experts(model_config, config_accounting):
    """Mixtral Q4_K_M on an RTX 4090 keeps some layers' routed experts in RAM (--n-cpu-moe), not whole layers."""
    model = estimator.ModelFacts(model_config("mixtral-8x7b"), config_accounting("mixtral-8x7b"))
    option = _fit(model, "RTX 4090")["Q4_K_M"]
    assert option.verdict == NEEDS_OFFLOAD
    plan = option.offload
    assert plan.kind == "experts"
    assert 0 < plan.cpu_layers < plan.total_layers == 32
    assert plan.gpu_bytes <= 24 * GIB
    assert 0 < plan.ram_bytes <= plan.ram_available_bytes == estimator.ASSUMED_SYSTEM_RAM_BYTES
    assert plan.decode_tokens_per_s > 0


def test_dense_model_that_does_not_fit_offloads_layers(qwen):
    """A dense model that does not fit keeps whole layers in RAM (-ngl)."""
    option = _fit(qwen, "24GB + 64GB RAM")["Q8_0"]
    assert option.verdict == NEEDS_OFFLOAD
    assert option.offload.kind == "layers"
    assert option.offload.ram_available_bytes == 64 * GIB


def test_decode_speed_needs_a_named_gpu(qwen):
    """A bare size has no bandwidth, so no speed; an RTX 4090 gives a positive speed below its bandwidth bound."""
    assert _fit(qwen, "24GB")["Q4_K_M"].decode_tokens_per_s is None
    option = _fit(qwen, "RTX 4090")["Q4_K_M"]
    speed = option.decode_tokens_per_s
    assert isinstance(speed, float) and speed > 0
    assert speed < 1008e9 / option.weights_gpu_bytes  # the 4090 reads 1,008 GB/s at most


@pytest.mark.parametrize(
    ("key", "budget"),
    [("qwen2.5-32b-instruct", "8GB"), ("deepseek-v3", "8x80GB"), ("gpt-oss-20b", "RTX 3060"),
     ("qwen3-30b-a3b", "M3 Max 128GB"), ("llama-3.1-8b", "4090 + 64GB RAM"), ("mixtral-8x7b", "2x3090")],
)
def test_every_verdict_is_one_of_four(key, budget, model_config, header_accounting):
    """Whatever the model and budget, each option's verdict is one of the four names and best is one of them."""
    model = estimator.ModelFacts(model_config(key), header_accounting(key))
    report = estimator.estimate_fit(model, estimator.parse_budget(budget))
    assert report.options
    assert {o.verdict for o in report.options} <= VERDICTS
    assert report.best is None or report.best in report.options


def test_mxfp4_checkpoint_offers_mxfp4_moe(model_config, header_accounting):
    """gpt-oss (MXFP4 experts) gets an MXFP4_MOE option and, from its headers, the stored size."""
    model = estimator.ModelFacts(model_config("gpt-oss-20b"), header_accounting("gpt-oss-20b"))
    options = _fit(model, "RTX 4090")
    assert "MXFP4_MOE" in options and "stored" in options
    assert options["stored"].weights_bytes <= header_accounting("gpt-oss-20b").stored_bytes


def test_unified_memory_has_no_reserve_and_no_offload(model_config, config_accounting):
    """On Apple unified memory nothing is reserved per GPU and nothing can be offloaded to RAM."""
    model = estimator.ModelFacts(model_config("qwen3-30b-a3b"), config_accounting("qwen3-30b-a3b"))
    for option in _fit(model, "M3 Max 64GB").values():
        assert option.reserve_bytes == 0
        assert option.offload is None
