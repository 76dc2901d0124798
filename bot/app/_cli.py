"""The ``fitbot`` command group: settings, logging and the service wired for the terminal.

Data goes to stdout, diagnostics to stderr. Expected failures print one line, no
traceback, and exit non-zero (the table in ``_exit_for``).

The operator commands that need discord.py, APScheduler or the crawler (and through it
huggingface_hub) are registered by name and imported only when run, so the cheap
commands (fit, model, define, models, status) never load them
(``tests/bot/test_composition_root.py`` checks this).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from estimator.errors import FitbotError, InputError
from store import list_models
from store.errors import SchemaVersionError, StoreError

from .. import _format as fmt
from .._logging import setup_logging
from ._cli_ask import AskAnswer, answer_ask
from ._cli_render import echo_document
from ._database import open_service
from ._settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

# Exit codes, the one place they are set. Service managers act on them: the systemd units
# name EXIT_CONFIG in RestartPreventExitStatus= (a bad token or setting does not heal by
# restarting), and everything else is retried with backoff (deploy/README.md).
EXIT_FAILED = 1  # a crawl or a command failed; may heal on its own (network, Hub, Discord)
EXIT_INPUT = 2  # bad input on the command line (click's usage errors use 2 as well)
EXIT_DATABASE = 3  # the database cannot be used (missing, unreadable, newer schema)
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: a setting is missing or wrong (DISCORD_TOKEN rejected too)

# Ordered: subclasses before their parents. (error type, exit code, prefix)
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (SettingsError, EXIT_CONFIG, "configuration error: "),
    (InputError, EXIT_INPUT, ""),
    (SchemaVersionError, EXIT_DATABASE, "database error: "),
    (StoreError, EXIT_DATABASE, "database error: "),
    (FitbotError, EXIT_FAILED, "error: "),
)


def _exit_for(error: BaseException) -> tuple[int, str] | None:
    for kind, code, prefix in ERROR_TABLE:
        if isinstance(error, kind):
            return code, prefix + str(error)
    return None


# Commands imported when used: name → (module, attribute).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "bot": ("bot.app._discord_cli", "bot_command"),
    "sync-commands": ("bot.app._discord_cli", "sync_commands_command"),
    "crawl": ("bot.app._crawl_cli", "crawl_command"),
    "crawler": ("bot.app._crawl_cli", "crawler_command"),
    "rank": ("bot._cli_rank", "rank_command"),
}


class LazyCommands(dict[str, click.Command]):
    """A group's command dict whose lazy entries are imported on first lookup.

    Membership, iteration and ``len`` know every name without importing anything.
    """

    def __init__(self, lazy: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self._lazy = dict(lazy)

    def _load(self, name: str) -> click.Command | None:
        target = self._lazy.pop(name, None)
        if target is None:
            return None
        command: click.Command = getattr(importlib.import_module(target[0]), target[1])
        self[name] = command
        return command

    def __missing__(self, name: str) -> click.Command:
        command = self._load(name)
        if command is None:
            raise KeyError(name)
        return command

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name) or self._load(name) or default

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter([*super().keys(), *self._lazy])

    def __len__(self) -> int:
        return super().__len__() + len(self._lazy)

    def keys(self) -> Any:
        return list(self)


class FitbotGroup(click.Group):
    """Translates fitbot's errors into one line on stderr and an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        commands = LazyCommands(LAZY_COMMANDS)
        commands.update(self.commands)
        self.commands = commands

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FitbotError as e:
            code, message = _exit_for(e) or (1, str(e))
            click.echo(message, err=True)
            ctx.exit(code)


class CliState:
    def __init__(self, db: Path | None, config: Path | None, verbose: bool) -> None:
        self.db = db
        self.config = config
        self.verbose = verbose
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_file=self.config, overrides={"db_path": self.db})
            secrets = [s.reveal() for s in (self._settings.discord_token, self._settings.hf_token) if s]
            level = (
                "DEBUG"
                if self.verbose
                else ("WARNING" if self._settings.log_level == "INFO" else self._settings.log_level)
            )
            setup_logging(self._settings.log_format, level, secrets)
        return self._settings


pass_state = click.make_pass_decorator(CliState)


@click.group(cls=FitbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database (default: FITBOT_DB or your data directory).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TOML settings file (or FITBOT_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
@click.version_option(package_name="fitbot")
@click.pass_context
def main(ctx: click.Context, db: Path | None, config: Path | None, verbose: bool) -> None:
    """fitbot: will this model run on my GPU? Exact parameter counts, honest memory estimates.

    \b
    Example:
      fitbot fit qwen2.5-32b 24GB
    """
    ctx.obj = CliState(db, config, verbose)


@main.command(name="models")
@click.option("--search", "-s", help="Only repo ids containing this text.")
@click.option(
    "--limit", "-n", default=30, show_default=True, type=click.IntRange(1, 10000), help="How many to list."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def models_command(state: CliState, search: str | None, limit: int, as_json: bool) -> None:
    """List catalog models by popularity, with exact sizes.

    \b
    Example:
      fitbot models --search qwen
    """

    async def run() -> str:
        async with open_service(state.settings) as service:
            records = await list_models(service.db, search=search, limit=limit)
        if as_json:
            return json.dumps(
                [
                    {
                        "repo_id": r.repo_id,
                        # issue 10: an undescribed family's config-derived sizes are not counts
                        "total_params": counted.total_params if (counted := r.counted) else None,
                        "active_params": counted.active_params if counted else None,
                        "provenance": r.provenance,
                        "status": r.status,
                    }
                    for r in records
                ],
                indent=2,
            )
        lines = [f"{'model':<48} {'parameters':>18} {'short':>7}  {'MoE':<10} source"]
        for r in records:
            a = r.accounting
            moe = f"{a.moe.num_experts}e/top{a.moe.experts_per_token}" if a and a.moe else ""
            count = f"{a.total_params:,}" if a and a.counts_known else "needs headers" if a else "—"
            short = ("" if a.counts_known else "≈") + fmt.params_short(a.total_params) if a else ""
            lines.append(f"{r.repo_id[:48]:<48} {count:>18} {short:>7}  {moe:<10} {r.provenance}")
        if not records:
            lines.append("(no models match)")
        return "\n".join(lines)

    click.echo(asyncio.run(run()))


@main.command()
@click.argument("text")
@pass_state
@click.pass_context
def ask(ctx: click.Context, state: CliState, text: str) -> None:
    """Ask as on Discord, or in plain words, and print what the bot would answer.

    \b
    Example:
      fitbot ask "/fit qwen2.5-32b 24GB"
      fitbot ask "can I run deepseek r1 on a 4090"
      fitbot ask "what can I run on a 3060"
    """

    async def run() -> AskAnswer:
        async with open_service(state.settings) as service:
            return await answer_ask(service, state.settings.source_url, text)

    answer = asyncio.run(run())
    if answer.read_as:
        click.echo(f"Read as: {answer.read_as}\n")
    if answer.document is not None:
        echo_document(answer.document)
        return
    rank = main.get_command(ctx, "rank")
    assert rank is not None
    with rank.make_context("rank", list(answer.rank_args), parent=ctx) as sub:
        rank.invoke(sub)


from . import _cli_table  # noqa: E402, F401  (adds the command table's commands to main)
from ._ops_cli import backup_command, config_group, export_command, status_command  # noqa: E402

main.add_command(config_group)
main.add_command(status_command)
main.add_command(backup_command)
main.add_command(export_command)


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="fitbot")
