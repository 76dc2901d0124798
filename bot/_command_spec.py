"""The records of the command table: a command, its parameters and the kinds of value they take.

``bot._commands`` fills the table; the surfaces (``bot.app._cli``, ``bot._discord``,
``fitbot ask``) are built from it.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ._document import Document

if TYPE_CHECKING:
    from ._service import CatalogService

__all__ = ["CommandContext", "CommandSpec", "Param", "ParamKind", "Runner", "Surface"]


class Surface(StrEnum):
    """Where a command can be typed."""

    CLI = "cli"  # fitbot NAME ...
    DISCORD = "discord"  # /NAME in a server
    ASK = "ask"  # fitbot ask "/NAME ..."


@dataclass(frozen=True, slots=True)
class ParamKind:
    """A kind of value and the one parser that reads it from text.

    ``terminal_parse`` replaces ``parse`` on the command line, where more is allowed
    (a model reference may be a local path there, never on Discord).
    """

    name: str
    parse: Callable[[str], Any]
    metavar: str
    choices: tuple[str, ...] = ()
    terminal_parse: Callable[[str], Any] | None = None

    def parse_for(self, surface: Surface) -> Callable[[str], Any]:
        if surface is Surface.CLI and self.terminal_parse is not None:
            return self.terminal_parse
        return self.parse


@dataclass(frozen=True, slots=True)
class Param:
    """One option of a command. ``rest`` takes the remaining words (names with spaces)."""

    name: str
    kind: ParamKind
    help: str
    required: bool = True
    default: Any = None
    rest: bool = False
    autocomplete: bool = False
    terminal_note: str = ""  # added to the help on the terminal only


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a command runs against, besides its own arguments."""

    service: CatalogService
    source_url: str = ""
    surface: Surface = Surface.ASK


# A command's code: the context, then its typed parameters by name.
Runner = Callable[..., Awaitable[Document]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command: name, one-line summary (Discord's description), parameters, examples."""

    name: str
    summary: str
    params: tuple[Param, ...]
    examples: tuple[tuple[tuple[str, str], ...], ...]
    run: Runner
    absent: Mapping[Surface, str] = field(default_factory=dict)  # surface → why not there

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def describe(self) -> dict[str, str]:
        """Discord's per-option descriptions."""
        return {p.name: p.help for p in self.params}

    def example_text(self, surface: Surface, example: Iterable[tuple[str, str]]) -> str:
        """One example as typed on ``surface``: required values in order, the rest by name."""
        required = {p.name for p in self.params if p.required}
        words: list[str] = []
        for name, value in example:
            if name in required:
                words.append(shlex.quote(value))
            elif surface is Surface.CLI:
                words += [f"--{name.replace('_', '-')}", shlex.quote(value)]
            else:
                words.append(shlex.quote(f"{name}:{value}"))
        prefix = f"fitbot {self.name}" if surface is Surface.CLI else f"/{self.name}"
        return " ".join([prefix, *words])

    @property
    def usage(self) -> str:
        return self.example_text(Surface.ASK, self.examples[0]) if self.examples else f"/{self.name}"

    def parse_args(self, raw: Mapping[str, str], surface: Surface) -> dict[str, Any]:
        """Typed values for text arguments, through each parameter's parser.

        Raises:
            InputError subclasses: a value its parser refuses.
        """
        values: dict[str, Any] = {}
        for p in self.params:
            text = raw.get(p.name)
            values[p.name] = p.default if text in (None, "") else p.kind.parse_for(surface)(text)
        return values
