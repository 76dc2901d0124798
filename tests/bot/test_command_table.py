"""The command table is the one declaration: every surface has its commands, with its parameters."""

from __future__ import annotations

import click
import pytest

from bot._commands import CLI_ONLY, COMMANDS, DISCORD_ONLY, Surface, parse_command
from bot.app import ParserType, main


def _on(surface: Surface) -> set[str]:
    return {name for name, spec in COMMANDS.items() if surface not in spec.absent}


def test_cli_has_every_table_command_and_states_why_for_the_rest() -> None:
    """`fitbot NAME` exists for each table command; any other CLI command has a stated reason."""
    assert _on(Surface.CLI) <= set(main.commands)
    assert set(main.commands) - set(COMMANDS) == set(CLI_ONLY)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_cli_parameters_come_from_the_table(name: str) -> None:
    """Each table parameter is a CLI argument or option read by the table's own parser."""
    command = main.commands[name]
    by_name = {p.name: p for p in command.params}
    for param in COMMANDS[name].params:
        cli = by_name[param.name]
        assert cli.required == param.required
        if isinstance(cli.type, ParserType):
            assert cli.type.kind is param.kind
        else:  # a word-taking argument: joined, then parsed by the table's parser in the callback
            assert isinstance(cli, click.Argument) and cli.nargs == -1 and param.rest
    assert COMMANDS[name].summary in (command.help or "")


async def test_discord_has_every_table_command_with_the_same_parameters(db_path) -> None:
    """/NAME exists for each table command, with the table's options, descriptions and parsers."""
    from bot._discord import FitBot
    from bot._discord._params import TRANSFORMERS
    from bot._service import CatalogService
    from store import Database

    db = await Database.open(db_path)
    bot = FitBot(service=CatalogService(db), listing_hour_utc=9, source_url="https://example.invalid", serving=False, freeze_gc=False)
    try:
        await bot.setup_hook()
        tree = {c.name: c for c in bot.tree.get_commands()}
        assert _on(Surface.DISCORD) <= set(tree)
        assert set(tree) - set(COMMANDS) == set(DISCORD_ONLY)
        for name in _on(Surface.DISCORD):
            spec, command = COMMANDS[name], tree[name]
            assert isinstance(command, __import__("discord").app_commands.Command)
            assert command.description == spec.summary
            params = {p.name: p for p in command.parameters}
            assert list(params) == [p.name for p in spec.params]
            for param in spec.params:
                option = params[param.name]
                assert option.required == param.required and option.description == param.help
                assert bool(option.autocomplete) == param.autocomplete
                annotation = command._params[param.name]._annotation
                if param.kind.name in TRANSFORMERS:
                    assert isinstance(annotation, TRANSFORMERS[param.kind.name]) and annotation.kind is param.kind
    finally:
        await bot.close()
        await db.close()


def test_ask_knows_every_table_command() -> None:
    """`fitbot ask "/NAME ..."` accepts each table command's first example."""
    for name in _on(Surface.ASK):
        spec = COMMANDS[name]
        parsed, _ = parse_command(spec.usage)
        assert parsed is spec


@pytest.mark.parametrize("surface", list(Surface))
def test_examples_parse_on_their_surface(surface: Surface) -> None:
    """Every example in the table is valid input, as written for each surface."""
    for spec in COMMANDS.values():
        for example in spec.examples:
            spec.parse_args(dict(example), surface)
            if surface is Surface.ASK:
                assert parse_command(spec.example_text(surface, example))[0] is spec


async def test_help_lists_every_command_with_examples_in_each_surfaces_syntax() -> None:
    """`fitbot help` shows `fitbot NAME ...` examples; /help shows `/NAME ...`, for every table command."""
    from bot._commands import CommandContext, run_help
    from bot._document import render_text

    terminal = render_text(await run_help(CommandContext(None, surface=Surface.CLI)))  # type: ignore[arg-type]
    discord = render_text(await run_help(CommandContext(None, surface=Surface.DISCORD)))  # type: ignore[arg-type]
    for name, spec in COMMANDS.items():
        assert f"fitbot {name}" in terminal and f"/{name}" in discord
        for example in spec.examples:
            assert spec.example_text(Surface.CLI, example) in terminal
            assert spec.example_text(Surface.ASK, example) in discord
    assert "fitbot fit 'llama 3.1 70b' 2x3090 --context 32k" in terminal
    assert "/fit 'llama 3.1 70b' 2x3090 context:32k" in discord
