"""Fixtures for the Discord tests: a stand-in Discord and a running bot.

``db_path`` (tests/bot/conftest.py) is a copy of a database seeded with the bundled catalog.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest

# discord.py imports the stdlib's audioop (voice), deprecated since Python 3.11; warnings
# are errors in this suite. (Better: the filterwarnings line suggested to the lead.)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord.gateway
    import discord.http

from bot.app._discord_cli import serve
from bot._discord import FitBot
from bot._service import CatalogService
from bot.app._settings import Secret, Settings
from store import Database

from .discord_standin import DiscordStandin

TOKEN = "standin-token-0123456789"


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    server = DiscordStandin()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> AsyncIterator[None]:
    """serve() points discord.py's class attributes at the stand-in; put them back afterwards."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def standin_settings(standin: DiscordStandin, db_path: Path, **overrides) -> Settings:
    return Settings(
        db_path=db_path,
        discord_token=Secret(TOKEN),
        discord_api_base=standin.api_base,
        discord_gateway=standin.gateway_url,
        source_url="https://example.invalid/fitbot",
        **overrides,
    )


@asynccontextmanager
async def running_bot(
    standin: DiscordStandin, db_path: Path, *, clock: Callable[[], datetime] | None = None, **overrides
) -> AsyncIterator[FitBot]:
    """`fitbot bot`'s own serve() against the stand-in, until the block ends."""
    settings = standin_settings(standin, db_path, **overrides)
    stop = asyncio.Event()
    started: list[FitBot] = []
    options = {"clock": clock} if clock else {}
    task = asyncio.create_task(serve(settings, stop, on_start=started.append, guild_ready_timeout=0.05, freeze_gc=False, **options))
    try:
        async with asyncio.timeout(60):
            while not (started and started[0].is_ready()):
                if task.done():
                    task.result()  # raises what went wrong
                await asyncio.sleep(0.01)
        yield started[0]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.fixture
async def service(db_path) -> AsyncIterator[CatalogService]:
    """The shared answer layer over a copy of the seeded catalog."""
    db = await Database.open(db_path)
    try:
        yield CatalogService(db)
    finally:
        await db.close()
