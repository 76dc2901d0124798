"""Schema migrations, versioned with ``PRAGMA user_version``.

Each migration is a tuple of statements applied, with the new version number, in one
``BEGIN IMMEDIATE`` transaction: a crash mid-migration leaves the old schema intact.
(``executescript`` would commit on its own, so statements run one by one.)
"""

from __future__ import annotations

from ._name_bits import DDL as _NAME_BITS
from ._name_bits import STALE_KEY as _BITS_STALE
from ._name_tables import DDL as _NAME_TABLES
from ._name_tables import STALE_KEY as _NAMES_STALE

# Models per (provenance, status), kept by triggers so `fitbot status` reads a few rows,
# not a scan of every model (issue 13: status must cost the same at 300,000 models).
# No OR IGNORE in the triggers: the firing statement's conflict policy would override it.
_MODEL_COUNTS = (
    """CREATE TABLE model_counts (
        provenance TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (provenance, status)
    ) WITHOUT ROWID""",
    "INSERT INTO model_counts (provenance, status, n) SELECT provenance, status, COUNT(*) FROM "
    "models GROUP BY 1, 2",
    """CREATE TRIGGER model_counts_insert AFTER INSERT ON models BEGIN
        INSERT INTO model_counts (provenance, status, n) SELECT new.provenance, new.status, 0
            WHERE NOT EXISTS (SELECT 1 FROM model_counts WHERE provenance = new.provenance AND status =
            new.status);
        UPDATE model_counts SET n = n + 1 WHERE provenance = new.provenance AND status = new.status;
    END""",
    """CREATE TRIGGER model_counts_delete AFTER DELETE ON models BEGIN
        UPDATE model_counts SET n = n - 1 WHERE provenance = old.provenance AND status = old.status;
    END""",
    """CREATE TRIGGER model_counts_update AFTER UPDATE OF provenance, status ON models
    WHEN old.provenance IS NOT new.provenance OR old.status IS NOT new.status BEGIN
        UPDATE model_counts SET n = n - 1 WHERE provenance = old.provenance AND status = old.status;
        INSERT INTO model_counts (provenance, status, n) SELECT new.provenance, new.status, 0
            WHERE NOT EXISTS (SELECT 1 FROM model_counts WHERE provenance = new.provenance AND status =
            new.status);
        UPDATE model_counts SET n = n + 1 WHERE provenance = new.provenance AND status = new.status;
    END""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE models (
            repo_id TEXT PRIMARY KEY,
            repo_key TEXT NOT NULL UNIQUE,
            sha TEXT,
            provenance TEXT NOT NULL CHECK (provenance IN ('header', 'config')),
            status TEXT NOT NULL CHECK (status IN ('ok', 'gated', 'not_found', 'no_safetensors', 'error')),
            status_reason TEXT,
            author TEXT,
            created_at TEXT,
            last_modified TEXT,
            downloads INTEGER,
            likes INTEGER,
            trending_score REAL,
            gated TEXT,
            pipeline_tag TEXT,
            library_name TEXT,
            tags_json TEXT NOT NULL DEFAULT '[]',
            hub_total_params INTEGER,
            model_type TEXT,
            config_json TEXT,
            accounting_json TEXT,
            total_params INTEGER,
            active_params INTEGER,
            stored_bytes INTEGER,
            popularity REAL NOT NULL DEFAULT 0,
            read_at TEXT,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX models_updated_at ON models (updated_at)",
        "CREATE INDEX models_popularity ON models (popularity DESC)",
        """CREATE TABLE aliases (
            alias TEXT PRIMARY KEY,
            repo_id TEXT NOT NULL REFERENCES models (repo_id) ON DELETE CASCADE
        )""",
        "CREATE INDEX aliases_repo ON aliases (repo_id)",
        """CREATE TABLE crawl_runs (
            run_id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
            source TEXT NOT NULL,
            outcomes_json TEXT NOT NULL DEFAULT '{}',
            requests INTEGER NOT NULL DEFAULT 0,
            bytes_received INTEGER NOT NULL DEFAULT 0,
            error TEXT
        )""",
        """CREATE TABLE glossary (
            key TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            aliases_json TEXT NOT NULL DEFAULT '[]',
            related_json TEXT NOT NULL DEFAULT '[]',
            example TEXT,
            example_model TEXT,
            example_quant TEXT,
            example_gpu TEXT
        )""",
        """CREATE TABLE guild_settings (
            guild_id INTEGER PRIMARY KEY,
            channel_id INTEGER,
            post_hour_utc INTEGER NOT NULL DEFAULT 9 CHECK (post_hour_utc BETWEEN 0 AND 23),
            last_posted_on TEXT
        )""",
        """CREATE TABLE listing_posts (
            guild_id INTEGER NOT NULL,
            posted_on TEXT NOT NULL,
            channel_id INTEGER NOT NULL,
            claimed_at TEXT NOT NULL,
            PRIMARY KEY (guild_id, posted_on)
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta (key, value) VALUES ('catalog_version', '0')",
    ),
    (
        # Who runs a crawl, and when it last showed signs of life: a new crawl marks only
        # dead runs as interrupted, never one a live process is still writing.
        "ALTER TABLE crawl_runs ADD COLUMN pid INTEGER",
        "ALTER TABLE crawl_runs ADD COLUMN host TEXT",
        "ALTER TABLE crawl_runs ADD COLUMN heartbeat_at TEXT",
    ),
    (
        # Issue 13 (scale): the name index as tables kept current on write, and the status
        # counts kept by triggers. Names need Python's tokenizer, so a store that already
        # holds models is marked stale and rebuilt once, by the first name_index() call.
        *_NAME_TABLES,
        *_MODEL_COUNTS,
        f"INSERT INTO meta (key, value) SELECT '{_NAMES_STALE}', 'stale' WHERE EXISTS (SELECT 1 FROM models)",
    ),
    (
        # GGUF repos and their files (issue 15): the repo's sha makes an unchanged repo free;
        # each downloadable file (split parts grouped) with its exact size and tensor table sums.
        """CREATE TABLE gguf_repos (
            repo_id TEXT PRIMARY KEY,
            sha TEXT,
            downloads INTEGER,
            status TEXT NOT NULL CHECK (status IN ('ok', 'gated', 'not_found', 'error')),
            status_reason TEXT,
            read_at TEXT NOT NULL
        )""",
        """CREATE TABLE gguf_files (
            repo_id TEXT NOT NULL REFERENCES gguf_repos (repo_id) ON DELETE CASCADE,
            file TEXT NOT NULL,
            quant TEXT,
            kind TEXT NOT NULL CHECK (kind IN ('model', 'mmproj')),
            size_bytes INTEGER NOT NULL,
            split_count INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            status_reason TEXT,
            tensor_bytes INTEGER,
            total_params INTEGER,
            header_bytes INTEGER,
            base_model TEXT,
            facts_json TEXT,
            layout_json TEXT,
            PRIMARY KEY (repo_id, file)
        )""",
        "CREATE INDEX gguf_files_base_model ON gguf_files (base_model)",
        # Quantized repos (GGUF, AWQ, GPTQ, MLX, ...) and the model they were made from.
        """CREATE TABLE base_models (
            repo_id TEXT PRIMARY KEY,
            base_model TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('card', 'gguf'))
        )""",
        "CREATE INDEX base_models_base ON base_models (base_model)",
    ),
    (
        # Issue 13 (scale): each name word's models as a bitmap, so autocomplete on words that are
        # common alone and rare together stays flat at 300,000 models (_name_bits). Bits are
        # name_models rowids: a store with name rows is marked, and its bits are filled from the
        # postings once, by the first name_index() call (Python builds the blobs).
        *_NAME_BITS,
        # Issue 15: autocomplete on a quantizer's prefix ("bartowski/") reads its GGUF repos as a
        # range of this index; repo ids match case-blind, as get_gguf_repo already does.
        "CREATE INDEX gguf_repos_key ON gguf_repos (lower(repo_id))",
        f"INSERT OR IGNORE INTO meta (key, value) SELECT '{_BITS_STALE}', 'stale' WHERE EXISTS "
        "(SELECT 1 FROM name_models)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
