"""The forms a model query takes (issue 15 §4), resolved against the store.

A query is a repo id, a ``.gguf`` file name, a name plus a quant ("qwen2.5-32b Q4_K_M",
"qwen2.5 32b q4km", the Ollama tag "qwen2.5:32b-instruct-q4_K_M"), or a plain name. The quant
is split off before the name is looked up, so it never steers the match to another model; the
name goes through the name index's own resolver. A repo id is a precise request: it is
answered by that repo or not at all, never by the nearest stored one.

A name that asks for GGUF repos ("qwen2.5 32b instruct gguf", "bartowski qwen2.5 32b") is answered by
that GGUF repo: the name without "gguf" and the quantizer picks the model, and the quantizer only which
of that model's GGUF repos. Only when the model itself has no GGUF repo at all is its sibling of the
same family and size (base or -Instruct) looked at, and the answer then names the sibling's repo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ._codec import MODEL_COLUMNS, record_from_row, row_by_name
from ._db import Database
from ._files import GgufFileRecord, GgufRepoRecord, get_base_model, get_gguf_repo, list_gguf_files_for_base
from ._gguf_query import find_gguf_files_by_name, parse_quant_query
from ._models import get_model
from ._names import NameIndex, Resolution
from ._records import ModelRecord
from .errors import ModelNotFoundError, RepoNotStoredError

# The Hub's repo id rule (huggingface_hub validate_repo_id): owner/name of letters, digits, "-", "_", ".",
# at most 96 characters.
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
# A pasted Hub link: the repo page, or a file's blob/resolve page at any revision.
_HUB_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?P<repo>[^/\s]+/[^/\s?#]+)"
    r"(?:/(?:blob|resolve)/[^/\s]+/(?P<file>[^\s?#]+))?/?(?:[?#]\S*)?",
    re.IGNORECASE,
)
# The suffixes that tell a model's variants of one family and size apart on the Hub: the base model
# ("Qwen2.5-32B", "gemma-3-27b-pt") and its chat-tuned sibling ("-Instruct", "-it", "-Chat").
_VARIANT_SUFFIXES = ("-Instruct", "-instruct", "-Chat", "-chat", "-it", "-pt", "-Base", "-base")


class QueryForm(StrEnum):
    """What kind of thing a query names."""

    REPO_ID = "repo id"
    FILE = "file"
    QUANT = "name and quant"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class ModelQuery:
    """A query split into its form, the name to look up, and the quant it asks for."""

    text: str
    form: QueryForm
    name: str  # the repo id, or the name without the quant
    quant: str | None = None
    repo_id: str | None = None  # a file named inside one repo ("org/repo/file.gguf", or its Hub link)
    file: str | None = None  # the file name as typed, for the FILE form


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    """What a query resolved to: the catalog model the answer is about (None when the store has
    only the files), the GGUF repo it named, and the real files it names or that were made from it."""

    query: ModelQuery
    model_id: str | None
    resolution: Resolution
    gguf_repo: GgufRepoRecord | None = None
    files: tuple[GgufFileRecord, ...] = ()
    # The model has no GGUF files, but its sibling of the same family and size has this many.
    sibling: str | None = None
    sibling_files: int = 0

    @property
    def names_files(self) -> bool:
        """The user named files (a GGUF repo, a file, a quant), not only a model."""
        return self.gguf_repo is not None or self.query.form in (QueryForm.FILE, QueryForm.QUANT)


def is_repo_id(text: str) -> bool:
    """Whether ``text`` is written as a Hub repo id (owner/name)."""
    return _REPO_ID.fullmatch(text.strip()) is not None and ".." not in text and not text.endswith(".gguf")


def parse_model_query(text: str) -> ModelQuery:
    """Split a query into its form, name and quant (pure; see the module docstring)."""
    raw = " ".join(text.split())
    link = _HUB_URL.fullmatch(raw)
    if link and not link["file"]:
        return ModelQuery(raw, QueryForm.REPO_ID, link["repo"])
    path = f"{link['repo']}/{link['file']}" if link else raw
    if is_repo_id(path):
        return ModelQuery(raw, QueryForm.REPO_ID, path)
    repo_id, file = _repo_and_file(path)
    split = parse_quant_query(file.rsplit("/", 1)[-1] if file.lower().endswith(".gguf") else file)
    if split.is_file_name:
        return ModelQuery(raw, QueryForm.FILE, split.name, split.quant, repo_id, file)
    if split.quant is not None and split.name:
        return ModelQuery(raw, QueryForm.QUANT, split.name, split.quant)
    return ModelQuery(raw, QueryForm.NAME, raw)


def _repo_and_file(path: str) -> tuple[str | None, str]:
    """ "org/repo/folder/x.gguf" -> ("org/repo", "folder/x.gguf"); a bare file name has no repo."""
    parts = path.split("/")
    if len(parts) >= 3 and path.lower().endswith(".gguf") and is_repo_id("/".join(parts[:2])):
        return "/".join(parts[:2]), "/".join(parts[2:])
    return None, path


async def resolve_query(db: Database, index: NameIndex, text: str) -> QueryAnswer:
    """The model, GGUF repo and files ``text`` names.

    Raises:
        RepoNotStoredError: a repo id that the store does not hold (read it from the Hub, or say so).
        ModelNotFoundError: a name that matches nothing (with suggestions).
    """
    query = parse_model_query(text)
    if query.form is QueryForm.REPO_ID:
        return await _by_repo_id(db, query, query.name)
    if query.form is QueryForm.FILE:
        files = await find_gguf_files_by_name(db, query.file or text.strip())
        if query.repo_id is not None:
            files = tuple(f for f in files if f.repo_id.lower() == query.repo_id.lower())
            if not files:  # that repo's files at the quant the name carries (read on demand if need be)
                return _only_quant(await _by_repo_id(db, query, query.repo_id), query.quant)
        if files:
            base = next((f.base_model for f in files if f.base_model), None)
            model_id = await _stored_model(db, base)
            return QueryAnswer(query, model_id, Resolution(model_id or files[0].repo_id, True), None, files)
    if query.form in (QueryForm.FILE, QueryForm.QUANT) and is_repo_id(query.name):
        # "bartowski/X-GGUF Q4_K_M": that repo's files at that quant.
        answer = await _by_repo_id(db, query, query.name)
        return _only_quant(answer, query.quant)
    name = query.name if query.form is not QueryForm.NAME else text
    named_gguf = await _by_gguf_words(db, index, query, name)
    if named_gguf is not None:
        return _only_quant(named_gguf, query.quant)
    resolution = index.resolve(name)
    files = await list_gguf_files_for_base(db, resolution.repo_id)
    sibling = None if files else await sibling_with_files(db, resolution.repo_id)
    answer = QueryAnswer(query, resolution.repo_id, resolution, None, files, *(sibling or (None, 0)))
    return _only_quant(answer, query.quant)


def sibling_ids(repo_id: str) -> tuple[str, ...]:
    """The repo ids of ``repo_id``'s variants of the same family and size ("Org/X" <-> "Org/X-Instruct")."""
    org, slash, name = repo_id.partition("/")
    if not slash:
        return ()
    stem = next((name[: -len(s)] for s in _VARIANT_SUFFIXES if name.lower().endswith(s.lower())), name)
    ids = (f"{org}/{stem}{suffix}" for suffix in ("", *_VARIANT_SUFFIXES))
    return tuple(i for i in dict.fromkeys(ids) if i.lower() != repo_id.lower())


