"""Parameter accounting from config.json alone, marked "derived from config".

We synthesise the tensor list that the family's checkpoints carry (names and shapes as
transformers saves them, one module per family group under ``_families``) and run it
through the same accounting as real headers, so both paths classify, count and discount
experts identically. Used when headers are not available, and as a cross-check of header
counts. A family not described there is still sized as a Llama-style decoder, but the
result says ``CountBasis.NEEDS_HEADERS``: its numbers are not counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ._accounting import CONFIG, CountBasis, ParamAccounting, account_from_tensors
from ._config import ModelConfig, parse_model_config
from ._families import Family, TensorBuilder, builder_for, known_model_types
from ._families._decoder import build_decoder
from ._families._vision import add_vision

NEEDS_HEADERS_NOTE = "counts need the safetensors headers: the crawler will read them"


def account_from_config(raw: Mapping[str, object]) -> ParamAccounting:
    """Accounting derived from config.json, exact for the families in ``supported_model_types``.

    Raises:
        ConfigError: config.json lacks the sizing fields.
    """
    raw = _with_layer_count(raw)
    config = _with_model_tie(parse_model_config(raw), raw)
    family = Family(config, _text(raw), raw)
    builder = TensorBuilder()
    build = builder_for(config.model_type)
    (build or build_decoder)(family, builder)
    notes = add_vision(builder, family)
    if build is None:
        notes.append(f"'{config.model_type}' is not described from config.json")
    basis = CountBasis.NEEDS_HEADERS if notes else CountBasis.EXACT
    if notes:  # said once, after whatever was not described
        notes[-1] += f"; {NEEDS_HEADERS_NOTE}"
    if config.model_type == "longcat_flash":
        notes.append(
            "LongCat-Flash may route a token to zero-computation experts: the active count "
            "assumes all top-k picks are real experts (an upper bound)"
        )
    accounting = account_from_tensors(builder.tensors, config, provenance=CONFIG)
    return replace(accounting, notes=accounting.notes + tuple(notes), count_basis=basis)


def supported_model_types() -> frozenset[str]:
    """The model types whose config-derived counts follow their real checkpoints."""
    return known_model_types()


def _with_model_tie(config: ModelConfig, raw: Mapping[str, object]) -> ModelConfig:
    """A multimodal model ties its head as its top-level config says (transformers 5 ties by the
    outer config: a tiny Mistral 3 saved with text ``false`` and top-level ``true`` stores no head)."""
    tie = raw.get("tie_word_embeddings")
    if isinstance(raw.get("text_config"), Mapping) and isinstance(tie, bool):
        return replace(config, tie_word_embeddings=tie)
    return config


def _with_layer_count(raw: Mapping[str, object]) -> Mapping[str, object]:
    """transformers' Nemotron-H saves its layer count only as the length of ``layers_block_type``."""
    kinds = raw.get("layers_block_type")
    if "num_hidden_layers" in raw or not isinstance(kinds, list):
        return raw
    return {**raw, "num_hidden_layers": len(kinds)}


def _text(raw: Mapping[str, object]) -> Mapping[str, object]:
    """The language-model section: nested ``text_config`` fields over the top level."""
    text = raw.get("text_config")
    if not isinstance(text, Mapping):
        return raw
    merged = {k: v for k, v in raw.items() if not isinstance(v, Mapping)}
    merged.update(text)
    return merged
