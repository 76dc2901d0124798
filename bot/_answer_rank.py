"""The /rank answer: what runs on a budget, a few models per page (the ranking: estimator/_rank.py).

Each model takes two short lines, so a page reads on a phone without wrapping a table row;
the signals that rank the list are named on every page.
"""

from __future__ import annotations

from datetime import datetime

from estimator import ModelFacts, RankCandidate, RankedModel, Use, parse_use
from store import ModelRecord

from . import _format as fmt
from ._document import Document, Line, Tone, strong
from ._safe import clean
from .errors import UseParseError

__all__ = [
    "PAGE_SIZE",
    "RANK_SIGNALS",
    "parse_use_text",
    "rank_candidates",
    "render_rank",
]

PAGE_SIZE = 5
RANK_SIGNALS = (
    "Ranked by downloads and likes, recency and size class; "
    "4-bit or better, 8K+ context, usable speed. Speeds are estimates."
)
# The policy's rule for a bare size (estimator/_advice.py, rule 5), said where the list is.
ASSUMED_CARD = "Speeds assume the slowest card of that size: name your GPU for its own."


def parse_use_text(text: str) -> Use:
    """Read a use: chat, code, long context, vision.

    Raises:
        UseParseError: anything else; the message lists the four.
    """
    try:
        return parse_use(text)
    except ValueError as error:
        raise UseParseError(str(error)) from None


def downloads(record: ModelRecord) -> int:
    """The Hub's download count; for bundled-catalog rows without one, 10**popularity (its log10 stand-in)."""
    if record.hub.downloads is not None:
        return record.hub.downloads
    return round(10**record.popularity) - 1 if record.popularity > 0 else 0


def rank_candidates(records: tuple[ModelRecord, ...], now: datetime) -> list[RankCandidate]:
    """The catalog rows that can be sized, as the ranking's input (``now`` dates their recency)."""
    return [
        RankCandidate(
            r.repo_id,
            ModelFacts(r.config, r.accounting),
            downloads=downloads(r),
            likes=r.hub.likes or 0,
            age_days=(now - r.hub.last_modified).total_seconds() / 86400 if r.hub.last_modified else None,
            pipeline_tag=r.hub.pipeline_tag,
            tags=r.hub.tags,
        )
        for r in records
        if r.config is not None and r.accounting is not None
    ]


def _entry(number: int, ranked: RankedModel) -> tuple[Line, Line]:
    context = f"{ranked.context // 1024}K" if ranked.context % 1024 == 0 else fmt.tokens(ranked.context)
    # Under 40 characters, so each model is two lines on a phone.
    detail = f"{ranked.quant}, {context} ctx, {fmt.speed(ranked.decode_tokens_per_s)}, {ranked.runtime}"
    return (strong(f"{number}. {clean(ranked.model, 100)}"),), (detail,)


def render_rank(
    ranked: tuple[RankedModel, ...],
    budget_text: str,
    use: Use | None,
    *,
    card_assumed: bool = False,
    page_size: int = PAGE_SIZE,
) -> Document:
    """The ranked models as pages of ``page_size``; later pages ride in ``Document.pages``.

    ``card_assumed``: the budget is a bare size, so the speeds are those of an assumed card.
    """
    notes = (RANK_SIGNALS, ASSUMED_CARD) if card_assumed else (RANK_SIGNALS,)
    what = f" for {use.value.replace('_', ' ')}" if use else ""
    title = clean(f"What runs on {budget_text}{what}", 200)
    if not ranked:
        return Document(
            title=title,
            lines=(("Nothing in the catalog runs well on this budget at 4-bit or better.",),),
            notes=notes,
            tone=Tone.BAD,
        )
    pages: list[Document] = []
    for start in range(0, len(ranked), page_size):
        lines: list[Line] = []
        for n, item in enumerate(ranked[start : start + page_size], start=start + 1):
            lines.extend(_entry(n, item))
        pages.append(Document(title=title, lines=tuple(lines), notes=notes, tone=Tone.GOOD))
    first, *rest = pages
    return Document(
        title=first.title, lines=first.lines, notes=first.notes, tone=first.tone, pages=tuple(rest)
    )
