"""fitbot's store: one SQLite file (WAL). The crawler writes the catalog; the bot reads it.

Every function takes the ``Database`` and returns domain records, never rows.
"""

from ._bulk import insert_new_models
from ._catalog import load_bundled_catalog, seed_bundled_data
from ._crawl_state import get_last_completed_run, list_repo_keys, update_hub_facts
from ._db import Database, utc_now
from ._files import (
    SOURCE_CARD,
    SOURCE_GGUF,
    GgufFileRecord,
    GgufRepoRecord,
    get_base_model,
    get_gguf_repo,
    list_derived_repos,
    list_gguf_files_for_base,
    list_gguf_repo_shas,
    replace_gguf_repo,
    upsert_base_model,
)
from ._gguf_fits import GgufFileFit, list_gguf_file_fits
from ._gguf_query import QuantQuery, find_gguf_files_by_name, list_gguf_files_for_quant, parse_quant_query
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
    iter_models,
    list_models,
    list_name_rows,
    list_shas,
    list_updated_since,
    replace_config_models,
    upsert_model,
)
from ._name_tables import rebuild_name_tables
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
)
from ._runs import finish_run, heartbeat_run, last_run, list_runs, mark_interrupted_runs, start_run
from ._schema import SCHEMA_VERSION
from ._stats import catalog_stats, name_index
from .errors import ModelNotFoundError, SchemaVersionError, StoreError, TermNotFoundError

__all__ = [name for name in dir() if not name.startswith("_")]
