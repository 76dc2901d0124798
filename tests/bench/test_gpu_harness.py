"""The GPU harness runs on the CPU with a tiny config; calibration runs on fixed data.

CI has no GPU, so the harness is exercised end to end on the CPU (model built from a
config, forward pass, generation, JSON written) and the calibration is checked against
a synthetic measurement file whose coefficients are known. It is labelled synthetic:
it is a test fixture, not a measurement.
"""

import json
import subprocess
import sys

import pytest

from bench.gpu.calibrate import calibrate
from bench.gpu.harness import TINY
from estimator import account_from_config, estimate_kv_cache_bytes, parse_model_config


def test_harness_runs_on_cpu_with_a_tiny_config(tmp_path):
    """The harness builds the tiny model, runs prefill and generation, and writes sound JSON."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path / "tiny.json"
    subprocess.run(
        [sys.executable, "-m", "bench.gpu.harness", "--tiny", "--device", "cpu", "--contexts", "32,64", "--new-tokens", "4", "--out", str(out)],
        check=True, capture_output=True, timeout=300,
    )
    data = json.loads(out.read_text())
    assert data["environment"]["device"] == "cpu" and data["environment"]["torch"]
    rows = data["measurements"]
    assert [m["context"] for m in rows] == [32, 64]
    assert all(m["error"] is None for m in rows)
    expected = account_from_config(TINY).total_params
    assert all(m["param_count"] == expected for m in rows)
    assert all(m["param_bytes"] == 2 * expected for m in rows)  # BF16


def _synthetic(config, *, context_bytes, overhead, ratio, kv_ratio, contexts=(512, 2048, 8192)):
    parsed = parse_model_config(config)
    params = account_from_config(config).total_params
    rule = (2 * parsed.intermediate_size + 4 * parsed.hidden_size) * 2
    rows = []
    for ctx in contexts:
        load = 2 * params + overhead
        prefill = load + int(ratio * rule * ctx) + 10_000_000
        generate = prefill + int(kv_ratio * estimate_kv_cache_bytes(parsed, ctx + 16))
        reserved = generate + 300 * 2**20
        rows.append({
            "arch": "synthetic", "repo_id": "x", "config": config, "dtype": "bf16", "device": "cuda", "param_count": params,
            "param_bytes": 2 * params, "context": ctx, "new_tokens": 16, "load_allocated_bytes": load,
            "prefill_peak_allocated_bytes": prefill, "generate_peak_allocated_bytes": generate, "reserved_bytes": reserved,
            "nvidia_smi_used_bytes": reserved + context_bytes, "error": None,
        })
    return {"environment": {"gpu": "synthetic fixture"}, "measurements": rows}


def test_calibration_recovers_known_coefficients():
    """Fed data built from known coefficients, calibrate returns those coefficients."""
    config = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256, "tie_word_embeddings": False}
    result = calibrate(_synthetic(config, context_bytes=512 * 2**20, overhead=3 * 2**20, ratio=1.7, kv_ratio=1.25))
    assert result.measurements == 3
    assert result.cuda_context_bytes == 512 * 2**20
    assert result.weights_overhead_bytes == 3 * 2**20
    assert result.activation_ratio == pytest.approx(1.7, rel=1e-3)
    assert result.kv_ratio == pytest.approx(1.25, rel=1e-6)


def test_calibration_ignores_cpu_and_failed_rows():
    """CPU smoke runs and out-of-memory rows never feed the calibration."""
    data = {"measurements": [{"device": "cpu", "error": None}, {"device": "cuda", "error": "OutOfMemoryError"}]}
    assert calibrate(data).measurements == 0
