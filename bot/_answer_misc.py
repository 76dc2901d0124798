"""The /compare, /new, /about and daily-listing answers.

Like the other ``render_*`` modules these return a presentation-neutral ``Document``;
every string from the Hub goes through ``clean`` (each renderer escapes for its medium).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from estimator import (
    FITS,
    Budget,
    GpuSpec,
    ModelConfig,
    ModelFacts,
    estimate_fit,
    gpu_by_key,
    growing_bytes_per_token,
    kv_bytes_per_token,
    layout_weights,
    parse_budget,
)
from store import CatalogStats, ModelRecord

from . import _format as fmt
from ._answer_fit import hub_url
from ._document import Document, Line, Run, Section, code, link, strong
from ._safe import clean
from ._service import ResolvedModel

LISTING_QUANT = "Q4_K_M"
# The "common GPU" ladder of the daily listing: the cards people in local-LLM communities
# actually own, one per memory step (8, 12, 16, 24, 32, 48, 80 GB).
GPU_LADDER_KEYS = ("rtx-4060", "rtx-3060", "rtx-4060-ti-16gb", "rtx-4090", "rtx-5090", "rtx-a6000", "h100")
LISTING_MAX_MODELS = 20
PRIVACY = (
    "fitbot stores, per server: the server id, the channel id of the daily listing, its hour "
    "and the date of the last post. Nothing about members: no user ids, names, messages or "
    "command history. /listing unsubscribe deletes the server's row."
)
PRIVACY_LINES = (
    (
        PRIVACY.removesuffix("/listing unsubscribe deletes the server's row."),
        code("/listing unsubscribe"),
        " deletes the server's row.",
    ),
)


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One model of a daily post and the smallest ladder GPU it fits at Q4_K_M (None: none)."""

    record: ModelRecord
    smallest_gpu: GpuSpec | None


@cache
def _ladder() -> tuple[tuple[GpuSpec, Budget], ...]:
    out: list[tuple[GpuSpec, Budget]] = []
    for key in GPU_LADDER_KEYS:
        gpu = gpu_by_key(key)
        if gpu is not None:
            out.append((gpu, parse_budget(gpu.aliases[0])))
    return tuple(out)


def smallest_fitting_gpu(record: ModelRecord, quant: str = LISTING_QUANT) -> GpuSpec | None:
    """The smallest card of the ladder that holds ``record`` at ``quant`` with the default context."""
    if record.config is None or record.accounting is None:
        return None
    facts = ModelFacts(record.config, record.accounting)
    for gpu, budget in _ladder():
        report = estimate_fit(facts, budget, quants=(quant,))
        if report.options and report.options[0].verdict == FITS:
            return gpu
    return None


def _link(repo_id: str) -> Run:
    """A link to the Hub page; the URL is percent-encoded so no name can break out of it."""
    return link(clean(repo_id, 100), hub_url(repo_id))


def _size_line(record: ModelRecord) -> str:
    a = record.accounting
    if a is None:
        return "size unknown"
    counted = a.counts_known  # issue 10: an undescribed family's sizes are not shown as counts
    text = (
        f"{fmt.params_exact(a.total_params)} parameters ({fmt.params_short(a.total_params)})"
        if counted
        else "parameter counts need the headers"
    )
    if a.moe:
        m = a.moe
        text += (
            f", MoE {m.num_experts} experts / top-{m.experts_per_token}"
            + (f" + {m.shared_experts} shared" if m.shared_experts else "")
            + (f", {fmt.params_short(a.active_params)} active" if counted else "")
        )
    else:
        text += ", dense"
    return text


def _gpu_line(gpu: GpuSpec | None) -> str:
    if gpu is None:
        return f"at {LISTING_QUANT}: larger than one 80 GB card"
    return f"at {LISTING_QUANT}: fits one {clean(gpu.name.removeprefix('NVIDIA '), 60)} ({gpu.memory_gb} GB)"


def render_listing(entries: Sequence[ListingEntry], since: datetime, day: date, *, more: int = 0) -> Document:
    """The daily post: models added or re-read since the last post."""
    lines: list[Line] = []
    for entry in entries[:LISTING_MAX_MODELS]:
        record = entry.record
        lines.append((_link(record.repo_id), f" — {_size_line(record)}; {_gpu_line(entry.smallest_gpu)}"))
    hidden = more + max(0, len(entries) - LISTING_MAX_MODELS)
    if hidden:
        lines.append((f"… and {hidden} more: use ", code("/new"), " to see them all."))
    if not lines:
        lines.append(("No models were added or re-read since the last post.",))
    return Document(
        title=f"New and updated models, {day.isoformat()}",
        lines=tuple(lines),
        notes=(
            f"Since {since.strftime('%Y-%m-%d %H:%M')} UTC. "
            "Smallest GPU: the first of 8/12/16/24/32/48/80 GB "
            f"cards that holds the model at {LISTING_QUANT} with 8,192 tokens of context (estimate). "
            "Admins: /listing to change or stop this post.",
        ),
    )


