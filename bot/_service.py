"""The use cases every surface shares: resolve a name, size a model, look up a term.

The CLI, ``fitbot ask`` and the Discord cogs all call these, so the terminal twin prints
exactly what the bot would show. The name index is kept in memory and rebuilt when the
catalog version moves (the crawler bumps it on every write).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from estimator import (
    Budget,
    DraftFit,
    FitReport,
    KvCacheType,
    ModelFacts,
    estimate_fit,
    estimate_fit_with_mtp_draft,
    gguf_file_accounting,
    gguf_model_config,
)
from estimator.errors import ConfigError
from store import (
    STATUS_GATED,
    STATUS_OK,
    CatalogStats,
    Database,
    GgufFileFit,
    GgufFileRecord,
    GgufRepoRecord,
    GlossaryIndex,
    ModelQuery,
    ModelRecord,
    NameIndex,
    QueryAnswer,
    RepoNotStoredError,
    Resolution,
    catalog_stats,
    get_base_model,
    get_catalog_version,
    get_model,
    list_glossary,
    list_quantized_repos,
    name_index,
    price_gguf_files,
    resolve_query,
)
from store.errors import ModelNotFoundError

from ._answer_quantized import QuantizedRepoFit, price_quantized_repos
from ._local import read_local_model
from ._parsers import ModelRef
from .errors import ModelUnusableError

log = logging.getLogger(__name__)

# How often the catalog version is re-read; an index rebuild happens only when it moved.
VERSION_CHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, for the limits on reading repos from the Hub (None: the terminal)."""

    user_id: int | None = None
    guild_id: int | None = None


# Reads one repo id from the Hub into the store (the composition root wires the crawler's reader
# and its per-user and per-server limits). Raises an InputError that says why when it cannot.
RepoReader = Callable[[str, Requester], Awaitable[None]]
TERMINAL = Requester()


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    record: ModelRecord
    resolution: Resolution
    local: bool = False  # read from files on this machine, not from the catalog
    query: ModelQuery | None = None
    gguf_repo: GgufRepoRecord | None = None  # the GGUF repo the user named by id
    files: tuple[GgufFileRecord, ...] = ()  # the real files named, or made from the named model
    names_files: bool = False  # the user named files (a GGUF repo, a file, a quant), not only a model
    read_on_demand: bool = False  # read from the Hub for this answer
    quantized_repos: tuple[ModelRecord, ...] = ()  # AWQ/GPTQ/FP8/NVFP4/MLX repos made from the model
    sibling: str | None = None  # no GGUF files of this model, but this sibling (base/-Instruct) has some
    sibling_files: int = 0

    @property
    def facts(self) -> ModelFacts:
        record = self.record
        if record.config is None or record.accounting is None:
            raise ModelUnusableError(record.repo_id, record.status, record.status_reason)
        return ModelFacts(record.config, record.accounting)


@dataclass(frozen=True, slots=True)
class FitAnswer:
    model: ResolvedModel
    budget: Budget
    report: FitReport
    files: tuple[GgufFileFit, ...] = ()  # the real files, each priced from its own tensor table
    mtp_draft: DraftFit | None = None  # speculative decoding with the MTP draft: what each row holds
    quantized_repos: tuple[QuantizedRepoFit, ...] = ()  # each run as stored, in its own runtime


