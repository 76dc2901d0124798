"""Counts against transformers' own models: tiny random checkpoints, saved and read back.

For each family, transformers builds the model from a tiny config and saves it. The
expectation comes from torch's ``state_dict`` (bench.tiny_families) under one definition of a
parameter (issue 10 §4): every stored tensor, tied weights once, minus derived constants
(rotary frequencies, MiniMax's slopes and decays, xIELU's fixed beta/eps). Then:
(a) our header accounting of the saved files equals it; (b) the config-derived accounting
equals the header one, MoE layout and active count included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import estimator
from bench.tiny_families import (
    TINY,
    TINY_VISION,
    header_config,
    phantom_zero_experts,
    save_tiny_checkpoint,
    save_tiny_vision_checkpoint,
)

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

Saved = tuple[dict, int, list[estimator.TensorInfo]]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """family -> (config.json, expected parameters from state_dict, header tensors), built once."""
    cache: dict[str, Saved] = {}

    def get(family: str) -> Saved:
        if family not in cache:
            cache[family] = save_tiny_checkpoint(family, Path(tmp_path_factory.mktemp(family)))
        return cache[family]

    return get


@pytest.mark.parametrize("family", sorted(TINY))
def test_header_count_equals_stored_parameters(family, saved):
    """Our safetensors parser plus accounting count exactly the parameters torch saved."""
    config, expected, tensors = saved(family)
    accounting = estimator.account_from_tensors(tensors, header_config(config))
    assert accounting.total_params == expected


@pytest.mark.parametrize("family", sorted(TINY))
def test_config_count_equals_header_count(family, saved):
    """config.json alone gives the header's total, active count and MoE layout, to the integer."""
    config, _, tensors = saved(family)
    header = estimator.account_from_tensors(tensors, header_config(config))
    derived = estimator.account_from_config(config)
    assert derived.counts_known
    phantom = phantom_zero_experts(config)
    assert derived.total_params == header.total_params - phantom
    if phantom:
        assert derived.moe is not None and header.moe is not None
        assert derived.moe.num_experts == config["n_routed_experts"]
        assert derived.moe.experts_per_token == config["moe_topk"]
        return
    assert derived.active_params == header.active_params
    assert derived.moe == header.moe
    assert derived.components == header.components


def test_gemma4_published_keys_count_like_saved_per_layer_config(saved):
    """Gemma 4's published ``global_head_dim``/``num_global_key_value_heads`` give the same count as the
    ``per_layer_config`` transformers writes back."""
    config, _, tensors = saved("gemma4_moe")
    published = {k: v for k, v in config.items() if k != "per_layer_config"}
    published.update(global_head_dim=32, num_global_key_value_heads=1)
    header = estimator.account_from_tensors(tensors, header_config(config))
    assert estimator.account_from_config(published).total_params == header.total_params


def test_hunyuan_a13b_remote_code_config_counts_as_hunyuan_v1_moe(saved):
    """Hunyuan-A13B's Hub config (remote code: model_type "hunyuan", HunYuanMoEV1ForCausalLM) counts like
    transformers' hunyuan_v1_moe checkpoint; with cross-layer attention (Hunyuan-Large) it is not claimed."""
    config, _, tensors = saved("hunyuan_v1_moe")
    header = estimator.account_from_tensors(tensors, header_config(config))
    remote = {**config, "model_type": "hunyuan", "architectures": ["HunYuanMoEV1ForCausalLM"], "use_cla": False}
    derived = estimator.account_from_config(remote)
    assert derived.counts_known and derived.total_params == header.total_params
    assert derived.components == header.components
    assert not estimator.account_from_config({**remote, "use_cla": True}).counts_known


