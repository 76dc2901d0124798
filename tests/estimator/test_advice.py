"""The recommendation policy (estimator/_advice.py), case by case: every example of issue 12 §1 and more."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest

import estimator
from estimator import GIB, MIB
from estimator._advice import (
    LOW_BIT_QUANTS,
    RUNS_FROM_DISK,
    USABLE_TOKENS_PER_S,
    Recommendation,
    hardware_wording,
    recommend,
)
from estimator._runtime import Runtime
from tests.factories import replica


def _gpt_oss_120b() -> dict:
    """openai/gpt-oss-120b config.json (huggingface.co/openai/gpt-oss-120b): 20b's, 36 layers, 128 experts."""
    config = copy.deepcopy(replica("gpt-oss-20b").config)
    config.update(
        num_hidden_layers=36, num_local_experts=128, layer_types=["sliding_attention", "full_attention"] * 18
    )
    return config


def _llama_3_1(layers: int, hidden: int, inter: int, heads: int) -> dict:
    """Llama-3.1 70B/405B config.json (huggingface.co/meta-llama): the 8B config with these dimensions."""
    config = copy.deepcopy(replica("llama-3.1-8b").config)
    config.update(
        num_hidden_layers=layers, hidden_size=hidden, intermediate_size=inter, num_attention_heads=heads
    )
    return config


_CONFIGS = {
    "gpt-oss-120b": _gpt_oss_120b,
    "llama-3.1-70b": lambda: _llama_3_1(80, 8192, 28672, 64),
    "llama-3.1-405b": lambda: _llama_3_1(126, 16384, 53248, 128),
}
_CACHE: dict[str, estimator.ModelFacts] = {}


def _facts(key: str) -> estimator.ModelFacts:
    if key not in _CACHE:
        config = _CONFIGS[key]() if key in _CONFIGS else replica(key).config
        _CACHE[key] = estimator.ModelFacts(
            estimator.parse_model_config(config), estimator.account_from_config(config)
        )
    return _CACHE[key]


@dataclass(frozen=True)
class Case:
    """One question as a community member asks it, and what the pick must be."""

    name: str
    model: str
    repo: str
    budget: str
    context: int | None = None
    kv: str | None = None
    quant: str | tuple[str, ...] | None = None
    runtime: Runtime = Runtime.LLAMA_CPP
    verdict: str | None = None
    kv_cache: str | tuple[str, ...] | None = None
    offload: str | None = None  # "experts" or "layers"
    tensor_parallel: int | None = None
    notes: tuple[str, ...] = ()  # substrings some note must contain
    launch: tuple[tuple[str, str], ...] = ()  # (launch key, substring of its command)
    not_launch: tuple[tuple[str, str], ...] = ()
    min_speed: float = 0.0
    four_bit_or_better: bool = True
    extra: dict = field(default_factory=dict)


QWEN3 = ("qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B")
OSS20 = ("gpt-oss-20b", "openai/gpt-oss-20b")
OSS120 = ("gpt-oss-120b", "openai/gpt-oss-120b")
L8 = ("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct")
L70 = ("llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct")
L405 = ("llama-3.1-405b", "meta-llama/Llama-3.1-405B-Instruct")
Q32 = ("qwen2.5-32b-instruct", "Qwen/Qwen2.5-32B-Instruct")
DSV3 = ("deepseek-v3", "deepseek-ai/DeepSeek-V3")
MIX = ("mixtral-8x7b", "mistralai/Mixtral-8x7B-Instruct-v0.1")

