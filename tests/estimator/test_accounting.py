"""Exact parameter accounting from header replicas and from config.json."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import estimator
from tests.factories import (
    ANCHORS, OTHER_LAYOUTS, QUANTIZED_VARIANTS, TINYLLAMA_TOTAL, data_size, header_tensors, nbytes,
    replica, replica_from_config, small_deepseek_config, small_dense_config, small_moe_config,
)

COUNTED = [*ANCHORS, *OTHER_LAYOUTS, *QUANTIZED_VARIANTS, "mistral-consolidated", "gated"]


# --- totals, active, components ------------------------------------------------------------------


@pytest.mark.parametrize("key", COUNTED)
def test_total_is_the_published_count(key, header_accounting):
    """account_from_tensors over all shards gives the published (or constructed) total, to the parameter."""
    assert header_accounting(key).total_params == replica(key).expected_total


@pytest.mark.parametrize("key", COUNTED)
def test_active_is_the_published_count(key, header_accounting):
    """The active count (no input embedding unless tied, no MTP, no vision, k of E experts) is exact."""
    assert header_accounting(key).active_params == replica(key).expected_active


@pytest.mark.parametrize("key", COUNTED)
def test_components_sum_to_the_expected_total(key, header_accounting):
    """The components add up to the total, which is the expected count."""
    accounting = header_accounting(key)
    assert sum(count for _, count in accounting.components.items()) == accounting.total_params
    assert accounting.components.total == replica(key).expected_total


@pytest.mark.parametrize("key", COUNTED)
def test_components_match_how_the_model_is_built(key, header_accounting):
    """Each component (embedding, attention, experts, norms, MTP, vision...) holds what the family puts there."""
    assert dict(header_accounting(key).components.items()) == replica(key).expected_components


@pytest.mark.parametrize(
    ("key", "layout"),
    [("deepseek-v3", (256, 8, 1, 58)), ("qwen3-30b-a3b", (128, 8, 0, 48)), ("mixtral-8x7b", (8, 2, 0, 32)),
     ("gpt-oss-20b", (32, 4, 0, 24)), ("qwen1.5-moe-a2.7b", (60, 4, 1, 24)),
     ("granite-moe-1b", (32, 8, 0, 24)), ("tiny-llama4", (16, 1, 1, 3)), ("dbrx", (16, 4, 0, 40)),
     ("olmoe-single-file", (64, 8, 0, 16))],
)
def test_moe_layout(key, layout, header_accounting):
    """Experts per layer, top-k, shared experts and MoE layer count come out of the headers right."""
    moe = header_accounting(key).moe
    assert (moe.num_experts, moe.experts_per_token, moe.shared_experts, moe.moe_layers) == layout
    assert replica(key).expected_moe == layout


@pytest.mark.parametrize("key", ["llama-3.1-8b", "qwen2.5-32b-instruct", "llama-3.2-1b-tied", "gemma3-4b-multimodal"])
def test_dense_models_have_no_moe_layout(key, header_accounting):
    """A dense model reports no MoE layout and no expert parameters."""
    accounting = header_accounting(key)
    assert accounting.moe is None
    assert accounting.components.routed_experts == accounting.components.shared_experts == 0


def test_deepseek_v3_mtp_layer(header_accounting):
    """DeepSeek-V3's model.layers.61 is the 13,463,426,304-parameter MTP component; the main model is 671,026,419,200."""
    accounting = header_accounting("deepseek-v3")
    assert accounting.components.mtp == 13_463_426_304
    assert accounting.total_params - accounting.components.mtp == 671_026_419_200


def test_mixtral_active_with_input_embedding(header_accounting):
    """Mixtral's active count plus its input embedding is the published 12,879,925,248."""
    accounting = header_accounting("mixtral-8x7b")
    assert accounting.active_params + accounting.components.embedding == 12_879_925_248


def test_tied_embeddings_count_once_and_stay_active(header_accounting):
    """Llama-3.2-1B has no lm_head tensor: the embedding is counted once and, as the output head, stays active."""
    accounting = header_accounting("llama-3.2-1b-tied")
    assert accounting.tied_embeddings is True
    assert accounting.components.lm_head == 0
    assert accounting.components.embedding == 128256 * 2048
    assert accounting.active_params == accounting.total_params == 1_235_814_400


