"""Rules 1 and 2 for servers: vLLM with tensor parallelism on several data-centre GPUs, and a
quantized repo run as stored (vLLM on NVIDIA/AMD, mlx-lm for MLX repos)."""

from __future__ import annotations

from ._advice_policy import NATIVE_GGUF, Question, Recommendation
from ._budget import Budget
from ._fit import FITS, ModelFacts
from ._launch import OLLAMA, mlx_server, ollama_run, vllm_serve
from ._runtime import Runtime
from ._units import GIB
from ._vllm_fit import GPU_MEMORY_UTILIZATION, VllmPlan, plan_vllm, vllm_capable
from ._weights import STORED, layout_weights, stored_available


def extra_launches(model: ModelFacts, budget: Budget, repo_id: str, context: int) -> list[tuple[str, str]]:
    """Ollama (when it has a tag) and vLLM (when a supported GPU holds the model in BF16 or FP8)."""
    extra = []
    ollama = ollama_run(repo_id)
    if ollama:
        extra.append((OLLAMA, ollama))
    if vllm_capable(budget):
        plan = first_vllm_plan(model, budget, context)
        if plan is not None:
            extra.append((str(Runtime.VLLM), vllm_command(repo_id, plan, context)))
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


def first_vllm_plan(model: ModelFacts, budget: Budget, context: int) -> VllmPlan | None:
    moe = model.accounting.moe
    active = moe.experts_per_token / moe.num_experts if moe and moe.num_experts else 1.0
    for quant in _vllm_candidates(model):
        layout = layout_weights(quant, model.accounting, model.config)
        for kv in ("auto", "fp8"):
            plan = plan_vllm(model.config, layout, budget, context, kv_cache_dtype=kv, active_fraction=active)
            if plan.fits:
                return plan
    return None


def vllm_command(repo_id: str, plan: VllmPlan, context: int) -> str:
    return vllm_serve(
        repo_id,
        context,
        gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
        tensor_parallel=plan.tensor_parallel,
        kv_cache_dtype=plan.kv_cache_dtype,
    )


def vllm_pick(q: Question, notes: list[str]) -> Recommendation | None:
    """Rule 1 on several data-centre GPUs: vLLM with tensor parallelism, when a layout fits."""
    model, budget, repo_id, target, asked = q.model, q.budget, q.repo_id, q.target, q.context_asked
    plan = first_vllm_plan(model, budget, target)
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
    launch = [(str(Runtime.VLLM), vllm_command(repo_id, plan, max_len))]
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


def stored_pick(q: Question, budget: Budget, notes: list[str]) -> Recommendation | None:
    """A quantized repo that fits as stored runs as stored: vLLM on NVIDIA/AMD, mlx-lm for MLX repos.

    ``budget`` is the one typed, not ``q.budget``: a card assumed for speed must not make a bare size
    vLLM-capable.
    """
    model, base, repo_id = q.model, q.base, q.repo_id
    method = model.accounting.quantization
    if not method or method in NATIVE_GGUF:
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