CASES = [
    # --- issue 12 §1, each failing example ---------------------------------------------------------
    Case(
        "issue: Qwen3-30B-A3B on a 12 GB RTX 3060 is Q4_K_M with experts in RAM, not IQ2_XXS",
        *QWEN3,
        "RTX 3060",
        quant="Q4_K_M",
        verdict="needs_offload",
        offload="experts",
        notes=("3-bit-or-lower", "32 GiB assumed"),
        launch=(("llama.cpp", "--n-cpu-moe"),),
        min_speed=USABLE_TOKENS_PER_S,
    ),
    Case(
        "issue: gpt-oss-120b on a DGX Spark is its native MXFP4, not Q8_0",
        *OSS120,
        "DGX Spark",
        quant="MXFP4_MOE",
        verdict="fits",
        notes=("90%",),
    ),
    Case(
        "issue: gpt-oss-20b on a 16 GB card is native MXFP4, not IQ4_XS",
        *OSS20,
        "RTX 4060 Ti 16GB",
        quant="MXFP4_MOE",
        verdict="fits",
        launch=(("ollama", "gpt-oss:20b"),),
    ),
    Case(
        "issue: Llama-3.1-8B on a 12 GB card is llama.cpp Q8_0, not FP8",
        *L8,
        "12GB",
        quant="Q8_0",
        verdict="fits",
        notes=("speed assumes",),
        launch=(("llama.cpp", "Q8_0.gguf"),),
    ),
    Case(
        "issue: Llama-3.1-405B on 8xH100 is vLLM with tensor parallelism, not GGUF layer split",
        *L405,
        "8x H100",
        quant="FP8",
        runtime=Runtime.VLLM,
        verdict="fits",
        tensor_parallel=8,
        launch=(("vllm", "--tensor-parallel-size 8"),),
        not_launch=(("llama.cpp", ""),),
    ),
    Case(
        "issue: --context 128k on 24 GB reaches 128k (a quantized KV cache, YaRN named), not Q5_K_M at 8,448",
        *Q32,
        "24GB",
        context=131072,
        kv_cache=("q8_0", "q4_0"),
        notes=("YaRN", "factor 4", "KV cache makes"),
        launch=(("llama.cpp", "--rope-scale 4"),),
    ),
    Case(
        "issue: a q4_0 KV cache at 128k gives a headline that does not contradict itself",
        *Q32,
        "24GB",
        context=131072,
        kv="q4_0",
        kv_cache="q4_0",
        launch=(("llama.cpp", "-ctk q4_0 -ctv q4_0"),),
    ),
    Case(
        "issue: DeepSeek-V3 on a 4090 runs from disk, slowly, with the host RAM itemised",
        *DSV3,
        "RTX 4090",
        verdict=RUNS_FROM_DISK,
        notes=("mmap", "--cache-ram 0"),
        launch=(("llama.cpp", "--cache-ram 0"),),
    ),
    # --- CPU only ----------------------------------------------------------------------------------------
    Case(
        "CPU only with 64GB RAM: llama.cpp without -ngl, with a CPU speed",
        *Q32,
        "64GB RAM",
        verdict="fits",
        notes=("DDR5",),
        not_launch=(("llama.cpp", "-ngl"),),
    ),
    Case("'no gpu' assumes 32 GiB of RAM and says so", *L8, "no gpu", notes=("32 GiB assumed",)),
    Case(
        "'cpu only' with an 8B model runs at a usable speed", *L8, "cpu only", min_speed=USABLE_TOKENS_PER_S
    ),
    Case(
        "CPU only, DeepSeek-V3 runs from disk without -ngl",
        *DSV3,
        "64GB RAM",
        verdict=RUNS_FROM_DISK,
        not_launch=(("llama.cpp", "-ngl"),),
    ),
    # --- Apple ---------------------------------------------------------------------------------------------
    Case(
        "a 128GB mac gets llama.cpp Metal and an MLX command, the chip assumed and said",
        *Q32,
        "128GB mac",
        notes=("M4 Max", "Metal"),
        launch=(("mlx", "mlx_lm.server"),),
    ),
    Case(
        "mac studio 192 is an M2 Ultra",
        *L70,
        "mac studio 192",
        notes=("M2 Ultra",),
        launch=(("mlx", "--q-bits"),),
    ),
    Case(
        "M4 Max with no size says which size it assumed",
        *OSS20,
        "M4 Max",
        quant="MXFP4_MOE",
        notes=("128 GB assumed",),
    ),
    # --- AMD, Intel, used cards, unified memory ------------------------------------------------------
    Case("an RX 7900 XTX is named with ROCm or Vulkan", *QWEN3, "7900 XTX", notes=("ROCm",)),
    Case("an Intel Arc A770 is named with SYCL or Vulkan", *L8, "Arc A770", notes=("SYCL",)),
    Case("a P40 runs llama.cpp (no vLLM on Pascal)", *QWEN3, "P40", not_launch=(("vllm", ""),)),
    Case("two P40s stay on llama.cpp", *L70, "2x P40", runtime=Runtime.LLAMA_CPP),
    Case("an MI50 runs llama.cpp with ROCm wording", *L8, "MI50", notes=("ROCm",)),
    Case(
        "an RX 6700 XT (12 GB) picks 4-bit-or-better for Qwen3-30B with offload",
        *QWEN3,
        "RX 6700 XT",
        offload="experts",
    ),
    Case(
        "Strix Halo gives the GPU 96 of 128 GiB (AMD's figure) and runs gpt-oss-120b natively",
        *OSS120,
        "strix halo",
        quant="MXFP4_MOE",
        notes=("96 of 128 GiB",),
    ),
    Case("Colab is read as a T4 and says so", *L8, "colab", notes=("Colab",), quant="Q8_0"),
    # --- Precision, speed, context -----------------------------------------------------------------
    Case(
        "8B on a 4090: Q8_0 rather than BF16, and says BF16 also fits",
        *L8,
        "RTX 4090",
        quant="Q8_0",
        notes=("BF16 also fits",),
    ),
    Case("Qwen3-30B on a 3090 fits fully at 4-bit or better", *QWEN3, "RTX 3090", verdict="fits"),
    Case(
        "Mixtral 8x7B on 12 GB offloads experts at 4-bit", *MIX, "RTX 3060", offload="experts", quant="Q4_K_M"
    ),
    Case(
        "a single H100 stays on llama.cpp but also gets a vLLM command",
        *L8,
        "H100",
        launch=(("vllm", "vllm serve meta-llama/Llama-3.1-8B-Instruct"),),
    ),
    Case(
        "Llama-3.1-70B on 2x H100 is vLLM with tensor parallelism 2",
        *L70,
        "2x H100",
        runtime=Runtime.VLLM,
        tensor_parallel=2,
        launch=(("vllm", "--tensor-parallel-size 2"),),
    ),
    Case(
        "gpt-oss-120b on 2x H100 is vLLM in its native MXFP4",
        *OSS120,
        "2x H100",
        runtime=Runtime.VLLM,
        quant="MXFP4",
        tensor_parallel=2,
    ),
    Case(
        "Qwen2.5-32B on 4x A100 80GB is vLLM BF16 across 4",
        *Q32,
        "4x A100 80GB",
        runtime=Runtime.VLLM,
        quant="BF16",
        tensor_parallel=4,
    ),
    Case("64k on a 32B model names YaRN factor 2", *Q32, "2x3090", context=65536, notes=("factor 2",)),
    Case("no context asked: no KV-cache suggestion, f16 stays", *Q32, "RTX 4090", kv_cache="f16"),
    Case(
        "an explicit q8_0 KV cache is kept",
        *L8,
        "RTX 3060",
        context=32768,
        kv="q8_0",
        kv_cache="q8_0",
        launch=(("llama.cpp", "-ctk q8_0 -ctv q8_0"),),
    ),
    Case(
        "Qwen2.5-32B on 8 GB: 4-bit is too slow, so the floor lets a 3-bit offload through and says why",
        *Q32,
        "8GB + 64GB RAM",
        offload="layers",
        notes=("below 4 bits",),
        four_bit_or_better=False,
        min_speed=USABLE_TOKENS_PER_S,
    ),
    Case(
        "Llama-3.1-70B on one 3090: 4-bit offload is under reading speed, so a low-bit fit, said plainly",
        *L70,
        "RTX 3090 + 64GB RAM",
        verdict="fits",
        notes=("below 4 bits",),
        four_bit_or_better=False,
        min_speed=USABLE_TOKENS_PER_S,
    ),
]


