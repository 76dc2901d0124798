"""The discord.py client: a slash-only ``commands.Bot`` whose dependencies come in through
the constructor (discord.py ``examples/advanced_startup.py``), never from globals.

``setup_hook`` runs once, inside ``login()`` and before the gateway connects: it warms the
name index and glossary (so autocomplete has answers from the first keystroke), loads
the cogs, compares the command set with the last sync, and starts the scheduler it was
given (``bot.app._scheduler``: the jobs run ``listing.run`` and ``refresh_index``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from store import Database, utc_now

from .._document import Document
from .._logging import log_event
from .._malloc_trim import release_freed_memory
from .._service import CatalogService
from ._cog_catalog import CatalogCog
from ._cog_define import DefineCog
from ._cog_listing import ListingCog
from ._cog_lookup import LookupCog
from ._embeds import render_embeds
from ._errors import answer_error, unwrap
from ._fit_view import Chart, Explain
from ._listing import DailyListing
from ._sync import warn_if_unsynced
from ._views import CLAIMED_BY_VIEW

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
# A user-installable app: anyone can add fitbot to their account and use /fit in DMs, group
# DMs and any server, without an admin invite (Discord's integration_types 0 and 1, contexts
# 0-2). Commands that act on a server (/listing) narrow this for themselves.
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
ANY_INSTALL = app_commands.AppInstallationType(guild=True, user=True)
STALE_PRESS_GRACE_SECONDS = 0.5  # well inside the 3 s Discord gives a first response
STALE_PRESS_REPLY = (
    "These buttons have expired (the bot restarted, or 10 minutes passed): run the command again."
)


def _freeze_long_lived_objects() -> None:
    """Move the name index out of the cyclic GC's sight.

    With 100,000 names a full (generation 2) collection walks ~270,000 objects and
    stalls the event loop for ~120 ms (measured on the bench machine); the index is
    acyclic and lives until the next rebuild, when reference counting frees it anyway.

    Everything alive at the freeze is frozen with the index, views with buttons included,
    and a frozen object that later dies in a cycle is never collected. So the previous
    freeze is undone first: what died since is collected now, and the memory held back
    is bounded by one freeze's worth, instead of growing with every rebuild (the soak in
    bench/reliability measured +15% in 20 s after one rebuild without this).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Scheduler(Protocol):
    """What the bot needs of the scheduler the composition root starts (APScheduler's)."""

    @property
    def running(self) -> bool: ...

    def pause(self) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


SchedulerFactory = Callable[["FitBot"], Scheduler]


