"""Stable JSON views of answers (``--json`` and the dataset export). Documented in the README."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from estimator import ModelConfig, QuantOption, kv_bytes_per_token, summarize_memory
from store import GgufFileFit, GgufRepoRecord

from ._answer_files import file_url
from ._answer_quantized import quantized_repo_json
from ._recommendation import recommendation_for, recommendation_json
from ._service import FitAnswer, ResolvedModel


def fit_json(answer: FitAnswer, query: str | None = None) -> dict[str, Any]:
    report, budget = answer.report, answer.budget
    return {
        "model": answer.model.record.repo_id,
        "query": query,
        "exact_match": answer.model.resolution.exact,
        "alternatives": list(answer.model.resolution.alternatives),
        "provenance": answer.model.facts.accounting.provenance,
        "budget_bytes": budget.usable_bytes,
        "budget": {
            "text": budget.text,
            "devices": [
                {
                    "gpu": d.gpu.key if d.gpu else None,
                    "memory_bytes": d.memory_bytes,
                    "usable_bytes": d.usable_bytes,
                    "read_as": d.read_as,
                    "bandwidth_bytes_per_s": d.bandwidth_bytes_per_s,
                }
                for d in budget.devices
            ],
            "system_ram_bytes": report.system_ram_bytes,
            "system_ram_assumed": report.system_ram_assumed,
        },
        "context": report.context,
        "kv_cache": report.kv_type,
        "best": report.best.quant if report.best else None,
        "recommendation": recommendation_json(recommendation_for(answer)),
        "options": [_option(o) for o in report.options],
        "gguf_repo": answer.model.gguf_repo.repo_id if answer.model.gguf_repo else None,
        "files": [file_fit_json(f) for f in answer.files],
        "quantized_repos": [quantized_repo_json(q) for q in answer.quantized_repos],
        "files_sibling": answer.model.sibling,
    }


def file_fit_json(fit: GgufFileFit) -> dict[str, Any]:
    """One real file on the budget: exact bytes from its tensor table, priced for llama.cpp."""
    f, o = fit.file, fit.option
    return {
        "repo": f.repo_id,
        "file": f.file,
        "quant": f.quant,
        "bytes": f.size_bytes,
        "split_count": f.split_count,
        "total_params": f.total_params,
        "weights_bytes": o.weights_bytes,
        "kv_cache_bytes": o.kv_cache_bytes,
        "total_bytes": o.total_bytes,
        "verdict": o.verdict,
        "max_context": o.max_context,
        "runtime": o.runtime,
        "url": file_url(f.repo_id, f.file),
    }


def _option(o: QuantOption) -> dict[str, Any]:
    return {
        "quant": o.quant,
        "runtime": o.runtime,
        "weights_bytes": o.weights_bytes,
        "weights_gpu_bytes": o.weights_gpu_bytes,
        "kv_cache_bytes": o.kv_cache_bytes,
        "overhead_bytes": o.overhead_bytes,
        "host_bytes": o.host_bytes,
        "total_bytes": o.total_bytes,
        "verdict": o.verdict,
        "max_context": o.max_context,
        "decode_tokens_per_s": round(o.decode_tokens_per_s, 2) if o.decode_tokens_per_s else None,
        "offload": None
        if o.offload is None
        else {
            "kind": o.offload.kind,
            "cpu_layers": o.offload.cpu_layers,
            "total_layers": o.offload.total_layers,
            "gpu_bytes": o.offload.gpu_bytes,
            "ram_bytes": o.offload.ram_bytes,
            "decode_tokens_per_s": round(o.offload.decode_tokens_per_s, 2)
            if o.offload.decode_tokens_per_s
            else None,
        },
    }


def gguf_repo_json(repo: GgufRepoRecord) -> dict[str, Any]:
    """``fitbot model ID --json`` for a GGUF repo: its base model and every file, sized exactly."""
    return {
        "repo_id": repo.repo_id,
        "sha": repo.sha,
        "format": "gguf",
        "status": repo.status,
        "status_reason": repo.status_reason,
        "base_model": next((f.base_model for f in repo.files if f.base_model), None),
        "files": [
            {
                "file": f.file,
                "quant": f.quant,
                "kind": f.kind,
                "bytes": f.size_bytes,
                "split_count": f.split_count,
                "tensor_bytes": f.tensor_bytes,
                "total_params": f.total_params,
                "status": f.status,
                "status_reason": f.status_reason,
            }
            for f in repo.files
        ],
        "read_at": repo.read_at.isoformat(),
    }


def model_json(resolved: ResolvedModel) -> dict[str, Any]:
    record = resolved.record
    a, config = record.accounting, record.config
    counted = record.counted
    return {
        "repo_id": record.repo_id,
        "sha": record.sha,
        "provenance": record.provenance,
        "status": record.status,
        "status_reason": record.status_reason,
        # issue 10: an undescribed family's config-derived sizes are not counts: not given as counts
        "count_basis": a.count_basis.value if a else None,
        "total_params": counted.total_params if counted else None,
        "active_params": counted.active_params if counted else None,
        "components": dict(counted.components.items()) if counted else None,
        "moe": asdict(a.moe) if a and a.moe else None,
        "stored_bytes": a.stored_bytes if a else None,
        "stored_dtypes": dict(a.stored_dtypes) if a else None,
        "quantization": a.quantization if a else None,
        "tied_embeddings": a.tied_embeddings if a else None,
        "model_type": config.model_type if config else None,
        "max_context": config.max_context if config else None,
        "kv_bytes_per_token_f16": kv_bytes_per_token(config) if config else None,
        "memory": memory_json(config) if config else None,
        "hub_total_params": record.hub.hub_total_params,
        "count_mismatch": record.count_mismatch,
        "read_at": record.read_at.isoformat() if record.read_at else None,
        "notes": list(a.notes) if a else [],
    }


def memory_json(config: ModelConfig) -> dict[str, Any]:
    """The ``memory`` key: growing KV per token (f16), window groups, fixed state (llama.cpp F32), kinds."""
    summary = summarize_memory(config)
    return {
        "kv_bytes_per_token_f16": summary.kv_bytes_per_token_f16,
        "sliding": [
            {"window": g.window, "layers": g.layers, "bytes_per_token_f16": g.bytes_per_token_f16}
            for g in summary.sliding
        ],
        "compressed": [
            {"ratio": g.ratio, "layers": g.layers, "bytes_per_entry_f16": g.bytes_per_entry_f16}
            for g in summary.compressed
        ],
        "state_bytes_per_sequence": summary.state_bytes_per_sequence,
        "layer_kinds": summary.layer_kinds,
    }
