"""Rules 3-5 for llama.cpp: context first when asked (a q8_0, then q4_0, KV cache when that makes it
fit), the quality-floor pick over each report, its decode speed, and the ``llama-server`` command."""

from __future__ import annotations

from ._advice_disk import from_disk, host_ram
from ._advice_policy import Question, Recommendation, hardware_wording
from ._advice_quality import Choice, choose, trade_notes
from ._advice_server import extra_launches
from ._fit import NEEDS_OFFLOAD, FitReport, OffloadPlan, estimate_fit
from ._launch import gguf_file_name, llama_server, mlx_server
from ._runtime import LLAMA_CPP, Runtime
from ._units import GIB

_KV_STEPS = ("f16", "q8_0", "q4_0")
_MLX_BITS = {"Q8_0": 8, "Q6_K": 6}


def _llama_quants(base: FitReport) -> tuple[str, ...]:
    return tuple(o.quant for o in base.options if o.runtime == LLAMA_CPP)


def llama_pick(q: Question, notes: list[str]) -> Recommendation:
    """Rules 3-5 with llama.cpp: the pick over f16 (and, for an asked context, q8_0 and q4_0) caches,
    else rule 6 (runs from disk). Adds its own notes to ``notes``."""
    target = q.target
    best, reports = _best_over_caches(q)
    if best is None:
        return from_disk(q, next(iter(reports.values())), notes)
    if best.kv != "f16" and not q.kv_type:
        f16 = next(o for o in reports["f16"].options if o.quant == best.option.quant)
        notes.append(
            f"a {best.kv} KV cache makes {target:,} tokens fit "
            f"(f16 would need {f16.kv_cache_bytes / GIB:.1f} GiB for the cache)"
        )
    notes.extend(trade_notes(best, reports[best.kv], target))
    notes.append(hardware_wording(q.budget))
    option = best.option
    verdict = option.verdict
    context = min(target, best.reach)
    if q.context_asked and best.reach < target:
        notes.append(
            f"nothing reaches {target:,} tokens on this budget; the most is {best.reach:,} ({option.quant})"
        )
    plan = option.offload if verdict == NEEDS_OFFLOAD else None
    return Recommendation(
        quant=option.quant,
        file=q.file_for(option.quant),
        runtime=Runtime.LLAMA_CPP,
        context=context,
        max_context=max(option.max_context, context),
        kv_cache=best.kv,
        offload=plan,
        decode_tokens_per_s=best.speed,
        verdict=verdict,
        launch=_launches(q, option.quant, context, plan, best.kv),
        notes=tuple(notes),
        host_ram=host_ram(q.model, option, context, plan),
        gpu_bytes=option.total_bytes if plan is None else plan.gpu_bytes,
        capacity_bytes=sum(d.capacity_bytes for d in option.devices),
    )


def _best_over_caches(q: Question) -> tuple[Choice | None, dict[str, FitReport]]:
    """The best choice over the KV cache types worth trying, and the report of each type tried
    (in the order tried: the first is the user's or f16)."""
    kv_steps = (q.kv_type,) if q.kv_type else (_KV_STEPS if q.context_asked else ("f16",))
    best: Choice | None = None
    reports = {}
    for kv in kv_steps:
        report = (
            q.base
            if kv == q.base.kv_type
            else estimate_fit(
                q.model,
                q.budget,
                context=q.target,
                kv_type=kv,
                quants=_llama_quants(q.base),
                flash_attention=q.flash_attention,
            )
        )
        reports[kv] = report
        choice = choose(q, report, kv)
        if choice is not None and (best is None or (choice.tier, -choice.reach) < (best.tier, -best.reach)):
            best = choice
        if best is not None and best.tier == 0:  # a quantized cache is worth it only to stay on the GPU
            break
    return best, reports


def _launches(
    q: Question, quant: str, context: int, plan: OffloadPlan | None, kv: str
) -> tuple[tuple[str, str], ...]:
    """llama-server first; on a Mac the MLX command; then Ollama and vLLM where they apply."""
    file = q.file_for(quant) or gguf_file_name(q.repo_id, quant)
    launch = [(str(Runtime.LLAMA_CPP), _llama_command(q, file, context, plan, kv))]
    if any(d.gpu and d.gpu.vendor == "apple" for d in q.budget.devices):
        launch.append((str(Runtime.MLX), mlx_server(q.repo_id, bits=_MLX_BITS.get(quant, 4))))
    launch.extend(extra_launches(q.model, q.budget, q.repo_id, context))
    return tuple(launch)


def _llama_command(q: Question, file: str, context: int, plan: OffloadPlan | None, kv: str) -> str:
    budget, rope = q.budget, q.rope_scale
    gpu_layers: int | None = 99
    cpu_moe = 0
    if budget.cpu_only:
        gpu_layers = None
    elif plan is not None and plan.kind == "experts":
        cpu_moe = plan.cpu_layers
    elif plan is not None:
        gpu_layers = plan.total_layers - plan.cpu_layers
    native = q.model.config.max_context
    yarn = (rope, native) if rope and native else None
    return llama_server(
        file,
        context,
        gpu_layers=gpu_layers,
        cpu_moe_layers=cpu_moe,
        kv_type=kv,
        flash_attention=q.flash_attention,
        yarn=yarn,
    )
