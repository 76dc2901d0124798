"""The fit with the MTP (NextN) draft on: its weights and its KV, sized from the chosen context, in every row."""

from dataclasses import replace

import pytest

import estimator
from store import load_bundled_catalog


def _facts(repo: str) -> estimator.ModelFacts:
    record = next(r for r in load_bundled_catalog() if r.repo_id == repo)
    assert record.config is not None and record.accounting is not None
    return estimator.ModelFacts(record.config, record.accounting)


def _pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


DEEPSEEK = "deepseek-ai/DeepSeek-V3"


@pytest.mark.parametrize("context", [4096, 32768])
def test_every_row_adds_the_drafts_weights_and_its_kv_at_the_chosen_context(context):
    """Each row grows by the draft: MTP parameters at the row's bits, and one MLA latent per padded llama.cpp cell."""
    facts = _facts(DEEPSEEK)
    budget = estimator.parse_budget("8x H100")
    base = {o.quant: o for o in estimator.estimate_fit(facts, budget, context=context).options}
    drafted = estimator.estimate_fit_with_mtp_draft(facts, budget, context=context)
    assert drafted.mtp_params == facts.accounting.components.mtp > 0
    for option in drafted.report.options:
        draft = drafted.draft_for(option.quant)
        assert draft is not None and draft.layers == 1
        if option.quant not in ("FP8", "stored"):
            # llama.cpp: the NextN layer's cache is kv_lora_rank + rope dims (576) f16 values per padded cell
            assert draft.kv_bytes == _pad(context, 256) * 576 * 2
        main_params = facts.accounting.total_params - facts.accounting.components.mtp
        bits = 8 * base[option.quant].weights_bytes / main_params
        assert draft.weights_bytes == int(facts.accounting.components.mtp * bits / 8)
        assert option.weights_bytes == base[option.quant].weights_bytes + draft.weights_bytes
        if option.verdict == base[option.quant].verdict == estimator.FITS:
            assert option.kv_cache_bytes == base[option.quant].kv_cache_bytes + draft.kv_bytes
            assert option.total_bytes == base[option.quant].total_bytes + draft.total_bytes


def test_the_draft_can_tip_a_tight_fit_over():
    """A GPU that holds the model with less room than the draft needs no longer fits it at the same context."""
    facts = _facts("Qwen/Qwen3.5-27B")
    card = estimator.parse_budget("80GB")
    base = estimator.estimate_fit(facts, card, context=8192, quants=("Q4_K_M",)).options[0]
    assert base.verdict == estimator.FITS
    draft = estimator.estimate_fit_with_mtp_draft(facts, card, context=8192).draft_for("Q4_K_M")
    assert draft is not None
    device = card.devices[0]
    tight = replace(card, devices=(replace(device, usable_bytes=device.usable_bytes - (base.devices[0].capacity_bytes - base.total_bytes) + draft.total_bytes // 2),))
    assert estimator.estimate_fit(facts, tight, context=8192, quants=("Q4_K_M",)).options[0].verdict == estimator.FITS
    drafted = next(o for o in estimator.estimate_fit_with_mtp_draft(facts, tight, context=8192).report.options if o.quant == "Q4_K_M")
    assert drafted.verdict != estimator.FITS


def test_a_model_without_mtp_layers_says_so():
    """Asking for the MTP draft of a model that stores none is an input error naming what to type instead."""
    with pytest.raises(estimator.MtpDraftUnavailableError, match="speculative:mtp"):
        estimator.estimate_fit_with_mtp_draft(_facts("meta-llama/Llama-3.1-8B"), estimator.parse_budget("24GB"))
