"""Operator commands: config show, status (the container health check), backup, export."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from store import RUN_COMPLETED, Database, catalog_stats, list_models
from store.errors import StoreError

from .._export import write_csv, write_json, write_parquet
from ._database import open_database

if TYPE_CHECKING:
    from ._cli import CliState
    from ._settings import Settings

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


@click.command(name="backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the database to PATH with SQLite's online backup (safe while the crawler writes).

    \b
    Example:
      fitbot backup /backups/fitbot-$(date +%F).sqlite
    """
    settings = _state().settings

    async def run() -> int:
        db = await Database.open(settings.db_path, migrate=False)
        try:
            await db.backup_to(path)
        finally:
            await db.close()
        copy = await Database.open(path, migrate=False)
        try:
            if (check := await copy.integrity_check()) != "ok":
                raise StoreError(f"the backup at {path} failed its integrity check: {check}")
            return (await catalog_stats(copy)).models
        finally:
            await copy.close()

    models = asyncio.run(run())
    click.echo(f"backed up {models} models to {path}")


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
    rows = asyncio.run(_rows(settings))
    if fmt == "parquet":
        count = write_parquet(rows, str(out))
    else:
        stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
        try:
            count = (write_csv if fmt == "csv" else write_json)(rows, stream)  # type: ignore[arg-type]
        finally:
            if out:
                stream.close()
    click.echo(f"exported {count} models", err=True)


async def _rows(settings: Settings) -> list[dict[str, object]]:
    from .._export import export_row

    rows, offset = [], 0
    async with open_database(settings) as db:
        while page := await list_models(db, limit=EXPORT_PAGE, offset=offset):
            rows += [export_row(r) for r in page]
            offset += len(page)
    return rows