@pytest.fixture(scope="module")
def results() -> dict[str, Recommendation]:
    """Every case's recommendation, computed once."""
    out = {}
    for case in CASES:
        budget = estimator.parse_budget(case.budget)
        out[case.name] = recommend(
            _facts(case.model), budget, repo_id=case.repo, context=case.context, kv_type=case.kv
        )
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_case(case: Case, results: dict[str, Recommendation]):
    """Each named case gets the pick, runtime, verdict, KV cache, offload, notes and command it names."""
    rec = results[case.name]
    if case.quant is not None:
        assert rec.quant in ((case.quant,) if isinstance(case.quant, str) else case.quant), rec
    assert rec.runtime == case.runtime, rec
    if case.verdict is not None:
        assert rec.verdict == case.verdict, rec
    if case.kv_cache is not None:
        assert rec.kv_cache in ((case.kv_cache,) if isinstance(case.kv_cache, str) else case.kv_cache), rec
    if case.offload is not None:
        assert rec.offload is not None and rec.offload.kind == case.offload, rec
    if case.tensor_parallel is not None:
        assert rec.tensor_parallel == case.tensor_parallel, rec
    for text in case.notes:
        assert any(text in note for note in rec.notes), (text, rec.notes)
    launch = rec.launch_map
    for key, text in case.launch:
        assert key in launch and text in launch[key], (key, text, launch)
    for key, text in case.not_launch:
        assert key not in launch or (text and text not in launch[key]), (key, text, launch)
    if case.four_bit_or_better and rec.verdict != RUNS_FROM_DISK:
        assert rec.quant not in LOW_BIT_QUANTS, rec
    assert rec.decode_tokens_per_s is not None and rec.decode_tokens_per_s >= case.min_speed, rec


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_pick_is_self_consistent(case: Case, results: dict[str, Recommendation]):
    """No pick contradicts itself: context <= max_context, a command for its runtime, a speed, a reason."""
    rec = results[case.name]
    assert 0 < rec.context <= rec.max_context
    assert str(rec.runtime) in rec.launch_map
    assert rec.file is None  # the files feature fills it later
    assert rec.notes
    if case.context is not None and rec.verdict != RUNS_FROM_DISK:
        assert rec.context == case.context  # context first: the asked context is reached
    if rec.runtime == Runtime.LLAMA_CPP:
        command = rec.launch_map["llama.cpp"]
        assert f"-c {rec.context}" in command and "-fa on" in command
        if rec.offload is not None and rec.offload.kind == "experts":
            assert f"--n-cpu-moe {rec.offload.cpu_layers}" in command
        if rec.offload is not None and rec.offload.kind == "layers":
            assert f"-ngl {rec.offload.total_layers - rec.offload.cpu_layers}" in command


