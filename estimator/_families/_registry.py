"""model_type -> the builder that synthesises that family's checkpoint tensors."""

from __future__ import annotations

from collections.abc import Callable

from . import (
    _classic,
    _deepseek_v4,
    _gemma,
    _kimi_k3,
    _linear_attention,
    _mamba,
    _mimo,
    _minimax,
    _nemotron_nas,
    _routed,
)
from ._builder import Family, TensorBuilder
from ._decoder import DECODER_TYPES, build_decoder

Builder = Callable[[Family, TensorBuilder], None]

_BUILDERS: dict[str, Builder] = {
    **dict.fromkeys(DECODER_TYPES, build_decoder),
    **_linear_attention.BUILDERS,
    **_classic.BUILDERS,
    **_routed.BUILDERS,
    **_mamba.BUILDERS,
    **_gemma.BUILDERS,
    **_minimax.BUILDERS,
    **_kimi_k3.BUILDERS,  # kimi_linear: Kimi-Linear-48B, or Kimi-K3's layout when its keys are present
    **_deepseek_v4.BUILDERS,
    **_nemotron_nas.BUILDERS,
    **_mimo.BUILDERS,
}


def builder_for(model_type: str) -> Builder | None:
    """The family's builder, or None when its checkpoints are not described here."""
    return _BUILDERS.get(model_type)


def known_model_types() -> frozenset[str]:
    """Every model_type whose config-derived counts follow its real checkpoints."""
    return frozenset(_BUILDERS)
