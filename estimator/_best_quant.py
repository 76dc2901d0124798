"""The one question the dataset export asks: which quantization fits entirely on each card?

``estimate_fit`` answers every question at once (verdicts, largest context, offload
bisection, decode speed) and memoises on whole frozen records; for 100,000 models that is
minutes (issue 13). This path computes each quantization's layout once per model, tries
the cards from the heaviest layout down, and calls the raw, unmemoised functions: the
answer is the same ``FITS`` test ``estimate_fit`` applies with nothing offloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ._budget import Budget
from ._fit import ModelFacts, profile_for
from ._placement import fits_at, new_placement, split_layers
from ._weights import STORED, layout_weights, stored_available

# The memoised wrapper hashes the whole accounting and config on every call (or keeps records
# that are never asked again); a model is asked once here, so the raw function is cheaper.
_layout = getattr(layout_weights, "__wrapped__", layout_weights)


def best_fitting_quants(
    model: ModelFacts, budgets: Sequence[Budget], quants: Sequence[str], *, context: int, kv_type: str = "f16"
) -> tuple[str | None, ...]:
    """For each budget, the quantization with the largest weights that fits entirely on its
    GPUs at ``context`` (``estimate_fit``'s ``FITS`` verdict), or None when none does."""
    config, accounting = model.config, model.accounting
    if not budgets:
        return ()
    layouts = []
    for n, quant in enumerate(quants):
        if quant == STORED and not stored_available(accounting):
            continue
        layout = _layout(quant, accounting, config)
        profile = profile_for(quant)
        # One placement per layout; each budget swaps in its devices and keeps the running sums.
        layouts.append((-layout.total, n, quant, new_placement(layout, config, budgets[0], profile)))
    layouts.sort(key=lambda item: item[:2])  # heaviest first; ties keep the given order, as max() does
    best: list[str | None] = []
    for budget in budgets:
        found = None
        for _, _, quant, first in layouts:
            placement = replace(first, budget=budget)  # a fresh record: its splits start empty
            if fits_at(split_layers(placement), placement, context, kv_type):
                found = quant
                break
        best.append(found)
    return tuple(best)