async def sibling_with_files(db: Database, repo_id: str) -> tuple[str, int] | None:
    """The sibling of ``repo_id`` (same family and size) with the most readable GGUF files, and how many."""
    siblings = sibling_ids(repo_id)
    if not siblings:
        return None
    marks = ",".join("?" * len(siblings))
    row = await db.fetchone(
        f"""SELECT base_model, count(*) FROM gguf_files
        WHERE base_model IN ({marks}) AND status = 'ok' AND kind = 'model'
        GROUP BY base_model ORDER BY count(*) DESC, base_model LIMIT 1""",
        siblings,
    )
    return (str(row[0]), int(row[1])) if row else None


async def list_quantized_repos(db: Database, base_model: str, limit: int = 20) -> tuple[ModelRecord, ...]:
    """Quantized safetensors repos (AWQ, GPTQ, FP8, NVFP4, MLX, ...) whose ``base_model`` link is
    ``base_model``, with header-exact stored bytes, most popular first (GGUF files are listed as files)."""
    rows = await db.fetchall(
        f"""SELECT {", ".join(MODEL_COLUMNS)} FROM models
        WHERE repo_key IN (SELECT lower(repo_id) FROM base_models WHERE base_model = ?)
        AND status = 'ok' AND provenance = 'header' AND stored_bytes > 0 AND lower(repo_id) != lower(?)
        AND coalesce(json_extract(accounting_json, '$.quantization'), 'gguf') != 'gguf'
        ORDER BY popularity DESC, repo_id LIMIT ?""",
        (base_model, base_model, limit),
    )
    return tuple(record_from_row(row_by_name(row)) for row in rows)


