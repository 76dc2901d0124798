"""Issue 15 §4/§6 leftovers through the terminal: fuzzy names that ask for a GGUF repo, a base model's
quantized safetensors repos priced as stored, and the note naming a sibling that has the files."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.crawler.hub_standin import HubStandIn

from .gguf_hub import BARTOWSKI, LMSTUDIO, QWEN3_MOE, QWEN25, UNSLOTH, qwen_gguf_repos

pytestmark = pytest.mark.network


@pytest.fixture
def hub():
    with HubStandIn(list(qwen_gguf_repos())) as standin:
        yield standin
    assert standin.errors == []


def _run(db_path, hub, *args: str):
    env = {"HF_ENDPOINT": hub.url if hub else "http://127.0.0.1:9", "HF_TOKEN": ""}
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env=env)


def _fit_json(db_path, hub, model: str, budget: str = "24GB") -> dict:
    result = _run(db_path, hub, "fit", model, budget, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def read_all(db_path, hub):
    for repo in (BARTOWSKI, LMSTUDIO, UNSLOTH):
        assert _run(db_path, hub, "model", repo).exit_code == 0
    return db_path


@pytest.mark.parametrize(
    ("query", "repo", "model"),
    [
        ("qwen2.5 32b instruct gguf", BARTOWSKI, QWEN25),  # the most downloaded GGUF repo of the model
        ("Qwen2.5-32B-Instruct-GGUF", BARTOWSKI, QWEN25),
        ("lmstudio-community qwen2.5 32b instruct", LMSTUDIO, QWEN25),
        ("bartowski qwen2.5 32b", BARTOWSKI, QWEN25),  # the base has no GGUF repo: its -Instruct sibling's
        ("qwen3 30b a3b gguf", UNSLOTH, QWEN3_MOE),
        ("unsloth qwen3 30b a3b Q5_K_M", UNSLOTH, QWEN3_MOE),
    ],
)
def test_a_fuzzy_name_asking_for_gguf_resolves_to_that_gguf_repo(read_all, hub, query, repo, model):
    """A name with "gguf" or a quantizer's name answers with that exact GGUF repo and its base model."""
    data = _fit_json(read_all, hub, query)
    assert (data["gguf_repo"], data["model"]) == (repo, model)
    assert data["files"] and {f["repo"] for f in data["files"]} == {repo}


def test_a_quant_filters_the_named_gguf_repos_files(read_all, hub):
    """ "unsloth qwen3 30b a3b Q5_K_M" lists only that quant's file of unsloth's repo."""
    data = _fit_json(read_all, hub, "unsloth qwen3 30b a3b Q5_K_M")
    assert [f["file"] for f in data["files"]] == ["Qwen3-30B-A3B-Q5_K_M.gguf"]


def test_a_quantizer_word_never_steers_to_another_model(read_all, hub):
    """bartowski has no Qwen3-30B-A3B GGUF here: the answer is that model, not bartowski's Qwen2.5 repo."""
    data = _fit_json(read_all, hub, "bartowski qwen3 30b a3b")
    assert data["model"] == QWEN3_MOE
    assert data["gguf_repo"] is None
    assert all(f["repo"] != BARTOWSKI for f in data["files"])


def test_names_without_gguf_words_resolve_as_before(read_all, hub, db_path):
    """ "qwen2.5 32b instruct" (no "gguf", no quantizer) still answers the model, not a GGUF repo."""
    data = _fit_json(read_all, hub, "qwen2.5 32b instruct")
    assert (data["model"], data["gguf_repo"]) == (QWEN25, None)


def test_a_base_without_files_names_its_sibling_that_has_them(read_all, hub):
    """Qwen2.5-32B (base) has no GGUF files; the answer names Qwen2.5-32B-Instruct, whose files exist."""
    data = _fit_json(read_all, hub, "Qwen/Qwen2.5-32B")
    assert data["model"] == "Qwen/Qwen2.5-32B" and data["files"] == []
    assert data["files_sibling"] == QWEN25
    text = _run(read_all, hub, "fit", "Qwen/Qwen2.5-32B", "24GB").output
    assert "sibling" in text and QWEN25 in text


def test_a_model_with_its_own_files_names_no_sibling(read_all, hub):
    """Qwen2.5-32B-Instruct lists its own files and no sibling note."""
    data = _fit_json(read_all, hub, QWEN25)
    assert data["files"] and data["files_sibling"] is None
    assert "sibling" not in _run(read_all, hub, "fit", QWEN25, "24GB").output


# -- quantized safetensors repos of a base model (store factories) -------------------------------------

QUANTIZED = {
    "awq-4bit": ("AWQ 4-bit", "vllm"),
    "gptq-4bit": ("GPTQ 4-bit", "vllm"),
    "mlx-4bit": ("MLX 4-bit", "mlx"),
}


