"""fitbot's crawler: keeps the catalog true by reading safetensors headers from the Hub.

It discovers models through huggingface_hub, reads only the headers of new or changed
commits (ranged GETs, or one API call for many-shard repos), counts them with the
estimator and writes each repo to the store as soon as it is read. ``crawl_once`` is
the whole of one crawl; ``serve_daily_crawls`` schedules it.
"""

from ._base_model import parse_card_base_model, parse_quantized_base
from ._crawl import CrawlOptions, NoProgress, Progress, crawl_once, discover, read_repo
from ._discovery import EXPAND, in_scope, parse_model_info
from ._gguf_crawl import (
    GgufCandidate,
    GgufCrawlSummary,
    crawl_gguf,
    crawl_gguf_repos,
    crawl_gguf_stage,
    discover_gguf,
    read_gguf_candidate,
)
from ._gguf_files import GgufFileGroup, group_gguf_files, parse_tree_entries, quant_from_name
from ._gguf_read import HeaderRead, fetch_gguf_header, fetch_gguf_tree, read_gguf_repo
from ._gguf_sources import GgufSources, load_gguf_sources, parse_gguf_sources
from ._hub import (
    AUTO,
    METADATA_API,
    RANGED,
    READ_STRATEGIES,
    HubClient,
    HubConfig,
    open_hub,
)
from ._on_demand import OnDemandRead, is_gguf_repo, read_repo_on_demand
from ._parse_pool import BIG_ANSWER_BYTES, ParsePool, parse_pool
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
    "BIG_ANSWER_BYTES",
    "Candidate",
    "CheckpointRead",
    "CrawlFailedError",
    "CrawlJob",
    "CrawlOptions",
    "CrawlSummary",
    "CrawlerError",
    "DAILY_JOB_ID",
    "EXPAND",
    "FetchStats",
    "GgufCandidate",
    "GgufCrawlSummary",
    "GgufFileGroup",
    "GgufSources",
    "HeaderBytes",
    "HeaderRead",
    "HubClient",
    "HubConfig",
    "HubError",
    "HubFileNotFoundError",
    "HubRefusedError",
    "HubTransientError",
    "HubUnavailableError",
    "METADATA_API",
    "MISFIRE_GRACE_S",
    "NoProgress",
    "OnDemandRead",
    "ParsePool",
    "Progress",
    "RANGED",
    "READ_STRATEGIES",
    "REPOS",
    "RESOLVERS",
    "RateGovernor",
    "RepoGatedError",
    "RepoNotFoundError",
    "RepoOutcome",
    "RetryPolicy",
    "Scope",
    "Source",
    "Sources",
    "SourcesError",
    "TOP",
    "UNCHANGED",
    "bucket_of",
    "build_scheduler",
    "catch_up_due",
    "choose_read_strategy",
    "crawl_gguf",
    "crawl_gguf_repos",
    "crawl_gguf_stage",
    "crawl_once",
    "discover",
    "discover_gguf",
    "fetch_gguf_header",
    "fetch_gguf_tree",
    "fetch_header_bytes",
    "group_gguf_files",
    "in_scope",
    "install_stop_signals",
    "is_gguf_repo",
    "job_defaults",
    "load_gguf_sources",
    "load_sources",
    "open_hub",
    "parse_card_base_model",
    "parse_gguf_sources",
    "parse_header",
    "parse_model_info",
    "parse_quantized_base",
    "parse_pool",
    "parse_sharded_metadata",
    "parse_sources",
    "parse_tree_entries",
    "parse_wait_seconds",
    "predict_shard_header_bytes",
    "predict_single_header_bytes",
    "quant_from_name",
    "read_checkpoint",
    "read_gguf_candidate",
    "read_gguf_repo",
    "read_repo",
    "read_repo_on_demand",
    "serve_daily_crawls",
]
