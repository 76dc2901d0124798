"""The composition root: settings in, wired components out. Nothing else builds them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from store import Database, seed_bundled_data, start_from_template

from .._service import CatalogService
from ._on_demand import HubRepoReader
from ._settings import Settings


@asynccontextmanager
async def open_database(settings: Settings, *, seed: bool = True) -> AsyncIterator[Database]:
    """Open (create, migrate) the database; load the bundled catalog on first use (a new file
    starts as a copy of the shipped, already seeded store when that copy is current)."""
    # A copy is checked against the bundled files' fingerprint as it is made: seeding it would
    # only hash those files again to find nothing to do.
    seed_now = seed and not start_from_template(settings.db_path)
    db = await Database.open(settings.db_path)
    try:
        if seed_now:
            await seed_bundled_data(db)
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[CatalogService]:
    async with open_database(settings) as db:
        service = CatalogService(db, read_repo=HubRepoReader(settings, db))
        await service.refresh(force=True)
        yield service
