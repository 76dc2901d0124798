"""The ``[gguf]`` table of the sources file: which GGUF repos the crawl discovers."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import SourcesError


@dataclass(frozen=True, slots=True)
class GgufSources:
    """The ``[gguf]`` table of the sources file."""

    top_limit: int = 100
    quantizers: tuple[str, ...] = ()
    per_quantizer_limit: int = 50
    base_models_limit: int = 50  # store models whose quantizations are looked up
    per_base_model_limit: int = 20


def load_gguf_sources(path: Path | None = None) -> GgufSources:
    """The ``[gguf]`` table of the sources file at ``path`` (or the bundled one).

    Raises:
        SourcesError: the table is malformed.
    """
    if path is None:
        text = resources.files("crawler").joinpath("data", "sources.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_gguf_sources(tomllib.loads(text).get("gguf", {}), str(path or "bundled sources.toml"))


def parse_gguf_sources(raw: object, origin: str) -> GgufSources:
    """Parse the ``[gguf]`` table.

    Raises:
        SourcesError: a limit is not a positive whole number, or quantizers is not a list of names.
    """
    if not isinstance(raw, dict):
        raise SourcesError(origin, "[gguf] is not a table")
    values: dict[str, object] = {}
    for name in ("top_limit", "per_quantizer_limit", "base_models_limit", "per_base_model_limit"):
        value = raw.get(name, getattr(GgufSources(), name))
        # No upper bound: GGUF listings are paged like the model listing.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SourcesError(origin, f"gguf.{name} is {value!r}; use a whole number from 0 up")
        values[name] = value
    quantizers = raw.get("quantizers", [])
    if not isinstance(quantizers, list) or not all(isinstance(q, str) and q for q in quantizers):
        raise SourcesError(origin, "gguf.quantizers must be a list of Hub user names")
    return GgufSources(quantizers=tuple(quantizers), **values)  # type: ignore[arg-type]