def test_vision_tower_is_counted_but_not_active(header_accounting):
    """Gemma 3's SigLIP tower and projector are 419,816,304 parameters: in the total, not in the active count."""
    accounting = header_accounting("gemma3-4b-multimodal")
    siglip = 1152 * 3 * 14 * 14 + 1152 + 64 * 64 * 1152 + 2 * 1152
    siglip += 27 * (4 * (1152 * 1152 + 1152) + 4 * 1152 + 2 * 4304 * 1152 + 4304 + 1152)
    projector = 1152 * 2560 + 1152
    assert accounting.components.vision == siglip + projector == 419_816_304
    assert accounting.active_params == accounting.total_params - accounting.components.vision


# --- quantized storage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "method"),
    [("gptq-4bit", "gptq"), ("gptq-3bit", "gptq"), ("awq-4bit", "awq"), ("bnb-nf4", "bitsandbytes"),
     ("compressed-tensors-w4", "compressed-tensors"), ("mlx-4bit", "mlx"), ("mlx-4bit-legacy-config", "mlx")],
)
def test_quantized_variants_recover_the_unquantized_count(key, method, header_accounting):
    """Every packed copy of TinyLlama counts back to the BF16 model's 1,100,048,384 parameters."""
    accounting = header_accounting(key)
    assert accounting.quantization == method
    assert accounting.total_params == TINYLLAMA_TOTAL == replica(key).logical.total
    assert accounting.active_params == TINYLLAMA_TOTAL - 32000 * 2048
    assert accounting.components.mlp == 22 * 3 * 2048 * 5632


def test_bitsandbytes_without_quant_state_counts_two_per_byte(parsed_tensors, model_config):
    """Without reading quant_state, bnb 4-bit weights count 2 per stored byte (exact here: all sizes are even)."""
    accounting = estimator.account_from_tensors(parsed_tensors("bnb-nf4"), model_config("bnb-nf4"))
    assert accounting.total_params == TINYLLAMA_TOTAL


@pytest.mark.parametrize("key", COUNTED)
def test_stored_bytes_are_every_byte_span(key, header_accounting):
    """stored_bytes is the sum of all tensors' byte spans, scales and zero points included, per dtype too."""
    rep = replica(key)
    accounting = header_accounting(key)
    assert accounting.stored_bytes == sum(data_size(h) for h in rep.files.values())
    per_dtype = Counter()
    for header in rep.files.values():
        for _, dtype, shape in header_tensors(header):
            per_dtype[dtype] += nbytes(dtype, shape)
    assert dict(accounting.stored_dtypes) == dict(per_dtype)
    assert accounting.provenance == estimator.HEADER == "header"


def test_fp8_checkpoint_stores_one_byte_per_quantized_weight(header_accounting):
    """DeepSeek-V3's F8 bytes + BF16 elements + F32 router biases are its 684,489,845,504 logical parameters,
    and the F32 bytes are the 41,540,496 block scales plus 59 × 256 router score biases."""
    stored = dict(header_accounting("deepseek-v3").stored_dtypes)
    scale_elements = 684_531_386_000 - 684_489_845_504  # the Hub's raw count minus the logical one
    router_biases = (58 + 1) * 256  # e_score_correction_bias of each MoE layer, MTP layer included
    assert stored["F32"] == 4 * (scale_elements + router_biases)
    assert stored["F8_E4M3"] + stored["BF16"] // 2 + router_biases == 684_489_845_504
    assert set(stored) == {"F8_E4M3", "BF16", "F32"}


# --- config.json cross-check --------------------------------------------------------------------

CROSS_CHECKED = [k for k in COUNTED if k != "dbrx"]


@pytest.mark.parametrize("key", CROSS_CHECKED)
def test_config_accounting_agrees_with_headers(key, header_accounting, config_accounting):
    """account_from_config gives the header totals, active counts and MoE layout, marked provenance 'config'."""
    from_config, from_headers = config_accounting(key), header_accounting(key)
    assert from_config.total_params == from_headers.total_params == replica(key).expected_total
    assert from_config.active_params == from_headers.active_params
    assert from_config.moe == from_headers.moe
    assert (from_config.provenance, from_headers.provenance) == (estimator.CONFIG, estimator.HEADER)
    assert from_config.stored_bytes is None


def test_unsupported_family_is_flagged_from_config(config_accounting):
    """A config-only count of a family the synthesiser does not model (DBRX) says so in its notes."""
    assert any("dbrx" in note for note in config_accounting("dbrx").notes)


