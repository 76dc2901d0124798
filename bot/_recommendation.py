"""The recommendation of a /fit answer as a headline and as JSON (the policy: estimator/_advice.py)."""

from __future__ import annotations

from estimator import (
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    NEEDS_OFFLOAD,
    RUNS_FROM_DISK,
    Recommendation,
    recommend_for_report,
)

from . import _format as fmt
from ._document import Action, Line, strong
from ._safe import clean
from ._service import FitAnswer


def recommendation_for(answer: FitAnswer) -> Recommendation:
    """The pick for this answer's model, budget, context and KV cache."""
    # The real files that run, most downloaded first: a pick with one names it (issue 15's files).
    real = tuple(
        (f.file.quant, f.file.file) for f in answer.files if f.file.quant and f.option.verdict != DOES_NOT_FIT
    )
    return recommend_for_report(answer.model.facts, answer.report, answer.model.record.repo_id, real)


def recommendation_sentence(answer: FitAnswer, rec: Recommendation) -> Line:
    """The verdict-first headline: the pick, bytes against the budget, context, speed, runtime."""
    runtime = f"{rec.runtime}" + (
        f", tensor parallel {rec.tensor_parallel}" if rec.tensor_parallel > 1 else ""
    )
    kv = f", {rec.kv_cache} KV cache" if rec.kv_cache not in ("f16", "auto") else ""
    speed = fmt.speed(rec.decode_tokens_per_s)
    context = f"{fmt.tokens(rec.context)} tokens of context (up to {fmt.tokens(rec.max_context)}){kv}"
    if rec.verdict == FITS:
        room = " — "
        if rec.gpu_bytes is not None and rec.capacity_bytes:
            spare = rec.capacity_bytes - rec.gpu_bytes
            used, capacity = fmt.gib(rec.gpu_bytes), fmt.gib(rec.capacity_bytes)
            room = f" — {used} of {capacity}, {fmt.gib(spare)} to spare, with "
        return (strong(f"Best choice: {rec.quant}"), f" ({runtime}){room}{context}, {speed} (estimate).")
    if rec.verdict == NEEDS_OFFLOAD and rec.offload is not None:
        plan = rec.offload
        what = "the routed experts of" if plan.kind == "experts" else "the first"
        return (
            strong(f"Best choice: {rec.quant}"),
            f" ({runtime}) with {what} {plan.cpu_layers} of {plan.total_layers} "
            f"layers in system RAM — {fmt.gib(plan.gpu_bytes)} on the GPU, {fmt.gib(plan.ram_bytes)} of RAM, "
            f"{context}, {speed} (estimate).",
        )
    if rec.verdict == FITS_REDUCED_CONTEXT:
        return (
            strong(f"Best choice: {rec.quant} at {fmt.tokens(rec.context)} tokens of context"),
            f" ({runtime}), {speed} (estimate); you asked for {fmt.tokens(answer.report.context)}, "
            "which does not fit.",
        )
    if rec.verdict == RUNS_FROM_DISK:
        return (
            strong(f"Best choice: {rec.quant}, run from disk"),
            f" ({runtime}) — more than VRAM + RAM, so llama.cpp "
            f"pages the weights in as it decodes: {speed} (estimate).",
        )
    return (strong("Does not fit"), " on this budget.")


def launch_actions(rec: Recommendation) -> tuple[Action, ...]:
    """The commands that run the pick, one per runtime (``Document.actions``); none when nothing runs."""
    if rec.verdict == DOES_NOT_FIT:
        return ()
    # The commands carry the repo id, which comes from the Hub: no invisible character may reach a
    # terminal or a chat through them (a real id has none, and is unchanged).
    return tuple(Action(str(runtime), clean(command, 2000)) for runtime, command in rec.launch)


def verdict_lines(answer: FitAnswer, rec: Recommendation) -> tuple[Line, ...]:
    """The pick in three or four short lines: bytes against the budget, context, speed, runtime.

    For narrow screens (a phone is about 40 characters wide): each line says one thing.
    """
    speed = f"{fmt.speed(rec.decode_tokens_per_s)} on {rec.runtime}" + (
        f", tensor parallel {rec.tensor_parallel}" if rec.tensor_parallel > 1 else ""
    )
    kv = f", {rec.kv_cache} KV cache" if rec.kv_cache not in ("f16", "auto") else ""
    context = (f"{fmt.tokens(rec.context)} tokens of context (up to {fmt.tokens(rec.max_context)}){kv}",)
    estimate = (f"{speed} (estimate)",)
    if rec.verdict == FITS:
        room = ""
        if rec.gpu_bytes is not None and rec.capacity_bytes:
            room = f": {fmt.gib(rec.gpu_bytes)} of {fmt.gib(rec.capacity_bytes)}"
        return (strong(f"{rec.quant} fits"), room), context, estimate
    if rec.verdict == NEEDS_OFFLOAD and rec.offload is not None:
        plan = rec.offload
        what = "experts of " if plan.kind == "experts" else ""
        return (
            (
                strong(f"{rec.quant} with offload"),
                f": {fmt.gib(plan.gpu_bytes)} GPU + {fmt.gib(plan.ram_bytes)} RAM",
            ),
            (f"{what}{plan.cpu_layers} of {plan.total_layers} layers in system RAM",),
            context,
            estimate,
        )
    if rec.verdict == FITS_REDUCED_CONTEXT:
        return (
            (strong(f"{rec.quant} at {fmt.tokens(rec.context)} tokens"),),
            (f"you asked for {fmt.tokens(answer.report.context)}, which does not fit{kv}",),
            estimate,
        )
    if rec.verdict == RUNS_FROM_DISK:
        return (
            (strong(f"{rec.quant} runs from disk"), ": slowly"),
            ("more than VRAM + RAM: llama.cpp pages the weights in as it decodes",),
            estimate,
        )
    ram = fmt.gib(answer.report.system_ram_bytes, 0)
    return ((strong("Does not fit"), f", not even with offload into {ram} of system RAM."),)


def recommendation_json(rec: Recommendation) -> dict[str, object]:
    """The documented ``recommendation`` object of ``fitbot fit --json``."""
    plan = rec.offload
    return {
        "quant": rec.quant,
        "file": rec.file,
        "runtime": str(rec.runtime),
        "context": rec.context,
        "max_context": rec.max_context,
        "kv_cache": rec.kv_cache,
        "offload": None
        if plan is None
        else {
            "kind": plan.kind,
            "cpu_layers": plan.cpu_layers,
            "total_layers": plan.total_layers,
            "gpu_bytes": plan.gpu_bytes,
            "ram_bytes": plan.ram_bytes,
            "decode_tokens_per_s": round(plan.decode_tokens_per_s, 2) if plan.decode_tokens_per_s else None,
        },
        "decode_tokens_per_s": round(rec.decode_tokens_per_s, 2) if rec.decode_tokens_per_s else None,
        "verdict": rec.verdict,
        "launch": rec.launch_map,
        "notes": list(rec.notes),
        "tensor_parallel": rec.tensor_parallel,
        "gpu_bytes": rec.gpu_bytes,
        "capacity_bytes": rec.capacity_bytes,
        "native_context": rec.native_context,
        "rope_scale": rec.rope_scale,
        "host_ram_bytes": dict(rec.host_ram),
    }
