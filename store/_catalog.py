"""The bundled catalog: public configs of popular models, counted from config.json.

It is what a fresh install answers with, offline. Every row is marked provenance
"config" until a crawl reads the real headers, and a crawl's rows are never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
from importlib import resources
from typing import Any

from estimator import parse_model_config

from ._bulk import insert_new_models
from ._db import Database
from ._glossary import load_bundled_glossary, replace_glossary
from ._guilds import get_meta, set_meta
from ._models import replace_config_models
from ._precompute import accounting_for, estimator_fingerprint, load_precomputed
from ._records import STATUS_OK, ModelRecord

log = logging.getLogger(__name__)

_FINGERPRINT_KEY = "bundled_fingerprint"
# The editorial popularity (1-100) stands in for downloads until a crawl brings real ones:
# 100 maps to 10**7 downloads, on the same log10 scale as crawled models.
_POPULARITY_SCALE = 7 / 100


def bundled_files() -> list[tuple[str, str]]:
    """(name, text) of every bundled data file, in a stable order."""
    root = resources.files("store").joinpath("data")
    files = [("glossary.toml", root.joinpath("glossary.toml").read_text(encoding="utf-8"))]
    catalog = root.joinpath("catalog")
    for entry in sorted(catalog.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            files.append((f"catalog/{entry.name}", entry.read_text(encoding="utf-8")))
    return files


def bundled_fingerprint() -> str:
    """The hash of every bundled data file: the store keeps it to know when they changed."""
    return hashlib.sha256("\n".join(f"{n}\n{t}" for n, t in bundled_files()).encode()).hexdigest()


def bundled_entries() -> list[dict[str, Any]]:
    """The bundled catalog's entries as written in store/data/catalog."""
    return [
        entry
        for name, text in bundled_files()
        if name.startswith("catalog/")
        for entry in json.loads(text)["models"]
    ]


def load_bundled_catalog() -> tuple[ModelRecord, ...]:
    """Catalog records with config-derived accounting (shipped precomputed where still valid)."""
    precomputed, estimator = load_precomputed(), estimator_fingerprint()
    return tuple(_record(entry, precomputed, estimator) for entry in bundled_entries())


def _record(entry: dict[str, Any], precomputed: dict[str, str], estimator: str) -> ModelRecord:
    config = entry["config"]
    return ModelRecord(
        repo_id=entry["repo_id"],
        sha=None,
        provenance="config",
        status=STATUS_OK,
        status_reason="derived from config.json (bundled catalog); not read from the checkpoint yet",
        config=parse_model_config(config),
        accounting=accounting_for(config, precomputed, estimator),
        config_json=json.dumps(config, sort_keys=True),
        aliases=tuple(entry.get("aliases", ())),
        popularity=float(entry.get("popularity", 0)) * _POPULARITY_SCALE,
    )


async def seed_bundled_data(db: Database) -> bool:
    """Load the bundled catalog and glossary when the database lacks them or they changed.

    Returns True when anything was written.
    """
    fingerprint = bundled_fingerprint()
    if await get_meta(db, _FINGERPRINT_KEY) == fingerprint and await db.fetchone(
        "SELECT 1 FROM models LIMIT 1"
    ):
        return False
    records = load_bundled_catalog()
    if await db.fetchone("SELECT 1 FROM models LIMIT 1") is None:  # a fresh store: the bulk path
        changed = await insert_new_models(db, records)
    else:
        changed = await replace_config_models(db, records)
    await replace_glossary(db, load_bundled_glossary())
    await set_meta(db, _FINGERPRINT_KEY, fingerprint)
    log.info("loaded the bundled catalog: %d models refreshed", changed)
    return True
