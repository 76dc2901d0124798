"""Errors raised by the store.

FitbotError (estimator.errors)
 ├── InputError
 │    ├── ModelNotFoundError     a model name that matches nothing in the catalog
 │    │    └── RepoNotStoredError a repo id the store does not hold (never answered by another repo)
 │    └── TermNotFoundError      a glossary term that matches nothing
 └── StoreError                  the database cannot be used
      └── SchemaVersionError     the file's schema is newer/older than this code
"""

from __future__ import annotations

from estimator.errors import FitbotError, InputError


class ModelNotFoundError(InputError):
    """No model in the catalog matches the name."""

    def __init__(self, text: str, suggestions: tuple[str, ...] = ()) -> None:
        self.text = text
        self.suggestions = suggestions
        hint = (
            f"did you mean {', '.join(suggestions)}?"
            if suggestions
            else "try a repo id such as Qwen/Qwen2.5-32B-Instruct, or `fitbot models --search qwen`."
        )
        super().__init__(f"No model matches '{text}': {hint}")


class RepoNotStoredError(ModelNotFoundError):
    """A repo id that the store does not hold; it is never answered with another repo."""

    def __init__(self, repo_id: str) -> None:
        self.repo_id = repo_id
        InputError.__init__(
            self,
            f"Repo {repo_id} is not in the catalog yet and was not read from the Hub: check the repo id, "
            f"or run `fitbot crawl --repo {repo_id}`.",
        )
        self.text = repo_id
        self.suggestions = ()


class TermNotFoundError(InputError):
    """No glossary entry matches the term."""

    def __init__(self, text: str, suggestions: tuple[str, ...] = ()) -> None:
        self.text = text
        self.suggestions = suggestions
        hint = (
            f"did you mean {', '.join(suggestions)}?"
            if suggestions
            else "try `parameter`, `kv cache` or `quantization`."
        )
        super().__init__(f"'{text}' is not in the glossary: {hint}")


class StoreError(FitbotError):
    """The database cannot be opened or used."""


class SchemaVersionError(StoreError):
    """The database was written by a different version of fitbot."""

    def __init__(self, found: int, expected: int) -> None:
        self.found = found
        self.expected = expected
        advice = (
            "run the crawler (it migrates the schema) or `fitbot models` once"
            if found < expected
            else "upgrade fitbot to the version that wrote it"
        )
        super().__init__(f"database schema is version {found}, this fitbot needs {expected}: {advice}")
