"""fitbot's store: one SQLite file (WAL). The crawler writes the catalog; the bot reads it.

Every function takes the ``Database`` and returns domain records, never rows.
"""

from ._catalog import load_bundled_catalog, seed_bundled_data
from ._crawl_state import get_last_completed_run, list_repo_keys, update_hub_facts
from ._db import Database, utc_now
from ._glossary import GlossaryIndex, list_glossary, load_bundled_glossary, replace_glossary
from ._guilds import (
    claim_listing_post,
    delete_subscription,
    get_guild_settings,
    get_meta,
    list_subscriptions,
    release_listing_post,
    set_meta,
    upsert_subscription,
)
from ._models import (
    count_models,
    get_catalog_version,
    get_model,
    list_models,
    list_name_rows,
    list_shas,
    list_updated_since,
    replace_config_models,
    upsert_model,
)
from ._names import NameIndex, Resolution
from ._records import (
    RUN_COMPLETED,
    RUN_FAILED,
    RUN_INTERRUPTED,
    RUN_RUNNING,
    STATUS_ERROR,
    STATUS_GATED,
    STATUS_NO_SAFETENSORS,
    STATUS_NOT_FOUND,
    STATUS_OK,
    STATUSES,
    CatalogStats,
    CrawlRun,
    GlossaryEntry,
    GuildSettings,
    HubFacts,
    ModelRecord,
    ModelStatus,
    RunStatus,
)
from ._runs import finish_run, heartbeat_run, last_run, list_runs, mark_interrupted_runs, start_run
from ._schema import SCHEMA_VERSION
from ._stats import catalog_stats, name_index
from .errors import ModelNotFoundError, SchemaVersionError, StoreError, TermNotFoundError

__all__ = [
    "RUN_COMPLETED",
    "RUN_FAILED",
    "RUN_INTERRUPTED",
    "RUN_RUNNING",
    "SCHEMA_VERSION",
    "STATUSES",
    "STATUS_ERROR",
    "STATUS_GATED",
    "STATUS_NOT_FOUND",
    "STATUS_NO_SAFETENSORS",
    "STATUS_OK",
    "CatalogStats",
    "CrawlRun",
    "Database",
    "GlossaryEntry",
    "GlossaryIndex",
    "GuildSettings",
    "HubFacts",
    "ModelNotFoundError",
    "ModelRecord",
    "ModelStatus",
    "NameIndex",
    "Resolution",
    "RunStatus",
    "SchemaVersionError",
    "StoreError",
    "TermNotFoundError",
    "catalog_stats",
    "claim_listing_post",
    "count_models",
    "delete_subscription",
    "finish_run",
    "get_catalog_version",
    "get_guild_settings",
    "get_last_completed_run",
    "get_meta",
    "get_model",
    "heartbeat_run",
    "last_run",
    "list_glossary",
    "list_models",
    "list_name_rows",
    "list_repo_keys",
    "list_runs",
    "list_shas",
    "list_subscriptions",
    "list_updated_since",
    "load_bundled_catalog",
    "load_bundled_glossary",
    "mark_interrupted_runs",
    "name_index",
    "release_listing_post",
    "replace_config_models",
    "replace_glossary",
    "seed_bundled_data",
    "set_meta",
    "start_run",
    "update_hub_facts",
    "upsert_model",
    "upsert_subscription",
    "utc_now",
]
