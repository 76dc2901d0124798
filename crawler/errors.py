"""Errors raised by the crawler.

    FitbotError (estimator.errors)
     └── CrawlerError                  the crawler cannot do what was asked
          ├── SourcesError             the sources TOML file is unusable
          ├── CrawlFailedError         a whole crawl failed (nothing could be listed)
          └── HubError                 one Hub request failed
               ├── HubTransientError   one attempt failed in a way a retry may fix
               ├── HubUnavailableError the Hub kept failing after every retry
               ├── HubRefusedError     the Hub answered with an error that a retry will not fix
               ├── RepoGatedError      the repo is gated and we have no access to its files
               ├── RepoNotFoundError   the repo (or its commit) does not exist
               └── HubFileNotFoundError a file the repo should have is missing

Messages name the object, say what failed and give the next step. None of them ever
holds a token: they are built from repo ids, URL paths and status codes only.
"""

from __future__ import annotations

from estimator.errors import FitbotError


class CrawlerError(FitbotError):
    """Base of the crawler's errors."""


class SourcesError(CrawlerError):
    """The crawl sources file cannot be used."""

    def __init__(self, origin: str, problem: str, hint: str = "fix the file or unset FITBOT_SOURCES") -> None:
        self.origin = origin
        self.problem = problem
        super().__init__(f"crawl sources {origin}: {problem}; {hint}")


class CrawlFailedError(CrawlerError):
    """A crawl stopped before it could read anything useful."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the crawl failed: {reason}; check HF_ENDPOINT and the network, then run it again")


class HubError(CrawlerError):
    """One request to the Hub failed."""

    def __init__(self, message: str, *, url_path: str) -> None:
        self.url_path = url_path
        super().__init__(message)


class HubTransientError(HubError):
    """One attempt failed (5xx, 429, timeout, reset, short body); the caller may retry."""

    def __init__(
        self, url_path: str, problem: str, *, wait_s: float | None = None, rate_limited: bool = False
    ) -> None:
        self.problem = problem
        self.wait_s = wait_s
        self.rate_limited = rate_limited
        super().__init__(f"{url_path}: {problem}", url_path=url_path)


class HubUnavailableError(HubError):
    """The Hub kept failing after every retry."""

    def __init__(self, url_path: str, attempts: int, problem: str) -> None:
        self.attempts = attempts
        self.problem = problem
        super().__init__(
            f"the Hub kept failing on {url_path} ({problem}, {attempts} attempts); "
            "the next crawl will try again",
            url_path=url_path,
        )


class HubRefusedError(HubError):
    """The Hub answered with an error that retrying will not fix."""

    def __init__(self, url_path: str, status: int, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(f"the Hub refused {url_path} with HTTP {status}{extra}", url_path=url_path)


class RepoGatedError(HubError):
    """The repo is gated and this crawler has no access to its files."""

    def __init__(self, repo_id: str, *, url_path: str = "", asked: bool = True) -> None:
        self.repo_id = repo_id
        self.asked = asked
        how = "the Hub refused its files" if asked else "no HF_TOKEN is set"
        super().__init__(
            f"model {repo_id} is gated and {how}: accept its licence on the Hub with the account "
            "whose token is in HF_TOKEN, then crawl again",
            url_path=url_path,
        )


class RepoNotFoundError(HubError):
    """The repo, or the commit we listed, does not exist (or is private)."""

    def __init__(self, repo_id: str, *, url_path: str = "", revision: str | None = None) -> None:
        self.repo_id = repo_id
        self.revision = revision
        what = f"commit {revision} of {repo_id}" if revision else f"model {repo_id}"
        super().__init__(
            f"{what} does not exist on the Hub (or is private): check the repo id",
            url_path=url_path,
        )


class HubFileNotFoundError(HubError):
    """A file that the listing or the index names is missing from the repo."""

    def __init__(self, repo_id: str, filename: str, *, url_path: str = "") -> None:
        self.repo_id = repo_id
        self.filename = filename
        super().__init__(
            f"{repo_id} has no {filename} although its file list names it; the next crawl will try again",
            url_path=url_path,
        )
