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
    model, budget, base, repo_id = q.model, q.budget, q.base, q.repo_id
    kv_type, asked, flash_attention, target = q.kv_type, q.context_asked, q.flash_attention, q.target
    kv_steps = (kv_type,) if kv_type else (_KV_STEPS if asked else ("f16",))
    best: Choice | None = None
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
        choice = choose(q, report, kv)
        if choice is not None and (best is None or (choice.tier, -choice.reach) < (best.tier, -best.reach)):
            best = choice
        if best is not None and best.tier == 0:  # a quantized cache is worth it only to stay on the GPU
            break
    if best is None:
        return from_disk(q, reports[kv_steps[0]], notes)
    if best.kv != "f16" and not kv_type:
        f16 = next(o for o in reports["f16"].options if o.quant == best.option.quant)
        notes.append(
            f"a {best.kv} KV cache makes {target:,} tokens fit "
            f"(f16 would need {f16.kv_cache_bytes / GIB:.1f} GiB for the cache)"
        )
    notes.extend(trade_notes(best, reports[best.kv], target))
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
            _llama_command(q, file, context, plan, best.kv),
        )
    ]
    if any(d.gpu and d.gpu.vendor == "apple" for d in budget.devices):
        launch.append((str(Runtime.MLX), mlx_server(repo_id, bits=_MLX_BITS.get(option.quant, 4))))
    launch.extend(extra_launches(model, budget, repo_id, context))
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
        host_ram=host_ram(model, option, context, plan),
        gpu_bytes=option.total_bytes if plan is None else plan.gpu_bytes,
        capacity_bytes=sum(d.capacity_bytes for d in option.devices),
    )


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
