"""The export's fast path gives the same best quantization per card as estimate_fit."""

import pytest

from estimator import FITS, ModelFacts, best_fitting_quants, estimate_fit, parse_budget
from store import load_bundled_catalog

QUANTS = ("BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS")
BUDGETS = ("8GB", "12GB", "16GB", "24GB", "32GB", "48GB", "80GB", "2x24GB", "M3 Max 128GB")


@pytest.mark.parametrize("record", load_bundled_catalog()[::3], ids=lambda r: r.repo_id)
def test_matches_the_fits_verdict_of_estimate_fit(record):
    """For every budget: the heaviest quant whose estimate_fit verdict is FITS, or None."""
    facts = ModelFacts(record.config, record.accounting)
    budgets = [parse_budget(b) for b in BUDGETS]
    expected = []
    for budget in budgets:
        report = estimate_fit(facts, budget, context=8192, quants=QUANTS)
        fitting = [o for o in report.options if o.verdict == FITS]
        expected.append(max(fitting, key=lambda o: o.weights_bytes).quant if fitting else None)
    assert best_fitting_quants(facts, budgets, QUANTS, context=8192) == tuple(expected)
