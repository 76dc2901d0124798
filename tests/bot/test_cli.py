"""The fitbot CLI: answers, JSON contracts, one-line errors, help and README coverage."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def run(db_path, *args):
    runner = CliRunner()
    return runner.invoke(main, ["--db", str(db_path), *args], catch_exceptions=False)


def test_fit_answers_the_readme_question(db_path):
    """`fitbot fit qwen2.5-32b 24GB` names the repo, the budget reading and a best choice."""
    result = run(db_path, "fit", "qwen2.5-32b", "24GB")
    assert result.exit_code == 0
    assert "Qwen/Qwen2.5-32B-Instruct" in result.output
    assert "24 GiB, as on a 24GB card" in result.output
    assert "32,763,876,352" in result.output
    assert re.search(r"Best choice: Q\d", result.output)
    assert "derived from config.json" in result.output


def test_fit_json_contract(db_path):
    """--json holds the documented keys, and totals add up from their parts."""
    result = run(db_path, "fit", "qwen2.5-32b", "24GB", "--json")
    data = json.loads(result.output)
    assert data["model"] == "Qwen/Qwen2.5-32B-Instruct"
    assert data["budget_bytes"] == 24 * 2**30
    assert data["context"] == 8192 and data["kv_cache"] == "f16"
    verdicts = {"fits", "fits_reduced_context", "needs_offload", "does_not_fit"}
    quants = {o["quant"] for o in data["options"]}
    assert {"BF16", "Q4_K_M", "Q8_0"} <= quants
    for option in data["options"]:
        assert option["verdict"] in verdicts
        assert option["total_bytes"] == option["weights_gpu_bytes"] + option["kv_cache_bytes"] + option["overhead_bytes"]
        for key in ("weights_bytes", "kv_cache_bytes", "overhead_bytes", "total_bytes", "max_context"):
            assert isinstance(option[key], int)
    q4 = next(o for o in data["options"] if o["quant"] == "Q4_K_M")
    bf16 = next(o for o in data["options"] if o["quant"] == "BF16")
    assert q4["verdict"] == "fits" and bf16["verdict"] == "does_not_fit"


def test_fit_context_and_kv_options_change_the_kv_cache(db_path):
    """A longer context grows the KV cache; a q8_0 cache shrinks it."""
    base = json.loads(run(db_path, "fit", "qwen2.5-32b", "48GB", "--json").output)
    long = json.loads(run(db_path, "fit", "qwen2.5-32b", "48GB", "--context", "32k", "--json").output)
    q8 = json.loads(run(db_path, "fit", "qwen2.5-32b", "48GB", "--context", "32k", "--kv-cache", "q8_0", "--json").output)
    kv = lambda d: next(o for o in d["options"] if o["quant"] == "Q4_K_M")["kv_cache_bytes"]  # noqa: E731
    assert long["context"] == 32768
    assert kv(long) > kv(base)
    assert kv(q8) < kv(long)


def test_model_json_contract(db_path):
    """`fitbot model --json` has the documented keys; components sum to the total."""
    data = json.loads(run(db_path, "model", "ds v3", "--json").output)
    for key in ("repo_id", "sha", "provenance", "total_params", "active_params", "components", "moe", "stored_bytes", "quantization", "status"):
        assert key in data
    assert data["repo_id"] == "deepseek-ai/DeepSeek-V3"
    assert sum(data["components"].values()) == data["total_params"] == 684_489_845_504
    assert data["moe"] == {"num_experts": 256, "experts_per_token": 8, "shared_experts": 1, "moe_layers": 58}


def test_define_prints_entry_and_live_example(db_path):
    """`fitbot define parameter` explains the term with a real model's exact count."""
    result = run(db_path, "define", "parameter")
    assert result.exit_code == 0
    assert "Parameter" in result.output
    assert "8,030,261,248" in result.output


def test_models_lists_and_searches(db_path):
    """`fitbot models --search qwen` lists only Qwen repos with exact sizes."""
    result = run(db_path, "models", "--search", "qwen3-30b")
    assert "Qwen/Qwen3-30B-A3B" in result.output
    assert "30,532,122,624" in result.output
    assert "meta-llama" not in result.output


def test_ask_prints_what_fit_prints(db_path):
    """The terminal twin shows the same answer as the fit command."""
    assert run(db_path, "ask", "/fit qwen2.5-32b 24GB").output == run(db_path, "fit", "qwen2.5-32b", "24GB").output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("fit", "qwen2.5-32b", "24 gigs"), "is not a size: try 24GB"),
        (("fit", "qwen2.5-32b", "RTX 5095"), "5090"),
        (("fit", "qwen5-999b", "24GB"), "No model matches 'qwen5-999b'"),
        (("fit", "qwen2.5-32b", "24GB", "--context", "lots"), "is not a context length"),
        (("define", "zzqqxx"), "is not in the glossary"),
        (("ask", "/frobnicate x"), "is not a command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(db_path, args, needle):
    """Bad input: exit code 2, one line on stderr telling what to type, no traceback."""
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db_path), *args])
    assert result.exit_code == 2
    assert needle in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_names_the_setting(db_path, monkeypatch):
    """A bad environment value stops the program with the setting's name and an example."""
    monkeypatch.setenv("FITBOT_CRAWL_HOUR", "25")
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db_path), "fit", "qwen2.5-32b", "24GB"])
    assert result.exit_code == 78  # EX_CONFIG: systemd's RestartPreventExitStatus= stops the service on it
    assert "FITBOT_CRAWL_HOUR" in result.stderr and "FITBOT_CRAWL_HOUR=4" in result.stderr


def _commands():
    return sorted(main.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_with_example_and_is_in_readme(name):
    """Each command documents itself with an example and appears in the README."""
    command = main.commands[name]
    assert command.help and "Example" in command.help
    assert f"fitbot {name}" in README
