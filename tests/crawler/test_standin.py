"""The stand-in answers huggingface_hub's own client as the Hub does (a fake must not drift)."""

from __future__ import annotations

import httpx2
import pytest
from huggingface_hub import HfApi, constants, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.factories import replica

from .conftest import TOKEN
from .corpus import corpus, hub_safetensors

pytestmark = pytest.mark.network


@pytest.fixture
def standin(make_standin):
    repos, _, _ = corpus(heavy=False, malformed=False)
    return make_standin(repos, page_size=7, tokens_with_access=frozenset({TOKEN}))


def test_listing_pages_follow_link_headers_and_sort(standin):
    """list_models walks cursor pages (7 a page here) and gets every repo, most downloaded first."""
    api = HfApi(endpoint=standin.url, token=False)
    listed = list(api.list_models(sort="downloads", expand=["sha", "downloads", "siblings"]))
    assert len(listed) == len(standin.repos) and standin.count("list") >= 3
    downloads = [m.downloads for m in listed]
    assert downloads == sorted(downloads, reverse=True)
    assert all(m.sha and m.siblings is not None for m in listed)


def test_expand_is_accepted_in_both_spellings(standin):
    """expand=sha (huggingface_hub) and expand[]=sha (other clients) both select fields."""
    for key in ("expand", "expand[]"):
        page = httpx2.get(f"{standin.url}/api/models", params={key: "sha", "limit": 2}).json()
        assert set(page[0]) == {"_id", "id", "sha"}


def test_the_tree_lists_files_and_folders(standin):
    """list_repo_tree shows gpt-oss-20b's original/ folder and, recursively, its files."""
    api = HfApi(endpoint=standin.url, token=False)
    top = {entry.path for entry in api.list_repo_tree("openai/gpt-oss-20b")}
    assert "original" in top and "model.safetensors.index.json" in top
    inside = {entry.path for entry in api.list_repo_tree("openai/gpt-oss-20b", path_in_repo="original")}
    assert inside == {"original/config.json", "original/model.safetensors"}


def test_get_safetensors_metadata_works_against_the_standin(standin, monkeypatch, tmp_path):
    """huggingface_hub's own reader (HEADs, index download, ranged GETs) sees the same raw counts."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    api = HfApi(endpoint=standin.url, token=TOKEN)
    meta = api.get_safetensors_metadata("meta-llama/Llama-3.1-8B")
    assert sum(meta.parameter_count.values()) == hub_safetensors(replica("llama-3.1-8b"))["total"] == 8_030_261_248
    assert standin.count("resolve_head") >= 2
    one_call = api.get_sharded_safetensors_metadata("Qwen/Qwen2.5-32B-Instruct")
    assert sum(one_call.parameter_count.values()) == 32_763_876_352


def test_errors_carry_the_hub_error_codes(standin, monkeypatch, tmp_path):
    """Missing repo, missing file, wrong revision and gated files raise huggingface_hub's own errors."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    api = HfApi(endpoint=standin.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("openai/gpt-oss-20b", revision="f" * 40)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("openai/gpt-oss-20b", "no-such-file.json", endpoint=standin.url, token=False)
    with pytest.raises(GatedRepoError):
        hf_hub_download("meta-llama/Llama-3.1-8B", "config.json", endpoint=standin.url, token=False)


def test_ranges_are_clamped_to_the_file(standin):
    """A range past the end is cut at the end (206, Content-Range), never a 416, for a start inside."""
    repo = standin.repos["meta-llama/Llama-3.2-1B"]
    image = repo.files["config.json"]
    url = f"{standin.url}/meta-llama/Llama-3.2-1B/resolve/{repo.sha}/config.json"
    response = httpx2.get(url, headers={"Range": "bytes=10-999999", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 10-{image.size - 1}/{image.size}"
    assert response.content == image.prefix[10:]
    assert response.headers["x-repo-commit"] == repo.sha and response.headers["etag"]
