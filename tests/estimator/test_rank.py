"""What can I run? (estimator/_rank.py): qualifying picks, ranked by downloads/likes, recency, size."""

from __future__ import annotations

import math

import pytest

import estimator
from estimator._advice import LOW_BIT_QUANTS, USABLE_TOKENS_PER_S
from estimator._rank import RankCandidate, Use, parse_use, rank_models
from tests.factories import replica

REPOS = {
    "llama-3.1-8b": "meta-llama/Llama-3.1-8B-Instruct",
    "qwen2.5-32b-instruct": "Qwen/Qwen2.5-32B-Instruct",
    "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B",
    "gpt-oss-20b": "openai/gpt-oss-20b",
    "deepseek-v3": "deepseek-ai/DeepSeek-V3",
    "mixtral-8x7b": "mistralai/Mixtral-8x7B-Instruct-v0.1",
}


def _facts(key: str) -> estimator.ModelFacts:
    config = replica(key).config
    return estimator.ModelFacts(estimator.parse_model_config(config), estimator.account_from_config(config))


@pytest.fixture(scope="module")
def facts() -> dict[str, estimator.ModelFacts]:
    """Each catalog model's facts, derived from its config once."""
    return {key: _facts(key) for key in REPOS}


def _candidates(facts, downloads=None, ages=None) -> list[RankCandidate]:
    downloads = downloads or {}
    ages = ages or {}
    return [
        RankCandidate(
            repo, facts[key], downloads=downloads.get(key, 1000), likes=10, age_days=ages.get(key, 400)
        )
        for key, repo in REPOS.items()
    ]


def test_only_models_that_run_well_are_listed(facts):
    """Every pick is 4-bit or better, reaches 8K, decodes at a usable speed; DeepSeek-V3 is not on 24 GB."""
    ranked = rank_models(_candidates(facts), estimator.parse_budget("RTX 3090"))
    assert ranked
    models = {r.model for r in ranked}
    assert "deepseek-ai/DeepSeek-V3" not in models
    for r in ranked:
        assert r.quant not in LOW_BIT_QUANTS and r.context >= 8192
        assert r.decode_tokens_per_s >= USABLE_TOKENS_PER_S
        assert r.verdict in ("fits", "needs_offload")


def test_downloads_rank_first_among_equals(facts):
    """A thousandfold more downloads moves a model to the top; the score is the sum of its signals."""
    budget = estimator.parse_budget("RTX 3090")
    before = rank_models(_candidates(facts), budget)
    last = before[-1].model
    key = next(k for k, repo in REPOS.items() if repo == last)
    after = rank_models(_candidates(facts, downloads={key: 10**6}), budget)
    assert after[0].model == last
    for r in after:
        assert math.isclose(r.score, sum(v for _, v in r.signals), abs_tol=1e-3)
        assert [name for name, _ in r.signals] == ["popularity", "recency", "size_class"]


def test_recency_breaks_ties(facts):
    """Of two models with equal downloads, a model updated today gains up to one point over a year-old one."""
    budget = estimator.parse_budget("RTX 3090")
    ranked = {r.model: r for r in rank_models(_candidates(facts, ages={"gpt-oss-20b": 0}), budget)}
    signal = dict(ranked["openai/gpt-oss-20b"].signals)
    assert signal["recency"] == 1.0
    assert dict(ranked["meta-llama/Llama-3.1-8B-Instruct"].signals)["recency"] == 0.0


@pytest.mark.parametrize(
    ("use", "expected"),
    [
        (Use.CHAT, {"meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-32B-Instruct"}),
        (Use.CODE, set()),
    ],
)
def test_use_filters(facts, use, expected):
    """chat keeps instruct/chat models; code keeps coder models (none in this catalog)."""
    ranked = rank_models(_candidates(facts), estimator.parse_budget("RTX 3090"), use=use)
    assert {r.model for r in ranked} >= expected if expected else not ranked
    if use is Use.CHAT:
        assert all(any(w in r.model.lower() for w in ("instruct", "chat", "-it")) for r in ranked)


def test_long_context_needs_32k(facts):
    """long_context lists only picks that reach 32K tokens."""
    ranked = rank_models(_candidates(facts), estimator.parse_budget("RTX 3090"), use=Use.LONG_CONTEXT)
    assert ranked and all(r.context >= 32768 for r in ranked)


def test_parse_use_says_what_to_type():
    """Uses parse with spaces or dashes; an unknown use names the four."""
    assert parse_use("long context") is Use.LONG_CONTEXT and parse_use("Code") is Use.CODE
    with pytest.raises(ValueError, match="chat, code, long_context, vision"):
        parse_use("poetry")
