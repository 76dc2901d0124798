"""fitbot's crawler: keeps the catalog true by reading safetensors headers from the Hub.

It discovers models through huggingface_hub, reads only the headers of new or changed
commits (ranged GETs, or one API call for many-shard repos), counts them with the
estimator and writes each repo to the store as soon as it is read. ``crawl_once`` is
the whole of one crawl; ``serve_daily_crawls`` schedules it.
"""

from ._crawl import CrawlOptions, NoProgress, Progress, crawl_once, discover, read_repo
from ._discovery import EXPAND, in_scope, parse_model_info
from ._hub import (
    AUTO,
    METADATA_API,
    RANGED,
    READ_STRATEGIES,
    HubClient,
    HubConfig,
    open_hub,
)
from ._ratelimit import (
    API,
    RESOLVERS,
    RateGovernor,
    RetryPolicy,
    bucket_of,
    parse_wait_seconds,
)
from ._read import (
    CheckpointRead,
    HeaderBytes,
    choose_read_strategy,
    fetch_header_bytes,
    parse_header,
    parse_sharded_metadata,
    read_checkpoint,
)
from ._records import UNCHANGED, Candidate, CrawlSummary, FetchStats, RepoOutcome
from ._schedule import (
    DAILY_JOB_ID,
    MISFIRE_GRACE_S,
    CrawlJob,
    build_scheduler,
    catch_up_due,
    install_stop_signals,
    job_defaults,
    serve_daily_crawls,
)
from ._sources import (
    AUTHORS,
    REPOS,
    TOP,
    Scope,
    Source,
    Sources,
    load_sources,
    parse_sources,
)
from ._windows import predict_shard_header_bytes, predict_single_header_bytes
from .errors import (
    CrawlerError,
    CrawlFailedError,
    HubError,
    HubFileNotFoundError,
    HubRefusedError,
    HubTransientError,
    HubUnavailableError,
    RepoGatedError,
    RepoNotFoundError,
    SourcesError,
)

__all__ = [
    "API",
    "AUTHORS",
    "AUTO",
    "DAILY_JOB_ID",
    "EXPAND",
    "METADATA_API",
    "MISFIRE_GRACE_S",
    "RANGED",
    "READ_STRATEGIES",
    "REPOS",
    "RESOLVERS",
    "TOP",
    "UNCHANGED",
    "Candidate",
    "CheckpointRead",
    "CrawlFailedError",
    "CrawlJob",
    "CrawlOptions",
    "CrawlSummary",
    "CrawlerError",
    "FetchStats",
    "HeaderBytes",
    "HubClient",
    "HubConfig",
    "HubError",
    "HubFileNotFoundError",
    "HubRefusedError",
    "HubTransientError",
    "HubUnavailableError",
    "NoProgress",
    "Progress",
    "RateGovernor",
    "RepoGatedError",
    "RepoNotFoundError",
    "RepoOutcome",
    "RetryPolicy",
    "Scope",
    "Source",
    "Sources",
    "SourcesError",
    "bucket_of",
    "build_scheduler",
    "catch_up_due",
    "choose_read_strategy",
    "crawl_once",
    "discover",
    "fetch_header_bytes",
    "in_scope",
    "install_stop_signals",
    "job_defaults",
    "load_sources",
    "open_hub",
    "parse_header",
    "parse_model_info",
    "parse_sharded_metadata",
    "parse_sources",
    "parse_wait_seconds",
    "predict_shard_header_bytes",
    "predict_single_header_bytes",
    "read_checkpoint",
    "read_repo",
    "serve_daily_crawls",
]
