"""Rule 6, runs from disk: when nothing fits VRAM + RAM, llama.cpp maps the file and pages the rest
of the weights from disk; the host RAM it uses is itemised."""

from __future__ import annotations

from dataclasses import dataclass

from ._advice_policy import (
    COMMUNITY_DEFAULT,
    LOW_BIT_QUANTS,
    RUNS_FROM_DISK,
    Question,
    Recommendation,
    hardware_wording,
    speed_text,
)
from ._budget import SYSTEM_RAM_BANDWIDTH
from ._fit import DOES_NOT_FIT, FitReport, ModelFacts, OffloadPlan, QuantOption
from ._launch import gguf_file_name, llama_server
from ._runtime import LLAMA_CPP, LLAMA_CPP_PROFILE, Runtime, estimate_compute_buffers
from ._units import GIB, MIB
from ._weights import layout_weights

PROMPT_CACHE_BYTES = 8192 * MIB  # llama-server --cache-ram default
# Assumed: a PCIe 4.0 NVMe SSD. mmap page-ins are small random reads, far below its 7 GB/s rating.
DISK_BANDWIDTH = 3e9
_OS_RAM_BYTES = 4 * GIB


def host_ram(
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


@dataclass(frozen=True, slots=True)
class _Spread:
    """Where the weights of the from-disk pick sit while it decodes."""

    weights: int
    on_gpu: int
    in_ram: int
    paged: int  # mapped from disk, read again as it decodes


def from_disk(q: Question, report: FitReport, notes: list[str]) -> Recommendation:
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
    option = next((o for o in llama if o.quant == COMMUNITY_DEFAULT), None) or min(
        sensible or llama, key=lambda o: o.weights_bytes
    )
    context = report.context
    host = host_ram(q.model, option, context, None)
    spread = _spread(q, report, option, host)
    speed = _disk_speed(q, option, spread)
    file = q.file_for(option.quant)
    command = _disk_command(q, file or gguf_file_name(q.repo_id, option.quant), context, spread)
    notes = [
        *notes,
        f"{option.quant} ({spread.weights / GIB:.1f} GiB) is more than VRAM + RAM: llama.cpp maps the file "
        "(mmap) and "
        f"pages about {spread.paged / GIB:.1f} GiB from disk as it decodes: slow, but it runs"
        f"{speed_text(speed)} (disk assumed {DISK_BANDWIDTH / 1e9:g} GB/s)",
        "--cache-ram 0 turns off llama-server's prompt cache (8 GiB by default) so that RAM holds weights",
        hardware_wording(q.budget),
    ]
    return Recommendation(
        quant=option.quant,
        file=file,
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


def _spread(
    q: Question, report: FitReport, option: QuantOption, host: tuple[tuple[str, int], ...]
) -> _Spread:
    """What the GPUs hold beside their cache and buffers, what RAM holds beside the OS and llama.cpp's
    own host use, and the rest, paged from disk."""
    budget = q.budget
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
    host_without_cache = sum(size for name, size in host if "prompt cache" not in name)
    ram_free = max(0, report.system_ram_bytes - _OS_RAM_BYTES - host_without_cache)
    if budget.unified:
        ram_free, gpu_free = max(ram_free, gpu_free), 0  # one pool: count it once
    weights = option.weights_bytes
    on_gpu = min(weights, gpu_free)
    return _Spread(weights, on_gpu, min(weights - on_gpu, ram_free), max(0, weights - gpu_free - ram_free))


def _disk_speed(q: Question, option: QuantOption, spread: _Spread) -> float | None:
    """Decode speed when each token reads its share from the GPU, from RAM and from disk."""
    moe = q.model.accounting.moe
    active = moe.experts_per_token / moe.num_experts if moe and moe.num_experts else 1.0
    layout = layout_weights(option.quant, q.model.accounting, q.model.config)
    experts, weights = sum(layout.per_layer_experts), spread.weights
    active_share = (weights - experts + experts * active) / weights if weights else 1.0
    gpu_bw = min((d.bandwidth_bytes_per_s or 0 for d in q.budget.devices), default=0) or SYSTEM_RAM_BANDWIDTH
    seconds = active_share * (
        spread.on_gpu / (gpu_bw * 0.65)
        + spread.in_ram / (SYSTEM_RAM_BANDWIDTH * 0.65)
        + spread.paged / DISK_BANDWIDTH
    )
    return 1 / seconds if seconds > 0 else None


def _disk_command(q: Question, file: str, context: int, spread: _Spread) -> str:
    """``llama-server`` with what the GPUs hold on them and the prompt cache off."""
    n, fa = q.model.config.num_layers, q.flash_attention
    if q.budget.cpu_only:
        return llama_server(file, context, gpu_layers=None, flash_attention=fa, cache_ram_mib=0)
    if q.model.accounting.moe:
        return llama_server(file, context, cpu_moe_layers=n, flash_attention=fa, cache_ram_mib=0)
    weights = spread.weights
    gpu_layers = max(0, min(n, int(n * spread.on_gpu / weights))) if weights else 0
    return llama_server(file, context, gpu_layers=gpu_layers, flash_attention=fa, cache_ram_mib=0)
