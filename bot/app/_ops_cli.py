"""Operator commands: config show, status (the container health check), backup, export."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from store import RUN_COMPLETED, Database, catalog_stats, iter_models
from store.errors import StoreError

from .._export import stream_rows, write_csv, write_json, write_parquet
from ._database import open_database

if TYPE_CHECKING:
    from ._cli import CliState

STALE_AFTER = timedelta(hours=36)
EXPORT_PAGE = 1000


def _state() -> CliState:
    """The root command's state (settings, logging), whichever module object defined it."""
    state: CliState = click.get_current_context().find_root().obj
    return state


@click.group(name="config")
def config_group() -> None:
    """Inspect the effective settings.

    \b
    Example:
      fitbot config show
    """


@config_group.command(name="show")
def config_show() -> None:
    """Print every setting with its value and variable; secrets are masked.

    \b
    Example:
      FITBOT_LOG_FORMAT=json fitbot config show
    """
    settings = _state().settings
    width = max(len(name) for name, _, _ in settings.shown())
    for name, value, env in settings.shown():
        click.echo(f"{name:<{width}}  {value:<48}  ({env})")


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_command(as_json: bool) -> None:
    """Report catalog freshness; exit 1 if the database is unreadable, the last crawl
    failed, or it is more than 36 hours old (the container HEALTHCHECK runs this).

    \b
    Example:
      fitbot status
    """
    settings = _state().settings
    report = asyncio.run(_status(settings.db_path))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            click.echo(f"{key}: {value}")
    if not report["healthy"]:
        sys.exit(1)


async def _status(path: Path) -> dict[str, object]:
    report: dict[str, object] = {"database": str(path), "healthy": False}
    if not path.exists():
        report["problem"] = (
            "the database file does not exist yet: start the crawler or run `fitbot models` once"
        )
        return report
    try:
        db = await Database.open(path, migrate=False)
    except StoreError as e:
        report["problem"] = f"database unreadable: {e}"
        return report
    try:
        stats = await catalog_stats(db)
    finally:
        await db.close()
    run = stats.last_run
    report.update(
        models=stats.models, by_provenance=dict(stats.by_provenance), by_status=dict(stats.by_status)
    )
    if run is None:
        report["problem"] = "no crawl has finished yet"
        return report
    age = datetime.now(UTC) - (run.finished_at or run.started_at)
    report.update(
        last_crawl_status=run.status,
        last_crawl_finished=run.finished_at.isoformat() if run.finished_at else None,
        last_crawl_age_hours=round(age.total_seconds() / 3600, 1),
        last_crawl_outcomes=dict(run.outcomes),
    )
    if run.status != RUN_COMPLETED:
        report["problem"] = f"the last crawl ended as {run.status}: {run.error or 'see the crawler log'}"
    elif age > STALE_AFTER:
        report["problem"] = f"the last crawl is {report['last_crawl_age_hours']} hours old (more than 36)"
    else:
        report["healthy"] = True
    return report


BACKUP_PREFIX = "fitbot-"
BACKUP_SUFFIX = ".sqlite"


@click.command(name="backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--keep", type=click.IntRange(1, 10_000), help="With a folder: keep only the N newest backups in it."
)
def backup_command(path: Path, keep: int | None) -> None:
    """Copy the database to PATH with SQLite's online backup (safe while the crawler writes).

    \b
    PATH is a file, or a folder (existing, or ending in /) that gets
    fitbot-<UTC time>.sqlite; --keep N then deletes all but the N newest there.
    The database is FITBOT_DB (or --db); a missing one is an error, never created.
    \b
    Example:
      fitbot --db /var/lib/fitbot/fitbot.sqlite backup /var/backups/fitbot-$(date +%F).sqlite
      fitbot backup --keep 14 /var/lib/fitbot/backups/
    """
    settings = _state().settings
    source = settings.db_path
    if not source.is_file():
        raise StoreError(
            f"there is no database at {source}: set FITBOT_DB or pass --db to the one the services use"
        )
    into_folder = path.is_dir() or str(path).endswith("/")
    if keep is not None and not into_folder:
        raise click.UsageError("--keep needs a folder as PATH (e.g. /var/lib/fitbot/backups/)")
    target = path / backup_name(datetime.now(UTC)) if into_folder else path
    models = asyncio.run(_backup(source, target))
    click.echo(f"backed up {models} models to {target}")
    if keep is not None:
        for old in prune_backups(path, keep):
            click.echo(f"deleted the old backup {old}")


def backup_name(now: datetime) -> str:
    """The file name of a backup taken at ``now``; names sort as times do."""
    return f"{BACKUP_PREFIX}{now.strftime('%Y-%m-%dT%H%M%SZ')}{BACKUP_SUFFIX}"


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest fitbot backups in ``folder``; returns what went.
    Only files named as ``backup_name`` names them are touched."""
    backups = sorted(p for p in folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}") if p.is_file())
    old = backups[:-keep]
    for backup in old:
        backup.unlink()
    return old


async def _backup(source: Path, target: Path) -> int:
    """Copy, then check the copy; returns its model count.

    Raises:
        StoreError: the source cannot be read or the copy fails its integrity check.
    """
    db = await Database.open(source, migrate=False)
    try:
        await db.backup_to(target)
    finally:
        await db.close()
    copy = await Database.open(target, migrate=False)
    try:
        if (check := await copy.integrity_check()) != "ok":
            raise StoreError(f"the backup at {target} failed its integrity check: {check}")
        return (await catalog_stats(copy)).models
    finally:
        await copy.close()


@click.command(name="export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout; required for parquet).",
)
def export_command(fmt: str, out: Path | None) -> None:
    """Write the GPU–LLM fit dataset: one row per model (columns in the README).

    \b
    Example:
      fitbot export --format csv --out fitbot-dataset.csv
    """
    settings = _state().settings
    if fmt == "parquet":
        if out is None:
            raise click.UsageError("--format parquet needs --out FILE")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise click.UsageError(
                "parquet needs the optional extra: pip install 'fitbot[parquet]'"
            ) from None
    # Rows stream from the store a page at a time (keyset pages), so memory does not grow
    # with the catalog; the event loop runs only while the next page is read.
    loop, exits = asyncio.new_event_loop(), contextlib.AsyncExitStack()
    try:
        db = loop.run_until_complete(exits.enter_async_context(open_database(settings)))
        rows = stream_rows(iter_models(db, batch=EXPORT_PAGE), loop)
        if fmt == "parquet":
            count = write_parquet(rows, str(out))
        else:
            with (
                out.open("w", encoding="utf-8", newline="")
                if out
                else contextlib.nullcontext(sys.stdout) as stream
            ):
                count = (write_csv if fmt == "csv" else write_json)(rows, stream)  # type: ignore[arg-type]
    finally:
        loop.run_until_complete(exits.aclose())
        loop.close()
    click.echo(f"exported {count} models", err=True)
