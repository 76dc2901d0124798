"""Per-tensor reports transcribed as rows, expanded back to every tensor they list.

A row is (name, dtype, shape, layers, experts): ``name`` holds ``{}`` for the layer number (and a second
``{}`` for the expert number when ``experts`` is non-zero); ``layers`` is None for a top-level tensor.
"""

from __future__ import annotations

from collections.abc import Iterable

from estimator import TensorInfo

Row = tuple[str, str, tuple[int, ...], "Iterable[int] | None", int]


def expand_rows(rows: Iterable[Row]) -> list[TensorInfo]:
    """Every tensor the rows stand for, named as the checkpoint names them."""
    out = []
    for name, dtype, shape, layers, experts in rows:
        if layers is None:
            out.append(TensorInfo(name, dtype, shape))
            continue
        for layer in layers:
            for expert in range(experts) if experts else (None,):
                filled = name.format(layer, expert) if expert is not None else name.format(layer)
                out.append(TensorInfo(filled, dtype, shape))
    return out
