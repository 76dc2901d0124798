import shutil

import pytest

from store import Database, seed_bundled_data


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """One seeded database per session; tests get a copy (seeding takes about a second)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "seeded.sqlite"

    async def build():
        database = await Database.open(path)
        await seed_bundled_data(database)
        await database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await database.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "fitbot.sqlite")
    yield database
    await database.close()


@pytest.fixture
async def seeded(tmp_path, seeded_template):
    target = tmp_path / "seeded.sqlite"
    shutil.copy(seeded_template, target)
    database = await Database.open(target)
    yield database
    await database.close()
