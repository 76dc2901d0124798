"""GGUF repos, their files, and the base model each quantized repo was made from.

A GGUF repo is written whole in one short transaction (its row, its files, its base model
link), so a reader never sees half of a repo's files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from estimator import GgufFacts, WeightLayout

from ._codec import decode_time, encode_time
from ._db import Database

SOURCE_CARD = "card"  # cardData.base_model of a quantized safetensors (or any) repo
SOURCE_GGUF = "gguf"  # general.base_model.* inside a GGUF file


@dataclass(frozen=True, slots=True)
class GgufFileRecord:
    """One downloadable GGUF file of a repo (split parts grouped)."""

    repo_id: str
    file: str
    quant: str | None
    kind: str  # "model" or "mmproj"
    size_bytes: int  # exact, from the tree listing (all parts)
    split_count: int
    status: str  # "ok" or "error"
    status_reason: str | None = None
    tensor_bytes: int | None = None  # sum of the tensors' data
    total_params: int | None = None  # from the tensor shapes
    header_bytes: int | None = None  # where tensor data starts (first part)
    base_model: str | None = None
    facts: GgufFacts | None = None
    layout: WeightLayout | None = None  # exact bytes llama.cpp loads, by its placement (MTP blocks left out)


@dataclass(frozen=True, slots=True)
class GgufRepoRecord:
    """A GGUF repo as last read, and its files."""

    repo_id: str
    sha: str | None
    status: str  # "ok", "gated", "not_found" or "error"
    status_reason: str | None
    read_at: datetime
    downloads: int | None = None
    files: tuple[GgufFileRecord, ...] = ()


async def replace_gguf_repo(db: Database, repo: GgufRepoRecord) -> None:
    """Write a repo and all its files, replacing what was stored, in one transaction."""
    async with db.write():
        await db.execute(
            """INSERT INTO gguf_repos (repo_id, sha, downloads, status, status_reason, read_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (repo_id) DO UPDATE SET sha = excluded.sha, downloads = excluded.downloads,
                status = excluded.status, status_reason = excluded.status_reason, read_at =
                excluded.read_at""",
            (
                repo.repo_id,
                repo.sha,
                repo.downloads,
                repo.status,
                repo.status_reason,
                encode_time(repo.read_at),
            ),
        )
        await db.execute("DELETE FROM gguf_files WHERE repo_id = ?", (repo.repo_id,))
        await db.executemany(
            f"INSERT INTO gguf_files ({_FILE_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [_file_row(f) for f in repo.files],
        )
        base = next((f.base_model for f in repo.files if f.base_model), None)
        if base:
            await _set_base_model(db, repo.repo_id, base, SOURCE_GGUF)


async def list_gguf_repo_shas(db: Database) -> dict[str, str]:
    """The sha each GGUF repo was last read at (repo id -> sha)."""
    rows = await db.fetchall("SELECT repo_id, sha FROM gguf_repos WHERE sha IS NOT NULL")
    return {str(r[0]): str(r[1]) for r in rows}


async def get_gguf_repo(db: Database, repo_id: str) -> GgufRepoRecord | None:
    """One GGUF repo with its files, or None when it was never read (the id matches case-blind)."""
    row = await db.fetchone(
        "SELECT repo_id, sha, status, status_reason, read_at, downloads FROM gguf_repos"
        " WHERE lower(repo_id) = lower(?)",
        (repo_id,),
    )
    if row is None:
        return None
    files = await db.fetchall(
        f"SELECT {_FILE_COLUMNS} FROM gguf_files WHERE repo_id = ? ORDER BY file", (row[0],)
    )
    read_at = decode_time(row[4])
    assert read_at is not None
    return GgufRepoRecord(
        row[0], row[1], row[2], row[3], read_at, row[5], tuple(_file_record(f) for f in files)
    )


async def list_gguf_files_for_base(db: Database, base_model: str) -> tuple[GgufFileRecord, ...]:
    """Every readable model file made from ``base_model``, most downloaded repos first."""
    rows = await db.fetchall(
        f"""SELECT {", ".join("f." + c.strip() for c in _FILE_COLUMNS.split(","))}
        FROM gguf_files f JOIN gguf_repos r ON r.repo_id = f.repo_id
        WHERE lower(f.base_model) = lower(?) AND f.status = 'ok' AND f.kind = 'model'
        ORDER BY coalesce(r.downloads, 0) DESC, f.repo_id, f.size_bytes""",
        (base_model,),
    )
    return tuple(_file_record(r) for r in rows)


async def upsert_base_model(db: Database, repo_id: str, base_model: str, source: str = SOURCE_CARD) -> None:
    """Record which model ``repo_id`` was made from."""
    async with db.write():
        await _set_base_model(db, repo_id, base_model, source)


async def get_base_model(db: Database, repo_id: str) -> str | None:
    """The model ``repo_id`` was made from, or None when none is recorded."""
    row = await db.fetchone("SELECT base_model FROM base_models WHERE lower(repo_id) = lower(?)", (repo_id,))
    return str(row[0]) if row else None


async def list_derived_repos(db: Database, base_model: str) -> tuple[str, ...]:
    """Repos recorded as made from ``base_model``."""
    rows = await db.fetchall(
        "SELECT repo_id FROM base_models WHERE lower(base_model) = lower(?) ORDER BY repo_id", (base_model,)
    )
    return tuple(str(r[0]) for r in rows)


async def _set_base_model(db: Database, repo_id: str, base_model: str, source: str) -> None:
    await db.execute(
        """INSERT INTO base_models (repo_id, base_model, source) VALUES (?, ?, ?)
        ON CONFLICT (repo_id) DO UPDATE SET base_model = excluded.base_model, source = excluded.source""",
        (repo_id, base_model, source),
    )


_FILE_COLUMNS = (
    "repo_id, file, quant, kind, size_bytes, split_count, status, status_reason, tensor_bytes, "
    "total_params, header_bytes, base_model, facts_json, layout_json"
)


def _file_row(f: GgufFileRecord) -> tuple[object, ...]:
    facts = json.dumps(asdict(f.facts), separators=(",", ":")) if f.facts else None
    layout = json.dumps(asdict(f.layout), separators=(",", ":")) if f.layout else None
    return (
        f.repo_id,
        f.file,
        f.quant,
        f.kind,
        f.size_bytes,
        f.split_count,
        f.status,
        f.status_reason,
        f.tensor_bytes,
        f.total_params,
        f.header_bytes,
        f.base_model,
        facts,
        layout,
    )


def _file_record(r: Sequence[Any]) -> GgufFileRecord:
    return GgufFileRecord(
        repo_id=str(r[0]),
        file=str(r[1]),
        quant=r[2],
        kind=str(r[3]),
        size_bytes=int(r[4]),
        split_count=int(r[5]),
        status=str(r[6]),
        status_reason=r[7],
        tensor_bytes=r[8],
        total_params=r[9],
        header_bytes=r[10],
        base_model=r[11],
        facts=_decode_facts(r[12]),
        layout=_decode_layout(r[13]),
    )


def _decode_facts(text: str | None) -> GgufFacts | None:
    if not text:
        return None
    raw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()}
    return GgufFacts(**raw)


def _decode_layout(text: str | None) -> WeightLayout | None:
    if not text:
        return None
    raw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()}
    return WeightLayout(**raw)
