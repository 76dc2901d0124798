"""Errors the presentation layers raise, on top of estimator's and store's.

FitbotError
 └── InputError
      ├── ModelUnusableError    the model is known but has no usable accounting
      ├── ModelRefError         a model reference that names neither a model nor a local checkpoint
      ├── LocalModelError       a local checkpoint folder or config.json that cannot be read
      └── CommandParseError     ``fitbot ask`` text that is not a command
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


class UseParseError(InputError):
    """A /rank use that is not one of chat, code, long_context, vision."""
