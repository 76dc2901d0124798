"""The use cases every surface shares: resolve a name, size a model, look up a term.

The CLI, ``fitbot ask`` and the Discord cogs all call these, so the terminal twin prints
exactly what the bot would show. The name index is kept in memory and rebuilt when the
catalog version moves (the crawler bumps it on every write).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from estimator import (
    Budget,
    DraftFit,
    FitReport,
    KvCacheType,
    ModelFacts,
    estimate_fit,
    estimate_fit_with_mtp_draft,
)
from store import (
    STATUS_GATED,
    STATUS_OK,
    CatalogStats,
    Database,
    GlossaryIndex,
    ModelRecord,
    NameIndex,
    Resolution,
    catalog_stats,
    get_catalog_version,
    get_model,
    list_glossary,
    name_index,
)
from store.errors import ModelNotFoundError

from ._local import read_local_model
from ._parsers import ModelRef
from .errors import ModelUnusableError

log = logging.getLogger(__name__)

# How often the catalog version is re-read; an index rebuild happens only when it moved.
VERSION_CHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    record: ModelRecord
    resolution: Resolution
    local: bool = False  # read from files on this machine, not from the catalog

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
    mtp_draft: DraftFit | None = None  # speculative decoding with the MTP draft: what each row holds


class CatalogService:
    """Store plus estimator, for the presentation layers."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
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

    async def resolve(self, ref: ModelRef) -> ResolvedModel:
        """The model ``ref`` names: a catalog entry.

        Raises:
            ModelNotFoundError: nothing matches (with suggestions).
        """
        if ref.path is not None:
            return await resolve_local(ref.path)
        text = ref.text
        await self.refresh()
        assert self._index is not None
        resolution = self._index.resolve(text)
        record = await get_model(self.db, resolution.repo_id)
        if record is None:  # deleted since the index was built
            await self.refresh(force=True)
            raise ModelNotFoundError(text, self._index.suggest(text))
        return ResolvedModel(record, resolution)

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
        if mtp_draft:
            draft = estimate_fit_with_mtp_draft(
                resolved.facts, budget, context=context, kv_type=kv_type, flash_attention=flash_attention
            )
            return FitAnswer(resolved, budget, draft.report, draft)
        report = estimate_fit(
            resolved.facts, budget, context=context, kv_type=kv_type, flash_attention=flash_attention
        )
        return FitAnswer(resolved, budget, report)

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


def usable(record: ModelRecord) -> bool:
    return record.status in (STATUS_OK, STATUS_GATED) and record.accounting is not None
