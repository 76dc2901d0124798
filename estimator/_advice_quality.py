"""Rule 4, the quality floor, and the ranking it sits in: which option of one report a knowledgeable
member would pick, and what the pick gives up against the options it beat."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._advice_policy import (
    ABOVE_Q8,
    COMMUNITY_DEFAULT,
    HEADROOM,
    LOW_BIT_QUANTS,
    NATIVE_GGUF,
    USABLE_TOKENS_PER_S,
    Question,
    headroom,
    speed_text,
)
from ._fit import (
    DOES_NOT_FIT,
    FITS,
    FITS_REDUCED_CONTEXT,
    NEEDS_OFFLOAD,
    FitReport,
    QuantOption,
    offload_plan,
)
from ._runtime import LLAMA_CPP


@dataclass(frozen=True, slots=True)
class Choice:
    option: QuantOption
    kv: str
    tier: int
    reach: int
    speed: float | None


def choose(q: Question, report: FitReport, kv: str) -> Choice | None:
    """The best option of one report (``kv`` its cache type) under rules 2-4, or None when nothing runs."""
    model, target, asked = q.model, q.target, q.context_asked
    native = NATIVE_GGUF.get(model.accounting.quantization or "")
    choices = []
    for option in report.options:
        if option.runtime != LLAMA_CPP or option.verdict == DOES_NOT_FIT:
            continue
        if asked and option.verdict == FITS_REDUCED_CONTEXT:
            # Context first: offloading part of it may reach the asked context where the GPU alone cannot.
            plan = offload_plan(
                model,
                report.budget,
                option.quant,
                target,
                kv_type=kv,
                flash_attention=report.flash_attention,
                system_ram_bytes=report.system_ram_bytes,
            )
            if plan is not None:
                option = replace(option, verdict=NEEDS_OFFLOAD, offload=plan)
        if option.verdict == NEEDS_OFFLOAD:
            assert option.offload is not None
            speed, reach = option.offload.decode_tokens_per_s, target
        else:
            speed = option.decode_tokens_per_s
            reach = target if option.verdict == FITS else option.max_context
        choices.append(Choice(option, kv, _tier(option, speed, reach >= target, asked), reach, speed))
    if not choices:
        return None
    top = min(c.tier for c in choices)
    tier = [c for c in choices if c.tier == top]
    if native and any(c.option.quant == native for c in tier):
        return next(c for c in tier if c.option.quant == native)
    # Real files first: among equally good options, one that exists on the Hub beats an estimate.
    tier = [c for c in tier if q.file_for(c.option.quant)] or tier
    if top == 0:
        capped = [c for c in tier if c.option.quant not in ABOVE_Q8] or tier
        fast = [c for c in capped if c.speed is None or c.speed >= USABLE_TOKENS_PER_S]
        if not fast:  # everything is slow (CPU only, say): take the common 4-bit, or the fastest
            default = [c for c in capped if c.option.quant == COMMUNITY_DEFAULT]
            return default[0] if default else max(capped, key=lambda c: c.speed or 0.0)
        roomy = [c for c in fast if headroom(c.option) >= HEADROOM] or fast
        return max(roomy, key=lambda c: c.option.weights_bytes)
    if top == 1:
        default = [c for c in tier if c.option.quant == COMMUNITY_DEFAULT]
        return default[0] if default else max(tier, key=lambda c: c.speed or 0.0)
    if top in (2, 3):
        return max(tier, key=lambda c: c.option.weights_bytes)
    if top in (4, 5):
        return max(tier, key=lambda c: (c.reach, c.option.weights_bytes))
    return max(tier, key=lambda c: c.speed or 0.0)


def _tier(option: QuantOption, speed: float | None, full: bool, asked: bool) -> int:
    """Lower is better: full-GPU 4-bit+ first, then usable offload, then low-bit, then the rest."""
    low = option.quant in LOW_BIT_QUANTS
    usable = speed is None or speed >= USABLE_TOKENS_PER_S
    if option.verdict == FITS and full:
        return 2 if low else 0
    if option.verdict == NEEDS_OFFLOAD and usable:
        return 3 if low else 1
    reduced = 5 if low else 4
    slow = 7 if low else 6
    if option.verdict == FITS_REDUCED_CONTEXT or (option.verdict == FITS and not full):
        # Context first: when a context was asked, a slow offload that reaches it beats less context.
        return reduced + 2 if asked else reduced
    return slow - 2 if asked else slow


def trade_notes(best: Choice, report: FitReport, target: int) -> list[str]:
    """Say what the pick gives up against the options it beat."""
    notes = []
    option = best.option
    fast_low = [
        o
        for o in report.options
        if o.quant in LOW_BIT_QUANTS and o.verdict == FITS and o.runtime == LLAMA_CPP
    ]
    if option.verdict == NEEDS_OFFLOAD and fast_low:
        low = max(fast_low, key=lambda o: o.weights_bytes)
        notes.append(
            f"{low.quant} would fit in VRAM alone{speed_text(low.decode_tokens_per_s)}, but 3-bit-or-lower "
            f"quants lose noticeable quality; {option.quant} with offload keeps 4-bit-or-better"
            f"{speed_text(best.speed)}"
        )
    if option.verdict == FITS and option.quant == "Q8_0":
        above = [o for o in report.options if o.quant in ABOVE_Q8 and o.verdict == FITS]
        if above:
            notes.append(
                f"{above[0].quant} also fits; Q8_0 is near-lossless and reads half the bytes per token"
            )
    if best.speed is not None and best.speed < USABLE_TOKENS_PER_S:
        notes.append(
            f"slow: ~{best.speed:.1f} tok/s, below the {USABLE_TOKENS_PER_S:g} tok/s of reading speed; "
            "a smaller model will feel faster"
        )
    if option.quant in LOW_BIT_QUANTS:
        notes.append(
            f"{option.quant} is below 4 bits: expect noticeably lower quality; nothing at 4 bits "
            f"or more runs at {USABLE_TOKENS_PER_S:g} tok/s or faster here"
        )
    return notes
