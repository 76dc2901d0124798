"""``account_from_tensors`` counts runs of like tensors once each; the plain per-tensor reference
(``account_each_tensor``) must give the same accounting, notes and their order included, on every
layout the factories build (the crawler's corpus: DeepSeek-V3, Qwen3-30B-A3B, gpt-oss, quantized
Llamas...), in any tensor order, and when one layer's routers disagree."""

from __future__ import annotations

import random

import pytest

import estimator
from estimator._accounting import account_each_tensor
from tests.factories import BUILDERS, replica

LAYOUTS = [key for key in BUILDERS if replica(key).files and replica(key).config]


def _both(tensors, config):
    fast = estimator.account_from_tensors(iter(tensors), config)  # a one-pass iterable, as callers may give
    reference = account_each_tensor(tensors, config)
    return fast, reference


def _same(fast, reference):
    assert fast == reference
    assert fast.notes == reference.notes  # notes are left out of ==


@pytest.mark.parametrize("key", LAYOUTS)
def test_runs_match_the_per_tensor_reference_on_every_layout(key, parsed_tensors, model_config):
    """Same totals, components, MoE layout, groups, stored bytes and notes as counting each tensor."""
    _same(*_both(parsed_tensors(key), model_config(key)))


@pytest.mark.parametrize("key", ["deepseek-v3", "qwen3-30b-a3b", "gpt-oss-20b", "gptq-4bit", "dbrx"])
def test_runs_match_the_reference_in_any_tensor_order_and_without_config(key, parsed_tensors, model_config):
    """Shuffled shards and names: the first tensor of a role still gives its row size; no config
    still counts the same way."""
    tensors = list(parsed_tensors(key))
    random.Random(13).shuffle(tensors)
    _same(*_both(tensors, model_config(key)))
    _same(*_both(tensors, None))


def test_disagreeing_routers_in_one_layer_count_as_the_reference_does():
    """Experts stored without numbers and two router weights with different expert counts in one
    layer: the last one read decides, as in the per-tensor count, so the order changes the active
    count and both paths follow it."""
    experts = estimator.TensorInfo("model.layers.0.mlp.experts.w1.weight", "F16", (64, 8))
    # two gates of one name template around a router: the template's first tensor comes before
    # the router, its last one after it
    gates = [estimator.TensorInfo(f"model.layers.0.mlp.gate.{i}.weight", "F16", (8, 8)) for i in (0, 1)]
    router = estimator.TensorInfo("model.layers.0.mlp.router.weight", "F16", (4, 8))
    answers = []
    for order in ((experts, gates[0], router, gates[1]), (gates[0], gates[1], router, experts)):
        fast, reference = _both(order, None)
        _same(fast, reference)
        answers.append(fast.active_params)
    assert answers[0] != answers[1]


@pytest.mark.parametrize("key", ["qwen3-30b-a3b", "gpt-oss-20b", "deepseek-v3"])
def test_expert_counts_without_routers_come_from_names_or_shapes(key, parsed_tensors):
    """No router weights to fall back on: numbered experts (Qwen3, DeepSeek-V3) or fused ones
    (gpt-oss) give each layer's expert count, and each layer's notes come in the reference's order."""
    tensors = [t for t in parsed_tensors(key) if not t.name.endswith(("mlp.gate.weight", "router.weight"))]
    fast, reference = _both(list(reversed(tensors)), None)
    _same(fast, reference)
    assert fast.moe is not None and fast.moe.num_experts > 1
