"""/fit answers built straight from the bundled catalog, for tests of how an answer is drawn."""

from __future__ import annotations

from functools import cache

from bot._service import FitAnswer, ResolvedModel
from estimator import ModelFacts, estimate_fit, parse_budget
from store import ModelRecord, Resolution, load_bundled_catalog


@cache
def _catalog() -> dict[str, ModelRecord]:
    return {r.repo_id: r for r in load_bundled_catalog()}


def catalog_answer(repo_id: str, budget: str) -> FitAnswer:
    """The /fit answer for a bundled model on a budget, resolved by its exact repo id."""
    record = _catalog()[repo_id]
    parsed = parse_budget(budget)
    report = estimate_fit(ModelFacts(record.config, record.accounting), parsed)
    return FitAnswer(ResolvedModel(record, Resolution(repo_id, True)), parsed, report)