class FitTree(app_commands.CommandTree):
    """The command tree whose ``on_error`` is the bot's only error handler.

    It also writes one log line per command with its latency and outcome; no user,
    server or channel identifiers are logged.
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        interaction.extras["started"] = time.perf_counter()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        await answer_error(interaction, error)
        log_command(interaction, f"error:{type(unwrap(error)).__name__}")


def log_command(interaction: discord.Interaction, outcome: str) -> None:
    started = interaction.extras.get("started")
    command = interaction.command.qualified_name if interaction.command else "unknown"
    elapsed = round((time.perf_counter() - started) * 1000, 1) if started else None
    log_event(log, "command", command=command, outcome=outcome, ms=elapsed)


class FitBot(commands.AutoShardedBot):
    """fitbot on Discord: slash commands, buttons and the daily listing.

    Discord's own sharding (discord.py ``AutoShardedBot``): one process holds
    ``shard_count`` gateway connections, and ``None`` asks Discord how many it recommends.
    Discord requires shards from 2,500 servers on; every shard shares the one store.
    """

    def __init__(
        self,
        *,
        service: CatalogService,
        listing_hour_utc: int,
        source_url: str,
        clock: Callable[[], datetime] = utc_now,
        serving: bool = True,
        chart: Chart | None = None,
        explain: Explain | None = None,
        freeze_gc: bool = True,
        shard_count: int | None = 1,
        scheduler: SchedulerFactory | None = None,
        **options: Any,
    ) -> None:
        # A text-only bot: silence discord.py's start-up warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,  # slash only; no message content intent
            # Guilds is not privileged; without it discord.py warns about state at start.
            intents=discord.Intents(guilds=True),
            tree_cls=FitTree,
            allowed_mentions=NONE,
            help_command=None,
            allowed_contexts=EVERYWHERE,
            allowed_installs=ANY_INSTALL,
            shard_count=shard_count,
            **options,
        )
        self.service = service
        self.db: Database = service.db
        self.listing_hour_utc = listing_hour_utc
        self.source_url = source_url
        self.serving = serving
        self.chart = chart
        self.explain = explain
        self.freeze_gc = freeze_gc  # tests turn it off: many bots share one test process
        self.listing = DailyListing(self.db, self.post_document, clock)
        self.start_scheduler = scheduler  # the composition root's (bot.app._scheduler)
        self.scheduler: Scheduler | None = None

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Answer a button press no live view claims, which discord.py drops silently.

        A view is gone after a restart or its timeout; the user would otherwise see
        Discord's "This interaction failed". The view's task runs first (discord.py
        schedules it before this event), so a short wait is ample for it to claim the press.
        """
        if interaction.type is not discord.InteractionType.component:
            return
        await asyncio.sleep(STALE_PRESS_GRACE_SECONDS)
        if interaction.extras.get(CLAIMED_BY_VIEW) or interaction.response.is_done():
            return
        try:
            await interaction.response.send_message(STALE_PRESS_REPLY, ephemeral=True, allowed_mentions=NONE)
        except discord.HTTPException as e:  # expired token or a race with a late view: nothing to add
            log.debug("could not answer a stale button press: %s", e)

    async def on_app_command_completion(self, interaction: discord.Interaction, command: object) -> None:
        log_command(interaction, "ok")

    async def setup_hook(self) -> None:
        await self.service.refresh(force=True)
        if self.freeze_gc:
            _freeze_long_lived_objects()
        await self.add_cog(LookupCog(self.service, chart=self.chart, explain=self.explain))
        await self.add_cog(DefineCog(self.service))
        await self.add_cog(CatalogCog(self.service, source_url=self.source_url))
        await self.add_cog(ListingCog(self.db, default_hour_utc=self.listing_hour_utc))
        if self.serving:  # not for one-off uses such as `fitbot sync-commands`
            await warn_if_unsynced(self.tree, self.db)
            if self.start_scheduler is not None:
                self.scheduler = self.start_scheduler(self)

    async def refresh_index(self) -> None:
        """Rebuild the name index when the crawler moved the catalog version, and give the
        memory freed since the last call back to the system (every minute, by the scheduler)."""
        if await self.service.refresh() and self.freeze_gc:
            _freeze_long_lived_objects()
        release_freed_memory()

    async def post_document(self, channel_id: int, doc: Document) -> None:
        """Post ``doc`` in a channel, one message per page (no buttons: nobody owns a post)."""
        channel = self.get_partial_messageable(channel_id)
        for embed in render_embeds(doc):
            await channel.send(embed=embed, allowed_mentions=NONE)

    async def close(self) -> None:
        """Stop the scheduler, let a listing check in flight finish, then close Discord."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutting down now would cancel the one in flight
            await self.listing.drain()
            self.scheduler.shutdown(wait=False)
        await self.listing.drain()
        if not hasattr(self, "_AutoShardedClient__queue"):
            # discord.py's AutoShardedClient.close() posts "closed" to a queue that only
            # login() creates; a bot closed without ever logging in (one-off commands,
            # tests) gets an empty one, as Client.close() needs nothing of the kind.
            self._AutoShardedClient__queue: asyncio.PriorityQueue[Any] = asyncio.PriorityQueue()
        await super().close()
