"""One typed, frozen settings object, read once in the composition root.

Sources, strongest first: command-line flags, environment variables (``FITBOT_*``, plus
the conventional ``DISCORD_TOKEN``, ``HF_TOKEN``, ``HF_ENDPOINT``), an optional TOML file
(``--config`` or ``FITBOT_CONFIG``), then defaults. A bad value stops the program with a
message that names the setting and shows a valid example. Nothing reads the environment
at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from estimator.errors import FitbotError


class SettingsError(FitbotError):
    """A setting has a value we cannot use."""


class Secret:
    """A token that never shows itself in logs, reprs or ``config show``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Spec:
    field: str
    env: tuple[str, ...]
    example: str
    help: str
    parse: Callable[[str], object]
    secret: bool = False


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"one of {', '.join(choices)}")
        return value

    return parse


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(str(text).strip())
        if not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    return parse


def _url(text: str) -> str:
    value = text.strip().rstrip("/")
    if not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError("a URL starting with http(s):// or ws(s)://")
    return value


def _secret(text: str) -> Secret:
    value = text.strip()
    if not value:
        raise ValueError("a non-empty token")
    return Secret(value)


SPECS: tuple[Spec, ...] = (
    Spec("db_path", ("FITBOT_DB",), "/var/lib/fitbot/fitbot.sqlite", "SQLite database file", _path),
    Spec(
        "log_format",
        ("FITBOT_LOG_FORMAT",),
        "json",
        "log lines as 'text' (key=value) or 'json'",
        _choice("text", "json"),
    ),
    Spec(
        "log_level",
        ("FITBOT_LOG_LEVEL",),
        "INFO",
        "DEBUG, INFO, WARNING or ERROR",
        lambda t: _choice("debug", "info", "warning", "error")(t).upper(),
    ),
    Spec(
        "discord_token",
        ("DISCORD_TOKEN", "FITBOT_DISCORD_TOKEN"),
        "<bot token>",
        "Discord bot token (secret)",
        _secret,
        secret=True,
    ),
    Spec(
        "hf_token",
        ("HF_TOKEN", "FITBOT_HF_TOKEN"),
        "hf_xxx",
        "Hugging Face token for higher rate limits (secret)",
        _secret,
        secret=True,
    ),
    Spec(
        "hf_endpoint", ("HF_ENDPOINT", "FITBOT_HF_ENDPOINT"), "https://huggingface.co", "Hub endpoint", _url
    ),
    Spec(
        "discord_api_base",
        ("FITBOT_DISCORD_API_BASE",),
        "http://127.0.0.1:8080/api/v10",
        "Discord REST base (a proxy or stand-in)",
        _url,
    ),
    Spec(
        "discord_gateway",
        ("FITBOT_DISCORD_GATEWAY",),
        "ws://127.0.0.1:8080/gateway",
        "Discord gateway URL (a stand-in)",
        _url,
    ),
    Spec("crawl_hour_utc", ("FITBOT_CRAWL_HOUR",), "4", "UTC hour of the daily crawl", _int_range(0, 23)),
    Spec(
        "crawl_jitter_seconds",
        ("FITBOT_CRAWL_JITTER",),
        "1800",
        "random delay added to the crawl time",
        _int_range(0, 6 * 3600),
    ),
    Spec("crawl_concurrency", ("FITBOT_CRAWL_CONCURRENCY",), "8", "parallel Hub requests", _int_range(1, 64)),
    Spec(
        "sources_path",
        ("FITBOT_SOURCES",),
        "/etc/fitbot/sources.toml",
        "crawl sources TOML (default: the bundled one)",
        _path,
    ),
    Spec(
        "listing_hour_utc",
        ("FITBOT_LISTING_HOUR",),
        "9",
        "default UTC hour of daily listings",
        _int_range(0, 23),
    ),
    Spec("source_url", ("FITBOT_SOURCE_URL",), "https://github.com/you/fitbot", "link shown by /about", _url),
    Spec(
        "hub_reads_per_user",
        ("FITBOT_HUB_READS_PER_USER",),
        "5",
        "repos one Discord user may have read from the Hub per hour (uncatalogued repo ids)",
        _int_range(0, 1000),
    ),
    Spec(
        "hub_reads_per_server",
        ("FITBOT_HUB_READS_PER_SERVER",),
        "20",
        "repos one Discord server may have read from the Hub per hour",
        _int_range(0, 10000),
    ),
    Spec(
        "shard_count",
        ("FITBOT_SHARD_COUNT",),
        "2",
        "Discord gateway shards (0: as many as Discord recommends)",
        _int_range(0, 1024),
    ),
)


def _default_db() -> Path:
    return Path(platformdirs.user_data_dir("fitbot", appauthor=False)) / "fitbot.sqlite"


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path
    log_format: str = "text"
    log_level: str = "INFO"
    discord_token: Secret | None = None
    hf_token: Secret | None = None
    hf_endpoint: str = "https://huggingface.co"
    discord_api_base: str | None = None
    discord_gateway: str | None = None
    crawl_hour_utc: int = 4
    crawl_jitter_seconds: int = 1800
    crawl_concurrency: int = 8
    sources_path: Path | None = None
    listing_hour_utc: int = 9
    source_url: str = "https://github.com/fitbot-dev/fitbot"
    hub_reads_per_user: int = 5  # on-demand reads of named repos (issue 15 §5), per hour
    hub_reads_per_server: int = 20
    shard_count: int = 1  # discord.py AutoShardedBot; 0 asks Discord (GET /gateway/bot)

    def shown(self) -> list[tuple[str, str, str]]:
        """(setting, value, environment variable) rows with secrets masked."""
        rows = []
        for spec in SPECS:
            value = getattr(self, spec.field)
            if spec.secret:
                text = "(set, hidden)" if value else "(not set)"
            else:
                text = "(not set)" if value is None else str(value)
            rows.append((spec.field, text, spec.env[0]))
        return rows


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build the settings from flags (``overrides``), environment and TOML file.

    Raises:
        SettingsError: a value is invalid or the TOML file cannot be read.
    """
    env = dict(os.environ if environ is None else environ)
    config_path = config_file or (Path(env["FITBOT_CONFIG"]) if env.get("FITBOT_CONFIG") else None)
    toml_values = _read_toml(config_path) if config_path else {}
    values: dict[str, object] = {"db_path": _default_db()}
    for spec in SPECS:
        raw, origin = _raw_value(spec, env, toml_values)
        if raw is None:
            continue
        try:
            values[spec.field] = spec.parse(str(raw))
        except ValueError as e:
            example = f"{spec.env[0]}={spec.example}"
            raise SettingsError(f"{origin} has an invalid value: expected {e}, e.g. {example}") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]  # each parsed by its Spec


def _raw_value(spec: Spec, env: Mapping[str, str], toml_values: Mapping[str, object]) -> tuple[object, str]:
    for name in spec.env:
        if env.get(name, "") != "":
            return env[name], name
    if spec.field in toml_values:
        return toml_values[spec.field], f"'{spec.field}' in the config file"
    return None, ""


def _read_toml(path: Path) -> dict[str, object]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SettingsError(f"cannot read the config file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"the config file {path} is not valid TOML: {e}") from None
    section = raw.get("fitbot", raw)
    unknown = set(section) - {s.field for s in SPECS}
    if unknown:
        raise SettingsError(
            f"the config file {path} has unknown settings: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(s.field for s in SPECS)})"
        )
    return dict(section)
