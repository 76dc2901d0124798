"""The recommendation policy: the one pick a knowledgeable member would make, with its command.

The whole policy is here, rule by rule; tests/estimator/test_advice.py checks each rule case by case.

1. **Runtime from hardware.** Two or more data-centre GPUs that vLLM supports: vLLM with tensor
   parallelism. Everything else (consumer NVIDIA, AMD, Intel, Strix Halo, DGX Spark, Apple,
   CPU only, a bare size): llama.cpp with GGUF. Apple also gets MLX 8-bit and 4-bit rows and an MLX
   command, and never an FP8 row or a CUDA reserve; MLX is the pick where llama.cpp falls short of
   4 bits or of the context and an MLX copy runs it in memory (``_advice_mlx``). AMD and Intel are
   named with their llama.cpp back ends.
2. **Native formats first.** gpt-oss ships MXFP4 experts: MXFP4_MOE is its pick whenever it
   runs. A quantized repo (FP8, AWQ, GPTQ, compressed-tensors, bitsandbytes, MLX) is run as
   stored when it fits.
3. **Context first when asked.** Only options that reach the asked context qualify while any
   does; a q8_0, then q4_0, KV cache is tried when that is what makes one fit. Beyond the
   model's native context, YaRN RoPE scaling is named with its factor. ``context`` never
   exceeds ``max_context``.
4. **Quality floor.** No 3-bit-or-lower pick while a 4-bit-or-better option runs at a usable
   speed (``USABLE_TOKENS_PER_S``), even with MoE expert offload or layer offload; the note
   says what the trade is. Fully on the GPU, the pick is the most precise option up to Q8_0
   (near-lossless and half the bytes per token of BF16), preferring 5% headroom; with offload,
   Q4_K_M (the community default), else the fastest 4-bit-or-better option.
5. **Speed.** Every pick carries a decode estimate: on the GPU, with expert or layer offload, on
   the CPU, or paged from disk. For a bare size, the slowest card of that size is assumed and said.
6. **Runs from disk.** When even the smallest sensible option exceeds VRAM + RAM, llama.cpp still
   runs it: mmap pages the rest of the weights from disk, slowly. The host RAM llama.cpp uses is
   itemised: the token embedding, the output (logits) buffer, the host compute buffer, and
   llama-server's prompt cache, 8192 MiB by default (``cache_ram_mib = 8192`` in
   llama.cpp ``common/common.h``; ``tools/server/server-context.cpp`` builds
   ``server_prompt_cache(params_base.cache_ram_mib, n_ctx)``).
"""

from __future__ import annotations

from dataclasses import replace

from ._advice_llama import llama_pick
from ._advice_mlx import mlx_pick
from ._advice_policy import (
    LOW_BIT_QUANTS,
    RUNS_FROM_DISK,
    USABLE_TOKENS_PER_S,
    Question,
    Recommendation,
    hardware_wording,
)
from ._advice_server import stored_pick, vllm_pick
from ._budget import Budget, assumed_speed_gpu
from ._fit import FitReport, ModelFacts, estimate_fit
from ._units import GIB
from ._vllm_fit import vllm_capable

__all__ = [
    "LOW_BIT_QUANTS",
    "RUNS_FROM_DISK",
    "USABLE_TOKENS_PER_S",
    "Recommendation",
    "hardware_wording",
    "recommend",
    "recommend_for_report",
]


def recommend(
    model: ModelFacts,
    budget: Budget,
    *,
    repo_id: str,
    context: int | None = None,
    kv_type: str | None = None,
    flash_attention: bool = True,
    report: FitReport | None = None,
    real_files: tuple[tuple[str, str], ...] = (),
) -> Recommendation:
    """The recommendation for ``model`` on ``budget`` (see the module docstring for the rules).

    ``report`` (from ``estimate_fit``) supplies context, KV type and whether the user asked for
    a context; without one, ``context`` and ``kv_type`` do. ``real_files`` are (quant, file) pairs
    of GGUF files known on the Hub: a pick with one names it, in its ``file`` and its command.
    """
    if report is not None:
        context = report.context if report.context_asked else context
        kv_type = kv_type or (report.kv_type if report.kv_type != "f16" else None)
        flash_attention = report.flash_attention
    speed_budget, notes = _speed_budget(budget)
    notes = [*budget.notes, *notes]
    base = estimate_fit(
        model, speed_budget, context=context, kv_type=kv_type or "f16", flash_attention=flash_attention
    )
    target = base.context
    config = model.config
    native = config.max_context
    rope = round(target / native, 2) if native and target > native else None
    if rope:
        notes.append(
            f"native context is {native:,} tokens; {target:,} needs YaRN RoPE scaling, factor {rope:g}"
        )
    q = Question(
        model, repo_id, speed_budget, base, kv_type, context is not None, flash_attention, rope, real_files
    )
    multi_dc = len(budget.devices) > 1 and all(d.gpu and d.gpu.datacenter for d in budget.devices)
    if multi_dc and vllm_capable(budget):
        vllm = vllm_pick(q, notes)
        if vllm is not None:
            return replace(vllm, native_context=native, rope_scale=rope)
    stored = stored_pick(q, budget, notes)
    if stored is not None:
        return replace(stored, native_context=native, rope_scale=rope)
    before_llama = list(notes)  # llama_pick adds its own notes to ``notes``
    rec = llama_pick(q, notes)
    mlx = None if kv_type else mlx_pick(q, rec, before_llama)
    if mlx is not None:
        return replace(mlx, native_context=native, rope_scale=rope)
    if budget.system_ram_bytes is None and (rec.offload is not None or rec.verdict == RUNS_FROM_DISK):
        rec = replace(
            rec,
            notes=(
                *rec.notes,
                f"system RAM: {base.system_ram_bytes // GIB} GiB assumed "
                "(add e.g. '+ 64GB RAM' to your budget)",
            ),
        )
    return replace(rec, native_context=native, rope_scale=rope)


def recommend_for_report(
    model: ModelFacts, report: FitReport, repo_id: str, real_files: tuple[tuple[str, str], ...] = ()
) -> Recommendation:
    """The recommendation for a report the caller already has (what ``fitbot fit`` shows)."""
    return recommend(model, report.budget, repo_id=repo_id, report=report, real_files=real_files)


def _speed_budget(budget: Budget) -> tuple[Budget, list[str]]:
    """The budget with an assumed card for each bare size, so that every pick has a speed."""
    notes = []
    devices = []
    for device in budget.devices:
        gpu = assumed_speed_gpu(device)
        if gpu is not None:
            note = (
                f"speed assumes an {gpu.name} ({gpu.bandwidth_gb_per_s:g} GB/s), the slowest "
                f"{gpu.memory_gb} GB card we know; name your GPU for its own figure"
            )
            if note not in notes:
                notes.append(note)
            device = replace(device, gpu=gpu)
        devices.append(device)
    return replace(budget, devices=tuple(devices)), notes
