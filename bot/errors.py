"""Errors the presentation layers raise, on top of estimator's and store's.

FitbotError
 └── InputError
      ├── ModelUnusableError    the model is known but has no usable accounting
      ├── ModelRefError         a model reference that names neither a model nor a local checkpoint
      ├── LocalModelError       a local checkpoint folder or config.json that cannot be read
      ├── CommandParseError     ``fitbot ask`` text that is not a command
      └── HubReadError          a repo id that could not be read from the Hub on demand
           ├── RepoMissingError     no such repo on the Hub (or private)
           ├── RepoGatedError       gated, and the bot's token has no access
           ├── ReadLimitError       over the per-user or per-server limit of Hub reads
           └── HubUnreachableError  the Hub kept failing
"""

from __future__ import annotations

from estimator.errors import InputError

from ._safe import clean


class ModelUnusableError(InputError):
    """A model we know of, but cannot size (gated without data, malformed headers...)."""

    def __init__(self, repo_id: str, status: str, reason: str | None) -> None:
        self.repo_id = repo_id
        self.status = status
        self.reason = reason
        # Both come from the Hub: a 10 KB id must not become a 10 KB error line.
        why = f" ({clean(reason)})" if reason else ""
        super().__init__(
            f"Model {clean(repo_id, 120)} cannot be sized: its last crawl ended as {status}{why}. "
            "Try another model, or check again after the next crawl."
        )


class CommandParseError(InputError):
    """Text given to ``fitbot ask`` that is not one of the commands."""


class LocalModelError(InputError):
    """A local checkpoint folder or config.json that cannot be read."""


class ModelRefError(InputError):
    """A model reference that is empty, too long, or a path that does not exist."""


class HubReadError(InputError):
    """A repo id the user named could not be read from the Hub then and there."""

    def __init__(self, repo_id: str, message: str) -> None:
        self.repo_id = repo_id
        super().__init__(message)


class RepoMissingError(HubReadError):
    """The Hub has no such repo (or it is private)."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            repo_id,
            f"Repo {clean(repo_id, 120)} does not exist on the Hugging Face Hub (or is private): "
            "check the repo id, e.g. Qwen/Qwen2.5-32B-Instruct.",
        )


class RepoGatedError(HubReadError):
    """The repo is gated and the bot's token has no access to its files."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            repo_id,
            f"Repo {clean(repo_id, 120)} is gated: fitbot cannot read its files. Ask for a catalog model "
            "by name instead, or run fitbot yourself with an HF_TOKEN that accepted its licence.",
        )


class ReadLimitError(HubReadError):
    """Too many repos read from the Hub for one user or one server."""

    def __init__(self, repo_id: str, who: str, limit: int, retry_after_s: float) -> None:
        self.who = who
        self.limit = limit
        self.retry_after_s = retry_after_s
        minutes = max(1, -(-int(retry_after_s) // 60))
        plural = "" if limit == 1 else "s"
        super().__init__(
            repo_id,
            f"Repo {clean(repo_id, 120)} is not in the catalog, and {who} already had {limit} repo{plural} "
            f"read from the Hub this hour (the limit is {limit} an hour): try again in {minutes} min, "
            "or ask for a catalog model.",
        )


class HubUnreachableError(HubReadError):
    """The Hub could not be reached for this repo."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            repo_id,
            f"Repo {clean(repo_id, 120)} is not in the catalog and the Hub did not answer: "
            "try again in a minute.",
        )


class UseParseError(InputError):
    """A /rank use that is not one of chat, code, long_context, vision."""
