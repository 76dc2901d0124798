"""Issue 15 §4-§6 through the terminal: repo ids read on demand from a loopback Hub, every trial query
form resolved to the right model and files, and real files listed with exact bytes and links."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.crawler.hub_standin import HubStandIn

from .gguf_hub import BARTOWSKI, LMSTUDIO, Q4, QWEN3_MOE, QWEN25, UNSLOTH, qwen_gguf_repos, tensor_data_bytes

pytestmark = pytest.mark.network


@pytest.fixture
def hub():
    repos = list(qwen_gguf_repos())
    gated = dataclasses.replace(repos[0], repo_id="bartowski/Gated-GGUF", gated="manual")
    with HubStandIn([*repos, gated]) as standin:
        yield standin
    assert standin.errors == []


def _run(db_path, hub, *args: str):
    return CliRunner().invoke(main, ["--db", str(db_path), *args], env={"HF_ENDPOINT": hub.url, "HF_TOKEN": ""})


def _fit_json(db_path, hub, model: str) -> dict:
    result = _run(db_path, hub, "fit", model, "24GB", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _read_all(db_path, hub) -> None:
    for repo in (BARTOWSKI, LMSTUDIO, UNSLOTH):
        assert _run(db_path, hub, "model", repo).exit_code == 0


def test_an_uncrawled_gguf_repo_id_is_read_on_demand_and_answered_with_its_files(db_path, hub, tmp_path):
    """`fit REPO --json` on an unstored GGUF repo reads it from the Hub and lists each file exactly;
    weights_bytes equals the tensor data bytes that gguf's own reader counts in the written file."""
    data = _fit_json(db_path, hub, BARTOWSKI)
    assert (data["gguf_repo"], data["model"]) == (BARTOWSKI, QWEN25)
    by_file = {f["file"]: f for f in data["files"]}
    assert set(by_file) == {Q4, "Qwen2.5-32B-Instruct-Q8_0.gguf"}
    q4 = by_file[Q4]
    assert q4["weights_bytes"] == tensor_data_bytes(BARTOWSKI, Q4, tmp_path)
    repo = next(r for r in qwen_gguf_repos() if r.repo_id == BARTOWSKI)
    assert q4["bytes"] == repo.files[Q4].size
    assert q4["url"] == f"https://huggingface.co/{BARTOWSKI}/blob/main/{Q4}"
    assert (q4["quant"], q4["verdict"], q4["runtime"]) == ("Q4_K_M", "fits", "llama.cpp")
    assert q4["total_bytes"] > q4["weights_bytes"] + q4["kv_cache_bytes"] > q4["weights_bytes"]
    assert q4["max_context"] > 0
    reads = hub.count("model_info", repo_id=BARTOWSKI)
    _fit_json(db_path, hub, BARTOWSKI)  # stored now: no second read
    assert hub.count("model_info", repo_id=BARTOWSKI) == reads


@pytest.mark.parametrize(
    ("query", "model", "files"),
    [
        (BARTOWSKI, QWEN25, {(BARTOWSKI, Q4), (BARTOWSKI, "Qwen2.5-32B-Instruct-Q8_0.gguf")}),
        (UNSLOTH, QWEN3_MOE, {(UNSLOTH, "Qwen3-30B-A3B-UD-Q4_K_XL.gguf"), (UNSLOTH, "Qwen3-30B-A3B-Q5_K_M.gguf")}),
        ("qwen2.5-32b Q4_K_M", QWEN25, {(BARTOWSKI, Q4), (LMSTUDIO, Q4)}),
        ("qwen2.5 32b q4km", QWEN25, {(BARTOWSKI, Q4), (LMSTUDIO, Q4)}),
        ("qwen2.5-32b-instruct-q4_k_m.gguf", QWEN25, {(BARTOWSKI, Q4), (LMSTUDIO, Q4)}),
        ("qwen2.5:32b-instruct-q4_K_M", QWEN25, {(BARTOWSKI, Q4), (LMSTUDIO, Q4)}),
        ("qwen2.5:32b-instruct-q8_0", QWEN25, {(BARTOWSKI, "Qwen2.5-32B-Instruct-Q8_0.gguf")}),
        ("qwen3 30b a3b UD-Q4_K_XL", QWEN3_MOE, {(UNSLOTH, "Qwen3-30B-A3B-UD-Q4_K_XL.gguf")}),
        ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", QWEN3_MOE, {(UNSLOTH, "Qwen3-30B-A3B-UD-Q4_K_XL.gguf")}),
        (f"{LMSTUDIO} Q4_K_M", QWEN25, {(LMSTUDIO, Q4)}),
        (f"{LMSTUDIO}/{Q4}", QWEN25, {(LMSTUDIO, Q4)}),
        (f"https://huggingface.co/{BARTOWSKI}/blob/main/{Q4}", QWEN25, {(BARTOWSKI, Q4)}),
        (f"https://huggingface.co/{UNSLOTH}", QWEN3_MOE, {(UNSLOTH, "Qwen3-30B-A3B-UD-Q4_K_XL.gguf"),
                                                        (UNSLOTH, "Qwen3-30B-A3B-Q5_K_M.gguf")}),
    ],
)
def test_every_trial_form_resolves_to_its_model_and_files(db_path, hub, query, model, files):
    """Each form the issue's trial typed names the right base model and exactly the right files; the quant
    never steers the name to another model (Qwen2.5-32B Q4_K_M is not Qwen3-32B)."""
    _read_all(db_path, hub)
    data = _fit_json(db_path, hub, query)
    assert data["model"] == model
    assert {(f["repo"], f["file"]) for f in data["files"]} == files


