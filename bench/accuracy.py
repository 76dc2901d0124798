"""Accuracy suite: the estimator against published measurements, as a table of errors.

Run:  .venv/bin/python -m bench.accuracy

Targets (issue 6): GGUF weight sizes within 2%; KV cache exact to the byte for every
anchor at 4K, 32K and 128K; the measured llama.cpp run within 5% per buffer and 3% in
total. The same cases run in CI (tests/bench/test_accuracy.py).

Issue 10 adds published llama.cpp log lines for recurrent and hybrid models (group "llama.cpp log",
within the rounding of the printed MiB), and, where torch and transformers are installed, a
per-family table: growing KV per token and fixed state against what transformers' own cache holds
for a tiny random model of each family (``family_memory_rows``).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from estimator import (
    LLAMA_CPP_PROFILE,
    CacheRule,
    LayerKind,
    ModelFacts,
    account_from_config,
    attention_bytes_per_token,
    compressed_entry_bytes,
    compressor_state_bytes,
    estimate_compute_buffers,
    estimate_fit,
    estimate_kv_cache_bytes,
    estimate_mtp_draft_kv_bytes,
    kv_bytes_per_token,
    layer_cache_bytes,
    layout_weights,
    parse_budget,
    parse_model_config,
    state_bytes_per_sequence,
)

MEASUREMENTS = Path(__file__).parent / "data" / "measurements.toml"
MIB = 1 << 20
KV_CONTEXTS = (4096, 32768, 131072)


@dataclass(frozen=True, slots=True)
class Case:
    group: str
    name: str
    expected: float
    predicted: float
    target_pct: float  # 0 means exact
    source: str

    @property
    def error_pct(self) -> float:
        return 100.0 * (self.predicted - self.expected) / self.expected if self.expected else 0.0

    @property
    def passed(self) -> bool:
        if self.target_pct == 0:
            return self.predicted == self.expected
        return abs(self.error_pct) <= self.target_pct


def catalog_configs() -> dict[str, dict]:
    root = resources.files("store").joinpath("data/catalog")
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith(".json"):
            for model in json.loads(entry.read_text(encoding="utf-8"))["models"]:
                out[model["repo_id"]] = model["config"]
    return out


def _facts(configs: dict[str, dict], repo: str) -> ModelFacts:
    config = configs[repo]
    return ModelFacts(parse_model_config(config), account_from_config(config))


def evaluate() -> list[Case]:
    data = tomllib.loads(MEASUREMENTS.read_text(encoding="utf-8"))
    configs = catalog_configs()
    return [*_gguf_cases(data, configs), *_kv_cases(data, configs), *_run_cases(data, configs),
            *_compute_cases(data, configs), *_memory_log_cases(data, configs)]


def _gguf_cases(data, configs) -> list[Case]:
    spec = data["gguf_llama31_8b"]
    facts = _facts(configs, spec["model"])
    params = facts.accounting.total_params
    return [
        Case("GGUF weights", f"{spec['model'].split('/')[1]} {quant}", bpw * params / 8,
             layout_weights(quant, facts.accounting, facts.config).total, spec["target_pct"], spec["source"])
        for quant, bpw in spec["bpw"].items()
    ]


def _kv_cases(data, configs) -> list[Case]:
    cases = []
    for spec in data["kv_cache"]:
        config = parse_model_config(configs[spec["model"]])
        for ctx in KV_CONTEXTS:
            expected = spec["per_token"] * ctx
            if "windowed_layers" in spec:
                expected += spec["windowed_layers"] * spec["windowed_bytes_per_token"] * min(ctx, spec["window"])
            cases.append(Case("KV cache (exact)", f"{spec['model'].split('/')[1]} @ {ctx // 1024}K", expected,
                              estimate_kv_cache_bytes(config, ctx), 0, "docs/reference/anchor-models.md: " + spec["note"]))
    return cases


def _run_cases(data, configs) -> list[Case]:
    cases = []
    for spec in data["llamacpp_run"]:
        facts = _facts(configs, spec["model"])
        report = estimate_fit(facts, parse_budget("80GB"), context=spec["context"], quants=(spec["quant"],),
                              flash_attention=spec["flash_attention"])
        option = report.options[0]
        rows = (("weights on GPU", spec["weights_gpu_mib"], option.weights_gpu_bytes),
                ("KV cache", spec["kv_cache_mib"], option.kv_cache_bytes),
                ("compute buffer", spec["compute_mib"], option.compute_bytes))
        for label, measured, predicted in rows:
            cases.append(Case("llama.cpp run", f"{label}", measured * MIB, predicted, spec["target_each_pct"], spec["source"]))
        total_measured = sum(r[1] for r in rows) * MIB
        cases.append(Case("llama.cpp run", "total (weights + KV + compute)", total_measured, sum(r[2] for r in rows),
                          spec["target_total_pct"], spec["source"]))
    return cases


def _compute_cases(data, configs) -> list[Case]:
    from dataclasses import replace

    cases = []
    for spec in data["compute_buffer"]:
        config = parse_model_config(configs[spec["model"]])
        profile = replace(LLAMA_CPP_PROFILE, flash_attention=spec["flash_attention"])
        predicted = estimate_compute_buffers(config, spec["context"], profile).device_bytes
        cases.append(Case("compute buffer", spec["name"], spec["compute_mib"] * MIB, predicted, spec["target_pct"], spec["source"]))
    return cases


def _memory_log_cases(data, configs=None) -> list[Case]:
    """Recurrent state and KV sizes that llama.cpp printed, against our llama.cpp rule (F32 state).

    A case names its config inline (``config``, from the log's print_info) or by catalog ``model``;
    ``n_seq`` sequences each hold their own state; ``what = "kv+state"`` is llama.cpp's whole
    memory for ``cells`` cells (the attention KV plus the recurrent state); ``rounding_mib`` is how the
    figure was printed (0.01 MiB by llama.cpp itself, 1 MiB where a table rounded it). A case with
    ``n_ctx`` instead of ``cells`` is sized by llama.cpp's own cell rule for that context (sliding layers
    keep ``pad(min(n_ctx, window·n_seq + n_ubatch), 256)`` cells: ``LLAMA_CPP_PROFILE.kv_policy``, with
    ``n_seq`` sequences in one unified cache, as ``llama_kv_cache: ... 4/1 seqs`` prints it).
    ``what = "kv full"`` / ``"kv sliding"`` is one of the two buffers ``llama_kv_cache_iswa`` prints
    (the non-SWA and the SWA cache); ``what = "mtp kv"`` is the NextN draft's own cache.
    ``dsv4_cache`` names one of the caches ``llama_kv_cache_dsv4`` prints apart (``_dsv4_part``).
    """
    cases = []
    for spec in data.get("memory_log", []):
        raw = spec["config"] if "config" in spec else (configs or catalog_configs())[spec["model"]]
        config = parse_model_config(raw)
        n_seq = spec.get("n_seq", 1)
        state = n_seq * state_bytes_per_sequence(config, CacheRule.LLAMA_CPP)
        kv_type = spec.get("kv_type", "f16")
        what = spec["what"]
        if "dsv4_cache" in spec:
            predicted = _dsv4_part(config, spec, n_seq, kv_type)
        elif what == "state":
            predicted = state
        else:
            if "n_ctx" in spec:
                policy = replace(LLAMA_CPP_PROFILE.kv_policy, n_seq=n_seq)
                cells = -(-spec["n_ctx"] // policy.pad_cells) * policy.pad_cells
                kv = estimate_kv_cache_bytes(config, spec["n_ctx"] // n_seq, kv_type, policy) - state
                mtp = estimate_mtp_draft_kv_bytes(config, spec["n_ctx"] // n_seq, kv_type, policy)
            else:
                cells = spec["cells"]
                kv = estimate_kv_cache_bytes(config, cells, kv_type) - state // n_seq  # the growing part only
                mtp = estimate_mtp_draft_kv_bytes(config, cells, kv_type)
            full = kv_bytes_per_token(config, kv_type) * cells  # the non-SWA buffer: every cell, every layer
            predicted = {"kv": kv, "kv+state": kv + state, "kv full": full, "kv sliding": kv - full,
                         "mtp kv": mtp}[what]
        rounding = spec.get("rounding_mib", 0.01) / 2
        target = math.ceil(1e6 * 100 * rounding / spec["size_mib"]) / 1e6  # half the printed unit
        cases.append(Case("llama.cpp log", spec["name"], spec["size_mib"] * MIB, predicted, target, spec["source"]))
    return cases


DSV4_CACHES = ("raw", "csa", "hca", "lid")
_DSV4_KINDS = {"csa": LayerKind.COMPRESSED_SPARSE, "lid": LayerKind.COMPRESSED_SPARSE,
               "hca": LayerKind.HEAVILY_COMPRESSED}


def _dsv4_part(config, spec, n_seq: int, kv_type: str) -> int:
    """One of the caches ``llama_kv_cache_dsv4`` allocates, from the estimator's own per-layer rule.

    llama.cpp's names: ``raw`` the window rows of every layer (its ISWA cache), ``csa`` / ``hca`` the
    compressed rows of the ratio-4 / ratio-128 layers, ``lid`` the lightning indexer's keys of the
    ratio-4 layers; ``what = "state"`` is that cache's compressor state instead (``DSV4 csa/hca/lid
    state``, F32). Each part is the difference of ``layer_cache_bytes`` for the layer as it is, the
    layer without its indexer, and the layer with its window alone, so the fit's rule is what is
    checked. With ``n_ctx`` llama.cpp's cell rule applies (n_ubatch 512); with ``cells`` (printed on
    the line) the cache holds that many rows.
    """
    part, what = spec["dsv4_cache"], spec["what"]
    if part not in DSV4_CACHES or what not in ("kv", "state") or (part == "raw" and what == "state"):
        raise ValueError(f"dsv4_cache {part!r} with what {what!r}: use one of {DSV4_CACHES} with kv or state")
    policy = replace(LLAMA_CPP_PROFILE.kv_policy, n_seq=n_seq)
    total = 0
    for layer in config.layer_map.layers:
        cache = layer.attention
        if cache is None or not cache.compress_ratio:
            continue
        if part != "raw" and cache.kind != _DSV4_KINDS[part]:
            continue
        no_indexer = replace(cache, indexer_head_dim=0)
        window = replace(no_indexer, compress_ratio=1)
        if part == "raw":
            mine, less = window, None
        elif part == "lid":
            mine, less = cache, no_indexer
        else:
            mine, less = no_indexer, window
        if what == "state":
            total += n_seq * (compressor_state_bytes(mine) - (compressor_state_bytes(less) if less else 0))
        elif "cells" in spec:  # bytes per row times the printed rows
            row = (attention_bytes_per_token(mine, kv_type) if part == "raw"
                   else compressed_entry_bytes(mine, kv_type, CacheRule.LLAMA_CPP)
                   - (compressed_entry_bytes(less, kv_type, CacheRule.LLAMA_CPP) if part == "lid" else 0))
            total += row * spec["cells"]
        else:
            context = spec["n_ctx"] // n_seq
            total += _dsv4_rows(layer, mine, context, kv_type, policy)
            total -= _dsv4_rows(layer, less, context, kv_type, policy) if less else 0
    return total


def _dsv4_rows(layer, cache, context: int, kv_type: str, policy) -> int:
    """The layer with ``cache`` as its attention, under llama.cpp's rule, less its compressor state."""
    whole = layer_cache_bytes(replace(layer, attention=cache), context, kv_type, policy)
    return whole - policy.n_seq * compressor_state_bytes(cache)


