"""The /fit answer: per-quantization memory against the budget, the verdicts, and why."""

from __future__ import annotations

from urllib.parse import quote

from estimator import (
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    LLAMA_CPP_PROFILE,
    NEEDS_OFFLOAD,
    READ_AS_BYTES,
    READ_AS_GIB,
    READ_AS_MIB,
    READ_AS_VENDOR_GB,
    STORED,
    TRANSFORMERS_PROFILE,
    Budget,
    CacheRule,
    Device,
    FitReport,
    Quant,
    QuantOption,
    Recommendation,
    Verdict,
    hardware_wording,
    state_bytes_per_sequence,
)

from . import _format as fmt
from ._answer_files import count_notes, file_url, files_fit_section, named_file_line, sibling_line
from ._answer_quantized import quantized_repos_section
from ._document import Column, Document, Line, Section, Table, Tone, strong
from ._recommendation import launch_actions, recommendation_for, recommendation_sentence
from ._safe import clean
from ._service import FitAnswer

VERDICT_LABELS = {
    FITS: "✅ fits",
    FITS_REDUCED_CONTEXT: "🟡 less ctx",
    NEEDS_OFFLOAD: "🟠 offload",
    DOES_NOT_FIT: "❌ no",
}
TONE = {FITS: Tone.GOOD, FITS_REDUCED_CONTEXT: Tone.CAUTION, NEEDS_OFFLOAD: Tone.WARN, DOES_NOT_FIT: Tone.BAD}
TABLE_COLUMNS = (
    Column("quant", 9),
    Column("weights", 8, ">"),
    Column("KV", 6, ">"),
    Column("other", 6, ">"),
    Column("total", 7, ">"),
    Column("verdict", 11, "<", gap=2),
    Column("max ctx", 8, ">"),
)
ACTIVE_CONVENTION = (
    "active = what one token reads: total − input embedding (unless tied) − MTP − vision − "
    "routed experts a token skips (× (1 − k/E))"
)


def hub_url(repo_id: str) -> str:
    # Percent-encoded: a hostile id with spaces, "<" or invisible characters would make
    # Discord reject the embed, and the terminal would print those characters raw.
    return f"https://huggingface.co/{quote(repo_id, safe='/')}"


def describe_budget(budget: Budget) -> str:
    """How we read the budget, e.g. "24 GiB, as on a 24GB card"."""
    parts = []
    for count, d in _grouped(budget):
        size = fmt.gib(d.memory_bytes, 0 if d.memory_bytes % (1 << 30) == 0 else 2)
        if d.cpu:
            text = f"CPU only, {size} of RAM ({fmt.gib(d.usable_bytes, 0)} for the model)"
        elif d.gpu is not None:
            text = f"{d.gpu.name} ({size}"
            if d.unified:
                text += f" unified, {fmt.gib(d.usable_bytes, 0)} usable by the GPU"
            text += ")"
        elif d.read_as == READ_AS_VENDOR_GB:
            text = f"{size}, as on a {d.memory_bytes >> 30}GB card"
        elif d.read_as == READ_AS_GIB:
            text = size
        elif d.read_as == READ_AS_MIB:
            text = f"{size} ({d.memory_bytes >> 20:,} MiB)"
        elif d.read_as == READ_AS_BYTES:
            text = f"{size} ({d.memory_bytes:,} bytes)"
        else:
            text = size
        parts.append(f"{count}× {text}" if count > 1 else text)
    out = " + ".join(parts)
    if budget.system_ram_bytes and not budget.cpu_only:
        out += f", with {fmt.gib(budget.system_ram_bytes, 0)} of system RAM"
    return out


def _grouped(budget: Budget) -> list[tuple[int, Device]]:
    groups: list[tuple[int, Device]] = []
    for device in budget.devices:
        if groups and groups[-1][1] == device:
            groups[-1] = (groups[-1][0] + 1, device)
        else:
            groups.append((1, device))
    return groups


