"""Records to SQLite values and back: model rows by column name, accounting as JSON.

The one place a ``ModelRecord`` or ``ParamAccounting`` crosses the SQLite boundary.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from estimator import (
    Components,
    ConfigError,
    CountBasis,
    MoeLayout,
    ParamAccounting,
    TensorGroup,
    parse_model_config,
)

from ._records import HubFacts, ModelRecord

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# The columns a ModelRecord is read from and written to, in the order SELECTs list them.
MODEL_COLUMNS: tuple[str, ...] = (
    "repo_id", "sha", "provenance", "status", "status_reason",
    "author", "created_at", "last_modified", "downloads", "likes", "trending_score", "gated",
    "pipeline_tag", "library_name", "tags_json", "hub_total_params",
    "config_json", "accounting_json", "popularity", "read_at", "first_seen_at", "updated_at",
)  # fmt: skip
# Written with every row for lookups and queries; never read back into a record.
QUERY_COLUMNS: tuple[str, ...] = ("repo_key", "model_type", "total_params", "active_params", "stored_bytes")
# Kept from the first write of a repo when it is written again.
INSERT_ONLY_COLUMNS: frozenset[str] = frozenset({"repo_id", "first_seen_at", "repo_key"})


def model_row(r: ModelRecord, now: datetime) -> dict[str, Any]:
    """Every column of the models row for ``r``, by name."""
    h, accounting = r.hub, r.accounting
    return {
        "repo_id": r.repo_id,
        "sha": r.sha,
        "provenance": r.provenance,
        "status": r.status,
        "status_reason": r.status_reason,
        "author": h.author,
        "created_at": encode_time(h.created_at),
        "last_modified": encode_time(h.last_modified),
        "downloads": h.downloads,
        "likes": h.likes,
        "trending_score": h.trending_score,
        "gated": h.gated,
        "pipeline_tag": h.pipeline_tag,
        "library_name": h.library_name,
        "tags_json": json.dumps(list(h.tags)),
        "hub_total_params": h.hub_total_params,
        "config_json": r.config_json,
        "accounting_json": encode_accounting(accounting) if accounting else None,
        "popularity": r.popularity,
        "read_at": encode_time(r.read_at),
        "first_seen_at": encode_time(r.first_seen_at or now),
        "updated_at": encode_time(now),
        "repo_key": r.repo_id.lower(),
        "model_type": r.config.model_type if r.config else None,
        "total_params": accounting.total_params if accounting else None,
        "active_params": accounting.active_params if accounting else None,
        "stored_bytes": accounting.stored_bytes if accounting else None,
    }


def row_by_name(row: Sequence[Any]) -> dict[str, Any]:
    """A ``SELECT {MODEL_COLUMNS}`` row as a mapping from column name to value."""
    return dict(zip(MODEL_COLUMNS, row, strict=True))


def record_from_row(row: Mapping[str, Any], aliases: tuple[str, ...] = ()) -> ModelRecord:
    """The ``ModelRecord`` a models row holds; a stored config that no longer parses becomes None."""
    config = None
    config_json = row["config_json"]
    if config_json:
        try:
            config = parse_model_config(json.loads(config_json))
        except (ConfigError, ValueError) as e:
            log.warning("stored config of %s no longer parses: %s", row["repo_id"], e)
    accounting_json = row["accounting_json"]
    return ModelRecord(
        repo_id=row["repo_id"],
        sha=row["sha"],
        provenance=row["provenance"],
        status=row["status"],
        status_reason=row["status_reason"],
        config=config,
        accounting=decode_accounting(accounting_json) if accounting_json else None,
        hub=HubFacts(
            author=row["author"],
            created_at=decode_time(row["created_at"]),
            last_modified=decode_time(row["last_modified"]),
            downloads=row["downloads"],
            likes=row["likes"],
            trending_score=row["trending_score"],
            gated=row["gated"],
            pipeline_tag=row["pipeline_tag"],
            library_name=row["library_name"],
            hub_total_params=row["hub_total_params"],
            tags=tuple(json.loads(row["tags_json"] or "[]")),
        ),
        config_json=config_json,
        read_at=decode_time(row["read_at"]),
        first_seen_at=decode_time(row["first_seen_at"]),
        updated_at=decode_time(row["updated_at"]),
        aliases=aliases,
        popularity=float(row["popularity"] or 0),
    )


def encode_accounting(a: ParamAccounting) -> str:
    """Compact JSON for one accounting, with its format version."""
    return json.dumps(
        {
            "v": FORMAT_VERSION,
            "total_params": a.total_params,
            "active_params": a.active_params,
            "components": dict(a.components.items()),
            "moe": asdict(a.moe) if a.moe else None,
            "stored_bytes": a.stored_bytes,
            "stored_dtypes": [list(pair) for pair in a.stored_dtypes],
            "quantization": a.quantization,
            "provenance": a.provenance,
            "tied_embeddings": a.tied_embeddings,
            "groups": [[g.role, g.params, g.row_size, g.first_layer, g.layer_count] for g in a.tensor_groups],
            "notes": list(a.notes),
            "count_basis": a.count_basis.value,
        },
        separators=(",", ":"),
    )


def decode_accounting(text: str) -> ParamAccounting:
    """The accounting ``encode_accounting`` wrote."""
    raw = json.loads(text)
    moe = raw.get("moe")
    return ParamAccounting(
        total_params=int(raw["total_params"]),
        active_params=int(raw["active_params"]),
        components=Components(**{k: int(v) for k, v in raw["components"].items()}),
        moe=MoeLayout(**moe) if moe else None,
        stored_bytes=raw.get("stored_bytes"),
        stored_dtypes=tuple((str(d), int(b)) for d, b in raw.get("stored_dtypes", ())),
        quantization=raw.get("quantization"),
        provenance=raw["provenance"],
        tied_embeddings=bool(raw.get("tied_embeddings")),
        tensor_groups=tuple(
            TensorGroup(str(r), int(p), int(s), int(f), int(c)) for r, p, s, f, c in raw["groups"]
        ),
        notes=tuple(raw.get("notes", ())),
        count_basis=CountBasis(raw.get("count_basis", CountBasis.EXACT.value)),
    )


def encode_time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def decode_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
