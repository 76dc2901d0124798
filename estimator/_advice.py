"""The recommendation policy: the one pick a knowledgeable member would make, with its command.

The whole policy is here, rule by rule; tests/estimator/test_advice.py checks each rule case by case.

1. **Runtime from hardware.** Two or more data-centre GPUs that vLLM supports: vLLM with tensor
   parallelism. Everything else (consumer NVIDIA, AMD, Intel, Strix Halo, DGX Spark, Apple,
   CPU only, a bare size): llama.cpp with GGUF. Apple also gets an MLX command and never an FP8
   row or a CUDA reserve; AMD and Intel are named with their llama.cpp back ends.
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

from dataclasses import dataclass, replace

from ._budget import SYSTEM_RAM_BANDWIDTH, Budget, assumed_speed_gpu
from ._fit import (
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    NEEDS_OFFLOAD,
    FitReport,
    ModelFacts,
    OffloadPlan,
    QuantOption,
    estimate_fit,
    offload_plan,
)
from ._launch import OLLAMA, gguf_file_name, llama_server, mlx_server, ollama_run, vllm_serve
from ._runtime import LLAMA_CPP, LLAMA_CPP_PROFILE, Runtime, estimate_compute_buffers
from ._units import GIB, MIB
from ._vllm_fit import GPU_MEMORY_UTILIZATION, VllmPlan, plan_vllm, vllm_capable
from ._weights import STORED, layout_weights, stored_available

RUNS_FROM_DISK = "runs_from_disk"
# About reading speed: below ~5 tokens/s people wait for the text instead of reading along.
USABLE_TOKENS_PER_S = 5.0
HEADROOM = 0.05  # the desktop, browser and driver also use VRAM
LOW_BIT_QUANTS = frozenset(
    {
        "Q3_K_L",
        "Q3_K_M",
        "Q3_K_S",
        "IQ3_XXS",
        "IQ3_XS",
        "IQ3_S",
        "IQ3_M",
        "Q2_K",
        "Q2_K_S",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ2_S",
        "IQ2_M",
        "IQ1_S",
        "IQ1_M",
        "TQ1_0",
        "TQ2_0",
    }
)
_ABOVE_Q8 = frozenset({"BF16", "F16", "F32"})
_COMMUNITY_DEFAULT = "Q4_K_M"
_NATIVE_GGUF = {"mxfp4": "MXFP4_MOE"}  # checkpoint quantization -> the GGUF type that keeps it as is
_KV_STEPS = ("f16", "q8_0", "q4_0")
PROMPT_CACHE_BYTES = 8192 * MIB  # llama-server --cache-ram default
# Assumed: a PCIe 4.0 NVMe SSD. mmap page-ins are small random reads, far below its 7 GB/s rating.
DISK_BANDWIDTH = 3e9
_OS_RAM_BYTES = 4 * GIB
_MLX_BITS = {"Q8_0": 8, "Q6_K": 6}
# ollama sets aside 457 MiB on every non-Metal GPU, CUDA, ROCm and oneAPI alike
# (DeviceInfo.MinimumMemory in ml/device.go; cudaMinimumMemory = rocmMinimumMemory before it).
_RESERVE_WORDING = "457 MiB runtime reserve per GPU (ollama's figure for every non-Metal GPU)"


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The pick, how it runs, and the command that runs it."""

    quant: str
    file: str | None  # the GGUF file, once the files feature knows it
    runtime: Runtime
    context: int
    max_context: int
    kv_cache: str
    offload: OffloadPlan | None
    decode_tokens_per_s: float | None
    verdict: str  # fits / fits_reduced_context / needs_offload / runs_from_disk / does_not_fit
    launch: tuple[tuple[str, str], ...]  # (runtime or "ollama", command line)
    notes: tuple[str, ...]
    native_context: int | None = None
    rope_scale: float | None = None  # YaRN factor needed beyond the native context
    host_ram: tuple[tuple[str, int], ...] = ()  # llama.cpp's system-RAM use, item by item
    tensor_parallel: int = 1
    gpu_bytes: int | None = None  # what the pick puts on the GPUs (llama.cpp, all on the GPU), against...
    capacity_bytes: int | None = None  # ...the memory the GPUs may use

    @property
    def launch_map(self) -> dict[str, str]:
        return dict(self.launch)


@dataclass(frozen=True, slots=True)
class _Choice:
    option: QuantOption
    kv: str
    tier: int
    reach: int
    speed: float | None


