"""The /define answer: the entry, a live example from the catalog, related terms."""

from __future__ import annotations

from estimator import (
    ModelFacts,
    estimate_fit,
    gpu_by_key,
    kv_bytes_per_token,
    layout_weights,
    parse_budget,
)
from store import GlossaryEntry, ModelRecord

from . import _format as fmt
from ._document import Document, Section
from ._safe import clean

CHINCHILLA_TOKENS_PER_PARAM = 20  # Hoffmann et al. 2022: compute-optimal ≈ 20 tokens per parameter


def render_define(
    entry: GlossaryEntry, example: ModelRecord | None, related: tuple[GlossaryEntry, ...]
) -> Document:
    """The /define answer: the entry's text, a live example, related terms, aliases."""
    sections = []
    live = live_example(entry, example)
    if live:
        sections.append(Section("Live example", ((live,),)))
    if related:
        sections.append(Section("Related", ((", ".join(r.title for r in related),),)))
    aliases = ", ".join(entry.aliases[:8])
    return Document(
        title=entry.title,
        lines=tuple((line,) for line in entry.text.split("\n")),
        sections=tuple(sections),
        notes=(f"Also known as: {aliases}",) if aliases else (),
    )


def live_example(entry: GlossaryEntry, record: ModelRecord | None) -> str | None:
    """A sentence with real numbers from the catalog, or None when the example has no data."""
    if record is None or record.accounting is None or record.config is None or not entry.example:
        return None
    a, config, name = record.accounting, record.config, clean(record.repo_id, 100)
    kind = entry.example
    if kind in ("param_count", "active_params") and not a.counts_known:
        return None  # an undescribed family's config-derived sizes are not counts
    if kind == "param_count":
        return f"{name} has exactly {a.total_params:,} parameters ({fmt.params_short(a.total_params)})."
    if kind == "active_params":
        return (
            f"{name}: {a.total_params:,} parameters in total, {a.active_params:,} active per token "
            f"({fmt.params_short(a.total_params)} vs {fmt.params_short(a.active_params)})."
        )
    if kind == "moe_layout" and a.moe:
        m = a.moe
        return (
            f"{name}: {m.num_experts} routed experts per MoE layer, {m.experts_per_token} chosen per token, "
            f"{m.shared_experts} shared, in {m.moe_layers} layers."
        )
    if kind == "kv_bytes_per_token":
        per_token = kv_bytes_per_token(config)
        at_32k = fmt.gib(per_token * 32768, 2)
        return f"{name} stores {per_token:,} bytes of KV cache per token at f16 ({at_32k} at 32K tokens)."
    if kind == "context_length" and config.max_context:
        return f"{name} accepts up to {config.max_context:,} tokens of context."
    if kind == "quant_size":
        quant = entry.example_quant or "Q4_K_M"
        size = layout_weights(quant, a, config).total
        bf16 = fmt.size_both(2 * a.total_params)
        return f"{name} at {quant}: {fmt.size_both(size)} of weights, vs {bf16} at BF16."
    if kind == "chinchilla_tokens":
        tokens_needed = CHINCHILLA_TOKENS_PER_PARAM * a.total_params
        return (
            f"Compute-optimal training for {name} ({fmt.params_short(a.total_params)}) "
            f"is about {fmt.params_short(tokens_needed)} tokens."
        )
    if kind == "training_flops":
        tokens_needed = CHINCHILLA_TOKENS_PER_PARAM * a.total_params
        flops = 6 * a.active_params * tokens_needed
        tokens_text = fmt.params_short(tokens_needed)
        return f"Training {name} on {tokens_text} tokens takes about 6·N·D = {flops:.2e} FLOPs."
    if kind == "decode_speed":
        gpu = gpu_by_key(entry.example_gpu or "rtx-4090")
        if gpu is None:
            return None
        report = estimate_fit(
            ModelFacts(config, a), parse_budget(gpu.key.replace("-", " ")), quants=("Q4_K_M",)
        )
        speed = report.options[0].decode_tokens_per_s if report.options else None
        if speed:
            bandwidth = f"{gpu.bandwidth_gb_per_s:,.0f} GB/s"
            return f"{name} at Q4_K_M on one {gpu.name} ({bandwidth}): {fmt.speed(speed)} (estimate)."
    return None
