"""Schema migrations, versioned with ``PRAGMA user_version``.

Each migration is a tuple of statements applied, with the new version number, in one
``BEGIN IMMEDIATE`` transaction: a crash mid-migration leaves the old schema intact.
(``executescript`` would commit on its own, so statements run one by one.)
"""

from __future__ import annotations

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
)

SCHEMA_VERSION = len(MIGRATIONS)