def render_fit(answer: FitAnswer, rec: Recommendation | None = None) -> Document:
    """The /fit answer: the reading of the model and budget, the best choice, the table.

    ``rec`` is the policy's pick for ``answer`` when the caller already has it (Discord's card).
    """
    record, report = answer.model.record, answer.report
    resolution = answer.model.resolution
    subject, url = fit_subject(answer)
    title = f"{clean(subject, 120)} on {clean(describe_budget(answer.budget), 100)}"
    lines: list[Line] = []
    named = answer.model.names_files
    if named and not answer.files:
        lines.append((_no_files_line(answer),))
    sibling = sibling_line(answer.model) if not answer.files else None
    if sibling:
        lines.append(sibling)
    if named and answer.files and record.repo_id != subject:
        lines.append((f"Made from {clean(record.repo_id, 120)}.",))
    if answer.model.gguf_repo is not None and record.repo_id == answer.model.gguf_repo.repo_id:
        lines.append(("Its base model is not in the catalog: the counts are from its first file's tensors.",))
    if not resolution.exact:
        alternatives = ", ".join(clean(a, 80) for a in resolution.alternatives[:3])
        lines.append((f"Closest match for your text{f' (also: {alternatives})' if alternatives else ''}.",))
    accounting = answer.model.facts.accounting
    total = accounting.total_params
    size = f"{fmt.params_short(total)} parameters ({fmt.params_exact(total)})"
    if accounting.moe:
        m = accounting.moe
        active = fmt.params_short(accounting.active_params)
        size += f", MoE {m.num_experts} experts / top-{m.experts_per_token}, {active} active"
    if not accounting.counts_known:  # issue 10: no guessed count shown as a count
        size = (
            "Parameter counts need the safetensors headers (the crawler will read them); sizes are estimates"
        )
    lines.append((size + ".",))
    if answer.mtp_draft is not None:
        params = fmt.params_short(answer.mtp_draft.mtp_params)
        lines.append(
            (
                f"Speculative decoding with the MTP draft: each row adds its {params} parameters"
                f" and its KV at {fmt.tokens(report.context)} tokens, on the last GPU.",
            )
        )
        state = state_bytes_per_sequence(answer.model.facts.config, CacheRule.LLAMA_CPP)
        if state:  # llama_cparams.n_rs_seq: recurrent-state snapshots per sequence kept for rollback
            lines.append(
                (
                    f"llama.cpp also keeps one recurrent-state copy per drafted token (up to --draft-max) "
                    f"to roll back rejected drafts: {fmt.small_size(state)} each, not in the rows.",
                )
            )
    if rec is None:  # issue 12: the headline is the policy's pick (estimator/_advice.py)
        rec = recommendation_for(answer)
    quantized = _quantized_line(answer)
    if quantized:
        lines.append(quantized)
    headline = named_file_line(answer.files) if named else None
    if headline:  # the answer is about exactly the file named, not the policy's pick among estimates
        lines.append(headline)
    else:
        lines += _recommendation_lines(answer, rec)
    estimated = "Estimated per quantization" if answer.files else "Memory"
    sections = [
        Section(
            f"{estimated} at {fmt.tokens(report.context)} tokens, in GiB (2^30 bytes)",
            (_table(report.options),),
        )
    ]
    files = files_fit_section(answer.files, named=named)
    if files is not None:
        sections.insert(0 if named else 1, files)
    repos = quantized_repos_section(answer.quantized_repos)
    if repos is not None:
        sections.append(repos)
    mismatches = count_notes(record, tuple(f.file for f in answer.files))
    if mismatches:
        sections.append(Section("Parameter counts", tuple((clean(n, 300),) for n in mismatches)))
    offload = _offload_field(report.options)
    if offload:
        sections.append(offload)
    speed = _speed_field(answer)
    if speed:
        sections.append(speed)
    best = report.best
    return Document(
        title=title,
        url=url,
        lines=tuple(lines),
        sections=tuple(sections),
        notes=(_footer(answer),),
        tone=TONE[Verdict(best.verdict)] if best else Tone.BAD,
        verdict=best.verdict if best else DOES_NOT_FIT,
        actions=launch_actions(rec),  # issue 12: "How to run" on Discord, the commands on the terminal
    )


def _recommendation_lines(answer: FitAnswer, rec: Recommendation) -> list[Line]:
    lines = [
        # With the MTP draft on, only the report's rows hold the draft: the headline reads them.
        _best_sentence(answer.report)
        if rec.verdict == DOES_NOT_FIT or answer.mtp_draft is not None
        else recommendation_sentence(answer, rec)
    ]
    assumed = [note for note in rec.notes if "assum" in note]
    if assumed:
        lines.append((clean("Assumed: " + "; ".join(assumed) + ".", 600),))
    return lines


