"""Per-family descriptions of checkpoint tensors, synthesised from config.json."""

from ._builder import Family, TensorBuilder
from ._registry import builder_for, known_model_types

__all__ = ["Family", "TensorBuilder", "builder_for", "known_model_types"]