@dataclass(frozen=True, slots=True)
class FamilyMemoryRow:
    """One family: our growing KV per token (f16) and fixed state (F32) against transformers' cache."""

    family: str
    layer_kinds: str
    kv_expected: int
    kv_predicted: int
    state_expected: int
    state_predicted: int

    @property
    def passed(self) -> bool:
        return self.kv_expected == self.kv_predicted and self.state_expected == self.state_predicted


def family_memory_rows() -> list[FamilyMemoryRow]:
    """Build each tiny model, run it past its window, and compare (empty without torch/transformers)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return []
    from bench.tiny_families import CACHE_FAMILIES, run_cache_family

    rows = []
    for family in sorted(CACHE_FAMILIES):
        config, held, _ = run_cache_family(family)
        kv = sum(2 * (c.k_values + c.v_values + c.indexer_values) for layer, c in zip(config.layer_map.layers, held)
                 if layer.attention is None or layer.attention.window is None)
        # F32: recurrent and convolution state, and DeepSeek-V4's compressor state (Held.compressor_state_values)
        state = sum(4 * (c.conv_runtime_values + c.recurrent_values + c.compressor_state_values) for c in held)
        kinds = ", ".join(f"{n} {kind}" for kind, n in config.layer_map.kind_counts().items())
        rows.append(FamilyMemoryRow(family, kinds, kv, kv_bytes_per_token(config), state,
                                    state_bytes_per_sequence(config)))
    return rows


def render_family_memory(rows: list[FamilyMemoryRow]) -> str:
    """The per-family table: KV bytes per token at f16 and state bytes per sequence in F32."""
    if not rows:
        return "per-family KV and state against transformers' cache: skipped (torch/transformers not installed)"
    lines = ["per-family memory against transformers' cache (tiny random models; KV B/token at f16, state B/seq F32)",
             f"{'family':<18} {'layers':<34} {'KV cache':>9} {'KV ours':>9} {'state cache':>12} {'state ours':>12}  ok"]
    for r in rows:
        lines.append(f"{r.family:<18} {r.layer_kinds[:34]:<34} {r.kv_expected:>9,} {r.kv_predicted:>9,} "
                     f"{r.state_expected:>12,} {r.state_predicted:>12,}  {'yes' if r.passed else 'NO'}")
    failed = [r.family for r in rows if not r.passed]
    lines.append(f"\n{len(rows) - len(failed)} of {len(rows)} families exact" + (f"; failing: {', '.join(failed)}" if failed else ""))
    return "\n".join(lines)


def render(cases: list[Case]) -> str:
    lines = [f"{'group':<18} {'case':<58} {'expected':>16} {'predicted':>16} {'error':>9} {'target':>8}  ok"]
    for c in cases:
        target = "exact" if c.target_pct == 0 else f"±{c.target_pct:g}%"
        lines.append(f"{c.group:<18} {c.name[:58]:<58} {c.expected:>16,.0f} {c.predicted:>16,.0f} {c.error_pct:>+8.3f}% {target:>8}  {'yes' if c.passed else 'NO'}")
    failed = [c for c in cases if not c.passed]
    lines.append(f"\n{len(cases) - len(failed)} of {len(cases)} cases within target" + (f"; failing: {', '.join(c.name for c in failed)}" if failed else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(evaluate()))
    from bench._accuracy_counts import render_counts  # issue 10 counts part: own module, easy merge

    print("\n" + render_counts())
    print()
    print(render_family_memory(family_memory_rows()))
