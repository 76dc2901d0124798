"""The GPU–LLM fit dataset: one row per model, for people who read our numbers without Discord.

Columns are documented in the README ("Dataset export"). Memory verdicts use the same
estimator as ``fitbot fit``: for each common GPU size, the highest-precision llama.cpp
quantization that fits entirely in VRAM at 8,192 tokens of context with an f16 KV cache
(``best_fitting_quants``: the ``FITS`` verdict alone, without offload planning).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from functools import cache
from typing import TypeVar

from estimator import (
    Budget,
    ModelFacts,
    best_fitting_quants,
    kv_bytes_per_token,
    parse_budget,
)
from store import ModelRecord

K = TypeVar("K")
V = TypeVar("V")

EXPORT_CONTEXT = 8192
GPU_SIZES_GB = (8, 12, 16, 24, 32, 48, 80)
EXPORT_QUANTS = ("BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS")
COMPONENTS = (
    "embedding",
    "lm_head",
    "attention",
    "mlp",
    "shared_experts",
    "routed_experts",
    "router",
    "norm",
    "mtp",
    "vision",
    "other",
)

COLUMNS = (
    "repo_id",
    "sha",
    "provenance",
    "status",
    "model_type",
    "total_params",
    "active_params",
    *(f"params_{c}" for c in COMPONENTS),
    "moe_num_experts",
    "moe_experts_per_token",
    "moe_shared_experts",
    "moe_layers",
    "stored_bytes",
    "quantization",
    "max_context",
    "kv_bytes_per_token_f16",
    "hub_total_params",
    "read_at",
    *(f"best_quant_{size}gb" for size in GPU_SIZES_GB),
)


class BestQuantMemo:
    """Best quant per card (and KV bytes per token), remembered per architecture for one export.

    Fine-tunes, merges and re-uploads share their base model's shapes, so most rows repeat
    an architecture already sized (each costs ~10 GGUF layouts, a few ms apiece). The key is
    the stored config text and the tensor groups, cheap to hash, never the whole records.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self._known: dict[tuple[object, ...], tuple[str | None, ...]] = {}
        self._kv: dict[str, int] = {}
        self._limit = limit

    def kv_bytes_per_token(self, record: ModelRecord) -> int:
        """The f16 KV bytes per token of the record's config, summed over its layers once per config."""
        assert record.config is not None
        if record.config_json is None:  # a record built in code, not read from the store
            return kv_bytes_per_token(record.config)
        config = record.config
        return self._remember(self._kv, record.config_json, lambda: kv_bytes_per_token(config))

    def best(self, record: ModelRecord) -> tuple[str | None, ...]:
        a, config = record.accounting, record.config
        assert a is not None and config is not None
        key = (
            record.config_json,
            a.tensor_groups,
            a.tied_embeddings,
            a.quantization,
            a.stored_bytes,
            a.total_params,
        )
        return self._remember(
            self._known,
            key,
            lambda: best_fitting_quants(
                ModelFacts(config, a), _budgets(), EXPORT_QUANTS, context=EXPORT_CONTEXT
            ),
        )

    def _remember(self, known: dict[K, V], key: K, compute: Callable[[], V]) -> V:
        """``known[key]``, computed the first time; the memo starts over when it is full."""
        found = known.get(key)
        if found is None:
            found = compute()
            if len(known) >= self._limit:
                known.clear()
            known[key] = found
        return found


def export_row(record: ModelRecord, memo: BestQuantMemo | None = None) -> dict[str, object]:
    a, config = record.accounting, record.config
    memo = memo or BestQuantMemo()
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(
        repo_id=record.repo_id,
        sha=record.sha,
        provenance=record.provenance,
        status=record.status,
        hub_total_params=record.hub.hub_total_params,
        read_at=record.read_at.isoformat() if record.read_at else None,
    )
    if config is not None:
        row.update(
            model_type=config.model_type,
            max_context=config.max_context,
            kv_bytes_per_token_f16=memo.kv_bytes_per_token(record),
        )
    if a is None:
        return row
    row.update(stored_bytes=a.stored_bytes, quantization=a.quantization)
    if counted := record.counted:  # an undescribed family's config-derived sizes are not counts
        row.update(total_params=counted.total_params, active_params=counted.active_params)
        row.update({f"params_{name}": count for name, count in counted.components.items()})
    if a.moe:
        row.update(
            moe_num_experts=a.moe.num_experts,
            moe_experts_per_token=a.moe.experts_per_token,
            moe_shared_experts=a.moe.shared_experts,
            moe_layers=a.moe.moe_layers,
        )
    if config is not None:
        best = memo.best(record)
        row.update({f"best_quant_{size}gb": quant for size, quant in zip(GPU_SIZES_GB, best, strict=True)})
    return row


@cache
def _budgets() -> tuple[Budget, ...]:
    return tuple(parse_budget(f"{size}GB") for size in GPU_SIZES_GB)


def stream_rows(
    pages: AsyncIterator[tuple[ModelRecord, ...]], loop: asyncio.AbstractEventLoop
) -> Iterator[dict[str, object]]:
    """Export rows as the store pages them in: memory stays one page deep at any catalog size."""
    memo = BestQuantMemo()
    while True:
        try:
            page = loop.run_until_complete(anext(pages))
        except StopAsyncIteration:
            return
        yield from (export_row(record, memo) for record in page)


def write_csv(rows: Iterable[dict[str, object]], out: io.TextIOBase) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count


def write_json(rows: Iterable[dict[str, object]], out: io.TextIOBase) -> int:
    """One JSON object, written row by row (the same document ``json.dump`` would make)."""
    head = json.dumps({"columns": list(COLUMNS), "context": EXPORT_CONTEXT}, indent=1)
    out.write(head[:-2] + ',\n "rows": [')
    count = 0
    for row in rows:
        out.write(("," if count else "") + "\n  " + json.dumps(row, indent=1).replace("\n", "\n  "))
        count += 1
    out.write("\n ]\n}\n" if count else "]\n}\n")
    return count


def write_parquet(rows: Iterable[dict[str, object]], path: str) -> int:
    """Parquet through the optional ``parquet`` extra (pyarrow), so the base install stays small."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = list(rows)
    table = (
        pa.Table.from_pylist(items, schema=None)
        if items
        else pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
    )
    pq.write_table(table, path)
    return len(items)
