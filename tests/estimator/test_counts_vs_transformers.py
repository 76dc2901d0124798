"""Counts against transformers' own models: tiny random checkpoints, saved and read back.

For each family, transformers builds the model from a tiny config and saves it. The
expectation is computed here from torch's ``state_dict`` under one definition of a
parameter (issue 10 §4): every stored tensor, tied weights once, minus derived constants
(rotary frequencies, MiniMax's slopes and decays, xIELU's fixed beta/eps). Then:
(a) our header accounting of the saved files equals it; (b) the config-derived accounting
equals the header one, MoE layout and active count included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import estimator
from tests.estimator._tiny_families import TINY, tiny_config

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

# Saved buffers that are constants computed from config, not parameters (the §4 definition).
_DERIVED_CONSTANTS = ("inv_freq", "slope_rate", "query_decay", "key_decay", "diagonal_decay",
                      "act_fn.beta", "act_fn.eps")


def _save_tiny(family: str, root: Path) -> tuple[dict, int, list[estimator.TensorInfo]]:
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(tiny_config(family))
    model.save_pretrained(root)
    expected, seen = 0, set()
    for name, tensor in model.state_dict().items():
        if name.endswith(_DERIVED_CONSTANTS) or tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        expected += tensor.numel()
    tensors = []
    for path in sorted(root.glob("*.safetensors")):
        data = path.read_bytes()
        header = estimator.parse_safetensors_file(data, file_size=len(data), filename=path.name)
        tensors.extend(header.tensors)
    return json.loads((root / "config.json").read_text()), expected, tensors


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """family -> (config.json, expected parameters from state_dict, header tensors), built once."""
    cache: dict[str, tuple[dict, int, list[estimator.TensorInfo]]] = {}

    def get(family: str) -> tuple[dict, int, list[estimator.TensorInfo]]:
        if family not in cache:
            cache[family] = _save_tiny(family, tmp_path_factory.mktemp(family))
        return cache[family]

    return get


def _header_config(config: dict) -> estimator.ModelConfig:
    if "num_hidden_layers" not in config and isinstance(config.get("layers_block_type"), list):
        # transformers' Nemotron-H saves the layer count only as the pattern's length.
        config = {**config, "num_hidden_layers": len(config["layers_block_type"])}
    return estimator.parse_model_config(config)


def _phantom_zero_experts(config: dict) -> int:
    """LongCat-Flash: transformers 5.24 sizes ``gate_up_proj`` for routed + zero-computation experts
    (modeling_longcat_flash ``LongcatFlashExperts.total_experts``); zero experts have no weights
    and the published checkpoint stores only the routed ones, which is what config.json counts."""
    if config.get("model_type") != "longcat_flash":
        return 0
    per_layer = config["zero_expert_num"] * 2 * config["expert_ffn_hidden_size"] * config["hidden_size"]
    return per_layer * config["num_layers"]


@pytest.mark.parametrize("family", sorted(TINY))
def test_header_count_equals_stored_parameters(family, saved):
    """Our safetensors parser plus accounting count exactly the parameters torch saved."""
    config, expected, tensors = saved(family)
    accounting = estimator.account_from_tensors(tensors, _header_config(config))
    assert accounting.total_params == expected


@pytest.mark.parametrize("family", sorted(TINY))
def test_config_count_equals_header_count(family, saved):
    """config.json alone gives the header's total, active count and MoE layout, to the integer."""
    config, _, tensors = saved(family)
    header = estimator.account_from_tensors(tensors, _header_config(config))
    derived = estimator.account_from_config(config)
    assert derived.counts_known
    phantom = _phantom_zero_experts(config)
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
    header = estimator.account_from_tensors(tensors, _header_config(config))
    assert estimator.account_from_config(published).total_params == header.total_params


def test_unknown_family_says_counts_need_headers():
    """A model_type no builder describes is marked as needing headers, never shown as exact."""
    config = {"model_type": "brand_new_arch", "hidden_size": 64, "num_hidden_layers": 2,
              "num_attention_heads": 4, "vocab_size": 128, "intermediate_size": 96}
    derived = estimator.account_from_config(config)
    assert not derived.counts_known
    assert derived.count_basis == estimator.CountBasis.NEEDS_HEADERS
    assert any("headers" in note for note in derived.notes)
