"""The commands, once: each takes the service and plain arguments and returns a Document.

Discord cogs and ``fitbot ask`` both dispatch here, so the terminal twin shows exactly
what the bot shows.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from estimator import parse_budget, parse_context, parse_kv_type
from estimator.errors import InputError
from store import get_model, list_updated_since

from ._answer_define import render_define
from ._answer_fit import render_fit
from ._answer_misc import render_about, render_compare, render_new
from ._answer_model import render_model
from ._document import Document
from ._service import CatalogService
from .errors import CommandParseError

NEW_DAYS_DEFAULT = 7
NEW_DAYS_MAX = 90
NEW_LIMIT = 50


async def run_fit(service: CatalogService, model: str, budget: str, context: str | None = None, kv_cache: str | None = None) -> Document:
    answer = await service.fit(model, budget, context=context, kv_type=kv_cache or "f16")
    return render_fit(answer)


async def run_model(service: CatalogService, model: str) -> Document:
    return render_model(await service.resolve(model))


async def run_define(service: CatalogService, term: str) -> Document:
    glossary = await service.glossary()
    entry = glossary.lookup(term)
    example = await get_model(service.db, entry.example_model) if entry.example_model else None
    related = tuple(glossary.entries[k] for k in entry.related if k in glossary.entries)
    return render_define(entry, example, related)


async def run_compare(service: CatalogService, a: str, b: str) -> Document:
    return render_compare(await service.resolve(a), await service.resolve(b))


async def run_new(service: CatalogService, days: str | int | None = None) -> Document:
    """Models added or re-read in the last ``days`` days (default a week).

    Raises:
        CommandParseError: ``days`` is not a whole number from 1 to 90.
    """
    count = _days(days)
    now = service.db.clock()
    records = await list_updated_since(service.db, now - timedelta(days=count), limit=NEW_LIMIT)
    return render_new(records, count, now=now)


async def run_about(service: CatalogService, source_url: str) -> Document:
    return render_about(await service.stats(), source_url)


def _days(days: str | int | None) -> int:
    if days in (None, ""):
        return NEW_DAYS_DEFAULT
    return parse_whole_number(days, 1, NEW_DAYS_MAX, what="a number of days", example="/new 7")


def parse_whole_number(value: str | int, low: int, high: int, *, what: str, example: str) -> int:
    """``value`` as a whole number from ``low`` to ``high``.

    Discord's client keeps an integer option in its declared range, but a raw API call
    (or the terminal) can send anything; the answer then says what to type.

    Raises:
        CommandParseError: ``value`` is not a whole number in the range.
    """
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise CommandParseError(f"'{value}' is not {what}: use a whole number from {low} to {high}, e.g. {example}")
    return number


def _group_fit_words(words: list[str]) -> dict[str, str]:
    """Read "/fit llama 3.1 8b 2x3090 32k q8_0" from the right: KV type, context, budget;
    the rest is the model name, so unquoted multi-word names work."""
    rest = list(words)
    out: dict[str, str] = {}
    for key, parse in (("kv_cache", parse_kv_type), ("context", parse_context)):
        if len(rest) > 2 and _parses(parse, rest[-1]) and not _parses(parse_budget, rest[-1]):
            out[key] = rest.pop()
    out["budget"] = rest.pop()
    out["model"] = " ".join(rest)
    return out


def _parses(parse: Callable[[str], object], word: str) -> bool:
    try:
        parse(word)
    except InputError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    params: tuple[str, ...]
    required: int
    run: Callable[..., Awaitable[Document]]
    usage: str


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("fit", ("model", "budget", "context", "kv_cache"), 2, run_fit, '/fit qwen2.5-32b 24GB [context] [kv_cache]'),
        CommandSpec("model", ("model",), 1, run_model, "/model qwen2.5-32b"),
        CommandSpec("define", ("term",), 1, run_define, "/define parameter"),
        CommandSpec("compare", ("a", "b"), 2, run_compare, "/compare qwen2.5-32b 'llama 3.1 70b'"),
        CommandSpec("new", ("days",), 0, run_new, "/new 7"),
        CommandSpec("about", (), 0, run_about, "/about"),
    )
}


def parse_command(text: str) -> tuple[CommandSpec, dict[str, str]]:
    """Split "/fit 'qwen2.5 32b' 24GB context:32k" into a command and its arguments.

    Arguments are positional in Discord's option order, or ``name:value``.

    Raises:
        CommandParseError: an unknown command, a missing argument, or bad quoting.
    """
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise CommandParseError(f"cannot read {text!r}: {e}; quote names with spaces, e.g. /fit 'qwen2.5 32b' 24GB") from None
    if not words:
        raise CommandParseError(f"nothing to run: try {COMMANDS['fit'].usage}")
    name = words[0].lstrip("/").lower()
    spec = COMMANDS.get(name)
    if spec is None:
        raise CommandParseError(f"'/{name}' is not a command: use one of {', '.join('/' + c for c in COMMANDS)}")
    args: dict[str, str] = {}
    positional = []
    for word in words[1:]:
        key, sep, value = word.partition(":")
        if sep and key in spec.params:
            args[key] = value
        else:
            positional.append(word)
    if spec.name == "fit" and "model" not in args and "budget" not in args and len(positional) > 2:
        args.update(_group_fit_words(positional))
        positional = []
    free = [p for p in spec.params if p not in args]
    if len(free) == 1 and positional:  # /model ds v3, /define kv cache: one free-text argument
        positional = [" ".join(positional)]
    if len(positional) > len(free):
        raise CommandParseError(f"too many words for /{spec.name}: quote names with spaces, e.g. {spec.usage}")
    args.update(zip(free, positional, strict=False))
    missing = [p for p in spec.params[: spec.required] if not args.get(p)]
    if missing:
        raise CommandParseError(f"/{spec.name} needs {', '.join(missing)}: e.g. {spec.usage}")
    return spec, args