def render_new(records: Sequence[ModelRecord], days: int, *, now: datetime) -> Document:
    """/new: models added or re-read in the last ``days`` days, one line each."""
    lines: list[Line] = [
        (
            code(r.updated_at.strftime("%m-%d") if r.updated_at else "     "),
            " ",
            _link(r.repo_id),
            f" — {_size_line(r)}",
        )
        for r in records
    ]
    if not lines:
        lines = [
            (
                "Nothing new: no model was added or re-read from its checkpoint in that time. "
                "Try a longer window, e.g. ",
                code("/new days:30"),
                ".",
            )
        ]
    return Document(
        title=f"Models added or updated in the last {days} day{'s' if days != 1 else ''}",
        lines=tuple(lines),
        notes=(
            f"As of {now.strftime('%Y-%m-%d %H:%M')} UTC. "
            "Only models whose checkpoint headers were read are listed.",
        ),
    )


def render_about(stats: CatalogStats, source_url: str) -> Document:
    """/about: data freshness, what is stored, and where the source lives."""
    provenance = dict(stats.by_provenance)
    counts: Line = (
        strong(f"{stats.models:,} models"),
        f" in the catalog: {provenance.get('header', 0):,} read from "
        f"safetensors headers, {provenance.get('config', 0):,} derived from config.json.",
    )
    run = stats.last_run
    if run is None or run.finished_at is None:
        crawl = "No crawl has finished yet: answers come from the bundled catalog."
    else:
        crawl = (
            f"Last crawl finished {run.finished_at.strftime('%Y-%m-%d %H:%M')} UTC ({clean(run.status, 20)}, "
            f"source {clean(run.source, 60)})."
        )
    return Document(
        title="About fitbot",
        lines=(
            (
                "Will this model run on my GPU? Exact parameter counts from checkpoint headers, "
                "honest memory estimates per quantization.",
            ),
        ),
        sections=(
            Section("Data freshness", (counts, (crawl,), (f"Catalog version {stats.catalog_version}.",))),
            Section("Privacy", PRIVACY_LINES),
            Section("Source", ((link(source_url, source_url),),)),
        ),
        url=source_url,
        notes=("Estimates, not guarantees: check the footer of each /fit answer for the assumptions.",),
    )


def render_compare(a: ResolvedModel, b: ResolvedModel) -> Document:
    """/compare: two models side by side."""
    sections = [Section(clean(m.record.repo_id, 200), _compare_lines(m), inline=True) for m in (a, b)]
    ta, tb = a.facts.accounting.total_params, b.facts.accounting.total_params
    big, small = (a, b) if ta >= tb else (b, a)
    ratio = max(ta, tb) / max(1, min(ta, tb))
    about = "" if a.facts.accounting.counts_known and b.facts.accounting.counts_known else "about "
    lines: list[Line] = []
    if not (a.resolution.exact and b.resolution.exact):
        lines.append(("At least one name was a closest match: check the repo ids below.",))
    lines.append(
        (
            f"{clean(big.record.repo_id, 100)} has {about}{ratio:,.1f}× the parameters of "
            f"{clean(small.record.repo_id, 100)}.",
        )
    )
    return Document(
        title=f"{clean(a.record.repo_id, 120)} vs {clean(b.record.repo_id, 120)}",
        lines=tuple(lines),
        sections=tuple(sections),
        notes=(
            f"Sizes in GiB (2^30 bytes). Smallest GPU at {LISTING_QUANT}: 8/12/16/24/32/48/80 GB cards, "
            "8,192 tokens of context (estimate).",
        ),
    )


def _compare_lines(m: ResolvedModel) -> tuple[Line, ...]:
    facts = m.facts
    a, config = facts.accounting, facts.config
    q4 = layout_weights(LISTING_QUANT, a, config).total
    moe = f"{a.moe.num_experts} experts / top-{a.moe.experts_per_token}" if a.moe else "dense"
    first: Line = (
        ("parameters ", strong(fmt.params_short(a.total_params)), f" ({fmt.params_exact(a.total_params)})")
        if a.counts_known
        else ("parameters ", strong(f"≈{fmt.params_short(a.total_params)}"), " (estimate: needs the headers)")
    )
    return (first,) + tuple(
        (line,)
        for line in (
            f"active {'≈' if not a.counts_known else ''}{fmt.params_short(a.active_params)}",
            f"layout {moe}, {config.num_layers} layers",
            f"context {fmt.tokens(config.max_context) if config.max_context else 'not stated'}",
            _kv_line(config),
            f"BF16 weights {fmt.gib(2 * a.total_params)}",
            f"{LISTING_QUANT} weights {fmt.gib(q4)}",
            _gpu_line(smallest_fitting_gpu(m.record)).replace(f"at {LISTING_QUANT}: ", "GPU: "),
            "counts: " + ("headers" if a.provenance == "header" else "config.json"),
        )
    )


def _kv_line(config: ModelConfig) -> str:
    """KV per token at f16; DeepSeek-V4's compressed rows averaged over their r tokens, marked "~"."""
    per_token = growing_bytes_per_token(config)
    if per_token == kv_bytes_per_token(config):
        return f"KV {per_token:,} B/token (f16)"
    return f"KV ~{per_token:,} B/token (f16, compressed rows averaged; plus a window)"