@pytest.mark.parametrize(
    "overrides",
    [{"num_hidden_layers": 3, "first_k_dense_replace": 3}, {"num_hidden_layers": 3, "first_k_dense_replace": 0,
                                                              "moe_layer_freq": 2}],
    ids=["all-decoder-layers-dense", "moe-every-second-layer"],
)
def test_mtp_layer_follows_the_moe_rule_for_its_own_index(overrides):
    """The MTP layer (index num_hidden_layers) is MoE exactly when modeling_deepseek_v3's rule says so for that
    index: MoE with 3 dense layers and first_k_dense_replace 3; dense at odd index 3 with moe_layer_freq 2."""
    config = small_deepseek_config(**overrides)
    expected = replica_from_config("tiny/deepseek", config).logical.total
    assert estimator.account_from_config(config).total_params == expected


# --- property tests -----------------------------------------------------------------------------


@st.composite
def _configs(draw):
    kind = draw(st.sampled_from(["llama", "qwen2", "qwen3", "mixtral", "qwen3_moe", "qwen2_moe", "deepseek_v3"]))
    heads = draw(st.integers(1, 8))
    kv = draw(st.sampled_from([d for d in range(1, heads + 1) if heads % d == 0]))
    head_dim = draw(st.sampled_from([4, 8, 16]))
    common = dict(
        num_attention_heads=heads, num_key_value_heads=kv, hidden_size=heads * head_dim,
        num_hidden_layers=draw(st.integers(1, 4)), vocab_size=draw(st.integers(1, 300)),
        intermediate_size=draw(st.integers(1, 96)), tie_word_embeddings=draw(st.booleans()),
    )
    if kind in ("llama", "qwen2", "qwen3"):
        return small_dense_config(model_type=kind, head_dim=head_dim, **common)
    experts = draw(st.integers(2, 6))
    moe = dict(moe_intermediate_size=draw(st.integers(1, 48)), num_experts=experts,
               num_experts_per_tok=draw(st.integers(1, experts)))
    if kind == "deepseek_v3":
        layers = common["num_hidden_layers"]
        return small_deepseek_config(
            **{k: v for k, v in common.items() if k != "tie_word_embeddings"},
            n_routed_experts=experts, num_experts_per_tok=moe["num_experts_per_tok"],
            moe_intermediate_size=moe["moe_intermediate_size"], first_k_dense_replace=draw(st.integers(0, layers - 1)),
            q_lora_rank=draw(st.none() | st.integers(1, 24)), kv_lora_rank=draw(st.integers(1, 24)),
            qk_nope_head_dim=draw(st.integers(1, 12)), qk_rope_head_dim=draw(st.integers(1, 8)),
            v_head_dim=draw(st.integers(1, 12)), num_nextn_predict_layers=draw(st.integers(0, 1)),
        )
    extra = {"shared_expert_intermediate_size": draw(st.integers(1, 32))} if kind == "qwen2_moe" else {}
    if kind != "mixtral":
        layers = common["num_hidden_layers"]
        extra["decoder_sparse_step"] = draw(st.integers(1, 2))
        extra["mlp_only_layers"] = draw(st.lists(st.integers(0, layers - 1), unique=True, max_size=layers))
    return small_moe_config(model_type=kind, head_dim=head_dim, **common, **moe, **extra)


@settings(max_examples=60, deadline=None)
@given(_configs())
def test_config_accounting_is_consistent(config):
    """For random dense and MoE configs, config counts equal header counts of an independent replica,
    components sum to the total, and active ≤ total."""
    from_config = estimator.account_from_config(config)
    rep = replica_from_config("random/model", config)
    tensors = [estimator.TensorInfo(n, d, s) for n, d, s in rep.tensors()]
    from_headers = estimator.account_from_tensors(tensors, estimator.parse_model_config(config))
    assert sum(count for _, count in from_config.components.items()) == from_config.total_params
    assert from_config.total_params == from_headers.total_params == rep.logical.total
    assert 0 < from_config.active_params <= from_config.total_params
    assert from_config.active_params == from_headers.active_params == rep.logical.active


def test_gemma3_config_relying_on_transformers_defaults_still_parses():
    """Gemma 3's published text_config omits heads, head_dim and vocab: the class defaults apply."""
    config = estimator.parse_model_config(
        {"model_type": "gemma3", "text_config": {"model_type": "gemma3_text", "hidden_size": 2560,
                                                 "intermediate_size": 10240, "num_hidden_layers": 34}}
    )
    assert (config.num_heads, config.num_kv_heads, config.head_dim, config.vocab_size) == (8, 4, 256, 262208)
    assert config.layer_kinds[:6] == ("sliding",) * 5 + ("full",)
