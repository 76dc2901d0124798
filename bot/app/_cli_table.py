"""The command table's commands on the terminal: click commands built from ``bot._commands``.

Each table parameter becomes a click argument or option whose type is the table's own
parser (``ParserType``), so the terminal reads "24GB" exactly as Discord and ``fitbot ask``
do; terminal-only options (``--json``, ``--explain``) are added here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import click

from estimator import parse_quant
from store import get_gguf_repo

from .._answer_explain import render_explain
from .._answer_fit import render_fit
from .._commands import COMMANDS, CommandContext, CommandSpec, ParamKind, Surface
from .._document import Document
from .._json import fit_json, gguf_repo_json, model_json
from .._service import FitAnswer
from ._cli import CliState, main
from ._cli_render import echo_document
from ._database import open_service

QUANT = ParamKind("quant", parse_quant, "QUANT")


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

    async def run() -> Document:
        async with open_service(state.settings) as service:
            ctx = CommandContext(service, state.settings.source_url, Surface.CLI)
            return await spec.run(ctx, **values)

    echo_document(asyncio.run(run()))


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

    async def run() -> FitAnswer:
        async with open_service(state.settings) as service:
            return await service.fit(
                args["model"],
                args["budget"],
                context=args["context"],
                kv_type=args["kv_cache"],
                flash_attention=not no_fa,
                mtp_draft=args["speculative"] == "mtp",
            )

    answer = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(fit_json(answer, args["model"].text), indent=2))
        return
    extra = (render_explain(answer, quant),) if explain else ()
    echo_document(render_fit(answer), *extra)


@table_command("model", _json_option())
def model(state: CliState, args: dict[str, Any], as_json: bool) -> None:
    """Exact counts of MODEL, as text or JSON."""
    if not as_json:
        _print_document(state, "model", args)
        return

    async def run() -> str:
        async with open_service(state.settings) as service:
            ref = args["model"]
            if ref.path is None and ref.text.count("/") == 1:
                gguf = await get_gguf_repo(service.db, ref.text)
                if gguf is not None:  # a GGUF repo id: its files (issue 15)
                    return json.dumps(gguf_repo_json(gguf), indent=2)
            resolved = await service.resolve(ref)
            if resolved.gguf_repo is not None:  # read from the Hub just now
                return json.dumps(gguf_repo_json(resolved.gguf_repo), indent=2)
            return json.dumps(model_json(resolved), indent=2)

    click.echo(asyncio.run(run()))


for _name in ("define", "compare", "new", "about", "help"):
    table_command(_name)(lambda state, args, _n=_name: _print_document(state, _n, args))
