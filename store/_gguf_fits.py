"""Real GGUF files of a base model, each with its fit on a budget (issue 15 §6, for the bot).

Each file is priced from its own tensor table and metadata (``estimator.estimate_gguf_file_fit``),
most downloaded quantizers first; files whose facts were not read are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from estimator import (
    Budget,
    QuantOption,
    estimate_gguf_file_fit,
    gguf_file_accounting,
    gguf_model_config,
)
from estimator.errors import ConfigError

from ._db import Database
from ._files import GgufFileRecord, list_gguf_files_for_base


@dataclass(frozen=True, slots=True)
class GgufFileFit:
    """One real file and its estimate (llama.cpp)."""

    file: GgufFileRecord
    option: QuantOption


async def list_gguf_file_fits(
    db: Database,
    base_model: str,
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: str = "f16",
    quant: str | None = None,
) -> tuple[GgufFileFit, ...]:
    """Every readable file made from ``base_model`` (or only ``quant``'s), priced on ``budget``."""
    records = await list_gguf_files_for_base(db, base_model)
    if quant:
        records = tuple(r for r in records if (r.quant or "").upper() == quant.upper())
    return price_gguf_files(records, budget, context=context, kv_type=kv_type)


def price_gguf_files(
    records: Iterable[GgufFileRecord],
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: str = "f16",
    flash_attention: bool = True,
) -> tuple[GgufFileFit, ...]:
    """Each readable model file priced on ``budget`` from its own tensor table and metadata, in order;
    files whose header was not read (or whose metadata the estimator cannot use) are left out."""
    fits = []
    for record in records:
        if record.kind != "model" or record.facts is None or record.layout is None:
            continue
        try:
            config = gguf_model_config(record.facts)
        except ConfigError:
            continue
        accounting = gguf_file_accounting(record.facts, record.layout)
        option = estimate_gguf_file_fit(
            config,
            record.layout,
            accounting,
            budget,
            context=context,
            kv_type=kv_type,
            flash_attention=flash_attention,
        )
        fits.append(GgufFileFit(record, option))
    return tuple(fits)