async def _by_gguf_words(db: Database, index: NameIndex, query: ModelQuery, name: str) -> QueryAnswer | None:
    """A name that asks for GGUF repos, answered by the GGUF repo it names (see the module docstring);
    None when the name does not ask for one or its model part matches nothing."""
    words = index.gguf_words(name)
    if not words.names_gguf or not words.rest.strip():
        return None
    try:
        resolution = index.resolve(words.rest)
    except ModelNotFoundError:
        return None
    model = resolution.repo_id
    repos = index.gguf_repos_of((model,), words.orgs)
    if not repos and not index.gguf_repos_of((model,)):  # no GGUF repo at all: the sibling's
        repos = index.gguf_repos_of(sibling_ids(model), words.orgs)
    if not repos:  # that quantizer did not convert this model: the model itself is the answer
        files = await list_gguf_files_for_base(db, model)
        return QueryAnswer(query, model, resolution, None, files)
    answer = await _by_repo_id(db, query, repos[0])
    found = Resolution(repos[0], False, tuple(repos[1:5]))
    return QueryAnswer(query, answer.model_id, found, answer.gguf_repo, answer.files)


async def _by_repo_id(db: Database, query: ModelQuery, repo_id: str) -> QueryAnswer:
    """A repo id answered by that repo only: a catalog model, or a GGUF repo and its base model."""
    model = await get_model(db, repo_id)
    if model is not None:
        files = await list_gguf_files_for_base(db, model.repo_id)
        sibling = None if files else await sibling_with_files(db, model.repo_id)
        exact = Resolution(model.repo_id, True)
        return QueryAnswer(query, model.repo_id, exact, None, files, *(sibling or (None, 0)))
    repo = await get_gguf_repo(db, repo_id)
    if repo is None:
        raise RepoNotStoredError(repo_id)
    base = await get_base_model(db, repo.repo_id)
    model_id = await _stored_model(db, base)
    usable = tuple(f for f in repo.files if f.kind == "model")
    return QueryAnswer(query, model_id, Resolution(repo.repo_id, True), repo, usable)


async def _stored_model(db: Database, repo_id: str | None) -> str | None:
    if not repo_id:
        return None
    model = await get_model(db, repo_id)
    return model.repo_id if model else None


def _only_quant(answer: QueryAnswer, quant: str | None) -> QueryAnswer:
    if quant is None:
        return answer
    wanted = quant.upper()
    kept = tuple(f for f in answer.files if (f.quant or "").upper() == wanted)
    return QueryAnswer(answer.query, answer.model_id, answer.resolution, answer.gguf_repo, kept)