def test_a_base_name_lists_real_files_most_downloaded_quantizer_first(db_path, hub):
    """`fit qwen2.5-32b` lists every stored file of the base model, bartowski (90k) before lmstudio (4k),
    beside the estimated rows, and the text answer gives each file's link."""
    _read_all(db_path, hub)
    data = _fit_json(db_path, hub, "qwen2.5-32b")
    assert [f["repo"] for f in data["files"]] == [BARTOWSKI, BARTOWSKI, LMSTUDIO]
    assert data["options"], "estimated rows stay for the quants nobody uploaded"
    text = _run(db_path, hub, "fit", "qwen2.5-32b", "24GB").output
    assert "Files on the Hub" in text
    assert f"https://huggingface.co/{LMSTUDIO}/blob/main/{Q4}" in text


def test_a_named_file_is_the_subject_and_a_count_mismatch_is_said(db_path, hub):
    """Naming one file titles the answer with that file, gives its verdict first, and says that its
    tensor-shape parameter count differs from the base model's."""
    _read_all(db_path, hub)
    text = _run(db_path, hub, "fit", f"{LMSTUDIO} Q4_K_M", "24GB").output
    assert text.splitlines()[0].startswith(f"{LMSTUDIO}/{Q4} on 24 GiB")
    assert f"{Q4}: ✅ fits" in text
    assert "fewer than its base model's 32,763,876,352" in text


def test_model_on_a_gguf_repo_lists_its_files(db_path, hub):
    """`fitbot model REPO` names it a GGUF repo and lists each file with its exact bytes."""
    text = _run(db_path, hub, "model", UNSLOTH).output
    repo = next(r for r in qwen_gguf_repos() if r.repo_id == UNSLOTH)
    assert text.splitlines()[0] == UNSLOTH and "GGUF repo, 2 files" in text
    for name, image in repo.files.items():
        if name.endswith(".gguf"):
            assert name in text and f"{image.size:,}" in text


@pytest.mark.parametrize(
    ("repo_id", "says"),
    [("zoo/afmoe", "does not exist on the Hugging Face Hub"), ("bartowski/Gated-GGUF", "is gated")],
)
def test_a_missing_or_gated_repo_id_says_so_and_is_never_substituted(db_path, hub, repo_id, says):
    """A repo id the Hub lacks, or gates, fails with a line that names it; no other repo is answered."""
    result = _run(db_path, hub, "fit", repo_id, "24GB")
    assert result.exit_code == 2
    assert repo_id in result.output and says in result.output
    assert "glm4_moe" not in result.output


@pytest.mark.parametrize(("key", "runtime"), [("awq-4bit", "vllm"), ("gptq-4bit", "vllm"), ("mlx-4bit", "mlx")])
def test_a_quantized_repo_id_is_read_on_demand_and_run_as_stored(db_path, key, runtime, tmp_path):
    """An AWQ, GPTQ or MLX repo id the catalog lacks is read from the Hub and answered about its own stored
    bytes (the header-exact count) in its own runtime: vLLM on an NVIDIA card, mlx-lm on a Mac."""
    from tests.crawler.corpus import repo_from_replica
    from tests.factories import replica

    rep = replica(key)
    budget = "M3 Max 128GB" if runtime == "mlx" else "RTX 4090"
    with HubStandIn([repo_from_replica(key, rep, downloads=10)]) as standin:
        data = _fit_json_budget(db_path, standin, rep.repo_id, budget)
        text = _run(db_path, standin, "fit", rep.repo_id, budget).output
    assert data["model"] == rep.repo_id and data["provenance"] == "header"
    assert data["recommendation"]["runtime"] == runtime
    assert "Quantized repo" in text and ("MLX" if runtime == "mlx" else "vLLM") in text


