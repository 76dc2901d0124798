"""bench.bot_bench's scale lines run on a real bot over a small store (the unseen-/fit line crashed)."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("discord")

from bench.bot_bench import _unseen_fits  # noqa: E402
from bot._discord._cog_lookup import LookupCog  # noqa: E402
from bot.app._discord_cli import open_bot  # noqa: E402
from bot.app._settings import Settings  # noqa: E402


async def test_unseen_fits_answers_every_stored_model_typed_both_ways(tmp_path) -> None:
    """The /fit timing loop passes what the cog takes: one sample per repo, on the bundled catalog."""
    async with open_bot(Settings(db_path=tmp_path / "bench.sqlite"), serving=False, freeze_gc=False) as bot:
        await bot.setup_hook()
        cog = bot.get_cog("LookupCog")
        assert isinstance(cog, LookupCog)
        sql = "SELECT repo_id FROM models WHERE status = 'ok' ORDER BY repo_id LIMIT 12"
        rows = await bot.db.fetchall(sql)
        repos = [str(r[0]) for r in rows]
        assert len(repos) == 12
        # Seed 0 types some repos as ids and some as loose names, so both paths of the loop run.
        samples = await _unseen_fits(cog, repos, random.Random(0))
    assert len(samples) == len(repos)
    assert all(wall > 0 and cpu >= 0 for wall, cpu in samples)
