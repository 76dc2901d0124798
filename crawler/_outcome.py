"""From what was read (or what went wrong) to the record the store keeps and the outcome
the summary lists. Pure: no I/O, the clock is handed in."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import deque
from datetime import datetime

from estimator import (
    ConfigError,
    HeaderParseError,
    ModelConfig,
    ParamAccounting,
    account_from_config,
    account_from_tensors,
)
from store import (
    STATUS_ERROR,
    STATUS_GATED,
    STATUS_NO_SAFETENSORS,
    STATUS_NOT_FOUND,
    STATUS_OK,
    ModelRecord,
)

from ._read import CheckpointRead, parse_config
from ._records import Candidate, RepoOutcome
from .errors import (
    HubError,
    HubFileNotFoundError,
    HubRefusedError,
    HubUnavailableError,
    RepoGatedError,
    RepoNotFoundError,
)

HEADER = "header"
CONFIG = "config"

# Ordered, subclasses first: (error type, status, transient). A transient failure is
# recorded without a sha, so the next crawl reads the repo again.
FAILURES: tuple[tuple[type[Exception], str, bool], ...] = (
    (RepoGatedError, STATUS_GATED, False),
    (RepoNotFoundError, STATUS_NOT_FOUND, False),
    (HeaderParseError, STATUS_ERROR, False),
    (HubFileNotFoundError, STATUS_ERROR, True),
    (HubUnavailableError, STATUS_ERROR, True),
    (HubRefusedError, STATUS_ERROR, True),
    (HubError, STATUS_ERROR, True),
)


def popularity(downloads: int | None) -> float:
    """log10 of downloads, the scale the catalog ranks by."""
    return math.log10(1 + downloads) if downloads else 0.0


def ok_result(candidate: Candidate, read: CheckpointRead, now: datetime) -> tuple[ModelRecord, RepoOutcome]:
    """The record of a checkpoint whose headers were all read."""
    raw, config, problem = parse_config(read.config_raw)
    accounting = (
        read.accounting if read.accounting is not None else account_from_tensors(read.tensors, config)
    )
    files = f"{len(read.files)} shard headers" if len(read.files) > 1 else f"the header of {read.files[0]}"
    reason = f"read {files} at commit {(candidate.sha or 'main')[:12]}"
    if problem:
        reason += f"; counted without config.json ({problem})"
    record = _record(candidate, STATUS_OK, reason, now, HEADER, config, accounting, raw, candidate.sha)
    return record, _outcome(candidate, STATUS_OK, reason, accounting)


def no_safetensors_result(
    candidate: Candidate, config_raw: bytes | None, now: datetime
) -> tuple[ModelRecord, RepoOutcome]:
    """A repo without a root model.safetensors or index: counted from config.json if it can be."""
    weights = sorted(
        f for f in candidate.files or () if f.endswith((".bin", ".pt", ".pth", ".gguf", ".safetensors"))
    )
    have = f" (it has {', '.join(weights[:3])}{'...' if len(weights) > 3 else ''})" if weights else ""
    reason = f"no model.safetensors or model.safetensors.index.json at the repo root{have}"
    raw, config, accounting, note = _from_config(config_raw)
    reason += f"; {note}"
    record = _record(
        candidate, STATUS_NO_SAFETENSORS, reason, now, CONFIG, config, accounting, raw, candidate.sha
    )
    return record, _outcome(candidate, STATUS_NO_SAFETENSORS, reason, accounting)


def failure_result(candidate: Candidate, error: Exception, now: datetime) -> tuple[ModelRecord, RepoOutcome]:
    """The record of a repo that could not be read; gated repos keep what the listing shows."""
    status, transient = classify_failure(error)
    reason = str(error)
    config = accounting = raw = None
    provenance = HEADER
    if status == STATUS_GATED:
        listed = candidate.listed_config_json.encode() if candidate.listed_config_json else None
        raw, config, accounting, note = _from_config(listed, what="the Hub's listing")
        provenance = CONFIG
        reason += f"; {note}"
    sha = None if transient else candidate.sha
    record = _record(candidate, status, reason, now, provenance, config, accounting, raw, sha)
    outcome = _outcome(candidate, status, reason, accounting, transient=transient)
    return record, dataclasses.replace(outcome, outage=is_outage(error))


def is_outage(error: Exception) -> bool:
    """Whether an error says the Hub cannot be reached (rather than something about one repo):
    every retry of a connection error, timeout, 5xx or 429 was used up."""
    return isinstance(error, HubUnavailableError)


# "Almost every request fails": 18 of the last 20 repos (90 %) ended because the Hub could
# not be reached. A partial outage below that share ends the crawl normally, with the
# reachable repos written and the others kept as transient errors for the next crawl.
OUTAGE_WINDOW = 20
OUTAGE_SHARE = 0.9


class OutageBreaker:
    """Counts how repos ended and says when the crawl should stop as failed.

    Mid-crawl it looks at the last ``window`` repos; at the end of a crawl too small to
    fill the window, at all of them (one repo asked for by name, and unreachable, fails the run).
    """

    def __init__(self, window: int = OUTAGE_WINDOW, share: float = OUTAGE_SHARE) -> None:
        self._recent: deque[bool] = deque(maxlen=window)
        self._share = share
        self.repos = 0
        self.outages = 0
        self.last_problem = ""

    def record(self, outcome: RepoOutcome) -> None:
        self._recent.append(outcome.outage)
        self.repos += 1
        if outcome.outage:
            self.outages += 1
            self.last_problem = outcome.reason

    def tripped(self) -> bool:
        """The window is full and at least ``share`` of it were outages."""
        window = self._recent.maxlen or 0
        return len(self._recent) == window and sum(self._recent) >= math.ceil(self._share * window)

    def tripped_at_end(self) -> bool:
        """At least ``share`` of every repo of the crawl were outages."""
        return self.repos > 0 and self.outages >= math.ceil(self._share * self.repos)

    def explain(self, endpoint: str) -> str:
        """The one-line reason a tripped breaker gives."""
        seen = min(self.repos, self._recent.maxlen or self.repos)
        share = sum(self._recent) if self.tripped() else self.outages
        return (
            f"the Hub at {endpoint} failed {share} of the last {seen} repos (the last: {self.last_problem})"
        )


def classify_failure(error: Exception) -> tuple[str, bool]:
    """(status, transient) for an error, from the ``FAILURES`` table; anything unforeseen
    is an error worth retrying next time."""
    for kind, status, transient in FAILURES:
        if isinstance(error, kind):
            return status, transient
    return STATUS_ERROR, True


def _from_config(
    raw: bytes | None, *, what: str = "config.json"
) -> tuple[str | None, ModelConfig | None, ParamAccounting | None, str]:
    text, config, problem = parse_config(raw)
    if config is None or text is None:
        return None, None, None, f"no counts: {what} lacks sizes ({problem})" if problem else "no counts"
    try:
        accounting = account_from_config(json.loads(text))
    except ConfigError as e:
        return text, config, None, f"no counts: {what} lacks sizes ({e.reason})"
    return text, config, accounting, f"counts derived from {what}"


def _record(
    candidate: Candidate,
    status: str,
    reason: str,
    now: datetime,
    provenance: str,
    config: ModelConfig | None,
    accounting: ParamAccounting | None,
    config_json: str | None,
    sha: str | None,
) -> ModelRecord:
    return ModelRecord(
        repo_id=candidate.repo_id,
        sha=sha,
        provenance=provenance,
        status=status,
        status_reason=reason,
        config=config,
        accounting=accounting,
        hub=candidate.hub,
        config_json=config_json,
        read_at=now,
        popularity=popularity(candidate.hub.downloads),
    )


def _outcome(
    candidate: Candidate,
    status: str,
    reason: str,
    accounting: ParamAccounting | None,
    *,
    transient: bool = False,
) -> RepoOutcome:
    total = accounting.total_params if accounting else None
    return RepoOutcome(candidate.repo_id, status, reason, total, candidate.hub.hub_total_params, transient)
