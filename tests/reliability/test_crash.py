"""Item 2 (reduced to 5 kills, plus one at start-up): kill -9 `fitbot crawl`, restart, check."""

from __future__ import annotations

import pytest

from bench.reliability._crash import CRAWL, EXPECTED_RUNS, run_kills

pytestmark = [pytest.mark.network, pytest.mark.slow]


@pytest.fixture(scope="module")
def kills():
    runs, _ = run_kills(5, 1, seed=7, limit_s=240)
    return runs


def test_every_kill_ran(kills):
    """Six kills, at least four of them mid-crawl, each followed by a restart."""
    assert len(kills) == 6
    assert sum(k.phase == CRAWL for k in kills) >= 4


def test_integrity_check_is_ok_after_every_restart(kills):
    """PRAGMA integrity_check answers ok each time."""
    assert [p for k in kills for p in k.problems if "integrity" in p] == []


def test_every_repo_is_present_once_and_exact(kills):
    """After each restart every repo is there once, with the factory's status and counts."""
    assert [p for k in kills for p in k.problems if "crawl runs" not in p] == []


def test_runs_read_interrupted_then_completed(kills):
    """A mid-crawl kill leaves the run interrupted and the restart's run completed."""
    assert all(k.runs == EXPECTED_RUNS[k.phase] for k in kills)
    assert any(k.runs == ("interrupted", "completed") for k in kills)


def test_nothing_written_before_the_kill_is_read_again(kills):
    """The restart reads only what the killed crawl had not written."""
    assert sum(k.reread for k in kills) == 0
    assert max(k.written_before for k in kills) > 0
