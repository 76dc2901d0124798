"""Crawl runs and per-server listing settings."""

from datetime import date

import pytest

import store


async def test_run_lifecycle_records_counts(db):
    """A run starts running and finishes with its outcomes, requests and bytes."""
    run_id = await store.start_run(db, "daily")
    assert (await store.last_run(db)).status == "running"
    await store.finish_run(db, run_id, status="completed", outcomes={"ok": 3, "error": 1}, requests=17, bytes_received=4096)
    run = await store.last_run(db, finished_only=True)
    assert run.status == "completed"
    assert dict(run.outcomes) == {"ok": 3, "error": 1}
    assert (run.requests, run.bytes_received) == (17, 4096)


async def test_leftover_running_run_becomes_interrupted(db):
    """After a crash, the next start marks the dangling run interrupted."""
    await store.start_run(db, "daily")
    assert await store.mark_interrupted_runs(db) == 1
    run = await store.last_run(db)
    assert run.status == "interrupted" and run.error


async def test_a_run_cannot_finish_as_running(db):
    """finish_run refuses a non-final status."""
    run_id = await store.start_run(db, "x")
    with pytest.raises(ValueError):
        await store.finish_run(db, run_id, status="running", outcomes={}, requests=0, bytes_received=0)


async def test_listing_post_is_claimed_once_per_day(db):
    """The second claim for the same server and day fails: no double posts."""
    await store.upsert_subscription(db, 1, 10, 9)
    assert await store.claim_listing_post(db, 1, 10, date(2026, 11, 22)) is True
    assert await store.claim_listing_post(db, 1, 10, date(2026, 11, 22)) is False
    assert await store.claim_listing_post(db, 1, 10, date(2026, 11, 23)) is True
    assert (await store.get_guild_settings(db, 1)).last_posted_on == "2026-11-23"


async def test_released_claim_can_be_retried(db):
    """A post that failed releases its claim so the next attempt may post."""
    await store.upsert_subscription(db, 1, 10, 9)
    await store.claim_listing_post(db, 1, 10, date(2026, 11, 22))
    await store.release_listing_post(db, 1, date(2026, 11, 22))
    assert await store.claim_listing_post(db, 1, 10, date(2026, 11, 22)) is True


async def test_subscriptions_store_only_ids_and_hour(db):
    """Subscribe, list, unsubscribe; the settings hold ids and an hour, nothing else."""
    await store.upsert_subscription(db, 5, 50, 7)
    subs = await store.list_subscriptions(db)
    assert [(s.guild_id, s.channel_id, s.post_hour_utc) for s in subs] == [(5, 50, 7)]
    assert await store.delete_subscription(db, 5) is True
    assert await store.list_subscriptions(db) == ()
    assert await store.delete_subscription(db, 5) is False


async def test_release_restores_the_real_last_post(db):
    """After a failed post is released, "last posted" names the previous real post again."""
    await store.upsert_subscription(db, 1, 10, 9)
    await store.claim_listing_post(db, 1, 10, date(2026, 11, 21))
    await store.claim_listing_post(db, 1, 10, date(2026, 11, 22))
    await store.release_listing_post(db, 1, date(2026, 11, 22))
    assert (await store.get_guild_settings(db, 1)).last_posted_on == "2026-11-21"


async def test_only_dead_runs_are_marked_interrupted(db):
    """A running run that is_dead spares (a live process's) stays running."""
    live = await store.start_run(db, "service", pid=111, host="h")
    dead = await store.start_run(db, "manual", pid=222, host="h")
    marked = await store.mark_interrupted_runs(db, is_dead=lambda run: run.pid == 222)
    runs = {r.run_id: r for r in await store.list_runs(db)}
    assert marked == 1
    assert runs[live].status == "running" and runs[dead].status == "interrupted"
    assert runs[live].heartbeat_at is not None and runs[live].host == "h"
