"""Quantized safetensors repos of a base model in /fit (issue 15 §6): AWQ, GPTQ, FP8, NVFP4, MLX.

Each repo is priced on its own stored bytes (read from its safetensors headers), as a checkpoint
run as stored: vLLM for the CUDA formats, mlx-lm for MLX. The memory beyond the weights follows the
estimator's stored-checkpoint profile (``estimator._runtime``: not calibrated, stated there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from estimator import STORED, Budget, KvCacheType, ModelFacts, QuantOption, Runtime, Verdict, estimate_fit
from store import ModelRecord

from . import _format as fmt
from ._answer_files import FILE_LABELS
from ._document import Column, Line, Section, Table, link
from ._safe import clean

QUANTIZED_COLUMNS = (
    Column("repo", 40),
    Column("method", 12, gap=1),
    Column("stored GB", 9, ">"),
    Column("runtime", 7, gap=2),
    Column("total", 7, ">"),
    Column("verdict", 11, "<", gap=2),
)
SHOWN_REPOS = 8  # a chat answer lists this many; the JSON lists every repo


@dataclass(frozen=True, slots=True)
class QuantizedRepoFit:
    """One quantized safetensors repo of the model asked about, priced as stored on the budget."""

    record: ModelRecord
    method: str
    runtime: Runtime
    option: QuantOption

    @property
    def repo_id(self) -> str:
        return self.record.repo_id

    @property
    def stored_bytes(self) -> int:
        a = self.record.accounting
        return a.stored_bytes or 0 if a is not None else 0


def method_label(record: ModelRecord) -> str:
    """The quantization as people name it: "AWQ 4-bit", "NVFP4", "MLX 4-bit", "FP8"."""
    quant = record.config.quantization if record.config else None
    a = record.accounting
    method = (quant.method if quant else None) or (a.quantization if a else None) or "?"
    fmt_name = (quant.fmt or "").lower() if quant else ""
    bits = quant.bits if quant else None
    # compressed-tensors names its scheme in "format" (llm-compressor's presets: NVFP4, MXFP4,
    # FP8 "float-quantized", W4A16 "pack-quantized").
    if "nvfp4" in fmt_name:
        return "NVFP4"
    if "mxfp4" in fmt_name:
        return "MXFP4"
    if fmt_name.startswith("float"):
        return "FP8"
    if fmt_name.startswith("pack") and bits:
        return f"W{bits}A16"
    if method.lower() == "fp8":
        return "FP8"
    return method.upper() + (f" {bits}-bit" if bits else "")


def price_quantized_repos(
    records: tuple[ModelRecord, ...],
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: KvCacheType = KvCacheType.F16,
    flash_attention: bool = True,
) -> tuple[QuantizedRepoFit, ...]:
    """Each repo's stored checkpoint on ``budget``; repos without header-exact bytes are left out."""
    fits = []
    for record in records:
        if record.config is None or record.accounting is None:
            continue
        facts = ModelFacts(record.config, record.accounting)
        report = estimate_fit(
            facts, budget, context=context, kv_type=kv_type, quants=(STORED,), flash_attention=flash_attention
        )
        option = next((o for o in report.options if o.quant == STORED), None)
        if option is None:
            continue
        runtime = Runtime.MLX if record.accounting.quantization == "mlx" else Runtime.VLLM
        fits.append(QuantizedRepoFit(record, method_label(record), runtime, option))
    return tuple(fits)


def quantized_repos_section(fits: tuple[QuantizedRepoFit, ...]) -> Section | None:
    """The quantized safetensors repos made from the model, each run as stored, most popular first."""
    if not fits:
        return None
    rows = tuple(
        (
            clean(f.repo_id, 40),
            clean(f.method, 12),
            f"{f.stored_bytes / 1e9:,.2f}",
            _runtime_name(f.runtime),
            fmt.gib_number(f.option.total_bytes),
            FILE_LABELS[Verdict(f.option.verdict)],
        )
        for f in fits[:SHOWN_REPOS]
    )
    links: list[Line] = [(link(url, url),) for url in (_repo_url(f.repo_id) for f in fits[:SHOWN_REPOS])]
    if len(fits) > SHOWN_REPOS:
        links.append((f"and {len(fits) - SHOWN_REPOS} more repos not shown",))
    heading = "Quantized repos on the Hub (as stored: exact bytes; total in GiB is an estimate)"
    return Section(heading, (Table(QUANTIZED_COLUMNS, rows), *links))


def quantized_repo_json(fit: QuantizedRepoFit) -> dict[str, Any]:
    """One row of ``fit --json``'s ``quantized_repos``."""
    o = fit.option
    return {
        "repo": fit.repo_id,
        "method": fit.method,
        "stored_bytes": fit.stored_bytes,
        "runtime": fit.runtime.value,
        "weights_bytes": o.weights_bytes,
        "kv_cache_bytes": o.kv_cache_bytes,
        "total_bytes": o.total_bytes,
        "verdict": o.verdict,
        "max_context": o.max_context,
        "url": _repo_url(fit.repo_id),
    }


def _runtime_name(runtime: Runtime) -> str:
    return "MLX" if runtime is Runtime.MLX else "vLLM"


def _repo_url(repo_id: str) -> str:
    return f"https://huggingface.co/{quote(repo_id, safe='/')}"
