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
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import click

from estimator import parse_quant
from estimator.errors import FitbotError, InputError
from store import list_models
from store.errors import SchemaVersionError, StoreError

from .. import _format as fmt
from .._answer_explain import render_explain
from .._answer_fit import render_fit
from .._commands import COMMANDS, CommandContext, CommandSpec, ParamKind, Surface, parse_command
from .._document import render_text
from .._json import fit_json, model_json
from .._logging import setup_logging
from ._database import open_service
from ._settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)
QUANT = ParamKind("quant", parse_quant, "QUANT")

# Ordered: subclasses before their parents. (error type, exit code, prefix)
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (SettingsError, 2, "configuration error: "),
    (InputError, 2, ""),
    (SchemaVersionError, 3, "database error: "),
    (StoreError, 3, "database error: "),
    (FitbotError, 1, "error: "),
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


class ParserType(click.ParamType):  # type: ignore[type-arg]
    """A click type that reads its value with the command table's parser (errors exit 2, one line)."""

    def __init__(self, kind: ParamKind) -> None:
        self.kind = kind
        self.name = kind.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str) or isinstance(value, StrEnum):
            return value
        return self.kind.parse_for(Surface.CLI)(value)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.kind.choices) + "]" if self.kind.choices else self.kind.metavar


# Shorter spellings the terminal has always accepted.
SHORT_FLAGS = {"context": "-c"}
# Extra help the terminal shows after a command's summary.
CLI_NOTES = {
    "fit": (
        'BUDGET is what you have: 24GB, 2x24GB, 24+12GB, RTX 4090, 2x3090, "M3 Max 128GB", '
        'optionally with system RAM: "4090 + 64GB RAM". A typed "24GB" is a 24 GB card: 24 GiB. '
        "MODEL may also be a checkpoint folder (config.json plus safetensors) or a config.json."
    ),
    "model": "MODEL may also be a checkpoint folder (config.json plus safetensors) or a config.json.",
}
Handler = Callable[..., None]


def table_params(spec: CommandSpec) -> list[click.Parameter]:
    """The click arguments and options of one table command.

    A required parameter is an argument; the last one may take several words (``rest``);
    an optional one is an ``--option``.
    """
    out: list[click.Parameter] = []
    required = [p for p in spec.params if p.required]
    for p in spec.params:
        if p.required and p.rest and p is required[-1]:
            out.append(click.Argument([p.name], nargs=-1, required=True))
        elif p.required:
            out.append(click.Argument([p.name], type=ParserType(p.kind)))
        else:
            flags = [
                f"--{p.name.replace('_', '-')}",
                *([SHORT_FLAGS[p.name]] if p.name in SHORT_FLAGS else []),
            ]
            out.append(
                click.Option(
                    [*flags, p.name],
                    type=ParserType(p.kind),
                    default=p.default,
                    help=p.help + p.terminal_note + ".",
                    show_default=False,  # the help says the default
                )
            )
    return out


def cli_help(spec: CommandSpec) -> str:
    examples = "\n".join("  " + spec.example_text(Surface.CLI, e) for e in spec.examples)
    note = f"\n\n{CLI_NOTES[spec.name]}" if spec.name in CLI_NOTES else ""
    return f"{spec.summary}{note}\n\n\b\nExample:\n{examples}"


def table_command(name: str, *extra: click.Parameter) -> Callable[[Handler], click.Command]:
    """A click command built from the table entry ``name``; the handler gets typed values."""
    spec = COMMANDS[name]

    def decorate(handler: Handler) -> click.Command:
        def callback(**kwargs: Any) -> None:
            values: dict[str, Any] = {}
            for p in spec.params:
                value = kwargs.pop(p.name)
                values[p.name] = (
                    p.kind.parse_for(Surface.CLI)(" ".join(value)) if isinstance(value, tuple) else value
                )
            state = click.get_current_context().find_object(CliState)
            assert state is not None
            handler(state, values, **kwargs)

        command = click.Command(
            name, callback=callback, params=[*table_params(spec), *extra], help=cli_help(spec)
        )
        main.add_command(command)
        return command

    return decorate


def _json_option() -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help="Machine-readable output (see README).")


def _print_document(state: CliState, name: str, values: dict[str, Any]) -> None:
    spec = COMMANDS[name]

    async def run() -> str:
        async with open_service(state.settings) as service:
            ctx = CommandContext(service, state.settings.source_url, Surface.CLI)
            return render_text(await spec.run(ctx, **values))

    click.echo(asyncio.run(run()))


@table_command(
    "fit",
    _json_option(),
    click.Option(
        ["--no-flash-attention", "no_fa"],
        is_flag=True,
        help="Model llama.cpp run with -fa off (larger compute buffers).",
    ),
    click.Option(
        ["--explain"], is_flag=True, help="Show every term of the estimate with its formula and inputs."
    ),
    click.Option(
        ["--quant"],
        type=ParserType(QUANT),
        help="With --explain: the quantization to explain (default: the best choice).",
    ),
)
def fit(
    state: CliState, args: dict[str, Any], as_json: bool, no_fa: bool, explain: bool, quant: str | None
) -> None:
    """Will MODEL fit in BUDGET? One path: the service's ``fit``, then JSON or text."""

    async def run() -> str:
        async with open_service(state.settings) as service:
            answer = await service.fit(
                args["model"],
                args["budget"],
                context=args["context"],
                kv_type=args["kv_cache"],
                flash_attention=not no_fa,
            )
        if as_json:
            return json.dumps(fit_json(answer, args["model"].text), indent=2)
        text = render_text(render_fit(answer))
        if explain:
            text += "\n\n" + render_text(render_explain(answer, quant))
        return text

    click.echo(asyncio.run(run()))


@table_command("model", _json_option())
def model(state: CliState, args: dict[str, Any], as_json: bool) -> None:
    """Exact counts of MODEL, as text or JSON."""
    if not as_json:
        _print_document(state, "model", args)
        return

    async def run() -> str:
        async with open_service(state.settings) as service:
            return json.dumps(model_json(await service.resolve(args["model"])), indent=2)

    click.echo(asyncio.run(run()))


for _name in ("define", "compare", "new", "about", "help"):
    table_command(_name)(lambda state, args, _n=_name: _print_document(state, _n, args))


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
                        "total_params": r.accounting.total_params if r.accounting else None,
                        "active_params": r.accounting.active_params if r.accounting else None,
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
            count = f"{a.total_params:,}" if a else "—"
            short = fmt.params_short(a.total_params) if a else ""
            lines.append(f"{r.repo_id[:48]:<48} {count:>18} {short:>7}  {moe:<10} {r.provenance}")
        if not records:
            lines.append("(no models match)")
        return "\n".join(lines)

    click.echo(asyncio.run(run()))


@main.command()
@click.argument("text")
@pass_state
def ask(state: CliState, text: str) -> None:
    """Run a bot command in the terminal and print what the bot would answer.

    \b
    Example:
      fitbot ask "/fit qwen2.5-32b 24GB"
    """
    spec, args = parse_command(text)

    async def run() -> str:
        async with open_service(state.settings) as service:
            ctx = CommandContext(service, state.settings.source_url, Surface.ASK)
            return render_text(await spec.run(ctx, **args))

    click.echo(asyncio.run(run()))


from ._ops_cli import backup_command, config_group, export_command, status_command  # noqa: E402

main.add_command(config_group)
main.add_command(status_command)
main.add_command(backup_command)
main.add_command(export_command)


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="fitbot")
