"""Text → typed values for the command options that the estimator has no parser for.

A budget, a context length and a KV-cache type are read by the estimator's own parsers;
this module adds the model reference (a catalog name, or on the terminal a local path), a
glossary term and whole numbers. Every surface calls the same function, so a bad value
fails at the edge with the same message everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import CommandParseError, ModelRefError

MODEL_TEXT_LIMIT = 200
TERM_TEXT_LIMIT = 100
# Text that can only be meant as a path on this machine, never as a catalog name.
_PATH_PREFIXES = ("/", "./", "../", "~/", "~")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """What a user named: a catalog name (fuzzy-matched by the service) or a local checkpoint."""

    text: str
    path: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.path is not None


def parse_model_name(text: str) -> ModelRef:
    """A catalog model name or repo id, never a path (Discord and ``fitbot ask``).

    Raises:
        ModelRefError: empty, or longer than 200 characters.
    """
    name = " ".join(str(text).split())
    if not name:
        raise ModelRefError("give a model name or repo id, e.g. qwen2.5-32b or Qwen/Qwen2.5-32B-Instruct")
    if len(name) > MODEL_TEXT_LIMIT:
        raise ModelRefError(f"a model name has at most {MODEL_TEXT_LIMIT} characters: try its repo id")
    return ModelRef(name)


def parse_model_ref(text: str) -> ModelRef:
    """A catalog name, or a local checkpoint directory or config.json (the terminal).

    Text is a path when it exists on this machine as a directory or a ``.json`` file, or
    when it starts like one ("/", "./", "../", "~"); anything else is a catalog name.

    Raises:
        ModelRefError: a path-like text that does not exist, or a bad name.
    """
    raw = str(text).strip()
    candidate = Path(raw).expanduser()
    looks_like_path = raw.startswith(_PATH_PREFIXES)
    if raw and (candidate.is_dir() or (candidate.suffix == ".json" and candidate.is_file())):
        return ModelRef(raw, candidate.resolve())
    if looks_like_path or raw.endswith(".json"):
        raise ModelRefError(
            f"'{raw[:80]}' is not a checkpoint directory or config.json on this machine: "
            "give a folder with config.json, or a catalog name such as qwen2.5-32b"
        )
    return parse_model_name(raw)


def parse_term(text: str) -> str:
    """A glossary term as typed; the glossary matches aliases and typos later.

    Raises:
        CommandParseError: empty or longer than 100 characters.
    """
    term = " ".join(str(text).split())
    if not term or len(term) > TERM_TEXT_LIMIT:
        raise CommandParseError(f"give a term of 1 to {TERM_TEXT_LIMIT} characters, e.g. /define kv cache")
    return term


def parse_whole_number(value: str | int, low: int, high: int, *, what: str, example: str) -> int:
    """``value`` as a whole number from ``low`` to ``high``.

    Discord's client keeps an integer option in its declared range, but a raw API call
    (or the terminal) can send anything; the answer then says what to type.

    Raises:
        CommandParseError: ``value`` is not a whole number in the range.
    """
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise CommandParseError(
            f"'{value}' is not {what}: use a whole number from {low} to {high}, e.g. {example}"
        )
    return number


NEW_DAYS_DEFAULT = 7
NEW_DAYS_MAX = 90


def parse_days(value: str | int) -> int:
    """Days back for /new: a whole number from 1 to 90.

    Raises:
        CommandParseError: anything else.
    """
    return parse_whole_number(value, 1, NEW_DAYS_MAX, what="a number of days", example="/new 7")
