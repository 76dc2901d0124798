"""Accuracy suite: the estimator against published measurements, as a table of errors.

Run:  .venv/bin/python -m bench.accuracy

Targets (issue 6): GGUF weight sizes within 2%; KV cache exact to the byte for every
anchor at 4K, 32K and 128K; the measured llama.cpp run within 5% per buffer and 3% in
total. The same cases run in CI (tests/bench/test_accuracy.py).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from estimator import (
    LLAMA_CPP_PROFILE,
    ModelFacts,
    account_from_config,
    estimate_compute_buffers,
    estimate_fit,
    estimate_kv_cache_bytes,
    layout_weights,
    parse_budget,
    parse_model_config,
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
    return [*_gguf_cases(data, configs), *_kv_cases(data, configs), *_run_cases(data, configs), *_compute_cases(data, configs)]


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
