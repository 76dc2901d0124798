"""``fitbot bot`` and ``fitbot sync-commands``: the Discord half of the composition root.

Settings in, wired components out: the endpoints discord.py talks to, the database, the
catalog service and the bot. The end-to-end tests run ``serve`` itself against a local
Discord stand-in, so they exercise exactly what ``fitbot bot`` runs.

discord.py is imported inside the functions: it takes about 0.3 s to import, which every
other ``fitbot`` command would otherwise pay.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from estimator.errors import FitbotError
from store import utc_now

from .._logging import setup_logging
from .._service import CatalogService
from ._database import open_database
from ._on_demand import HubRepoReader
from ._settings import Settings, SettingsError

if TYPE_CHECKING:
    from .._discord import FitBot
    from ._cli import CliState

log = logging.getLogger(__name__)


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at a REST proxy or stand-in, when the settings name one.

    Both are class attributes that every request and connection reads
    (``discord/http.py`` ``Route.BASE``, ``discord/gateway.py`` ``DEFAULT_GATEWAY``).
    """
    import discord.gateway
    import discord.http
    import yarl

    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    if settings.discord_gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway)


def require_token(settings: Settings) -> str:
    """The bot token.

    Raises:
        SettingsError: DISCORD_TOKEN is not set.
    """
    if settings.discord_token is None:
        raise SettingsError(
            "DISCORD_TOKEN is not set: copy the bot token from https://discord.com/developers/applications "
            "(your application → Bot → Reset Token), then run DISCORD_TOKEN=... fitbot bot"
        )
    return settings.discord_token.reveal()


@asynccontextmanager
async def open_bot(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now, serving: bool = True, **options: Any
) -> AsyncIterator[FitBot]:
    """The database, the catalog service and the bot, closed in reverse order."""
    from .._answer_explain import render_explain
    from .._chart import render_fit_chart
    from .._discord import FitBot
    from ._scheduler import start_bot_scheduler

    configure_endpoints(settings)
    async with open_database(settings) as db:
        service = CatalogService(db, read_repo=HubRepoReader(settings, db))
        bot = FitBot(
            service=service,
            listing_hour_utc=settings.listing_hour_utc,
            source_url=settings.source_url,
            clock=clock,
            serving=serving,
            chart=render_fit_chart,
            explain=render_explain,
            shard_count=settings.shard_count or None,
            scheduler=start_bot_scheduler,
            **options,
        )
        async with bot:
            yield bot


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Callable[[], datetime] = utc_now,
    on_start: Callable[[FitBot], None] | None = None,
    **options: Any,
) -> None:
    """Run the bot until ``stop`` is set or the gateway ends; then close everything.

    Raises:
        SettingsError: no token, or Discord rejected it.
    """
    import aiohttp
    import discord

    token = require_token(settings)
    async with open_bot(settings, clock=clock, **options) as bot:
        if on_start is not None:
            on_start(bot)
        runner = asyncio.create_task(bot.start(token), name="fitbot-gateway")
        stopper = asyncio.create_task(stop.wait(), name="fitbot-stop")
        try:
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            await bot.close()  # the scheduler, then the gateway; the database closes after
            try:
                await runner
            except discord.LoginFailure:
                raise SettingsError(
                    "Discord rejected DISCORD_TOKEN: reset the bot token and set it again"
                ) from None
            except (OSError, aiohttp.ClientError) as e:
                raise FitbotError(
                    f"cannot reach Discord ({type(e).__name__}): "
                    "check the network, or FITBOT_DISCORD_API_BASE"
                ) from e
    log.info("fitbot stopped")


@click.command()
@click.pass_obj
def bot_command(state: CliState) -> None:
    """Run the Discord bot until SIGTERM or Ctrl-C.

    \b
    Reads DISCORD_TOKEN and FITBOT_DB; FITBOT_DISCORD_API_BASE and
    FITBOT_DISCORD_GATEWAY point it at a REST proxy or a stand-in.
    Run `fitbot sync-commands` once first, and after upgrades.
    \b
    Example:
      DISCORD_TOKEN=... FITBOT_DB=/var/lib/fitbot/fitbot.sqlite fitbot bot
    """
    settings: Settings = state.settings
    require_token(settings)
    # The CLI logs warnings only; a long-running bot logs its INFO summaries too.
    secrets = [s.reveal() for s in (settings.discord_token, settings.hf_token) if s]
    setup_logging(settings.log_format, "DEBUG" if state.verbose else settings.log_level, secrets)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve(settings, stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with suppress(ValueError):
                    loop.remove_signal_handler(sig)

    asyncio.run(main())


@click.command()
@click.option("--guild", "guild_id", type=int, help="Sync to this server only (instant; for testing).")
@click.pass_obj
def sync_commands_command(state: CliState, guild_id: int | None) -> None:
    """Register the slash commands with Discord and record what was synced.

    \b
    Global commands can take up to an hour to appear; --guild is instant.
    Run it after installing or upgrading fitbot; `fitbot bot` warns when needed.
    \b
    Example:
      fitbot sync-commands --guild 123456789012345678
    """
    settings: Settings = state.settings
    token = require_token(settings)

    async def run() -> int:
        import discord

        from .._discord import sync_commands

        async with open_bot(settings, serving=False) as bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                raise SettingsError(
                    "Discord rejected DISCORD_TOKEN: reset the bot token and set it again"
                ) from None
            return await sync_commands(bot.tree, bot.db, guild_id)

    count = asyncio.run(run())
    where = f"server {guild_id}" if guild_id is not None else "all servers (global; may take up to an hour)"
    click.echo(f"synced {count} commands to {where}")
