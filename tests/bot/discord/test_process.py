"""`fitbot bot` as a real process: it connects, answers, and stops cleanly on SIGTERM without leaking the token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from .conftest import TOKEN
from .discord_standin import DiscordStandin

pytestmark = pytest.mark.network


async def test_sigterm_stops_the_bot_cleanly(standin: DiscordStandin, db_path) -> None:
    """SIGTERM closes the gateway, the scheduler and the database; exit 0; the token is never printed."""
    env = {
        **os.environ,
        "DISCORD_TOKEN": TOKEN,
        "FITBOT_DB": str(db_path),
        "FITBOT_DISCORD_API_BASE": standin.api_base,
        "FITBOT_DISCORD_GATEWAY": standin.gateway_url,
        "FITBOT_LOG_LEVEL": "debug",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from bot.cli import main; main(prog_name='fitbot')", "bot",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(standin.identified.wait(), 30)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "fitbot stopped" in log and "Scheduler has been shut down" in log
    assert TOKEN not in log and TOKEN not in stdout.decode()
    assert any(r.path.endswith("/users/@me") for r in standin.requests)
