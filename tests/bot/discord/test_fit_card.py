"""The /fit card: the verdict first, and each detail taken whole from the shared /fit document."""

from __future__ import annotations

import pytest

from bot._answer_fit import render_fit
from bot._discord._fit_card import FOOTER, Detail, fit_card
from bot._recommendation import recommendation_for
from estimator import DOES_NOT_FIT

from .catalog_answers import catalog_answer

CASES = [
    ("Qwen/Qwen2.5-32B-Instruct", "24GB"),
    ("Qwen/Qwen3-30B-A3B", "RTX 3060"),
    ("openai/gpt-oss-120b", "M4 Max 128GB"),
    ("meta-llama/Llama-3.1-8B-Instruct", "RX 6700 XT"),
    ("deepseek-ai/DeepSeek-V3", "2x3090 + 128GB RAM"),
    ("deepseek-ai/DeepSeek-V3", "8GB + 8GB RAM"),
]


def _plain(line) -> str:
    return "".join(r if isinstance(r, str) else r.text for r in line)


@pytest.mark.parametrize(("repo_id", "budget"), CASES)
def test_the_first_line_is_the_policys_pick(repo_id: str, budget: str) -> None:
    """The card opens with the recommendation's quantization (or "Does not fit"), and its verdict."""
    answer = catalog_answer(repo_id, budget)
    rec = recommendation_for(answer)
    card = fit_card(answer)
    first = _plain(card.lines[0])
    assert first.startswith("Does not fit") if rec.verdict == DOES_NOT_FIT else first.startswith(rec.quant)
    assert card.verdict == rec.verdict and card.notes == (FOOTER,) and not card.sections


@pytest.mark.parametrize(("repo_id", "budget"), CASES)
def test_details_are_the_shared_documents_own_parts(repo_id: str, budget: str) -> None:
    """Table shows every section of render_fit (whatever it carries); How to run its actions: the launch commands."""
    answer = catalog_answer(repo_id, budget)
    full = render_fit(answer)
    rec = recommendation_for(answer)
    assert fit_card(answer, Detail.TABLE).sections == full.sections
    assert [(a.label, a.command) for a in full.actions] == (
        [] if rec.verdict == DOES_NOT_FIT else [(str(k), v) for k, v in rec.launch]
    )
    run = fit_card(answer, Detail.RUN)
    assert run.actions == full.actions
    assert bool(run.sections) == (not full.actions)  # "nothing to run" only when there is nothing
    why = fit_card(answer, Detail.WHY)
    assert why.sections[0].heading == "Why this pick"
    assert len(why.sections[0].blocks) == len(rec.notes) + 2


def test_what_was_assumed_is_said_on_the_card() -> None:
    """A bare "24GB" makes the policy assume a card for the speed; the card says so up front."""
    card = fit_card(catalog_answer("Qwen/Qwen2.5-32B-Instruct", "24GB"))
    assert any(_plain(line).startswith("Assumed: speed assumes") for line in card.lines)
