import shutil

import pytest


@pytest.fixture(scope="session")
def seeded_db_template(tmp_path_factory):
    """A database with the bundled catalog, built once through the real composition root."""
    import asyncio

    from bot.app._database import open_database
    from bot.app._settings import load_settings

    path = tmp_path_factory.mktemp("cli") / "fitbot.sqlite"

    async def build():
        async with open_database(load_settings({}, overrides={"db_path": path})) as db:
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    asyncio.run(build())
    return path


@pytest.fixture
def db_path(tmp_path, seeded_db_template):
    target = tmp_path / "fitbot.sqlite"
    shutil.copy(seeded_db_template, target)
    return target