def _fit_json_budget(db_path, hub, model: str, budget: str) -> dict:
    result = _run(db_path, hub, "fit", model, budget, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_files_weights_bytes_is_its_tensor_data(db_path, hub, tmp_path):
    """For every file of every repo (Unsloth's UD-* included), weights_bytes is the sum of the tensor data
    that gguf's own reader finds in the written file: sized from the real tensor mix, not the quant's name."""
    for repo in qwen_gguf_repos():
        data = _fit_json(db_path, hub, repo.repo_id)
        assert data["files"]
        for f in data["files"]:
            assert f["weights_bytes"] == tensor_data_bytes(repo.repo_id, f["file"], tmp_path), f["file"]


def test_ask_resolves_an_ollama_tag_as_discord_would(db_path, hub):
    """`fitbot ask "/fit qwen2.5:32b-instruct-q4_K_M 24GB"` answers Qwen2.5-32B-Instruct with both Q4_K_M files."""
    _read_all(db_path, hub)
    result = _run(db_path, hub, "ask", "/fit qwen2.5:32b-instruct-q4_K_M 24GB")
    assert result.exit_code == 0, result.output
    assert f"https://huggingface.co/{BARTOWSKI}/blob/main/{Q4}" in result.output
    assert f"https://huggingface.co/{LMSTUDIO}/blob/main/{Q4}" in result.output
    assert result.output.startswith(f"{QWEN25} on 24 GiB") and "Qwen3" not in result.output


def test_a_hub_that_keeps_failing_says_so_quickly(db_path):
    """A Hub answering 503 to every model lookup fails the request with one line naming the repo."""
    with HubStandIn(list(qwen_gguf_repos()), refuse={"model_info": 503}) as standin:
        result = _run(db_path, standin, "fit", BARTOWSKI, "24GB")
        tries = standin.count("model_info", repo_id=BARTOWSKI)
    assert result.exit_code == 2
    assert f"Repo {BARTOWSKI} is not in the catalog and the Hub did not answer" in result.output
    assert 1 <= tries <= 3


def test_a_pasted_file_link_of_an_unread_repo_reads_that_repo_and_answers_that_file(db_path, hub):
    """A Hub link to one file of a repo the catalog lacks reads the repo on demand; the answer is that file."""
    link = f"https://huggingface.co/{UNSLOTH}/resolve/main/Qwen3-30B-A3B-UD-Q4_K_XL.gguf"
    data = _fit_json(db_path, hub, link)
    assert [(f["repo"], f["file"]) for f in data["files"]] == [(UNSLOTH, "Qwen3-30B-A3B-UD-Q4_K_XL.gguf")]
    assert hub.count("model_info", repo_id=UNSLOTH) == 1


def test_a_gguf_repo_without_a_catalogued_base_is_answered_from_its_own_files(db_path, tmp_path):
    """A quantizer repo whose base model is not in the catalog is answered from its files: split parts
    grouped (bytes of both parts), the vision projector left out, hostile files skipped with a reason."""
    from tests.crawler.gguf_corpus import HOSTILE, SPLIT_FILE, TINY, hostile_repo, tiny_repo

    with HubStandIn([tiny_repo(), hostile_repo()]) as standin:
        data = _fit_json(db_path, standin, TINY)
        text = _run(db_path, standin, "fit", TINY, "24GB").output
        hostile = _run(db_path, standin, "model", HOSTILE, "--json")
    assert data["model"] == TINY and data["gguf_repo"] == TINY
    by_file = {f["file"]: f for f in data["files"]}
    assert len(by_file) == 4 and not any("mmproj" in name for name in by_file)
    parts = [image.size for name, image in tiny_repo().files.items() if name.startswith("Tiny-Instruct-Q8_0/")]
    assert len(parts) == 2 and by_file[SPLIT_FILE]["bytes"] == sum(parts) and by_file[SPLIT_FILE]["split_count"] == 2
    assert "Its base model is not in the catalog" in text and "GGUF file's tensor table" in text
    assert not any(line.startswith("stored ") for line in text.splitlines())
    files = json.loads(hostile.output)["files"]
    assert any(f["status"] == "ok" for f in files)
    assert all(f["status_reason"] for f in files if f["status"] == "error") and len(files) > 1


def test_the_recommendation_names_the_real_file_of_its_pick(db_path, hub):
    """With real files known, the pick's `file` is the most downloaded real file of its quant, and the
    llama-server command loads that file instead of a guessed name (issue 12 §1, issue 15 §6)."""
    _read_all(db_path, hub)
    rec = _fit_json(db_path, hub, QWEN25)["recommendation"]
    assert rec["quant"] == "Q4_K_M"
    assert rec["file"] == Q4
    assert f"-m {Q4} " in rec["launch"]["llama.cpp"]


def test_the_pick_prefers_a_quant_with_a_real_file(db_path, hub):
    """On 28 GB the estimate alone would pick Q5_K_M for Qwen2.5-32B; with real Q4_K_M and Q8_0 files
    known (and no Q5_K_M file), the pick is the real Q4_K_M file, in the same tier (fits on the GPU)."""
    before = _fit_json_budget(db_path, hub, QWEN25, "28GB")["recommendation"]
    assert (before["quant"], before["file"]) == ("Q5_K_M", None)
    _read_all(db_path, hub)
    after = _fit_json_budget(db_path, hub, QWEN25, "28GB")["recommendation"]
    assert (after["quant"], after["file"], after["verdict"]) == ("Q4_K_M", Q4, "fits")