class CatalogService:
    """Store plus estimator, for the presentation layers."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.monotonic,
        read_repo: RepoReader | None = None,
    ) -> None:
        self.db = db
        self._read_repo = read_repo
        self._clock = clock
        self._index: NameIndex | None = None
        self._glossary: GlossaryIndex | None = None
        self._version = -1
        self._checked_at = float("-inf")

    @property
    def index(self) -> NameIndex | None:
        """The name index, or None while it is cold (autocomplete answers nothing then)."""
        return self._index

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the name index if the catalog changed; True when it was rebuilt."""
        now = self._clock()
        if not force and self._index is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return False
        self._checked_at = now
        version = await get_catalog_version(self.db)
        if version == self._version and self._index is not None and not force:
            return False
        self._index = await name_index(self.db)
        self._version = version
        log.info("name index rebuilt: %d models (catalog version %d)", len(self._index), version)
        return True

    async def glossary(self) -> GlossaryIndex:
        if self._glossary is None:
            self._glossary = GlossaryIndex(await list_glossary(self.db))
        return self._glossary

    def complete_model(self, text: str) -> list[str]:
        """Autocomplete from memory only: fast, and empty while the index is cold."""
        return self._index.complete(text) if self._index is not None else []

    async def resolve(
        self,
        ref: ModelRef,
        requester: Requester = TERMINAL,
        before_hub_read: Callable[[], Awaitable[None]] | None = None,
    ) -> ResolvedModel:
        """The model ``ref`` names: a catalog entry, a GGUF repo, a file or a quant (issue 15 §4).

        A repo id the store does not hold is read from the Hub when a reader is wired, and is
        never answered with another repo; ``before_hub_read`` runs first (Discord defers there).

        Raises:
            ModelNotFoundError: nothing matches (with suggestions).
            RepoNotStoredError: a repo id not stored, and no Hub reader wired.
            InputError: the reader's own errors (no such repo, gated, over the limits).
            ModelUnusableError: a GGUF repo with no readable file and no stored base model.
        """
        if ref.path is not None:
            return await resolve_local(ref.path)
        text = ref.text
        await self.refresh()
        assert self._index is not None
        on_demand = False
        try:
            answer = await resolve_query(self.db, self._index, text)
        except RepoNotStoredError as e:
            if self._read_repo is None:
                raise
            if before_hub_read is not None:
                await before_hub_read()
            await self._read_repo(e.repo_id, requester)
            await self.refresh(force=True)
            answer = await resolve_query(self.db, self._index, text)
            on_demand = True
        record = await get_model(self.db, answer.model_id) if answer.model_id else _file_record(answer)
        if record is None:  # deleted since the index was built
            await self.refresh(force=True)
            raise ModelNotFoundError(text, self._index.suggest(text))
        quantized: tuple[ModelRecord, ...] = ()
        if not answer.names_files and answer.model_id is not None and not await self._derived(record):
            quantized = await list_quantized_repos(self.db, record.repo_id)
        return ResolvedModel(
            record,
            answer.resolution,
            query=answer.query,
            gguf_repo=answer.gguf_repo,
            files=answer.files,
            names_files=answer.names_files,
            read_on_demand=on_demand,
            quantized_repos=quantized,
            sibling=answer.sibling,
            sibling_files=answer.sibling_files,
        )

    async def _derived(self, record: ModelRecord) -> bool:
        """A quantized repo made from another model (not a natively FP8/MXFP4 release) is answered about
        itself, not about the repos made from it."""
        a = record.accounting
        if a is None or a.quantization in (None, "mxfp4"):
            return False
        return await get_base_model(self.db, record.repo_id) is not None

    async def fit(
        self,
        model: ModelRef | ResolvedModel,
        budget: Budget,
        *,
        context: int | None = None,
        kv_type: KvCacheType = KvCacheType.F16,
        flash_attention: bool = True,
        mtp_draft: bool = False,
    ) -> FitAnswer:
        """Resolve (unless already resolved) and estimate: the whole of ``/fit``.

        Every value arrives parsed, by the surface that read it. ``mtp_draft`` adds the MTP draft's
        weights and KV (speculative decoding) to every option.

        Raises:
            ModelNotFoundError: an unknown model.
            ModelUnusableError: a known model without usable counts.
            MtpDraftUnavailableError: ``mtp_draft`` for a model without MTP layers.
        """
        resolved = model if isinstance(model, ResolvedModel) else await self.resolve(model)
        files = price_gguf_files(
            resolved.files, budget, context=context, kv_type=kv_type, flash_attention=flash_attention
        )
        quantized = price_quantized_repos(
            resolved.quantized_repos,
            budget,
            context=context,
            kv_type=kv_type,
            flash_attention=flash_attention,
        )
        if mtp_draft:
            draft = estimate_fit_with_mtp_draft(
                resolved.facts, budget, context=context, kv_type=kv_type, flash_attention=flash_attention
            )
            return FitAnswer(resolved, budget, draft.report, files, draft, quantized)
        report = estimate_fit(
            resolved.facts, budget, context=context, kv_type=kv_type, flash_attention=flash_attention
        )
        return FitAnswer(resolved, budget, report, files, quantized_repos=quantized)

    async def stats(self) -> CatalogStats:
        """Counts and freshness of the catalog, for /about."""
        return await catalog_stats(self.db)


async def resolve_local(path: Path) -> ResolvedModel:
    """A checkpoint folder or config.json on this machine (the terminal only).

    Raises:
        LocalModelError, HeaderParseError, ConfigError: see ``read_local_model``.
    """
    record = await asyncio.to_thread(read_local_model, path)
    return ResolvedModel(record, Resolution(record.repo_id, exact=True), local=True)


def _file_record(answer: QueryAnswer) -> ModelRecord:
    """A GGUF repo whose base model is not stored, described by its first readable file.

    Raises:
        ModelUnusableError: no file of the repo could be read.
    """
    repo = answer.gguf_repo
    for f in answer.files:
        if f.facts is None or f.layout is None:
            continue
        try:
            config = gguf_model_config(f.facts)
        except ConfigError:
            continue
        # Counted from the file's tensor shapes; the estimated rows re-price them per quant. No
        # "stored" row: the file itself is priced in the files section, by llama.cpp.
        accounting = replace(gguf_file_accounting(f.facts, f.layout), quantization=None, stored_bytes=None)
        return ModelRecord(
            f.repo_id, repo.sha if repo else None, "header", STATUS_OK, None, config, accounting
        )
    name = repo.repo_id if repo else answer.query.text
    status = repo.status if repo else "not read"
    reason = repo.status_reason if repo else None
    raise ModelUnusableError(name, status, reason or "none of its GGUF files could be read")


def usable(record: ModelRecord) -> bool:
    return record.status in (STATUS_OK, STATUS_GATED) and record.accounting is not None