def _quantized_line(answer: FitAnswer) -> Line | None:
    """A quantized safetensors repo is answered about its own stored bytes, in its own runtime."""
    model = answer.model
    a = model.facts.accounting
    method = a.quantization
    stored = next((o for o in answer.report.options if o.quant == STORED), None)
    if model.local or not method or method in ("gguf", "mxfp4") or stored is None or a.stored_bytes is None:
        return None
    runtime = "MLX (mlx-lm)" if method == "mlx" else "vLLM"
    quant = model.facts.config.quantization
    bits = f", {quant.bits}-bit" if quant and quant.bits else ""
    return (
        strong(f"Quantized repo ({clean(method.upper(), 30)}{bits})"),
        f": the {STORED} row is this repo's own {fmt.size_both(a.stored_bytes)} run by {runtime} — "
        f"{VERDICT_LABELS[Verdict(stored.verdict)]}. The other rows estimate GGUF files of the same model.",
    )


def fit_subject(answer: FitAnswer) -> tuple[str, str | None]:
    """What the answer is about and its page: the named GGUF repo or file, else the model."""
    model = answer.model
    if model.local:
        return model.record.repo_id, None
    files = {(f.file.repo_id, f.file.file) for f in answer.files}
    one_file = model.query is not None and (model.query.quant is not None or model.query.form == "file")
    if model.names_files and one_file and len(files) == 1:
        repo_id, file = next(iter(files))
        return f"{repo_id}/{file}", file_url(repo_id, file)
    if model.gguf_repo is not None:
        return model.gguf_repo.repo_id, hub_url(model.gguf_repo.repo_id)
    return model.record.repo_id, hub_url(model.record.repo_id)


def _no_files_line(answer: FitAnswer) -> str:
    query = answer.model.query
    quant = f" at {clean(query.quant, 20)}" if query and query.quant else ""
    return (
        f"No GGUF file{quant} of this model is in the catalog yet: the rows below are estimates "
        "for each quantization."
    )


def _best_sentence(report: FitReport) -> Line:
    best = report.best
    if best is None:
        smallest = min(report.options, key=lambda o: o.weights_bytes)
        ram = fmt.gib(report.system_ram_bytes, 0)
        assumed = " (assumed; add e.g. '+ 128GB RAM' to your budget)" if report.system_ram_assumed else ""
        return (
            strong("Does not fit"),
            f", not even with offload into {ram} of system RAM{assumed}. "
            f"The smallest option, {smallest.quant}, needs {fmt.gib(smallest.weights_bytes)} "
            "for weights alone.",
        )
    if best.verdict == FITS:
        capacity = sum(d.capacity_bytes for d in best.devices)
        return (
            strong(f"Best choice: {best.quant}"),
            f" — {fmt.gib(best.total_bytes)} of {fmt.gib(capacity)}, "
            f"{fmt.gib(capacity - best.total_bytes)} to spare, with {fmt.tokens(report.context)} tokens "
            f"of context (up to {fmt.tokens(best.max_context)}).",
        )
    if best.verdict == FITS_REDUCED_CONTEXT:
        return (
            strong(f"Best choice: {best.quant} at {fmt.tokens(best.max_context)} tokens of context"),
            f" (you asked for {fmt.tokens(report.context)}, which does not fit).",
        )
    plan = best.offload
    assert plan is not None
    what = "routed experts of" if plan.kind == "experts" else "the first"
    return (
        strong(
            f"Nothing fits in VRAM alone. Best: {best.quant} with {what} {plan.cpu_layers} of "
            f"{plan.total_layers} layers in system RAM"
        ),
        f" — {fmt.gib(plan.gpu_bytes)} on the GPU, "
        f"{fmt.gib(plan.ram_bytes)} of RAM, {fmt.speed(plan.decode_tokens_per_s)} (estimate).",
    )


