"""Structured logs to stderr (key=value or JSON). Only the composition root calls this.

A redaction filter replaces the values of known secrets in every record, as a second
lock behind "never log a token".
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

NOISY = (
    "discord.http",
    "discord.gateway",
    "discord.client",
    "httpx",
    "httpx2",
    "httpcore",
    "huggingface_hub",
    "aiosqlite",
    "apscheduler.executors.default",
    "asyncio",
)


class RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            if any(s in message for s in self._secrets):
                for s in self._secrets:
                    message = message.replace(s, "********")
                record.msg, record.args = message, None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                for s in self._secrets:
                    record.exc_text = record.exc_text.replace(s, "********")
        return True


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}) or {})
        line = " ".join(f"{k}={_kv(v)}" for k, v in fields.items())
        if record.exc_text or record.exc_info:
            line += "\n" + (record.exc_text or self.formatException(record.exc_info or (None, None, None)))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}) or {})
        if record.exc_text or record.exc_info:
            fields["exc"] = record.exc_text or self.formatException(record.exc_info or (None, None, None))
        return json.dumps(fields, default=str)


def _kv(value: object) -> str:
    text = str(value)
    return json.dumps(text) if (not text or any(c in text for c in ' "=\n')) else text


def setup_logging(fmt: str = "text", level: str = "INFO", secrets: list[str] | None = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(RedactFilter(secrets or []))
    root.addHandler(handler)
    root.setLevel(level)
    _drop_library_handlers()
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _drop_library_handlers() -> None:
    """Leave the root handler the only one that prints.

    huggingface_hub puts its own ``StreamHandler`` on its "huggingface_hub" logger at import
    (``utils/logging.py``: ``_configure_library_root_logger``) and lets records propagate,
    so each of its retry warnings came out twice: once bare from its handler, once from
    ours. Any library that does the same is treated alike.
    """
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            for handler in list(logger.handlers):
                if type(handler) is logging.StreamHandler and logger.propagate:
                    logger.removeHandler(handler)


def log_event(logger: logging.Logger, message: str, **fields: object) -> None:
    """One INFO line with structured fields (crawl summaries, command latencies)."""
    logger.info(message, extra={"fields": fields})
