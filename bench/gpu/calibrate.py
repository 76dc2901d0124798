"""Turn harness measurements into a calibration of the estimator's transformers profile.

    python -m bench.gpu.calibrate bench/gpu/results/<machine>.json [--out bench/gpu/calibration.json]

The transformers profile models peak GPU memory as
    weights + weights_overhead + KV(ctx) × kv_ratio + activations(ctx) + CUDA context,
with activations(ctx) = min(ctx, chunk) × (2·intermediate + 4·hidden) × 2 bytes × activation_ratio.
From each architecture's runs at several contexts this fits, by least squares and medians:
  * cuda_context_bytes   = nvidia-smi process memory − torch reserved memory
  * weights_overhead     = allocated after load − parameter bytes (buffers, allocator rounding)
  * activation_ratio     = slope of (prefill peak − allocated after load) over tokens, relative
                           to the (2·I + 4·h)·2 bytes-per-token rule
  * kv_ratio             = (generate peak − prefill peak) / the estimator's KV bytes at ctx + new tokens
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from estimator import estimate_kv_cache_bytes, parse_model_config


@dataclass(frozen=True, slots=True)
class Calibration:
    gpu: str | None
    measurements: int
    cuda_context_bytes: int | None
    weights_overhead_bytes: int | None
    activation_ratio: float | None
    kv_ratio: float | None
    archs: tuple[str, ...]


def _rule_bytes_per_token(config: dict) -> int:
    parsed = parse_model_config(config)
    inter = parsed.intermediate_size or 4 * parsed.hidden_size
    return (2 * inter + 4 * parsed.hidden_size) * 2


def _slope(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / denominator if denominator else None


def calibrate(data: dict) -> Calibration:
    rows = [m for m in data["measurements"] if not m.get("error") and m["device"].startswith("cuda")]
    contexts, weights, slopes, kv_ratios = [], [], [], []
    by_arch: dict[str, list[dict]] = {}
    for m in rows:
        by_arch.setdefault(m["arch"], []).append(m)
        if m.get("nvidia_smi_used_bytes") and m.get("reserved_bytes"):
            contexts.append(m["nvidia_smi_used_bytes"] - m["reserved_bytes"])
        if m.get("load_allocated_bytes") is not None:
            weights.append(m["load_allocated_bytes"] - m["param_bytes"])
        config = parse_model_config(m["config"])
        kv = estimate_kv_cache_bytes(config, m["context"] + m["new_tokens"])
        if m.get("generate_peak_allocated_bytes") and m.get("prefill_peak_allocated_bytes") and kv:
            kv_ratios.append((m["generate_peak_allocated_bytes"] - m["prefill_peak_allocated_bytes"]) / kv)
    for arch_rows in by_arch.values():
        rule = _rule_bytes_per_token(arch_rows[0]["config"])
        points = [(m["context"], m["prefill_peak_allocated_bytes"] - m["load_allocated_bytes"]) for m in arch_rows if m.get("prefill_peak_allocated_bytes") is not None]
        slope = _slope(points)
        if slope is not None and rule:
            slopes.append(slope / rule)
    median = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    context = median(contexts)
    overhead = median(weights)
    return Calibration(
        gpu=data.get("environment", {}).get("gpu"),
        measurements=len(rows),
        cuda_context_bytes=int(context) if context is not None else None,
        weights_overhead_bytes=int(overhead) if overhead is not None else None,
        activation_ratio=median(slopes),
        kv_ratio=median(kv_ratios),
        archs=tuple(sorted(by_arch)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the transformers runtime profile to harness measurements.")
    parser.add_argument("measurements", type=Path, nargs="+")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    merged = {"measurements": [], "environment": {}}
    for path in args.measurements:
        data = json.loads(path.read_text())
        merged["measurements"] += data["measurements"]
        merged["environment"] = merged["environment"] or data.get("environment", {})
    result = calibrate(merged)
    text = json.dumps(asdict(result), indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    if not result.measurements:
        print("no GPU measurements in the input: nothing to calibrate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
