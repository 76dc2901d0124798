"""Launch commands (estimator/_launch.py): the flags each runtime's own source defines."""

from __future__ import annotations

import shlex

from estimator._launch import (
    OLLAMA_TAGS,
    gguf_file_name,
    llama_server,
    mlx_server,
    ollama_run,
    vllm_serve,
)
from estimator._runtime import Runtime


def test_llama_server_matches_the_issue_shape():
    """Expert offload with a q8_0 cache is exactly the issue's llama-server line."""
    assert llama_server("FILE", 32768, cpu_moe_layers=20, kv_type="q8_0") == (
        "llama-server -m FILE -c 32768 -ngl 99 --n-cpu-moe 20 -ctk q8_0 -ctv q8_0 -fa on"
    )


def test_llama_server_optional_parts():
    """f16 adds no cache flags; CPU-only drops -ngl; --cache-ram and YaRN appear only when asked."""
    plain = shlex.split(llama_server("m.gguf", 8192))
    assert plain == ["llama-server", "-m", "m.gguf", "-c", "8192", "-ngl", "99", "-fa", "on"]
    cpu = shlex.split(llama_server("m.gguf", 8192, gpu_layers=None, cache_ram_mib=0, yarn=(4.0, 32768)))
    assert "-ngl" not in cpu
    assert cpu[cpu.index("--cache-ram") + 1] == "0"
    assert cpu[cpu.index("--rope-scale") + 1] == "4" and cpu[cpu.index("--yarn-orig-ctx") + 1] == "32768"
    assert cpu[cpu.index("--rope-scaling") + 1] == "yarn"


def test_vllm_serve_matches_the_issue_shape():
    """Every option set gives the issue's vllm serve line; defaults drop TP 1 and the auto KV dtype."""
    assert vllm_serve(
        "org/m", 131072, gpu_memory_utilization=0.9, tensor_parallel=8, kv_cache_dtype="fp8"
    ) == (
        "vllm serve org/m --max-model-len 131072 --gpu-memory-utilization 0.9 --tensor-parallel-size 8 "
        "--kv-cache-dtype fp8"
    )
    assert vllm_serve("org/m", 8192) == "vllm serve org/m --max-model-len 8192 --gpu-memory-utilization 0.9"


def test_mlx_server_converts_first_when_quantizing():
    """mlx_lm.server loads weights as stored: a quantized run converts with mlx_lm.convert -q first."""
    assert mlx_server("org/m") == "mlx_lm.server --model org/m"
    command = mlx_server("org/m", bits=4)
    convert, serve = command.split(" && ")
    args = shlex.split(convert)
    assert (
        args[:2] == ["mlx_lm.convert", "--hf-path"]
        and "-q" in args
        and args[args.index("--q-bits") + 1] == "4"
    )
    assert shlex.split(serve) == ["mlx_lm.server", "--model", args[args.index("--mlx-path") + 1]]


def test_ollama_tags_are_cited_and_looked_up_case_blind():
    """Known repos map to their Ollama tag (each row cites ollama.com); unknown repos get none."""
    assert ollama_run("OpenAI/GPT-OSS-20B") == "ollama run gpt-oss:20b"
    assert ollama_run("someone/unknown") is None
    assert all(
        url.startswith("https://ollama.com/library/") and url.endswith(tag.split(":")[0])
        for tag, url in OLLAMA_TAGS.values()
    )


def test_gguf_file_name_and_runtime_names():
    """The placeholder file is the repo name and quant; runtime names are the four the JSON documents."""
    assert gguf_file_name("Qwen/Qwen2.5-32B-Instruct", "Q4_K_M") == "Qwen2.5-32B-Instruct-Q4_K_M.gguf"
    assert [str(r) for r in Runtime] == ["llama.cpp", "vllm", "mlx", "transformers"]
