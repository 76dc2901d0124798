"""The crawler's records: what discovery found, what each repo came to, what a crawl cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import HubFacts

UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A repo that discovery named, with what its listing entry says."""

    repo_id: str
    sha: str | None
    source: str
    files: tuple[str, ...] | None  # repo-relative paths; None when the Hub did not list them
    hub: HubFacts = field(default_factory=HubFacts)
    listed_config_json: str | None = field(default=None, repr=False, compare=False)
    base_model: str | None = None  # what a quantized repo was made from (tags, cardData)


@dataclass(frozen=True, slots=True)
class RepoOutcome:
    """How reading one repo ended: exactly one status, with a reason a person can act on."""

    repo_id: str
    status: str
    reason: str
    total_params: int | None = None  # our count
    hub_total_params: int | None = None  # the Hub's safetensors.total
    transient: bool = False  # a retry next run may end differently
    outage: bool = False  # the Hub could not be reached for it (every retry used up): see OutageBreaker

    @property
    def count_mismatch(self) -> bool:
        """Our count and the Hub's differ (packed quantization, scale tensors, MTP...)."""
        return bool(
            self.total_params and self.hub_total_params and self.total_params != self.hub_total_params
        )


@dataclass(frozen=True, slots=True)
class FetchStats:
    """Requests and bytes, by rate-limit bucket, over some span of a client's life."""

    api_requests: int = 0
    resolve_requests: int = 0
    bytes_received: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0

    @property
    def requests(self) -> int:
        return self.api_requests + self.resolve_requests

    def __sub__(self, earlier: FetchStats) -> FetchStats:
        return FetchStats(
            self.api_requests - earlier.api_requests,
            self.resolve_requests - earlier.resolve_requests,
            self.bytes_received - earlier.bytes_received,
            self.retries - earlier.retries,
            self.rate_limit_waits - earlier.rate_limit_waits,
            self.waited_s - earlier.waited_s,
        )


@dataclass(frozen=True, slots=True)
class CrawlSummary:
    """One crawl, start to end."""

    run_id: int
    status: str  # a store RUN_* value
    source: str
    seen: int
    unchanged: int
    outcomes: tuple[RepoOutcome, ...]
    stats: FetchStats
    elapsed_s: float
    error: str | None = None

    def counts(self) -> dict[str, int]:
        """Repos per outcome status, plus the unchanged ones; what the crawl run records."""
        counts: dict[str, int] = {UNCHANGED: self.unchanged} if self.unchanged else {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    @property
    def mismatches(self) -> tuple[RepoOutcome, ...]:
        return tuple(o for o in self.outcomes if o.count_mismatch)
