"""What mixes tokens in each layer, read from the keys each hybrid family really uses.

Counting needs only attention versus the family's other mixer, so this stays separate from
the KV-cache layer kinds in ``_config``. Keys: ``layer_types``, ``layers_block_type``,
``hybrid_override_pattern`` (Nemotron-H: M mamba, * attention, - MLP, E MoE),
``linear_attn_config`` (Kimi-Linear, 1-based), ``attn_type_list`` (MiniMax: 1 softmax),
``full_attn_idxs`` (LFM2), ``full_attention_interval`` (Qwen3-Next), ``attn_layer_period``/
``attn_layer_offset`` (Jamba) and ``attn_layer_indices`` (Falcon-H1 style lists).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .._config import ModelConfig
from ._builder import Family, TensorBuilder

ATTENTION = "attention"
OTHER = "other"
_ATTENTION_NAMES = frozenset(
    {
        "full_attention",
        "sliding_attention",
        "attention",
        "global",
        "local",
        "hybrid",
        "chunked_attention",
        "*",
        "full",
    }
)


def mixer_layers(f: Family, b: TensorBuilder, *norms: str) -> Iterator[tuple[int, str, str]]:
    """Each decoder layer's index, mixer and name prefix (``model.layers.i``), its hidden-size norms
    (``norms``, named under the prefix) already added: the loop every hybrid builder starts with."""
    h = f.config.hidden_size
    for i, mixer in enumerate(layer_mixers(f)):
        p = f"model.layers.{i}"
        for norm in norms:
            b.norm(f"{p}.{norm}", h)
        yield i, mixer, p


def layer_mixers(f: Family) -> tuple[str, ...]:
    """Per layer: ``"attention"``, or the family's own name for its other mixer."""
    n = f.config.num_layers
    types = f.strings("layer_types") or f.strings("layers_block_type")
    pattern = f.text.get("hybrid_override_pattern")
    if isinstance(pattern, str) and len(pattern) == n:
        return tuple(_name(ch) for ch in pattern)
    if len(types) == n:
        return tuple(_name(t) for t in types)
    section = f.text.get("linear_attn_config")
    if isinstance(section, Mapping) and isinstance(section.get("full_attn_layers"), list):
        full = {int(i) - 1 for i in section["full_attn_layers"]}
        return tuple(ATTENTION if i in full else "linear_attention" for i in range(n))
    attn_types = f.ints("attn_type_list")
    if len(attn_types) == n:
        return tuple(ATTENTION if t == 1 else "linear_attention" for t in attn_types)
    for key in ("full_attn_idxs", "attn_layer_indices"):
        if key in f.text:
            full = set(f.ints(key))
            return tuple(ATTENTION if i in full else OTHER for i in range(n))
    if interval := f.integer("full_attention_interval"):
        return tuple(ATTENTION if (i + 1) % interval == 0 else "linear_attention" for i in range(n))
    if period := f.integer("attn_layer_period"):
        offset = f.integer("attn_layer_offset")
        return tuple(ATTENTION if i % period == offset else "mamba" for i in range(n))
    return (ATTENTION,) * n


def mixer_names(kinds: str | tuple[str, ...]) -> tuple[str, ...]:
    """The mixers a pattern names, one per character or entry (``"*E"``, ``("attention", "moe")``)."""
    return tuple(_name(kind) for kind in kinds)


def _name(kind: str) -> str:
    return (
        ATTENTION
        if kind.lower() in _ATTENTION_NAMES
        else {"M": "mamba", "-": "mlp", "E": "moe"}.get(kind, kind)
    )


def moe_layer_set(c: ModelConfig) -> frozenset[int]:
    """The layers whose feed-forward block is a mixture of experts."""
    return frozenset(c.moe.moe_layers) if c.moe else frozenset()
