"""The ``fitbot`` command: the composition root behind every surface.

Data goes to stdout, diagnostics to stderr. Expected failures print one line, no
traceback, and exit non-zero (the table in ``_exit_for``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import click

from estimator.errors import FitbotError, InputError
from store import get_gguf_repo, list_models
from store.errors import SchemaVersionError, StoreError

from . import _format as fmt
from estimator import parse_quant

from ._answer_explain import render_explain
from ._answer_fit import render_fit
from ._commands import parse_command, run_define, run_fit, run_model
from ._document import render_text
from ._json import fit_json, gguf_repo_json, model_json
from ._logging import setup_logging
from ._root import open_service
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


class FitbotGroup(click.Group):
    """Translates fitbot's errors into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context):  # noqa: D102
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
            level = "DEBUG" if self.verbose else ("WARNING" if self._settings.log_level == "INFO" else self._settings.log_level)
            setup_logging(self._settings.log_format, level, secrets)
        return self._settings


pass_state = click.make_pass_decorator(CliState)


@click.group(cls=FitbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite database (default: FITBOT_DB or your data directory).")
@click.option("--config", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="TOML settings file (or FITBOT_CONFIG).")
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


@main.command()
@click.argument("model")
@click.argument("budget")
@click.option("--context", "-c", help="Context length in tokens, e.g. 8192 or 32k (default 8192).")
@click.option("--kv-cache", type=click.Choice(["f16", "q8_0", "q4_0"]), default="f16", show_default=True, help="KV cache type.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.option("--no-flash-attention", "no_fa", is_flag=True, help="Model llama.cpp run with -fa off (larger compute buffers).")
@click.option("--explain", is_flag=True, help="Show every term of the estimate with its formula and inputs.")
@click.option("--quant", help="With --explain: the quantization to explain (default: the best choice).")
@pass_state
def fit(state: CliState, model: str, budget: str, context: str | None, kv_cache: str, as_json: bool, no_fa: bool, explain: bool, quant: str | None) -> None:
    """Will MODEL fit in BUDGET? Memory per quantization, verdicts, largest context.

    \b
    BUDGET is what you have: 24GB, 2x24GB, 24+12GB, RTX 4090, 2x3090, "M3 Max 128GB",
    optionally with system RAM: "4090 + 64GB RAM". A typed "24GB" is a 24 GB card: 24 GiB.
    \b
    Example:
      fitbot fit qwen2.5-32b 24GB --context 32k
      fitbot fit qwen2.5-32b 24GB --explain --quant Q4_K_M
    """

    async def run() -> str:
        async with open_service(state.settings) as service:
            if as_json or explain or no_fa:
                answer = await service.fit(model, budget, context=context, kv_type=kv_cache, flash_attention=not no_fa)
                if as_json:
                    return json.dumps(fit_json(answer, model), indent=2)
                text = render_text(render_fit(answer))
                if explain:
                    text += "\n\n" + render_text(render_explain(answer, parse_quant(quant) if quant else None))
                return text
            return render_text(await run_fit(service, model, budget, context, kv_cache))

    click.echo(asyncio.run(run()))


@main.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@pass_state
def model(state: CliState, model: str, as_json: bool) -> None:
    """Exact parameter count, components, MoE layout and storage of MODEL.

    \b
    Example:
      fitbot model "ds v3" --json
    """

    async def run() -> str:
        async with open_service(state.settings) as service:
            if as_json:
                gguf = await get_gguf_repo(service.db, model) if model.count("/") == 1 else None
                if gguf is not None:  # a GGUF repo id: its files (issue 15)
                    return json.dumps(gguf_repo_json(gguf), indent=2)
                return json.dumps(model_json(await service.resolve(model)), indent=2)
            return render_text(await run_model(service, model))

    click.echo(asyncio.run(run()))


@main.command()
@click.argument("term", nargs=-1, required=True)
@pass_state
def define(state: CliState, term: tuple[str, ...]) -> None:
    """Explain a term (aliases, plurals and typos are fine).

    \b
    Example:
      fitbot define parameter
    """

    async def run() -> str:
        async with open_service(state.settings) as service:
            return render_text(await run_define(service, " ".join(term)))

    click.echo(asyncio.run(run()))


@main.command(name="models")
@click.option("--search", "-s", help="Only repo ids containing this text.")
@click.option("--limit", "-n", default=30, show_default=True, type=click.IntRange(1, 10000), help="How many to list.")
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
    if spec.name == "about":
        args["source_url"] = state.settings.source_url

    async def run() -> str:
        async with open_service(state.settings) as service:
            return render_text(await spec.run(service, **args))

    click.echo(asyncio.run(run()))


from ._cli_discord import bot_command, sync_commands_command
main.add_command(bot_command, name="bot")
main.add_command(sync_commands_command, name="sync-commands")


from ._cli_ops import backup_command, config_group, export_command, status_command  # noqa: E402

main.add_command(config_group)
main.add_command(status_command)
main.add_command(backup_command)
main.add_command(export_command)


from ._cli_crawl import crawl_command, crawler_command
main.add_command(crawl_command, name="crawl")
main.add_command(crawler_command, name="crawler")


from ._cli_rank import rank_command  # noqa: E402  (issue 12 §4: a self-contained addition)

main.add_command(rank_command, name="rank")


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="fitbot")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="fitbot"))
