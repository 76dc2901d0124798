"""ParamAccounting to JSON and back: the one place accounting crosses the SQLite boundary."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from estimator import Components, CountBasis, MoeLayout, ParamAccounting, TensorGroup

FORMAT_VERSION = 1


def encode_accounting(a: ParamAccounting) -> str:
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
        tensor_groups=tuple(TensorGroup(str(r), int(p), int(s), int(f), int(c)) for r, p, s, f, c in raw["groups"]),
        notes=tuple(raw.get("notes", ())),
        count_basis=CountBasis(raw.get("count_basis", CountBasis.EXACT.value)),
    )


def encode_time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def decode_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