def recommend(
    model: ModelFacts,
    budget: Budget,
    *,
    repo_id: str,
    context: int | None = None,
    kv_type: str | None = None,
    flash_attention: bool = True,
    report: FitReport | None = None,
) -> Recommendation:
    """The recommendation for ``model`` on ``budget`` (see the module docstring for the rules).

    ``report`` (from ``estimate_fit``) supplies context, KV type and whether the user asked for
    a context; without one, ``context`` and ``kv_type`` do.
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
    multi_dc = len(budget.devices) > 1 and all(d.gpu and d.gpu.datacenter for d in budget.devices)
    if multi_dc and vllm_capable(budget):
        vllm = _vllm_pick(model, speed_budget, repo_id, target, context is not None, notes)
        if vllm is not None:
            return replace(vllm, native_context=native, rope_scale=rope)
    stored = _stored_pick(model, budget, base, repo_id, notes)
    if stored is not None:
        return replace(stored, native_context=native, rope_scale=rope)
    rec = _llama_pick(
        model, speed_budget, base, repo_id, kv_type, context is not None, flash_attention, notes, rope
    )
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


def recommend_for_report(model: ModelFacts, report: FitReport, repo_id: str) -> Recommendation:
    """The recommendation for a report the caller already has (what ``fitbot fit`` shows)."""
    return recommend(model, report.budget, repo_id=repo_id, report=report)


def hardware_wording(budget: Budget) -> str:
    """The llama.cpp back end the budget implies, and the reserve it pays, for notes and footers."""
    if budget.cpu_only:
        return "llama.cpp on the CPU"
    vendors = {d.gpu.vendor for d in budget.devices if d.gpu}
    if vendors == {"apple"}:
        return "llama.cpp (Metal) or MLX; no CUDA reserve (unified memory)"
    backend = {
        frozenset({"amd"}): "llama.cpp built for ROCm (HIP) or Vulkan",
        frozenset({"intel"}): "llama.cpp built for SYCL or Vulkan",
        frozenset({"nvidia"}): "llama.cpp (CUDA)",
    }.get(frozenset(vendors), "llama.cpp (CUDA, ROCm or Vulkan)")
    if budget.unified:
        return f"{backend} on unified memory; no reserve beyond the GPU's share of memory"
    return f"{backend}; {_RESERVE_WORDING}"


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


def _llama_quants(base: FitReport) -> tuple[str, ...]:
    return tuple(o.quant for o in base.options if o.runtime == LLAMA_CPP)


def _llama_pick(
    model: ModelFacts,
    budget: Budget,
    base: FitReport,
    repo_id: str,
    kv_type: str | None,
    asked: bool,
    flash_attention: bool,
    notes: list[str],
    rope: float | None,
) -> Recommendation:
    target = base.context
    native = _NATIVE_GGUF.get(model.accounting.quantization or "")
    kv_steps = (kv_type,) if kv_type else (_KV_STEPS if asked else ("f16",))
    best: _Choice | None = None
    reports = {}
    for kv in kv_steps:
        report = (
            base
            if kv == base.kv_type
            else estimate_fit(
                model,
                budget,
                context=target,
                kv_type=kv,
                quants=_llama_quants(base),
                flash_attention=flash_attention,
            )
        )
        reports[kv] = report
        choice = _choose(report, kv, target, asked, native, model)
        if choice is not None and (best is None or (choice.tier, -choice.reach) < (best.tier, -best.reach)):
            best = choice
        if best is not None and best.tier == 0:  # a quantized cache is worth it only to stay on the GPU
            break
    if best is None:
        return _from_disk(model, budget, reports[kv_steps[0]], repo_id, notes, flash_attention)
    if best.kv != "f16" and not kv_type:
        f16 = next(o for o in reports["f16"].options if o.quant == best.option.quant)
        notes.append(
            f"a {best.kv} KV cache makes {target:,} tokens fit "
            f"(f16 would need {f16.kv_cache_bytes / GIB:.1f} GiB for the cache)"
        )
    notes.extend(_trade_notes(best, reports[best.kv], target))
    notes.append(hardware_wording(budget))
    option = best.option
    verdict = option.verdict
    context = min(target, best.reach)
    max_context = max(option.max_context, context)
    if asked and best.reach < target:
        notes.append(
            f"nothing reaches {target:,} tokens on this budget; the most is {best.reach:,} ({option.quant})"
        )
    file = gguf_file_name(repo_id, option.quant)
    plan = option.offload if verdict == NEEDS_OFFLOAD else None
    launch = [
        (
            str(Runtime.LLAMA_CPP),
            _llama_command(file, context, plan, best.kv, flash_attention, budget, model, rope),
        )
    ]
    if any(d.gpu and d.gpu.vendor == "apple" for d in budget.devices):
        launch.append((str(Runtime.MLX), mlx_server(repo_id, bits=_MLX_BITS.get(option.quant, 4))))
    launch.extend(_extra_launches(model, budget, repo_id, context))
    return Recommendation(
        quant=option.quant,
        file=None,
        runtime=Runtime.LLAMA_CPP,
        context=context,
        max_context=max_context,
        kv_cache=best.kv,
        offload=plan,
        decode_tokens_per_s=best.speed,
        verdict=verdict,
        launch=tuple(launch),
        notes=tuple(notes),
        host_ram=_host_ram(model, option, context, plan),
        gpu_bytes=option.total_bytes if plan is None else plan.gpu_bytes,
        capacity_bytes=sum(d.capacity_bytes for d in option.devices),
    )


def _choose(
    report: FitReport,
    kv: str,
    target: int,
    asked: bool,
    native: str | None,
    model: ModelFacts,
) -> _Choice | None:
    """The best option of one report under rules 2-4, or None when nothing runs."""
    choices = []
    for option in report.options:
        if option.runtime != LLAMA_CPP or option.verdict == DOES_NOT_FIT:
            continue
        if asked and option.verdict == FITS_REDUCED_CONTEXT:
            # Context first: offloading part of it may reach the asked context where the GPU alone cannot.
            plan = offload_plan(
                model,
                report.budget,
                option.quant,
                target,
                kv_type=kv,
                flash_attention=report.flash_attention,
                system_ram_bytes=report.system_ram_bytes,
            )
            if plan is not None:
                option = replace(option, verdict=NEEDS_OFFLOAD, offload=plan)
        if option.verdict == NEEDS_OFFLOAD:
            assert option.offload is not None
            speed, reach = option.offload.decode_tokens_per_s, target
        else:
            speed = option.decode_tokens_per_s
            reach = target if option.verdict == FITS else option.max_context
        choices.append(_Choice(option, kv, _tier(option, speed, reach >= target, asked), reach, speed))
    if not choices:
        return None
    top = min(c.tier for c in choices)
    tier = [c for c in choices if c.tier == top]
    if native and any(c.option.quant == native for c in tier):
        return next(c for c in tier if c.option.quant == native)
    if top == 0:
        capped = [c for c in tier if c.option.quant not in _ABOVE_Q8] or tier
        fast = [c for c in capped if c.speed is None or c.speed >= USABLE_TOKENS_PER_S]
        if not fast:  # everything is slow (CPU only, say): take the common 4-bit, or the fastest
            default = [c for c in capped if c.option.quant == _COMMUNITY_DEFAULT]
            return default[0] if default else max(capped, key=lambda c: c.speed or 0.0)
        roomy = [c for c in fast if _headroom(c.option) >= HEADROOM] or fast
        return max(roomy, key=lambda c: c.option.weights_bytes)
    if top == 1:
        default = [c for c in tier if c.option.quant == _COMMUNITY_DEFAULT]
        return default[0] if default else max(tier, key=lambda c: c.speed or 0.0)
    if top in (2, 3):
        return max(tier, key=lambda c: c.option.weights_bytes)
    if top in (4, 5):
        return max(tier, key=lambda c: (c.reach, c.option.weights_bytes))
    return max(tier, key=lambda c: c.speed or 0.0)


def _tier(option: QuantOption, speed: float | None, full: bool, asked: bool) -> int:
    """Lower is better: full-GPU 4-bit+ first, then usable offload, then low-bit, then the rest."""
    low = option.quant in LOW_BIT_QUANTS
    usable = speed is None or speed >= USABLE_TOKENS_PER_S
    if option.verdict == FITS and full:
        return 2 if low else 0
    if option.verdict == NEEDS_OFFLOAD and usable:
        return 3 if low else 1
    reduced = 5 if low else 4
    slow = 7 if low else 6
    if option.verdict == FITS_REDUCED_CONTEXT or (option.verdict == FITS and not full):
        # Context first: when a context was asked, a slow offload that reaches it beats less context.
        return reduced + 2 if asked else reduced
    return slow - 2 if asked else slow


def _headroom(option: QuantOption) -> float:
    capacity = sum(d.capacity_bytes for d in option.devices)
    return 1 - option.total_bytes / capacity if capacity else 0.0


def _trade_notes(best: _Choice, report: FitReport, target: int) -> list[str]:
    """Say what the pick gives up against the options it beat."""
    notes = []
    option = best.option
    fast_low = [
        o
        for o in report.options
        if o.quant in LOW_BIT_QUANTS and o.verdict == FITS and o.runtime == LLAMA_CPP
    ]
    if option.verdict == NEEDS_OFFLOAD and fast_low:
        low = max(fast_low, key=lambda o: o.weights_bytes)
        notes.append(
            f"{low.quant} would fit in VRAM alone{_speed_text(low.decode_tokens_per_s)}, but 3-bit-or-lower "
            f"quants lose noticeable quality; {option.quant} with offload keeps 4-bit-or-better"
            f"{_speed_text(best.speed)}"
        )
    if option.verdict == FITS and option.quant == "Q8_0":
        above = [o for o in report.options if o.quant in _ABOVE_Q8 and o.verdict == FITS]
        if above:
            notes.append(
                f"{above[0].quant} also fits; Q8_0 is near-lossless and reads half the bytes per token"
            )
    if best.speed is not None and best.speed < USABLE_TOKENS_PER_S:
        notes.append(
            f"slow: ~{best.speed:.1f} tok/s, below the {USABLE_TOKENS_PER_S:g} tok/s of reading speed; "
            "a smaller model will feel faster"
        )
    if option.quant in LOW_BIT_QUANTS:
        notes.append(
            f"{option.quant} is below 4 bits: expect noticeably lower quality; nothing at 4 bits "
            f"or more runs at {USABLE_TOKENS_PER_S:g} tok/s or faster here"
        )
    return notes


def _speed_text(speed: float | None) -> str:
    if not speed:
        return ""
    return f" at ~{speed:.0f} tok/s" if speed >= 10 else f" at ~{speed:.1f} tok/s"


def _llama_command(
    file: str,
    context: int,
    plan: OffloadPlan | None,
    kv: str,
    flash_attention: bool,
    budget: Budget,
    model: ModelFacts,
    rope: float | None,
) -> str:
    gpu_layers: int | None = 99
    cpu_moe = 0
    if budget.cpu_only:
        gpu_layers = None
    elif plan is not None and plan.kind == "experts":
        cpu_moe = plan.cpu_layers
    elif plan is not None:
        gpu_layers = plan.total_layers - plan.cpu_layers
    native = model.config.max_context
    yarn = (rope, native) if rope and native else None
    return llama_server(
        file,
        context,
        gpu_layers=gpu_layers,
        cpu_moe_layers=cpu_moe,
        kv_type=kv,
        flash_attention=flash_attention,
        yarn=yarn,
    )


def _extra_launches(model: ModelFacts, budget: Budget, repo_id: str, context: int) -> list[tuple[str, str]]:
    """Ollama (when it has a tag) and vLLM (when a supported GPU holds the model in BF16 or FP8)."""
    extra = []
    ollama = ollama_run(repo_id)
    if ollama:
        extra.append((OLLAMA, ollama))
    if vllm_capable(budget):
        plan = _first_vllm_plan(model, budget, context)
        if plan is not None:
            extra.append((str(Runtime.VLLM), _vllm_command(repo_id, plan, context)))
    return extra


def _vllm_candidates(model: ModelFacts) -> tuple[str, ...]:
    """Layouts to try with vLLM, native format first; without headers a GGUF type stands in for the size."""
    accounting = model.accounting
    method = accounting.quantization
    if method and stored_available(accounting):
        return (STORED,)  # serve the quantized checkpoint as it is
    if method:
        # Size stand-ins: MXFP4 experts as llama.cpp stores them; FP8 as FP8; 4-bit AWQ/GPTQ ~ Q4_0 (4.5 bpw).
        return ({"mxfp4": "MXFP4_MOE", "fp8": "FP8"}.get(method, "Q4_0"),)
    return (STORED, "FP8") if stored_available(accounting) else ("BF16", "FP8")


def _first_vllm_plan(model: ModelFacts, budget: Budget, context: int) -> VllmPlan | None:
    moe = model.accounting.moe
    active = moe.experts_per_token / moe.num_experts if moe and moe.num_experts else 1.0
    for quant in _vllm_candidates(model):
        layout = layout_weights(quant, model.accounting, model.config)
        for kv in ("auto", "fp8"):
            plan = plan_vllm(model.config, layout, budget, context, kv_cache_dtype=kv, active_fraction=active)
            if plan.fits:
                return plan
    return None


def _vllm_command(repo_id: str, plan: VllmPlan, context: int) -> str:
    return vllm_serve(
        repo_id,
        context,
        gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
        tensor_parallel=plan.tensor_parallel,
        kv_cache_dtype=plan.kv_cache_dtype,
    )


def _vllm_pick(
    model: ModelFacts,
    budget: Budget,
    repo_id: str,
    target: int,
    asked: bool,
    notes: list[str],
) -> Recommendation | None:
    plan = _first_vllm_plan(model, budget, target)
    if plan is None:
        return None
    native = model.config.max_context
    max_len = target if asked else max(target, min(plan.max_context, native or plan.max_context))
    gpus = len(budget.devices)
    method = model.accounting.quantization
    quant = method.upper() if method else ("BF16" if plan.quant == STORED else plan.quant)
    notes = [
        *notes,
        f"vLLM with tensor parallelism over {plan.tensor_parallel} of {gpus} GPUs: "
        f"{plan.per_gpu_weights_bytes / GIB:.1f} GiB of weights per GPU of "
        f"{plan.per_gpu_capacity_bytes / GIB:.1f} GiB at --gpu-memory-utilization "
        f"{GPU_MEMORY_UTILIZATION:g}; speed assumes ideal scaling (all-reduce not modelled)",
    ]
    if plan.kv_cache_dtype == "fp8":
        notes.append(f"an FP8 KV cache makes {target:,} tokens fit")
    launch = [(str(Runtime.VLLM), _vllm_command(repo_id, plan, max_len))]
    ollama = ollama_run(repo_id)
    if ollama:
        launch.append((OLLAMA, ollama))
    return Recommendation(
        quant=quant,
        file=None,
        runtime=Runtime.VLLM,
        context=max_len,
        max_context=max(plan.max_context, max_len),
        kv_cache=plan.kv_cache_dtype,
        offload=None,
        decode_tokens_per_s=plan.decode_tokens_per_s,
        verdict=FITS,
        launch=tuple(launch),
        notes=tuple(notes),
        tensor_parallel=plan.tensor_parallel,
    )


def _stored_pick(
    model: ModelFacts,
    budget: Budget,
    base: FitReport,
    repo_id: str,
    notes: list[str],
) -> Recommendation | None:
    """A quantized repo that fits as stored runs as stored: vLLM on NVIDIA/AMD, mlx-lm for MLX repos."""
    method = model.accounting.quantization
    if not method or method in _NATIVE_GGUF:
        return None
    if method == "mlx":
        if not any(d.gpu and d.gpu.vendor == "apple" for d in budget.devices):
            return None
        runtime = Runtime.MLX
    elif vllm_capable(budget):
        runtime = Runtime.VLLM
    else:
        return None
    stored = next((o for o in base.options if o.quant == STORED and o.verdict == FITS), None)
    if stored is None:
        return None
    command = mlx_server(repo_id) if runtime is Runtime.MLX else vllm_serve(repo_id, base.context)
    return Recommendation(
        quant=method.upper(),
        file=None,
        runtime=runtime,
        context=base.context,
        max_context=max(stored.max_context, base.context),
        kv_cache="auto",
        offload=None,
        decode_tokens_per_s=stored.decode_tokens_per_s,
        verdict=FITS,
        launch=((str(runtime), command),),
        notes=(*notes, f"the repo is already quantized ({method}); it runs as stored"),
    )


def _host_ram(
    model: ModelFacts, option: QuantOption, context: int, plan: OffloadPlan | None
) -> tuple[tuple[str, int], ...]:
    """llama.cpp's system-RAM use, item by item (the prompt cache is a ceiling, filled as prompts arrive)."""
    config = model.config
    layout = layout_weights(option.quant, model.accounting, config)
    buffers = estimate_compute_buffers(config, context, LLAMA_CPP_PROFILE)
    items = [
        ("token embedding", layout.embedding),
        ("output buffer (logits, one sequence)", config.vocab_size * 4),
        ("host compute buffer", buffers.host_bytes),
    ]
    if plan is not None:
        items.append(
            (
                "offloaded weights and their KV cache",
                max(0, plan.ram_bytes - layout.embedding - buffers.host_bytes),
            )
        )
    items.append(("llama-server prompt cache (--cache-ram, up to)", PROMPT_CACHE_BYTES))
    return tuple(items)


