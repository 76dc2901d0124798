"""What can I run? The models that run well on a budget, best first (pure: the caller passes the records).

A model qualifies when the recommendation policy (``_advice``) picks, for it, an option that is
4-bit or better, reaches at least 8K tokens of context (32K for ``long_context``), decodes at a
usable speed (``USABLE_TOKENS_PER_S``) and runs from VRAM (with offload if need be), not from disk.

Qualifying models are ranked by three signals, and only these:

* **what the community runs**: log10(downloads + 1) + 0.5 x log10(likes + 1);
* **recency**: up to +1 for a model updated today, falling linearly to 0 at one year old;
* **size class**: +0.5 x log2(total parameters in billions): of two equally popular models that
  both run, the larger one is usually the stronger one.

``use`` filters before ranking: ``chat`` (instruct/chat models), ``code`` (coder models),
``long_context`` (32K+ reached), ``vision`` (image input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ._advice import LOW_BIT_QUANTS, RUNS_FROM_DISK, USABLE_TOKENS_PER_S, recommend
from ._budget import Budget
from ._fit import DOES_NOT_FIT, ModelFacts
from ._runtime import Runtime

MIN_CONTEXT = 8192
LONG_CONTEXT = 32768
_RECENCY_DAYS = 365.0
_CHAT_WORDS = ("instruct", "chat", "-it", "conversational", "assistant")
_CODE_WORDS = ("code", "coder", "codestral", "starcoder")
_VISION_TAGS = ("image-text-to-text", "visual-question-answering", "vision")


class Use(StrEnum):
    """What the user wants the model for."""

    CHAT = "chat"
    CODE = "code"
    LONG_CONTEXT = "long_context"
    VISION = "vision"


@dataclass(frozen=True, slots=True)
class RankCandidate:
    """One catalog model, as the store knows it; ``age_days`` is counted by the caller (no clock here)."""

    repo_id: str
    facts: ModelFacts
    downloads: int = 0
    likes: int = 0
    age_days: float | None = None  # since the last modification on the Hub
    pipeline_tag: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RankedModel:
    """One line of "what can I run?"."""

    model: str
    quant: str
    file: str | None
    context: int
    decode_tokens_per_s: float | None
    verdict: str
    runtime: Runtime
    score: float
    signals: tuple[tuple[str, float], ...]  # (signal, its contribution to the score)


def parse_use(text: str) -> Use:
    """Read a use ("chat", "code", "long context", "vision").

    Raises:
        ValueError: not one of the four; the message lists them.
    """
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Use(key)
    except ValueError:
        raise ValueError(f"unknown use '{text}': try one of {', '.join(u.value for u in Use)}") from None


def rank_models(
    candidates: tuple[RankCandidate, ...] | list[RankCandidate],
    budget: Budget,
    *,
    use: Use | None = None,
    limit: int = 20,
) -> tuple[RankedModel, ...]:
    """The qualifying models on ``budget``, best first (the module docstring says how)."""
    context = LONG_CONTEXT if use is Use.LONG_CONTEXT else MIN_CONTEXT
    ranked = []
    for candidate in candidates:
        if use is not None and not _matches(candidate, use):
            continue
        facts = candidate.facts
        if facts.config.max_context is not None and facts.config.max_context < context:
            continue
        rec = recommend(facts, budget, repo_id=candidate.repo_id, context=context)
        if (
            rec.verdict in (RUNS_FROM_DISK, DOES_NOT_FIT)
            or rec.quant in LOW_BIT_QUANTS
            or rec.context < context
            or (rec.decode_tokens_per_s or 0.0) < USABLE_TOKENS_PER_S
        ):
            continue
        signals = _signals(candidate)
        ranked.append(
            RankedModel(
                model=candidate.repo_id,
                quant=rec.quant,
                file=rec.file,
                context=rec.context,
                decode_tokens_per_s=rec.decode_tokens_per_s,
                verdict=rec.verdict,
                runtime=rec.runtime,
                score=round(sum(v for _, v in signals), 4),
                signals=signals,
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.model))
    return tuple(ranked[:limit])


def _signals(candidate: RankCandidate) -> tuple[tuple[str, float], ...]:
    popularity = math.log10(max(0, candidate.downloads) + 1) + 0.5 * math.log10(max(0, candidate.likes) + 1)
    age = candidate.age_days
    recency = 0.0 if age is None else max(0.0, 1.0 - max(0.0, age) / _RECENCY_DAYS)
    billions = candidate.facts.accounting.total_params / 1e9
    size = 0.5 * math.log2(billions) if billions > 1 else 0.0
    return (
        ("popularity", round(popularity, 4)),
        ("recency", round(recency, 4)),
        ("size_class", round(size, 4)),
    )


def _matches(candidate: RankCandidate, use: Use) -> bool:
    name = candidate.repo_id.lower()
    tags = tuple(t.lower() for t in candidate.tags) + ((candidate.pipeline_tag or "").lower(),)
    if use is Use.CHAT:
        return any(w in name for w in _CHAT_WORDS) or "conversational" in tags
    if use is Use.CODE:
        return any(w in name for w in _CODE_WORDS) or any("code" in t for t in tags)
    if use is Use.VISION:
        return candidate.facts.config.has_vision or any(t in tags for t in _VISION_TAGS)
    return True  # long context: decided by the context the pick reaches