def test_runs_from_disk_itemises_host_ram(results: dict[str, Recommendation]):
    """A disk-paged pick lists the token embedding, output buffer and llama-server's 8 GiB prompt cache."""
    rec = results["issue: DeepSeek-V3 on a 4090 runs from disk, slowly, with the host RAM itemised"]
    items = dict(rec.host_ram)
    embedding = next(v for k, v in items.items() if "token embedding" in k)
    layout = estimator.layout_weights(
        rec.quant, _facts("deepseek-v3").accounting, _facts("deepseek-v3").config
    )
    assert embedding == layout.embedding > 0
    assert (
        next(v for k, v in items.items() if "output buffer" in k)
        == _facts("deepseek-v3").config.vocab_size * 4
    )
    assert next(v for k, v in items.items() if "prompt cache" in k) == 8192 * MIB
    assert 0 < rec.decode_tokens_per_s < USABLE_TOKENS_PER_S


def test_quality_floor_trade_is_said_with_both_speeds(results: dict[str, Recommendation]):
    """The Qwen3-30B pick says which low-bit option it passed over, and both speeds."""
    rec = results["issue: Qwen3-30B-A3B on a 12 GB RTX 3060 is Q4_K_M with experts in RAM, not IQ2_XXS"]
    trade = next(n for n in rec.notes if "3-bit-or-lower" in n)
    assert trade.count("tok/s") == 2


def test_apple_and_cpu_reports_have_no_fp8_rows_and_no_cuda_reserve():
    """On Apple and CPU-only budgets no FP8 row is offered and no option pays a CUDA reserve."""
    for text in ("M4 Max 64GB", "64GB RAM"):
        report = estimator.estimate_fit(_facts("llama-3.1-8b"), estimator.parse_budget(text))
        assert "FP8" not in {o.quant for o in report.options}
        assert all(o.reserve_bytes == 0 for o in report.options)
    report = estimator.estimate_fit(_facts("llama-3.1-8b"), estimator.parse_budget("RTX 4090"))
    assert "FP8" in {o.quant for o in report.options}


