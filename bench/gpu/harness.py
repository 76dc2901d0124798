"""GPU memory measurement harness: real models built from configs, random weights, no downloads.

Run on a machine with an NVIDIA GPU and PyTorch + transformers (no network needed):

    python -m bench.gpu.harness --out bench/gpu/results/$(hostname).json

For each architecture it builds the model from its config (a smaller variant with fewer
layers or experts when the full model would not fit), loads it in BF16 (and FP8 / 4-bit
when torchao / bitsandbytes are present), runs a prefill forward pass and a short
generation at several context lengths, and records torch.cuda.max_memory_allocated,
memory_reserved and the process's memory as nvidia-smi reports it. The JSON it writes
is what ``bench.gpu.calibrate`` turns into the estimator's transformers profile.

On a machine without a GPU it runs the same steps on the CPU (``--device cpu``), recording
parameter bytes and the process's peak RSS: that is how CI tests the harness.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Each entry: a label, a catalog repo whose public config it starts from, and the
# overrides that shrink it (layers / experts) so it fits a single 80 GB card with room
# for activations. Shrinking keeps every per-layer dimension, so per-layer and per-token
# coefficients measured here apply to the full model.
ARCHITECTURES: dict[str, tuple[str, dict]] = {
    "llama-3.1-8b": ("meta-llama/Llama-3.1-8B-Instruct", {}),
    "qwen2.5-7b": ("Qwen/Qwen2.5-7B-Instruct", {}),
    "qwen3-8b": ("Qwen/Qwen3-8B", {}),
    "gemma-2-9b": ("google/gemma-2-9b-it", {}),
    "mistral-7b": ("mistralai/Mistral-7B-Instruct-v0.3", {}),
    "mixtral-8x7b-8l": ("mistralai/Mixtral-8x7B-Instruct-v0.1", {"num_hidden_layers": 8}),
    "qwen3-30b-a3b-12l": ("Qwen/Qwen3-30B-A3B", {"num_hidden_layers": 12}),
    "gpt-oss-20b-bf16-6l": ("openai/gpt-oss-20b", {"num_hidden_layers": 6, "quantization_config": None}),
    "deepseek-v2-lite": ("deepseek-ai/DeepSeek-V2-Lite-Chat", {}),
}
TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 256,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": False,
}


@dataclass
class Measurement:
    arch: str
    repo_id: str
    config: dict
    dtype: str
    device: str
    param_count: int
    param_bytes: int
    context: int
    new_tokens: int
    load_allocated_bytes: int | None = None
    load_reserved_bytes: int | None = None
    prefill_peak_allocated_bytes: int | None = None
    generate_peak_allocated_bytes: int | None = None
    reserved_bytes: int | None = None
    nvidia_smi_used_bytes: int | None = None
    process_peak_rss_bytes: int | None = None
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def catalog_config(repo_id: str) -> dict:
    from bench.accuracy import catalog_configs

    return dict(catalog_configs()[repo_id])


def build_model(config: dict, dtype: str, device: str):
    """The transformers model for ``config`` with random weights, on ``device``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = {k: v for k, v in config.items() if k != "model_type" and v is not None}
    hf_config = AutoConfig.for_model(config["model_type"], **values)
    torch_dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(hf_config, dtype=torch_dtype)
    model.eval()
    return model


def measure(arch: str, repo_id: str, config: dict, *, dtype: str, device: str, contexts: list[int], new_tokens: int) -> list[Measurement]:
    import torch

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = build_model(config, dtype, device)
    params = sum(p.numel() for p in model.parameters())
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    base = dict(arch=arch, repo_id=repo_id, config=config, dtype=dtype, device=device, param_count=params, param_bytes=param_bytes)
    load_alloc = torch.cuda.memory_allocated() if cuda else None
    load_reserved = torch.cuda.memory_reserved() if cuda else None
    results = []
    for ctx in contexts:
        m = Measurement(**base, context=ctx, new_tokens=new_tokens, load_allocated_bytes=load_alloc, load_reserved_bytes=load_reserved)
        try:
            _run_context(model, m, ctx, new_tokens, device)
        except Exception as e:  # noqa: BLE001 - an OOM at one context is a data point, not the end
            m.error = f"{type(e).__name__}: {str(e)[:300]}"
            if cuda:
                torch.cuda.empty_cache()
        m.seconds = time.perf_counter() - started
        m.process_peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        results.append(m)
    del model
    if cuda:
        torch.cuda.empty_cache()
    return results


def _run_context(model, m: Measurement, ctx: int, new_tokens: int, device: str) -> None:
    import torch

    cuda = device.startswith("cuda")
    vocab = model.config.get_text_config().vocab_size
    ids = torch.randint(0, vocab, (1, ctx), device=device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        model(input_ids=ids, use_cache=False, logits_to_keep=1)
    if cuda:
        torch.cuda.synchronize()
        m.prefill_peak_allocated_bytes = torch.cuda.max_memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)
    assert out.shape[1] == ctx + new_tokens
    if cuda:
        torch.cuda.synchronize()
        m.generate_peak_allocated_bytes = torch.cuda.max_memory_allocated()
        m.reserved_bytes = torch.cuda.memory_reserved()
        m.nvidia_smi_used_bytes = nvidia_smi_process_bytes()


def nvidia_smi_process_bytes() -> int | None:
    """This process's GPU memory as the driver reports it (includes the CUDA context)."""
    import os

    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        pid, _, used = line.partition(",")
        if pid.strip() == str(os.getpid()):
            return int(used.strip()) * (1 << 20)
    return None


def environment(device: str) -> dict:
    import torch
    import transformers

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "gpu_total_bytes": torch.cuda.get_device_properties(0).total_memory if device.startswith("cuda") else None,
        "cuda": torch.version.cuda,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for optional in ("bitsandbytes", "torchao", "flash_attn"):
        try:
            module = __import__(optional)
            info[optional] = getattr(module, "__version__", "present")
        except ImportError:
            info[optional] = None
    return info


def run(archs: list[str], *, device: str, dtype: str, contexts: list[int], new_tokens: int, tiny: bool = False) -> dict:
    measurements = []
    plan = [("tiny-llama", "tiny", dict(TINY))] if tiny else [(a, ARCHITECTURES[a][0], {**catalog_config(ARCHITECTURES[a][0]), **ARCHITECTURES[a][1]}) for a in archs]
    for arch, repo, config in plan:
        print(f"measuring {arch} ({repo}) on {device}", file=sys.stderr, flush=True)
        measurements += [asdict(m) for m in measure(arch, repo, config, dtype=dtype, device=device, contexts=contexts, new_tokens=new_tokens)]
    return {"format": 1, "environment": environment(device), "measurements": measurements}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--arch", action="append", help=f"architectures (default all): {', '.join(ARCHITECTURES)}")
    parser.add_argument("--contexts", default="512,2048,8192", help="comma-separated context lengths")
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--tiny", action="store_true", help="one tiny Llama config (the CPU test)")
    args = parser.parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    contexts = [int(c) for c in args.contexts.split(",") if c]
    data = run(args.arch or list(ARCHITECTURES), device=device, dtype=args.dtype, contexts=contexts, new_tokens=args.new_tokens, tiny=args.tiny)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1))
    print(f"wrote {len(data['measurements'])} measurements to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
