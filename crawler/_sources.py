"""The crawl sources file (TOML): what discovery lists, parsed into records.

Three kinds of source: ``top`` (the first N by a sort key, per pipeline in scope),
``authors`` (each author's most recently changed repos) and ``repos`` (explicit ids).
A ``limit`` is a whole number or ``"all"``; listings are paged, so it has no upper bound.
The bundled default lives in ``crawler/data/sources.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ._gguf_sources import GgufSources, parse_gguf_sources
from .errors import SourcesError

TOP = "top"
AUTHORS = "authors"
REPOS = "repos"
KINDS = (TOP, AUTHORS, REPOS)
# huggingface_hub's ModelSort_T
SORTS = ("downloads", "trending_score", "likes", "created_at", "last_modified")
ALL = "all"  # a source's ``limit``: every repo the listing holds (the Hub pages it with a cursor)
DEFAULT_PIPELINES = ("text-generation", "image-text-to-text")
DEFAULT_LIBRARY = "transformers"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which listed repos the crawler reads: language models with safetensors."""

    pipelines: tuple[str, ...] = DEFAULT_PIPELINES
    library: str = DEFAULT_LIBRARY


@dataclass(frozen=True, slots=True)
class Source:
    """One entry of the sources file."""

    name: str
    kind: str
    sort: str = "downloads"
    limit: int | None = 100  # None: every listed repo (``limit = "all"``)
    authors: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    max_age_days: int | None = None


@dataclass(frozen=True, slots=True)
class Sources:
    """The whole sources file."""

    scope: Scope
    sources: tuple[Source, ...]
    origin: str = field(default="sources.toml", compare=False)
    gguf: GgufSources | None = None  # the [gguf] table; None: no GGUF crawl

    def named(self, name: str) -> Source:
        """The source called ``name``.

        Raises:
            SourcesError: no source has that name.
        """
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise SourcesError(self.origin, f"there is no source named {name!r}", f"use one of: {known}")


def load_sources(path: Path | None = None) -> Sources:
    """Read the sources file at ``path``, or the bundled default.

    Raises:
        SourcesError: the file cannot be read or does not describe sources.
    """
    if path is None:
        text = resources.files("crawler").joinpath("data", "sources.toml").read_text(encoding="utf-8")
        return parse_sources(text, "bundled sources.toml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SourcesError(str(path), f"cannot be read ({e.strerror})") from e
    return parse_sources(text, str(path))


def parse_sources(text: str, origin: str = "sources.toml") -> Sources:
    """Parse the TOML text of a sources file.

    Raises:
        SourcesError: not TOML, an unknown kind or sort, a bad limit, a duplicate name.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SourcesError(origin, f"is not valid TOML ({e})") from e
    scope = _parse_scope(raw.get("scope", {}), origin)
    entries = raw.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise SourcesError(origin, "has no [[source]] entries")
    sources = tuple(_parse_source(entry, origin) for entry in entries)
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourcesError(origin, f"names {', '.join(duplicates)} more than once")
    gguf = parse_gguf_sources(raw["gguf"], origin) if "gguf" in raw else None
    return Sources(scope, sources, origin, gguf)


def _parse_scope(raw: object, origin: str) -> Scope:
    if not isinstance(raw, dict):
        raise SourcesError(origin, "[scope] is not a table")
    pipelines = _strings(raw.get("pipelines", list(DEFAULT_PIPELINES)), "scope.pipelines", origin)
    library = raw.get("library", DEFAULT_LIBRARY)
    if not isinstance(library, str) or not library:
        raise SourcesError(origin, 'scope.library must be a library name such as "transformers"')
    return Scope(pipelines, library)


def _parse_source(raw: object, origin: str) -> Source:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise SourcesError(origin, 'every [[source]] needs a name, e.g. name = "downloads"')
    name, kind = raw["name"], raw.get("kind")
    where = f"source {name!r}"
    if kind not in KINDS:
        raise SourcesError(origin, f"{where} has kind {kind!r}; use one of {', '.join(KINDS)}")
    sort = raw.get("sort", "last_modified" if kind == AUTHORS else "downloads")
    if sort not in SORTS:
        raise SourcesError(origin, f"{where} has sort {sort!r}; use one of {', '.join(SORTS)}")
    limit = _parse_limit(raw.get("limit", 100), where, origin)
    max_age = raw.get("max_age_days")
    if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 1):
        raise SourcesError(origin, f"{where} has max_age_days {max_age!r}; use a whole number of days")
    authors = _strings(raw.get("authors", []), f"{where} authors", origin)
    repos = _strings(raw.get("repos", []), f"{where} repos", origin)
    if kind == AUTHORS and not authors:
        raise SourcesError(origin, f"{where} lists no authors")
    if kind == REPOS and not repos:
        raise SourcesError(origin, f"{where} lists no repos")
    bad = [r for r in repos if r.count("/") != 1 or r.startswith("/") or r.endswith("/")]
    if bad:
        raise SourcesError(origin, f"{where} has repo ids that are not owner/name: {', '.join(bad)}")
    return Source(name, kind, sort, limit, authors, repos, max_age)


def _parse_limit(value: object, where: str, origin: str) -> int | None:
    # No upper bound: the listing is paged (huggingface_hub follows the Hub's Link cursor),
    # so a source can name 50,000 repos as well as 50.
    if value == ALL:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SourcesError(origin, f'{where} has limit {value!r}; use a whole number from 1, or "{ALL}"')
    return value


def _strings(value: object, what: str, origin: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SourcesError(origin, f"{what} must be a list of names")
    return tuple(value)
