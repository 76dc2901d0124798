"""The "why?" answer: every term of one estimate, with formula and inputs."""

from __future__ import annotations

from estimator import explain_option

from . import _format as fmt
from ._document import Document, Line, Section, code
from ._recommendation import recommendation_for
from ._safe import clean
from ._service import FitAnswer


def explained_quant(answer: FitAnswer, quant: str | None) -> str:
    """The option to explain: the one asked for, else the recommended pick (what the headline and
    the Discord card name) when it is a row of the table, else the table's best, else Q4_K_M."""
    if quant:
        return quant
    rows = {o.quant for o in answer.report.options}
    pick = recommendation_for(answer).quant
    if pick in rows:
        return pick
    return answer.report.best.quant if answer.report.best else "Q4_K_M"


def render_explain(answer: FitAnswer, quant: str | None = None) -> Document:
    """Every term of one option's estimate, with its formula and inputs."""
    quant = explained_quant(answer, quant)
    explanation = explain_option(answer.model.facts, answer.report, quant)
    sections = []
    for term in explanation.terms:
        body: tuple[Line, ...] = (
            (code(term.formula),),
            *((f"• {name}: {value}",) for name, value in term.inputs),
        )
        sections.append(
            Section(f"{term.name} = {fmt.gib(term.value_bytes, 3)} ({term.value_bytes:,} B)", body)
        )
    free = explanation.capacity_bytes - explanation.total_bytes
    room = f"fits with {fmt.gib(free, 3)} free" if free >= 0 else f"short by {fmt.gib(-free, 3)}"
    return Document(
        title=f"Why: {clean(answer.model.record.repo_id, 120)} at {quant} ({explanation.runtime})",
        lines=(
            (
                f"Total {fmt.gib(explanation.total_bytes, 3)} = the {len(explanation.terms)} terms below, "
                f"against {fmt.gib(explanation.capacity_bytes, 3)} of GPU memory "
                f"({room}), "
                f"at {fmt.tokens(explanation.context)} tokens of context.",
            ),
        ),
        sections=tuple(sections),
        notes=("Estimates from documented models; GiB = 2^30 bytes. Parameter counts are exact.",),
    )
