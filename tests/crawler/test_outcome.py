"""From listing entries and reads to records and outcomes: the pure parts of the crawler."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from huggingface_hub import ModelInfo

from crawler import (
    METADATA_API,
    RANGED,
    Candidate,
    CheckpointRead,
    HubFileNotFoundError,
    HubRefusedError,
    HubUnavailableError,
    RepoGatedError,
    RepoNotFoundError,
    Scope,
    choose_read_strategy,
    in_scope,
    parse_model_info,
    parse_sharded_metadata,
)
from crawler._outcome import (
    classify_failure,
    failure_result,
    no_safetensors_result,
    ok_result,
)
from estimator import HeaderParseError, TensorInfo, UnknownDtypeError
from store import HubFacts
from tests.factories import make_header, numel, replica
from tests.factories.configs import small_dense_config

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _listing_entry(**overrides) -> dict:
    entry = {
        "id": "org/model", "sha": "a" * 40, "lastModified": "2025-06-01T10:00:00.000Z",
        "createdAt": "2024-05-01T10:00:00.000Z", "downloads": 999, "likes": 12, "trendingScore": 31,
        "gated": False, "tags": ["transformers", "safetensors", "text-generation"],
        "pipeline_tag": "text-generation", "library_name": "transformers",
        "config": {"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
        "safetensors": {"parameters": {"BF16": 1000}, "total": 1000},
        "siblings": [{"rfilename": "config.json"}, {"rfilename": "model.safetensors"}, {"rfilename": "original/x"}],
    }
    entry.update(overrides)
    return entry


def test_a_listing_entry_becomes_a_candidate():
    """Every expanded field lands in the candidate; dicts do not travel further."""
    candidate = parse_model_info(ModelInfo(**_listing_entry(gated="manual")), "downloads")
    assert candidate.repo_id == "org/model" and candidate.sha == "a" * 40 and candidate.source == "downloads"
    assert candidate.files == ("config.json", "model.safetensors", "original/x")
    hub = candidate.hub
    assert (hub.author, hub.downloads, hub.likes, hub.trending_score, hub.gated) == ("org", 999, 12, 31.0, "manual")
    assert hub.hub_total_params == 1000 and hub.last_modified == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert json.loads(candidate.listed_config_json)["model_type"] == "llama"
    ungated = parse_model_info(ModelInfo(**_listing_entry(siblings=None, safetensors=None)), "x")
    assert ungated.hub.gated is None and ungated.files is None and ungated.hub.hub_total_params is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, True),
        ({"pipeline_tag": "image-text-to-text"}, True),
        ({"pipeline_tag": "text-to-image"}, False),
        ({"library_name": "mlx", "tags": ["mlx", "safetensors"]}, False),
        ({"library_name": None, "tags": ["transformers", "safetensors"]}, True),
        ({"tags": ["transformers"], "safetensors": None, "siblings": [{"rfilename": "pytorch_model.bin"}]}, False),
    ],
)
def test_scope_is_language_models_of_the_library_with_safetensors(overrides, expected):
    """Pipelines text-generation / image-text-to-text, library transformers, with safetensors."""
    candidate = parse_model_info(ModelInfo(**_listing_entry(**overrides)), "x")
    assert in_scope(candidate, Scope()) is expected


@pytest.mark.parametrize(
    ("shards", "forced", "quotas", "available", "expected"),
    [
        (4, "auto", (500, 3000), True, RANGED),  # 5 resolves cost less of a window than 1 API call
        (6, "auto", (500, 3000), True, METADATA_API),
        (163, "auto", (500, 3000), True, METADATA_API),
        (4, "auto", (1000, 5000), True, RANGED),
        (5, "auto", (1000, 5000), True, METADATA_API),
        (163, "auto", (500, 3000), False, RANGED),  # the endpoint is missing
        (2, "metadata_api", (500, 3000), True, METADATA_API),
        (163, "ranged", (500, 3000), True, RANGED),
    ],
)
def test_the_read_strategy_spends_the_cheaper_rate_limit_bucket(shards, forced, quotas, available, expected):
    """The one call wins when shards + 1 resolves would use more of their window than one API call."""
    assert choose_read_strategy(shards, forced=forced, quotas=quotas, api_available=available) == expected


def test_the_one_call_answer_parses_into_every_shard_header():
    """{"index": ..., "headers": {shard: header}} gives the tensors of every shard."""
    headers = {
        "model-00001-of-00002.safetensors": make_header([("a.weight", "BF16", (4, 8))]),
        "model-00002-of-00002.safetensors": make_header([("b.weight", "F32", (3,)), ("c.bias", "F16", (5,))]),
    }
    parsed = parse_sharded_metadata({"index": {"metadata": {}}, "headers": headers})
    assert [name for name, _ in parsed] == list(headers)
    assert sum(t.numel for _, h in parsed for t in h.tensors) == 32 + 3 + 5


@pytest.mark.parametrize("payload", [{}, {"headers": {}}, [], {"headers": {"s.safetensors": []}},
                                     {"headers": {"s.safetensors": {"x": {"dtype": "F7", "shape": [1], "data_offsets": [0, 1]}}}}])
def test_a_bad_one_call_answer_is_a_header_error(payload):
    """A missing or malformed header in the answer fails the repo like a bad ranged read."""
    with pytest.raises(HeaderParseError):
        parse_sharded_metadata(payload)


@pytest.mark.parametrize(
    ("error", "status", "transient"),
    [
        (RepoGatedError("o/m"), "gated", False),
        (RepoNotFoundError("o/m"), "not_found", False),
        (UnknownDtypeError("F7", "x"), "error", False),
        (HeaderParseError("truncated"), "error", False),
        (HubFileNotFoundError("o/m", "model.safetensors"), "error", True),
        (HubUnavailableError("/x", 6, "HTTP 503"), "error", True),
        (HubRefusedError("/x", 403), "error", True),
        (KeyError("a bug"), "error", True),
    ],
)
def test_every_failure_maps_to_one_status(error, status, transient):
    """Gated before not-found (a subclass on the Hub's side), malformed headers are final,
    Hub trouble and bugs are retried next crawl."""
    assert classify_failure(error) == (status, transient)


def _candidate(**hub) -> Candidate:
    return Candidate("org/model", "b" * 40, "test", ("config.json", "model.safetensors"), HubFacts(**hub))


def test_an_ok_read_records_header_counts_and_flags_a_mismatch():
    """The record carries our exact count, the Hub's figure, and the commit read."""
    config = small_dense_config()
    tensors = tuple(TensorInfo(n, d, s) for n, d, s in replica("llama-3.2-1b-tied").tensors())
    read = CheckpointRead(json.dumps(config).encode(), tensors, ("model.safetensors",), "single")
    expected = sum(numel(t.shape) for t in tensors)
    record, outcome = ok_result(_candidate(hub_total_params=expected + 1, downloads=999), read, NOW)
    assert record.status == "ok" and record.provenance == "header" and record.sha == "b" * 40
    assert record.accounting.total_params == expected == outcome.total_params
    assert record.count_mismatch and outcome.count_mismatch
    assert record.popularity == pytest.approx(3.0) and record.read_at == NOW


def test_a_gated_repo_keeps_config_counts_only_when_the_listing_has_sizes():
    """Reduced listing config: no counts. A full one: counts marked as derived from config."""
    reduced = Candidate("o/m", "c" * 40, "t", (), HubFacts(hub_total_params=5, gated="auto"),
                        json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    record, outcome = failure_result(reduced, RepoGatedError("o/m", asked=False), NOW)
    assert record.status == "gated" and record.accounting is None and record.hub.hub_total_params == 5
    assert "no counts" in record.status_reason and record.sha == "c" * 40
    full = Candidate("o/m", "c" * 40, "t", (), HubFacts(gated="auto"), json.dumps(small_dense_config()))
    record, _ = failure_result(full, RepoGatedError("o/m"), NOW)
    assert record.provenance == "config" and record.accounting.total_params > 0


def test_a_transient_failure_is_recorded_without_a_sha():
    """So the next crawl reads the repo again even though its commit did not change."""
    record, outcome = failure_result(_candidate(), HubUnavailableError("/x", 6, "HTTP 503"), NOW)
    assert record.sha is None and outcome.transient and "kept failing" in record.status_reason


def test_a_bin_only_repo_is_counted_from_config():
    """No root safetensors: status no_safetensors, counts derived from config.json."""
    rep = replica("bin-only")
    candidate = Candidate(rep.repo_id, "d" * 40, "t", ("config.json", "pytorch_model.bin"))
    record, outcome = no_safetensors_result(candidate, json.dumps(rep.config).encode(), NOW)
    assert record.status == "no_safetensors" and record.provenance == "config"
    assert record.accounting.total_params == rep.expected_total
    assert "pytorch_model.bin" in record.status_reason
