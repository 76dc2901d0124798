"""`fitbot crawl` end to end against the stand-in (the command lives in bot/app/_crawl_cli.py)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from click.testing import CliRunner

from bot.app._crawl_cli import _Bar
from bot.cli import main
from crawler import CrawlFailedError, crawl_once
from store import RUN_FAILED, last_run

from .conftest import TOKEN, hub_for, options_for
from .corpus import corpus, sources_toml

pytestmark = pytest.mark.network


def _invoke(standin, tmp_path, *args):
    repos, expects, pinned = corpus(heavy=False, malformed=True)
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(pinned), encoding="utf-8")
    env = {"HF_ENDPOINT": standin.url, "HF_TOKEN": TOKEN, "FITBOT_SOURCES": str(sources),
           "FITBOT_CONFIG": None, "FITBOT_CRAWL_CONCURRENCY": "8", "FITBOT_HF_TOKEN": None}
    return CliRunner().invoke(main, ["--db", str(tmp_path / "db.sqlite"), "crawl", *args], env=env)


def test_fitbot_crawl_prints_outcomes_and_stays_quiet_off_a_terminal(make_standin, tmp_path):
    """Exit 0; the summary on stdout names failures and count mismatches; nothing on stderr."""
    repos, expects, pinned = corpus(heavy=False, malformed=True)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    result = _invoke(standin, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "completed" in result.stdout.splitlines()[0]
    assert "error          fitbot-malformed/unknown-dtype" in result.stdout
    assert "count differs  openai/gpt-oss-20b: ours 20,914,757,184, the Hub's safetensors.total 11,956,805,184" in result.stdout
    again = _invoke(standin, tmp_path, "--json")
    data = json.loads(again.stdout)
    assert data["status"] == "completed" and data["requests"]["resolve"] == 0
    assert data["unchanged"] == sum(e.status != "not_found" for e in expects)


def test_fitbot_crawl_repo_and_force(make_standin, tmp_path):
    """--repo reads just that repo; --force reads it again although its commit is the same."""
    repos, expects, pinned = corpus(heavy=False, malformed=False)
    standin = make_standin(repos, tokens_with_access=frozenset({TOKEN}))
    first = json.loads(_invoke(standin, tmp_path, "--repo", "openai/gpt-oss-20b", "--json").stdout)
    second = json.loads(_invoke(standin, tmp_path, "--repo", "openai/gpt-oss-20b", "--json").stdout)
    forced = json.loads(_invoke(standin, tmp_path, "--repo", "openai/gpt-oss-20b", "--force", "--json").stdout)
    assert [o["total_params"] for o in first["outcomes"]] == [20_914_757_184]
    assert second["counts"] == {"unchanged": 1} and second["requests"]["resolve"] == 0
    assert forced["counts"] == {"ok": 1} and forced["requests"]["resolve"] > 0


def test_an_unknown_source_is_one_line_and_exit_1(make_standin, tmp_path):
    """--source with a name the file lacks: one line on stderr naming the known sources."""
    standin = make_standin([])
    result = _invoke(standin, tmp_path, "--source", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip()
    ] and "use one of: downloads, pinned" in result.stderr


async def test_a_crawl_that_cannot_list_anything_fails_and_is_recorded(make_standin, db):
    """Every listing refused: the run is recorded as failed and the crawl raises one error."""
    standin = make_standin([], refuse={"list": 400, "model_info": 400})
    async with hub_for(standin) as hub:
        with pytest.raises(CrawlFailedError, match="no source could be listed"):
            await crawl_once(hub, db, options_for(()))
    run = await last_run(db)
    assert run.status == RUN_FAILED and "no source could be listed" in run.error


def test_the_progress_bar_shows_on_a_terminal_only(monkeypatch):
    """A tqdm bar on a TTY stderr; nothing at all otherwise."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        bar = _Bar()
        bar.start(2)
        bar.advance("org/a", "ok")
        bar.advance("org/b", "error")
        bar.close()
        assert ("/2 [" in stream.getvalue()) is shown