def _record(rep):
    import estimator
    from store import ModelRecord

    config = estimator.parse_model_config(rep.config)
    tensors = [
        estimator.TensorInfo(name, t["dtype"], tuple(t["shape"]), tuple(t["data_offsets"]))
        for header in rep.files.values()
        if isinstance(header, dict)
        for name, t in header.items()
        if name != "__metadata__"
    ]
    accounting = estimator.account_from_tensors(tensors, config)
    raw = json.dumps(rep.config)
    return ModelRecord(rep.repo_id, "c" * 40, "header", "ok", None, config, accounting, config_json=raw)


def _stored_bytes(rep) -> int:
    """The checkpoint's tensor data as its safetensors headers lay it out (data_offsets), summed."""
    return sum(
        end - start
        for header in rep.files.values()
        if isinstance(header, dict)
        for name, t in header.items()
        if name != "__metadata__"
        for start, end in [t["data_offsets"]]
    )


@pytest.fixture
def with_quantized(db_path):
    """TinyLlama plus its AWQ, GPTQ and MLX repos and a BF16 fine-tune, each linked to it by base_model."""
    import store
    from tests.factories import replica
    from tests.factories.variants import tinyllama

    base = tinyllama()
    reps = {key: replica(key) for key in QUANTIZED}

    async def write():
        db = await store.Database.open(db_path)
        try:
            await store.upsert_model(db, _record(base))
            tune = dataclasses.replace(_record(base), repo_id="someone/TinyLlama-1.1B-finetune")
            await store.upsert_model(db, tune)  # a fine-tune links to its base too: not a quantized repo
            await store.upsert_base_model(db, tune.repo_id, base.repo_id)
            for rep in reps.values():
                await store.upsert_model(db, _record(rep))
                await store.upsert_base_model(db, rep.repo_id, base.repo_id)
        finally:
            await db.close()

    asyncio.run(write())
    return base.repo_id, reps


def test_a_base_models_fit_lists_its_quantized_repos_as_stored(with_quantized, db_path):
    """`fit BASE --json` lists each AWQ/GPTQ/MLX repo made from it: its method, its header-exact stored
    bytes, its runtime (vLLM, MLX) and a verdict; the terminal answer shows the same rows."""
    base, reps = with_quantized
    data = _fit_json(db_path, None, base)
    rows = {r["repo"]: r for r in data["quantized_repos"]}
    assert set(rows) == {rep.repo_id for rep in reps.values()}
    for key, rep in reps.items():
        row = rows[rep.repo_id]
        method, runtime = QUANTIZED[key]
        assert (row["method"], row["runtime"]) == (method, runtime)
        assert row["stored_bytes"] == _stored_bytes(rep)
        assert row["verdict"] == "fits" and row["total_bytes"] > row["weights_bytes"] > 0
        assert row["url"] == f"https://huggingface.co/{rep.repo_id}"
    text = _run(db_path, None, "fit", base, "24GB").output
    assert "Quantized repos" in text
    assert all(rep.repo_id in text for rep in reps.values()) and "vLLM" in text and "MLX" in text


def test_a_budget_too_small_says_no_for_each_quantized_repo(with_quantized, db_path):
    """On 512 MB of GPU memory no stored checkpoint fits on the GPU alone: no row says "fits"."""
    base, _ = with_quantized
    data = _fit_json(db_path, None, base, "0.5GB")
    assert data["quantized_repos"] and all(r["verdict"] != "fits" for r in data["quantized_repos"])


def test_a_quantized_repo_is_answered_about_itself_only(with_quantized, db_path):
    """Asked by its own id, the AWQ repo lists no repos made from its base."""
    _, reps = with_quantized
    data = _fit_json(db_path, None, reps["awq-4bit"].repo_id)
    assert data["model"] == reps["awq-4bit"].repo_id and data["quantized_repos"] == []


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("awq-4bit", "AWQ 4-bit"),
        ("gptq-3bit", "GPTQ 3-bit"),
        ("mlx-4bit", "MLX 4-bit"),
        ("compressed-tensors-w4", "W4A16"),
    ],
)
def test_the_method_is_named_as_people_name_it(key, label):
    """The row's method comes from the repo's own quantization_config (bits, compressed-tensors format)."""
    from bot._answer_quantized import method_label
    from tests.factories import replica

    assert method_label(_record(replica(key))) == label


@pytest.mark.parametrize(("fmt", "label"), [("nvfp4-pack-quantized", "NVFP4"), ("float-quantized", "FP8")])
def test_compressed_tensors_formats_are_named_by_their_scheme(fmt, label):
    """compressed-tensors "format" (llm-compressor's NVFP4 and FP8 presets) names the scheme."""
    import estimator
    from bot._answer_quantized import method_label
    from store import ModelRecord
    from tests.factories.variants import tinyllama

    config = dict(tinyllama().config)
    config["quantization_config"] = {"quant_method": "compressed-tensors", "format": fmt}
    record = ModelRecord("x/y", None, "header", "ok", None, estimator.parse_model_config(config), None)
    assert method_label(record) == label