def test_cpu_only_decode_is_bound_by_system_ram_bandwidth():
    """CPU-only decode of a dense model is about DDR5 bandwidth x 0.65 / bytes per token (weights + KV)."""
    facts = _facts("llama-3.1-8b")
    report = estimator.estimate_fit(facts, estimator.parse_budget("64GB RAM"), quants=("Q8_0",))
    (option,) = report.options
    layout = estimator.layout_weights("Q8_0", facts.accounting, facts.config)
    upper = 89.6e9 * 0.65 / (layout.total - layout.embedding)
    assert 0.8 * upper < option.decode_tokens_per_s <= upper


def test_rope_scale_is_stated_only_beyond_native_context(results: dict[str, Recommendation]):
    """Below the native context no RoPE factor is named; at 128k on a 32k model it is 4."""
    assert results["no context asked: no KV-cache suggestion, f16 stays"].rope_scale is None
    rec = results[
        "issue: --context 128k on 24 GB reaches 128k (a quantized KV cache, YaRN named), not Q5_K_M at 8,448"
    ]
    assert rec.native_context == 32768 and rec.rope_scale == 4


def test_vllm_plan_weights_per_gpu_are_a_tensor_parallel_share(results: dict[str, Recommendation]):
    """405B in FP8 over 8 GPUs puts about 1/8 of ~405 GB on each GPU, under 0.9 x 80 GiB."""
    rec = results["issue: Llama-3.1-405B on 8xH100 is vLLM with tensor parallelism, not GGUF layer split"]
    facts = _facts("llama-3.1-405b")
    per_gpu = estimator.layout_weights("FP8", facts.accounting, facts.config).total / 8
    assert 45 * GIB < per_gpu < 0.9 * 80 * GIB
    assert "--kv-cache-dtype" not in rec.launch_map["vllm"] or rec.kv_cache == "fp8"


@pytest.mark.parametrize(
    ("variant", "budget", "runtime", "quant"),
    [
        ("awq-4bit", "RTX 4090", Runtime.VLLM, "AWQ"),
        ("gptq-4bit", "H100", Runtime.VLLM, "GPTQ"),
        ("mlx-4bit", "M4 Max 64GB", Runtime.MLX, "MLX"),
        ("awq-4bit", "M4 Max 64GB", Runtime.LLAMA_CPP, None),
        ("mlx-4bit", "RTX 4090", Runtime.LLAMA_CPP, None),
    ],
)
def test_quantized_repos_run_as_stored_where_their_runtime_runs(
    variant, budget, runtime, quant, header_accounting, model_config
):
    """A quantized repo runs as stored (vLLM for AWQ/GPTQ on NVIDIA, mlx-lm on Apple); elsewhere, GGUF."""
    facts = estimator.ModelFacts(model_config(variant), header_accounting(variant))
    rec = recommend(facts, estimator.parse_budget(budget), repo_id=f"someone/TinyLlama-{variant}")
    assert rec.runtime == runtime
    if quant is not None:
        assert rec.quant == quant and any("runs as stored" in n for n in rec.notes)
        assert rec.launch_map[str(runtime)].split()[:2] in (["vllm", "serve"], ["mlx_lm.server", "--model"])
    else:
        assert rec.quant not in ("AWQ", "MLX") and str(Runtime.LLAMA_CPP) in rec.launch_map


@pytest.mark.parametrize(
    ("budget", "backend", "reserve"),
    [
        ("RTX 4090", "CUDA", "457 MiB"),
        ("7900 XTX", "ROCm", "457 MiB"),
        ("Arc B580", "SYCL", "457 MiB"),
        ("strix halo", "ROCm", "no reserve beyond"),
        ("DGX Spark", "CUDA", "no reserve beyond"),
        ("M3 Max 128GB", "Metal", "no CUDA reserve"),
        ("64GB RAM", "CPU", ""),
    ],
)
def test_hardware_wording_names_backend_and_reserve(budget, backend, reserve):
    """Each vendor gets its llama.cpp back end and the reserve it really pays (none on unified memory)."""
    wording = hardware_wording(estimator.parse_budget(budget))
    assert backend in wording and reserve in wording
    parsed = estimator.parse_budget(budget)
    report = estimator.estimate_fit(_facts("llama-3.1-8b"), parsed, quants=("Q4_K_M",))
    assert (report.options[0].reserve_bytes == 0) == parsed.unified
