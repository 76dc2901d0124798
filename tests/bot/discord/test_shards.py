"""Discord's own sharding: the bot runs as an AutoShardedBot with the configured shard count."""

from __future__ import annotations

import pytest

from bot.app._settings import load_settings

from .conftest import running_bot
from .discord_standin import OPTION_STRING, DiscordStandin

pytestmark = pytest.mark.network

SHARD_TEST_USER = 913_000_000_000_000_013


def _followup(r) -> bool:
    return r.method == "POST" and "/webhooks/" in r.path


async def test_two_shards_identify_and_answer(standin: DiscordStandin, db_path) -> None:
    """shard_count=2 opens two gateway sessions, [0, 2] and [1, 2], and either one answers /fit."""
    async with running_bot(standin, db_path, shard_count=2) as bot:
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        assert sorted(tuple(i["shard"]) for i in standin.identifies) == [(0, 2), (1, 2)]
        options = [{"name": "model", "type": OPTION_STRING, "value": "qwen2.5-32b"},
                   {"name": "budget", "type": OPTION_STRING, "value": "24GB"}]
        # A user of its own: command cooldowns live on the cog class, shared by every test's bot.
        await standin.inject(standin.command("fit", options, user_id=SHARD_TEST_USER))
        followup = await standin.wait_for(_followup)
    assert "Qwen2.5-32B" in str(followup.body)


async def test_one_shard_by_default(standin: DiscordStandin, db_path) -> None:
    """Without the setting the bot holds one session, identified as shard [0, 1]."""
    async with running_bot(standin, db_path) as bot:
        assert bot.shard_count == 1
    assert [tuple(i["shard"]) for i in standin.identifies] == [(0, 1)]


def test_the_setting_reads_the_environment() -> None:
    """FITBOT_SHARD_COUNT sets it; 0 means "as many as Discord recommends"."""
    assert load_settings({"FITBOT_SHARD_COUNT": "4"}).shard_count == 4
    assert load_settings({"FITBOT_SHARD_COUNT": "0"}).shard_count == 0
    assert load_settings({}).shard_count == 1
