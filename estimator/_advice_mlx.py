"""Rule 1 on a Mac: mlx_lm where it fits better than llama.cpp.

An MLX 4-bit copy costs 4.5 bits per weight with its group scales (``_weights._mlx_sizer``), less than
Q4_K_M's mix, and mlx_lm never duplicates a tied embedding as the output head as llama.cpp does, so on Apple
unified memory an MLX copy can hold 8 bits where llama.cpp's pick has fewer, or 4-bit quality and
the asked context where llama.cpp had to drop below 4 bits or cut the context. Then MLX is the
pick and the llama.cpp command stays beside it.
"""

from __future__ import annotations

from ._advice_policy import (
    HEADROOM,
    LOW_BIT_QUANTS,
    USABLE_TOKENS_PER_S,
    Question,
    Recommendation,
    hardware_wording,
    headroom,
)
from ._budget import Budget
from ._fit import FITS, QuantOption
from ._launch import mlx_server
from ._runtime import Runtime
from ._units import GIB
from ._weights import MLX_4BIT, MLX_8BIT, MLX_BITS

_EIGHT_BITS_OR_MORE = frozenset({"Q8_0", "BF16", "F16", "MXFP4_MOE"})  # MXFP4: gpt-oss's native format


def apple_only(budget: Budget) -> bool:
    """Whether every device of the budget is an Apple GPU (unified memory, Metal and MLX)."""
    return bool(budget.devices) and all(d.gpu and d.gpu.vendor == "apple" for d in budget.devices)


def mlx_pick(q: Question, llama: Recommendation, notes: list[str]) -> Recommendation | None:
    """MLX instead of ``llama`` when an MLX copy runs all of ``base``'s context and does better: 8-bit
    with headroom where llama.cpp's pick has fewer bits, or 4-bit where llama.cpp falls short (below
    4 bits, less context than asked, not all in memory); else None."""
    budget, base, repo_id = q.budget, q.base, q.repo_id
    if not apple_only(budget):
        return None
    fitting = {
        o.quant: o for o in base.options if o.runtime == Runtime.MLX and o.verdict == FITS and _usable(o)
    }
    roomy = MLX_8BIT in fitting and headroom(fitting[MLX_8BIT]) >= HEADROOM
    short = llama.verdict != FITS or llama.quant in LOW_BIT_QUANTS or llama.context < base.context
    if roomy and (short or llama.quant not in _EIGHT_BITS_OR_MORE):
        option = fitting[MLX_8BIT]  # 8 bits where llama.cpp's pick has fewer
    elif short and MLX_4BIT in fitting:
        option = fitting[MLX_4BIT]
    else:
        return None
    bits = MLX_BITS[option.quant]
    if llama.verdict == FITS and llama.context >= base.context:
        why = f"llama.cpp's pick is {llama.quant}" + (
            ", below 4 bits" if llama.quant in LOW_BIT_QUANTS else ""
        )
    else:
        why = f"llama.cpp reaches {llama.context:,} tokens with {llama.quant} ({llama.verdict})"
    return Recommendation(
        quant=option.quant,
        file=None,
        runtime=Runtime.MLX,
        context=base.context,
        max_context=max(option.max_context, base.context),
        kv_cache="auto",  # mlx_lm keeps K and V in the model dtype
        offload=None,
        decode_tokens_per_s=option.decode_tokens_per_s,
        verdict=FITS,
        launch=((str(Runtime.MLX), mlx_server(repo_id, bits=bits)), *llama.launch),
        notes=(
            *notes,
            f"MLX {bits}-bit ({option.weights_bytes / GIB:.1f} GiB: {bits} bits per weight plus a "
            f"scale and a bias per 64) runs {base.context:,} tokens in memory; {why}",
            hardware_wording(budget),
        ),
        gpu_bytes=option.total_bytes,
        capacity_bytes=sum(d.capacity_bytes for d in option.devices),
    )


def _usable(option: QuantOption) -> bool:
    """The quality floor's speed test (rule 4): a slow MLX copy does not beat a faster llama.cpp pick."""
    speed = option.decode_tokens_per_s
    return speed is None or speed >= USABLE_TOKENS_PER_S
