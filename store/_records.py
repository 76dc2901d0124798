"""Domain records the store returns. Rows never leave the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from estimator import ModelConfig, ParamAccounting


class ModelStatus(StrEnum):
    """How the last read of a repo ended (a model row's ``status``; a crawl outcome)."""

    OK = "ok"
    GATED = "gated"
    NOT_FOUND = "not_found"
    NO_SAFETENSORS = "no_safetensors"
    ERROR = "error"


class RunStatus(StrEnum):
    """Where a crawl run stands (a ``crawl_runs`` row's ``status``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


STATUS_OK = ModelStatus.OK
STATUS_GATED = ModelStatus.GATED
STATUS_NOT_FOUND = ModelStatus.NOT_FOUND
STATUS_NO_SAFETENSORS = ModelStatus.NO_SAFETENSORS
STATUS_ERROR = ModelStatus.ERROR
STATUSES = tuple(ModelStatus)

RUN_RUNNING = RunStatus.RUNNING
RUN_COMPLETED = RunStatus.COMPLETED
RUN_INTERRUPTED = RunStatus.INTERRUPTED
RUN_FAILED = RunStatus.FAILED


@dataclass(frozen=True, slots=True)
class HubFacts:
    """What the Hub listing says about a repo (not read from its files)."""

    author: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    downloads: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    gated: str | None = None  # None, "auto" or "manual"
    pipeline_tag: str | None = None
    library_name: str | None = None
    hub_total_params: int | None = None  # the Hub's safetensors.total, for comparison
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One model in the catalog, with its accounting when known."""

    repo_id: str
    sha: str | None
    provenance: str  # "header" (read from safetensors headers) or "config" (derived)
    status: str
    status_reason: str | None
    config: ModelConfig | None
    accounting: ParamAccounting | None
    hub: HubFacts = field(default_factory=HubFacts)
    config_json: str | None = field(default=None, repr=False, compare=False)
    read_at: datetime | None = None
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    aliases: tuple[str, ...] = ()
    popularity: float = 0.0  # log10 of downloads (or the bundled catalog's editorial rank)

    @property
    def counted(self) -> ParamAccounting | None:
        """The accounting when it holds counts; None without one, or for an undescribed family's
        config-derived sizing, which is not a count until the headers are read (issue 10)."""
        a = self.accounting
        return a if a is not None and a.counts_known else None

    @property
    def count_mismatch(self) -> bool:
        """Our count differs from the Hub's own figure (packed quantization usually)."""
        hub = self.hub.hub_total_params
        return bool(self.accounting and hub and hub != self.accounting.total_params)


@dataclass(frozen=True, slots=True)
class CrawlRun:
    """One crawl: when, how it ended, what it cost."""

    run_id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    source: str
    outcomes: tuple[tuple[str, int], ...] = ()
    requests: int = 0
    bytes_received: int = 0
    error: str | None = None
    pid: int | None = None
    host: str | None = None
    heartbeat_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A server's daily listing subscription. Nothing about members is stored."""

    guild_id: int
    channel_id: int | None
    post_hour_utc: int
    last_posted_on: str | None  # ISO date of the last daily post


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """One glossary term."""

    key: str
    title: str
    text: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    example: str | None = None
    example_model: str | None = None
    example_quant: str | None = None
    example_gpu: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogStats:
    """Freshness of the catalog for /about and `fitbot status`."""

    models: int
    by_provenance: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    last_run: CrawlRun | None
    catalog_version: int
