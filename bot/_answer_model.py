"""The /model answer: exact counts, components, MoE layout, storage, provenance."""

from __future__ import annotations

from estimator import (
    MemorySummary,
    ModelConfig,
    ParamAccounting,
    growing_bytes_per_token,
    kv_bytes_per_token,
    summarize_memory,
)
from store import ModelRecord

from . import _format as fmt
from ._answer_files import count_notes, repo_files_section
from ._answer_fit import ACTIVE_CONVENTION, hub_url
from ._document import Column, Document, Line, Section, Table, em, strong
from ._safe import clean
from ._service import ResolvedModel

COMPONENT_COLUMNS = (Column("component", 22), Column("parameters", 18, ">", gap=1))
COMPONENT_LABELS = {
    "embedding": "input embedding",
    "lm_head": "output head",
    "attention": "attention / mixers",
    "mlp": "dense MLP",
    "shared_experts": "shared experts",
    "routed_experts": "routed experts",
    "router": "routers",
    "norm": "norms",
    "mtp": "multi-token prediction",
    "vision": "vision / audio tower",
    "other": "other",
}


def render_model(resolved: ResolvedModel) -> Document:
    """The /model answer: exact counts, components, storage, architecture, provenance."""
    record = resolved.record
    facts = resolved.facts
    a, config = facts.accounting, facts.config
    lines: list[Line] = [
        (
            strong(f"{fmt.params_exact(a.total_params)} parameters ({fmt.params_short(a.total_params)})"),
            f", {fmt.params_exact(a.active_params)} active ({fmt.params_short(a.active_params)}).",
        ),
        (em(ACTIVE_CONVENTION),),
    ]
    if not a.counts_known:  # issue 10: an undescribed family's config-derived numbers are not counts
        lines = [(strong("Parameter counts need the safetensors headers"), ": the crawler will read them.")]
    if not resolved.resolution.exact:
        lines.insert(0, ("Closest match for your text.",))
    if a.moe:
        m = a.moe
        lines.append(
            (
                f"Mixture of experts: {m.num_experts} routed experts, top-{m.experts_per_token}, "
                f"{m.shared_experts} shared, in {m.moe_layers} of {config.num_layers} layers.",
            )
        )
    else:
        lines.append((f"Dense model, {config.num_layers} layers.",))
    sections = [Section("Storage", _storage(a))]
    if a.counts_known:  # an undescribed family's Llama-style sizing is not shown as counts
        rows = tuple((COMPONENT_LABELS[name], f"{count:,}") for name, count in a.components.items() if count)
        table = Table(COMPONENT_COLUMNS, (*rows, ("total", f"{a.total_params:,}")), header=False)
        sections.insert(0, Section("Components (parameters)", (table,)))
    kv = kv_bytes_per_token(config)
    attention = "MLA latent" if config.mla else _kv_heads_text(config)
    # layers with a capped or fixed cache: not the growing ones, nor KV-sharing or cache-free MLP layers
    windowed = sum(1 for k in config.layer_kinds if k not in ("full", "mla", "shared-kv", "mlp-only"))
    summary = summarize_memory(config)
    arch: tuple[Line, ...] = (
        (
            "type ",
            clean(config.model_type, 40),  # from the Hub: plain text, escaped by each renderer
            f", hidden {config.hidden_size:,}, vocab {config.vocab_size:,}",
        ),
        (f"context length {fmt.tokens(config.max_context) if config.max_context else 'not stated'}",),
        (
            _compressed_line(config, summary)
            if summary.compressed
            else f"KV cache {kv:,} bytes per token at f16 "
            f"({attention}; {config.full_attention_layers} growing layers"
            + (f", {windowed} windowed/recurrent" if windowed else "")
            + ")",
        ),
        (render_layer_kinds(summary),),
    )
    sections.append(Section("Architecture", arch))
    sections.append(Section("Provenance", _provenance(record, local=resolved.local)))
    if a.notes:
        sections.append(Section("Notes", tuple((clean(n, 300),) for n in a.notes[:5])))
    title, url = clean(record.repo_id, 200), None if resolved.local else hub_url(record.repo_id)
    repo = resolved.gguf_repo
    if repo is not None:  # issue 15 §6: a GGUF repo lists its files
        title, url = clean(repo.repo_id, 200), hub_url(repo.repo_id)
        about = (
            f"the counts below are its base model's, {clean(record.repo_id, 120)}"
            if record.repo_id != repo.repo_id
            else "its base model is not in the catalog: the counts below are its first file's tensor shapes"
        )
        lines.insert(0, (strong(f"GGUF repo, {len(repo.files)} files"), f"; {about}."))
        sections.insert(0, repo_files_section(repo))
        mismatches = count_notes(record, repo.files)
        if mismatches:
            sections.append(Section("Parameter counts", tuple((clean(n, 300),) for n in mismatches)))
    return Document(
        title=title,
        url=url,
        lines=tuple(lines),
        sections=tuple(sections),
        notes=("Parameter counts are exact integers. GiB = 2^30 bytes, GB = 10^9 bytes.",),
    )


