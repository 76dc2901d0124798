"""The /fit answer at phone width: the verdict first, each detail behind its own button.

The default card is the pick in a few short lines (``_recommendation.verdict_lines``), the
budget as read and the model's size: about 12 lines on a phone. The details come from the
shared ``render_fit`` document, generically, so whatever sections it carries (the memory
table, MoE offload, speed, real files) show under "Table" without code here:

* **Table**: every section of the document (tables narrowed to phone width by ``_embeds``);
* **Chart**: the PNG (``bot._chart``), attached only on request;
* **How to run**: the document's actions, the launch command of each runtime;
* **Why?**: the policy's notes and assumptions, then each term of the estimate.

The footer names no runtime reserve (no "CUDA" on an Apple or AMD budget); Why? names the
runtime and the policy's own notes (which say what was assumed).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from estimator import (
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    NEEDS_OFFLOAD,
    RUNS_FROM_DISK,
    Recommendation,
)

from .. import _format as fmt
from .._answer_files import card_file_line
from .._answer_fit import describe_budget, fit_subject, render_fit
from .._document import Action, Document, Line, Section, Tone
from .._recommendation import recommendation_for, verdict_lines
from .._safe import clean
from .._service import FitAnswer

__all__ = ["DETAIL_LABELS", "FOOTER", "Detail", "fit_card"]

Explain = Callable[[FitAnswer], Document]


class Detail(StrEnum):
    """What a /fit answer shows beyond its verdict: one at a time."""

    TABLE = "table"
    CHART = "chart"
    RUN = "run"
    WHY = "why"


DETAIL_LABELS = {Detail.TABLE: "Table", Detail.CHART: "Chart", Detail.RUN: "How to run", Detail.WHY: "Why?"}
FOOTER = "Estimates. GiB = 2^30 bytes. Why? says what was assumed."
TONES = {
    FITS: Tone.GOOD,
    FITS_REDUCED_CONTEXT: Tone.CAUTION,
    NEEDS_OFFLOAD: Tone.WARN,
    RUNS_FROM_DISK: Tone.WARN,
    DOES_NOT_FIT: Tone.BAD,
}
_NOTHING_TO_RUN = "Nothing to run: no option fits this budget, even with offload."


def _size_line(answer: FitAnswer) -> Line:
    accounting = answer.model.facts.accounting
    if not accounting.counts_known:
        return ("Sizes are estimates until the checkpoint's headers are read.",)
    text = f"{fmt.params_short(accounting.total_params)} parameters"
    if accounting.moe:
        text += f", MoE, {fmt.params_short(accounting.active_params)} active"
    return (text + ".",)


def _why(answer: FitAnswer, rec: Recommendation, explain: Explain | None) -> tuple[Section, ...]:
    lines: list[Line] = [(clean(note[:1].upper() + note[1:], 600) + ".",) for note in rec.notes]
    parallel = f", tensor parallel {rec.tensor_parallel}" if rec.tensor_parallel > 1 else ""
    lines.append((f"Runtime: {rec.runtime}{parallel}.",))
    lines.append(("Memory and speed are estimates; sizes in GiB (2^30 bytes).",))
    sections = [Section("Why this pick", tuple(lines))]
    if explain is not None:
        terms = explain(answer)
        if terms.lines:
            sections.append(Section("The estimate", terms.lines))
        sections.extend(terms.sections)
    return tuple(sections)


def fit_card(answer: FitAnswer, detail: Detail | None = None, *, explain: Explain | None = None) -> Document:
    """The /fit answer for a phone, with ``detail`` (if any) opened below the verdict."""
    rec = recommendation_for(answer)
    full = render_fit(answer, rec)
    named = answer.model.names_files
    file_line = card_file_line(answer.files, named=named)
    # A named file is the answer itself; otherwise the policy's pick leads, then the best real file.
    lines: list[Line] = [file_line] if named and len(answer.files) == 1 and file_line else []
    if not lines:
        lines.extend(verdict_lines(answer, rec))
        if file_line:
            lines.append(file_line)
    lines.append((f"Budget: {clean(describe_budget(answer.budget), 160)}.",))
    # Whatever the policy assumed (a card for a bare size, a Mac's memory) is said up front,
    # in its first clause; Why? has the whole note.
    lines.extend((clean("Assumed: " + note.split(";")[0], 80),) for note in rec.notes if "assum" in note)
    lines.append(_size_line(answer))
    resolution = answer.model.resolution
    if not resolution.exact:
        also = ", ".join(clean(a, 80) for a in resolution.alternatives[:2])
        lines.append((f"Closest match for your text{f' (also: {also})' if also else ''}.",))
    sections: tuple[Section, ...] = ()
    actions: tuple[Action, ...] = ()
    if detail is Detail.TABLE:
        sections = full.sections
    elif detail is Detail.RUN:
        actions = full.actions
        if not actions:
            sections = (Section("How to run", ((_NOTHING_TO_RUN,),)),)
    elif detail is Detail.WHY:
        sections = _why(answer, rec, explain)
    tone = TONES.get(rec.verdict, Tone.INFO)
    return Document(
        title=clean(fit_subject(answer)[0], 200),  # what was asked: the model, repo or file
        url=full.url,
        lines=tuple(lines),
        sections=sections,
        notes=(FOOTER,),
        tone=tone,
        verdict=rec.verdict,
        actions=actions,
    )