def _table(options: tuple[QuantOption, ...]) -> Table:
    rows = tuple(
        (
            str(o.quant),
            fmt.gib_number(o.weights_gpu_bytes),
            fmt.gib_number(o.kv_cache_bytes),
            fmt.gib_number(o.overhead_bytes),
            fmt.gib_number(o.total_bytes),
            VERDICT_LABELS[Verdict(o.verdict)],
            fmt.tokens(o.max_context) if o.max_context else "—",
        )
        for o in options
    )
    return Table(TABLE_COLUMNS, rows)


def _offload_field(options: tuple[QuantOption, ...]) -> Section | None:
    plans = [o for o in options if o.offload and o.offload.kind == "experts" and o.verdict == NEEDS_OFFLOAD]
    if not plans:
        return None
    lines: list[Line] = []
    for o in plans[:4]:
        p = o.offload
        assert p is not None
        lines.append(
            (
                f"{o.quant}: experts of {p.cpu_layers}/{p.total_layers} layers in RAM → "
                f"{fmt.gib(p.gpu_bytes)} GPU + {fmt.gib(p.ram_bytes)} RAM, "
                f"{fmt.speed(p.decode_tokens_per_s)}",
            )
        )
    return Section("MoE offload (llama.cpp --n-cpu-moe)", tuple(lines))


def _speed_field(answer: FitAnswer) -> Section | None:
    if not answer.budget.names_gpu:
        return None
    rows = [o for o in answer.report.options if o.decode_tokens_per_s]
    if not rows:
        return None
    shown = rows[:3] if len(rows) <= 3 else [rows[0], *rows[len(rows) // 2 : len(rows) // 2 + 1], rows[-1]]
    lines = [f"{o.quant}: {fmt.speed(o.decode_tokens_per_s)}" for o in shown]
    return Section(
        "Decode speed (estimate)",
        ((" · ".join(lines),), ("memory bandwidth × 60-65% ÷ bytes read per token (active weights + KV)",)),
    )


def _footer(answer: FitAnswer) -> str:
    report = answer.report
    repo = answer.model.gguf_repo
    provenance = (
        "Counts read from the GGUF file's tensor table."
        if repo is not None and answer.model.record.repo_id == repo.repo_id
        else "Counts read from the checkpoint's safetensors headers."
        if answer.model.facts.accounting.provenance == "header"
        else "Counts derived from config.json."
        if answer.model.local
        else "Counts derived from config.json (not yet read from the checkpoint)."
    )
    return (
        f"Budget: {describe_budget(answer.budget)}. Sizes in GiB (2^30 bytes). "
        f"KV cache {report.kv_type} at {fmt.tokens(report.context)} tokens. "
        + _runtime_note(answer)
        + " Memory and speed are estimates. "
        + provenance
        + (" Read from the Hub just now (headers only)." if answer.model.read_on_demand else "")
    )


def _runtime_note(answer: FitAnswer) -> str:
    """Each runtime in the table and what it was assumed to hold, in the words of this budget's
    hardware (the advice's own wording): Metal with no reserve on a Mac, ROCm or CUDA on cards."""
    budget, llama, hf = answer.budget, LLAMA_CPP_PROFILE, TRANSFORMERS_PROFILE
    host = "" if budget.cpu_only or budget.unified else ", token embedding in system RAM"
    notes = [f"GGUF rows: {hardware_wording(budget)}; flash attention, n_ubatch {llama.n_ubatch}{host}."]
    quants = {o.quant for o in answer.report.options}
    if quants & {Quant.STORED, Quant.FP8}:
        notes.append(
            f"FP8/stored rows: transformers/vLLM, {hf.reserve_bytes_per_gpu >> 20} MiB reserve "
            "(not yet calibrated)."
        )
    if quants & {Quant.MLX_4BIT, Quant.MLX_8BIT}:
        notes.append("MLX rows: mlx-lm, affine 4/8-bit, group 64 (cache and buffers not yet calibrated).")
    if any(
        layer.attention and layer.attention.compressed for layer in answer.model.facts.config.layer_map.layers
    ):
        notes.append(
            "DeepSeek-V4 cache: GGUF rows as llama.cpp's llama_kv_cache_dsv4 (a K-only window, compressed "
            "rows and indexer keys in 256-cell steps, F32 compressor state); other rows as vLLM's fp8_ds_mla "
            "pages (584 bytes a row, whatever the KV type)."
        )
    return " ".join(notes)
