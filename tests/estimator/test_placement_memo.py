"""Layer splits are memoised on their placement record and die with it (the bot soak's growth)."""

from __future__ import annotations

import copy
import gc
from dataclasses import replace

from estimator import parse_budget
from estimator._fit import profile_for
from estimator._placement import Placement, new_placement, placement_for, split_layers
from estimator._weights import layout_weights
from store import load_bundled_catalog


def _model() -> tuple[object, object]:
    record = next(r for r in load_bundled_catalog() if r.repo_id == "Qwen/Qwen2.5-32B-Instruct")
    return record.config, record.accounting


def test_a_replaced_placement_starts_with_no_splits() -> None:
    """replace() with another budget gives a record whose split is computed for that budget."""
    config, accounting = _model()
    layout = layout_weights("Q4_K_M", accounting, config)
    one = new_placement(layout, config, parse_budget("2x24GB"), profile_for("Q4_K_M"))
    split_layers(one)
    other = replace(one, budget=parse_budget("2x24GB+16GB"))
    assert other.splits == {}
    assert len(split_layers(other)) == 3 and len(split_layers(one)) == 2


def test_live_placements_are_bounded_by_the_placement_cache() -> None:
    """Asking with more distinct budgets than placement_for keeps, each with a fresh copy of the config
    (as the bot reads records afresh), leaves no more placements alive than that cache holds."""
    config, accounting = _model()
    layout = layout_weights("Q4_K_M", accounting, config)
    cap = placement_for.cache_info().maxsize
    assert cap is not None
    placement_for.cache_clear()
    for gib in range(8, 8 + cap + 300):
        placement = placement_for(layout, copy.deepcopy(config), parse_budget(f"{gib}GB"), profile_for("Q4_K_M"))
        split_layers(placement)
    del placement
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if type(o) is Placement)
    assert alive <= cap