def test_unknown_family_says_counts_need_headers():
    """A model_type no builder describes is marked as needing headers, never shown as exact."""
    config = {"model_type": "brand_new_arch", "hidden_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "vocab_size": 128, "intermediate_size": 96}
    derived = estimator.account_from_config(config)
    assert not derived.counts_known
    assert derived.count_basis == estimator.CountBasis.NEEDS_HEADERS
    assert any("headers" in note for note in derived.notes)


@pytest.fixture(scope="module")
def saved_vision(tmp_path_factory):
    """family -> (config.json, expected parameters, header tensors) of the multimodal model, built once."""
    cache: dict[str, Saved] = {}

    def get(family: str) -> Saved:
        if family not in cache:
            cache[family] = save_tiny_vision_checkpoint(family, Path(tmp_path_factory.mktemp(f"vl_{family}")))
        return cache[family]

    return get


@pytest.mark.parametrize("family", sorted(TINY_VISION))
def test_vision_tower_counted_from_config(family, saved_vision):
    """With the vision tower, config.json gives the header total, vision component and active count."""
    config, expected, tensors = saved_vision(family)
    header = estimator.account_from_tensors(tensors, header_config(config))
    derived = estimator.account_from_config(config)
    assert header.total_params == expected
    assert derived.counts_known
    assert header.components.vision > 0
    assert derived.components == header.components
    assert derived.active_params == header.active_params


def _mtp_replica(tensors: list[estimator.TensorInfo], config: dict, *, own_head: bool) -> list[estimator.TensorInfo]:
    """transformers does not build MTP layers, so the replica adds one as published checkpoints store
    it: ``model.layers.{L}`` = a copy of the last (MoE) decoder layer plus enorm, hnorm, eh_proj,
    shared_head.norm and, for DeepSeek-V3, its own embed_tokens and shared_head.head."""
    last, mtp = config["num_hidden_layers"] - 1, config["num_hidden_layers"]
    h, vocab = config["hidden_size"], config["vocab_size"]
    prefix = f"model.layers.{last}."
    out = [estimator.TensorInfo(t.name.replace(prefix, f"model.layers.{mtp}."), t.dtype, t.shape)
           for t in tensors if t.name.startswith(prefix)]
    extra = {"enorm.weight": (h,), "hnorm.weight": (h,), "eh_proj.weight": (h, 2 * h), "shared_head.norm.weight": (h,)}
    if own_head:
        extra.update({"embed_tokens.weight": (vocab, h), "shared_head.head.weight": (vocab, h)})
    out += [estimator.TensorInfo(f"model.layers.{mtp}.{name}", "BF16", shape) for name, shape in extra.items()]
    return [*tensors, *out]


@pytest.mark.parametrize(("family", "own_head"), [("glm_moe_dsa", False), ("deepseek_v32", True)])
def test_mtp_layer_counted_as_the_checkpoint_stores_it(family, own_head, saved):
    """With ``num_nextn_predict_layers: 1`` the config path adds the MTP layer exactly as a hand-built
    replica of the published layout holds it (GLM-5: no embedding or head of its own)."""
    config, _, tensors = saved(family)
    config = {**config, "num_nextn_predict_layers": 1}
    replica = _mtp_replica(tensors, config, own_head=own_head)
    header = estimator.account_from_tensors(replica, header_config(config))
    derived = estimator.account_from_config(config)
    assert header.components.mtp > 0
    assert (derived.total_params, derived.active_params) == (header.total_params, header.active_params)
    assert derived.components == header.components


def _router_top_k(family: str) -> set[int]:
    """The ``top_k`` every router module of the transformers model holds (its own reading of config)."""
    from bench.tiny_families import tiny_config

    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(tiny_config(family))
    found = {module.top_k for module in model.modules()
             if module is not model and isinstance(getattr(module, "top_k", None), int)}
    # Gemma 4's router reads ``config.top_k_experts`` at call time (modeling_gemma4 ``torch.topk(k=...)``).
    found |= {module.config.top_k_experts for module in model.modules()
              if type(module).__name__.endswith("Router") and hasattr(module, "config")
              and isinstance(getattr(module.config, "top_k_experts", None), int)}
    return found


@pytest.mark.parametrize("family", sorted(TINY))
def test_top_k_read_like_transformers_routers(family, saved):
    """Every top-k spelling (num_experts_per_token, top_k_experts, moe_topk...) gives the routers' top_k."""
    config, _, _ = saved(family)
    routers = _router_top_k(family)
    moe = header_config(config).moe
    if not routers:
        assert moe is None
        return
    assert moe is not None
    assert routers == {moe.experts_per_token}