KIND_LABELS = {
    "full": "full attention",
    "mla": "MLA latent attention",
    "sliding": "sliding-window attention",
    "chunked": "chunked attention",
    "shared-kv": "reusing an earlier layer's KV",
    "gated-deltanet": "Gated DeltaNet",
    "kimi-delta": "Kimi Delta Attention",
    "lightning": "lightning attention",
    "mamba": "Mamba",
    "mamba2": "Mamba2",
    "short-conv": "short convolution",
    "mlp-only": "MLP only (no cache)",
    "compressed-sparse": "compressed sparse attention",
    "heavily-compressed": "heavily compressed attention",
}


def _kv_heads_text(config: ModelConfig) -> str:
    """ "8 KV heads × 128", from the first layer whose cache grows; "K 192 / V 128" where they differ."""
    full = (layer.attention for layer in config.layer_map.layers if layer.kind.value == "full")
    growing = next((attention for attention in full if attention), None)
    if growing is None:
        return f"{config.num_kv_heads} KV heads × {config.head_dim}"
    if growing.k_head_dim == growing.v_head_dim:
        return f"{growing.kv_heads} KV heads × {growing.k_head_dim}"
    return f"{growing.kv_heads} KV heads × K {growing.k_head_dim} / V {growing.v_head_dim}"


def render_layer_kinds(summary: MemorySummary) -> str:
    """One line: "48 layers: 12 full attention (KV grows), 36 Gated DeltaNet (fixed 2.1 MiB state each)"."""
    parts = []
    for k in summary.kinds:
        label = f"{k.layers} {KIND_LABELS.get(k.kind.value, k.kind.value)}"
        if k.compress_ratio > 1:  # DeepSeek-V4: a window, then one entry per r tokens
            label += (
                f" (window {k.window or 0:,}, then 1 entry per {k.compress_ratio:,} tokens; "
                f"fixed {fmt.small_size(k.state_bytes_each)} compressor state each)"
            )
        elif k.window is not None:
            label += f" {k.window:,} (KV capped)"
        elif k.state_bytes_each:
            label += f" (fixed {fmt.small_size(k.state_bytes_each)} state each)"
        elif k.kind.value in ("full", "mla"):
            label += " (KV grows)"
        parts.append(label)
    both = sum(k.layers for k in summary.kinds) > summary.num_layers
    text = f"{summary.num_layers} layers: " + ", ".join(parts) + (" (some layers hold both)" if both else "")
    return text + (f"; {summary.mtp_layers} MTP layer(s) beside them" if summary.mtp_layers else "")


def _compressed_line(config: ModelConfig, summary: MemorySummary) -> str:
    """DeepSeek-V4: the window rows, then compressed entries that grow one per r tokens, at f16."""
    window = "; ".join(
        f"{g.bytes_per_token_f16:,} bytes per token for the last {g.window:,} tokens ({g.layers} layers)"
        for g in summary.sliding
    )
    groups = ", ".join(
        f"{g.bytes_per_entry_f16:,} bytes every {g.ratio:,} tokens ({g.layers} layers)"
        for g in summary.compressed
    )
    return (
        f"KV cache at f16 (one K=V row of {config.head_dim} per token): {window}; then compressed, {groups}: "
        f"~{growing_bytes_per_token(config):,} bytes per token of context"
    )


def _storage(a: ParamAccounting) -> tuple[Line, ...]:
    if a.stored_bytes is None:
        return (("not read yet: counts come from config.json",),)
    dtypes = ", ".join(f"{dtype} {fmt.size_both(size)}" for dtype, size in a.stored_dtypes[:6])
    quant: tuple[Line, ...] = ((f"quantization: {clean(a.quantization, 40)}",),) if a.quantization else ()
    return (*quant, (f"{fmt.size_both(a.stored_bytes)} in all",), (dtypes,))


def _provenance(record: ModelRecord, *, local: bool = False) -> tuple[Line, ...]:
    if local:
        return ((clean(record.status_reason or "read from local files", 300),),)
    if record.provenance == "header":
        sha = (record.sha or "")[:12]
        read = record.read_at.strftime("%Y-%m-%d %H:%M UTC") if record.read_at else "unknown"
        lines: list[Line] = [(f"read from safetensors headers at commit {clean(sha, 12)} on {read}",)]
        if record.count_mismatch and record.hub.hub_total_params is not None:
            lines.append(
                (f"the Hub says {record.hub.hub_total_params:,} (it counts packed elements and scales)",)
            )
        return tuple(lines)
    return (
        ("derived from config.json (bundled catalog); a crawl will replace it with header-exact counts",),
    )