def _from_disk(
    model: ModelFacts,
    budget: Budget,
    report: FitReport,
    repo_id: str,
    notes: list[str],
    flash_attention: bool,
) -> Recommendation:
    """Rule 6: nothing fits VRAM + RAM, so mmap pages the remaining weights from disk."""
    llama = [o for o in report.options if o.runtime == LLAMA_CPP]
    if not llama:
        return Recommendation(
            "—",
            None,
            Runtime.LLAMA_CPP,
            report.context,
            0,
            report.kv_type,
            None,
            None,
            DOES_NOT_FIT,
            (),
            tuple(notes),
        )
    sensible = [o for o in llama if o.quant not in LOW_BIT_QUANTS]
    option = next((o for o in llama if o.quant == _COMMUNITY_DEFAULT), None) or min(
        sensible or llama, key=lambda o: o.weights_bytes
    )
    config, accounting = model.config, model.accounting
    layout = layout_weights(option.quant, accounting, config)
    context = report.context
    host = _host_ram(model, option, context, None)
    gpu_free = (
        0
        if budget.cpu_only
        else max(
            0,
            sum(d.capacity_bytes for d in option.devices)
            - option.kv_cache_bytes
            - option.compute_bytes
            - option.reserve_bytes,
        )
    )
    ram = report.system_ram_bytes
    host_without_cache = sum(size for name, size in host if "prompt cache" not in name)
    ram_free = max(0, ram - _OS_RAM_BYTES - host_without_cache)
    if budget.unified:
        ram_free, gpu_free = max(ram_free, gpu_free), 0  # one pool: count it once
    weights = layout.total
    paged = max(0, weights - gpu_free - ram_free)
    moe = accounting.moe
    active = moe.experts_per_token / moe.num_experts if moe and moe.num_experts else 1.0
    experts = sum(layout.per_layer_experts)
    active_share = (weights - experts + experts * active) / weights if weights else 1.0
    gpu_bw = min((d.bandwidth_bytes_per_s or 0 for d in budget.devices), default=0) or SYSTEM_RAM_BANDWIDTH
    on_gpu = min(weights, gpu_free)
    in_ram = min(weights - on_gpu, ram_free)
    seconds = active_share * (
        on_gpu / (gpu_bw * 0.65) + in_ram / (SYSTEM_RAM_BANDWIDTH * 0.65) + paged / DISK_BANDWIDTH
    )
    speed = 1 / seconds if seconds > 0 else None
    file = gguf_file_name(repo_id, option.quant)
    n = config.num_layers
    if budget.cpu_only:
        command = llama_server(
            file, context, gpu_layers=None, flash_attention=flash_attention, cache_ram_mib=0
        )
    elif moe:
        command = llama_server(
            file, context, cpu_moe_layers=n, flash_attention=flash_attention, cache_ram_mib=0
        )
    else:
        gpu_layers = max(0, min(n, int(n * on_gpu / weights))) if weights else 0
        command = llama_server(
            file, context, gpu_layers=gpu_layers, flash_attention=flash_attention, cache_ram_mib=0
        )
    notes = [
        *notes,
        f"{option.quant} ({weights / GIB:.1f} GiB) is more than VRAM + RAM: llama.cpp maps the file "
        "(mmap) and "
        f"pages about {paged / GIB:.1f} GiB from disk as it decodes: slow, but it runs"
        f"{_speed_text(speed)} (disk assumed {DISK_BANDWIDTH / 1e9:g} GB/s)",
        "--cache-ram 0 turns off llama-server's prompt cache (8 GiB by default) so that RAM holds weights",
        hardware_wording(budget),
    ]
    return Recommendation(
        quant=option.quant,
        file=None,
        runtime=Runtime.LLAMA_CPP,
        context=context,
        max_context=context,
        kv_cache=report.kv_type,
        offload=None,
        decode_tokens_per_s=speed,
        verdict=RUNS_FROM_DISK,
        launch=((str(Runtime.LLAMA_CPP), command),),
        notes=tuple(notes),
        host_ram=host,
    )
