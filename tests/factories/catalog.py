"""The bundled catalog's entries, looked up by repo id across its per-family files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _entries() -> dict[str, dict[str, Any]]:
    folder = resources.files("store").joinpath("data", "catalog")
    out: dict[str, dict[str, Any]] = {}
    for part in folder.iterdir():
        if part.name.endswith(".json"):
            out.update((m["repo_id"], m) for m in json.loads(part.read_text(encoding="utf-8"))["models"])
    return out


def catalog_entry(repo_id: str) -> dict[str, Any]:
    """The catalog entry (config, citations, published count) of ``repo_id``; treat it as read-only."""
    return _entries()[repo_id]


def catalog_config(repo_id: str) -> dict[str, Any]:
    """The config.json the catalog ships for ``repo_id``; treat it as read-only."""
    return catalog_entry(repo_id)["config"]
