"""The command line that realises a fit, one per runtime (pure string building).

Every flag was checked against the runtime's own source:

* llama.cpp, ``common/arg.cpp`` (ggml-org/llama.cpp @145b628): ``-m``, ``-c``, ``-ngl``,
  ``-ncmoe/--n-cpu-moe N`` ("keep the MoE weights of the first N layers in the CPU"),
  ``-ctk/-ctv`` (KV cache types), ``-fa [on|off|auto]``, ``-cram/--cache-ram N`` (MiB; 0 disables
  the prompt cache), ``--rope-scaling yarn``, ``--rope-scale``, ``--yarn-orig-ctx``.
* vLLM, ``vllm/engine/arg_utils.py`` (``EngineArgs``): ``--max-model-len``,
  ``--gpu-memory-utilization`` (default 0.90), ``--tensor-parallel-size``,
  ``--kv-cache-dtype {auto,fp8,...}``.
* mlx-lm, ``mlx_lm/server.py`` and ``mlx_lm/convert.py`` (ml-explore/mlx-lm @d78bf58):
  ``mlx_lm.server --model``, ``mlx_lm.convert --hf-path REPO -q --q-bits N --mlx-path DIR``.
* Ollama: ``ollama run TAG`` with a tag from ``OLLAMA_TAGS`` (each row cites its library page).
"""

from __future__ import annotations

OLLAMA = "ollama"  # a launch-map key only: Ollama runs llama.cpp underneath

# Hugging Face repo (lower case) -> (Ollama tag, library page that lists it). The tags' default
# weights are Q4_K_M, except gpt-oss, which Ollama ships in MXFP4 (as OpenAI released it).
OLLAMA_TAGS: dict[str, tuple[str, str]] = {
    "meta-llama/llama-3.1-8b-instruct": ("llama3.1:8b", "https://ollama.com/library/llama3.1"),
    "meta-llama/llama-3.1-70b-instruct": ("llama3.1:70b", "https://ollama.com/library/llama3.1"),
    "meta-llama/llama-3.1-405b-instruct": ("llama3.1:405b", "https://ollama.com/library/llama3.1"),
    "qwen/qwen3-30b-a3b": ("qwen3:30b-a3b", "https://ollama.com/library/qwen3"),
    "qwen/qwen3-32b": ("qwen3:32b", "https://ollama.com/library/qwen3"),
    "qwen/qwen2.5-32b-instruct": ("qwen2.5:32b", "https://ollama.com/library/qwen2.5"),
    "qwen/qwen2.5-72b-instruct": ("qwen2.5:72b", "https://ollama.com/library/qwen2.5"),
    "openai/gpt-oss-20b": ("gpt-oss:20b", "https://ollama.com/library/gpt-oss"),
    "openai/gpt-oss-120b": ("gpt-oss:120b", "https://ollama.com/library/gpt-oss"),
    "mistralai/mixtral-8x7b-instruct-v0.1": ("mixtral:8x7b", "https://ollama.com/library/mixtral"),
    "deepseek-ai/deepseek-v3": ("deepseek-v3:671b", "https://ollama.com/library/deepseek-v3"),
    "deepseek-ai/deepseek-r1": ("deepseek-r1:671b", "https://ollama.com/library/deepseek-r1"),
}


def gguf_file_name(repo_id: str, quant: str) -> str:
    """The file name GGUF repos usually give a quantization ("Qwen2.5-32B-Instruct-Q4_K_M.gguf").

    A placeholder until the files feature knows the real file.
    """
    return f"{repo_id.rsplit('/', 1)[-1]}-{quant}.gguf"


def llama_server(
    file: str,
    context: int,
    *,
    gpu_layers: int | None = 99,
    cpu_moe_layers: int = 0,
    kv_type: str = "f16",
    flash_attention: bool = True,
    cache_ram_mib: int | None = None,
    yarn: tuple[float, int] | None = None,
) -> str:
    """``llama-server`` for one GGUF file; ``yarn`` is (scale, original context) for RoPE scaling.

    ``gpu_layers=None`` leaves ``-ngl`` out (CPU-only builds).
    """
    parts = ["llama-server", "-m", file, "-c", str(context)]
    if gpu_layers is not None:
        parts += ["-ngl", str(gpu_layers)]
    if cpu_moe_layers:
        parts += ["--n-cpu-moe", str(cpu_moe_layers)]
    if kv_type != "f16":
        parts += ["-ctk", kv_type, "-ctv", kv_type]
    parts += ["-fa", "on" if flash_attention else "off"]
    if cache_ram_mib is not None:
        parts += ["--cache-ram", str(cache_ram_mib)]
    if yarn is not None:
        scale, original = yarn
        parts += ["--rope-scaling", "yarn", "--rope-scale", f"{scale:g}", "--yarn-orig-ctx", str(original)]
    return " ".join(parts)


def vllm_serve(
    repo_id: str,
    max_model_len: int,
    *,
    gpu_memory_utilization: float = 0.9,
    tensor_parallel: int = 1,
    kv_cache_dtype: str = "auto",
) -> str:
    """``vllm serve`` for a Hugging Face repo."""
    parts = [
        "vllm",
        "serve",
        repo_id,
        "--max-model-len",
        str(max_model_len),
        "--gpu-memory-utilization",
        f"{gpu_memory_utilization:g}",
    ]
    if tensor_parallel > 1:
        parts += ["--tensor-parallel-size", str(tensor_parallel)]
    if kv_cache_dtype != "auto":
        parts += ["--kv-cache-dtype", kv_cache_dtype]
    return " ".join(parts)


def mlx_server(repo_id: str, *, bits: int | None = None) -> str:
    """``mlx_lm.server``; with ``bits``, quantize with ``mlx_lm.convert`` first (it serves as stored)."""
    if bits is None:
        return f"mlx_lm.server --model {repo_id}"
    folder = f"{repo_id.rsplit('/', 1)[-1]}-{bits}bit-mlx"
    return (
        f"mlx_lm.convert --hf-path {repo_id} -q --q-bits {bits} --mlx-path {folder} && "
        f"mlx_lm.server --model {folder}"
    )


def ollama_run(repo_id: str) -> str | None:
    """``ollama run TAG`` when the repo has a known Ollama tag, else None."""
    row = OLLAMA_TAGS.get(repo_id.lower())
    return f"ollama run {row[0]}" if row else None
