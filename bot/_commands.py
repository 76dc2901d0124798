"""The command table: every command declared once, with typed parameters, help and examples.

The click commands (``bot.app._cli``), the Discord app commands (``bot._discord``) and
``fitbot ask`` are built from ``COMMANDS``; ``tests/bot/test_command_table.py`` fails when a
surface drifts from it. Each parameter names the parser that turns text into its value,
so "24GB" fails at the edge with the same message everywhere, and the service only ever
receives typed values.
"""

from __future__ import annotations

import asyncio
import functools
import shlex
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from enum import StrEnum
from typing import Any

from estimator import Budget, KvCacheType, Use, parse_budget, parse_context, parse_kv_type, rank_models
from estimator.errors import InputError
from store import get_model, list_models, list_updated_since

from ._answer_define import render_define
from ._answer_fit import describe_budget, render_fit
from ._answer_help import HelpLine, render_help
from ._answer_misc import render_about, render_compare, render_new
from ._answer_model import render_model
from ._answer_rank import parse_use_text, rank_candidates, render_rank
from ._command_spec import CommandContext, CommandSpec, Param, ParamKind, Surface
from ._document import Document
from ._parsers import (
    NEW_DAYS_DEFAULT,
    NEW_DAYS_MAX,
    ModelRef,
    parse_days,
    parse_model_name,
    parse_model_ref,
    parse_term,
    parse_whole_number,
)
from .errors import CommandParseError

__all__ = [
    "COMMANDS",
    "NEW_DAYS_DEFAULT",
    "NEW_DAYS_MAX",
    "CommandContext",
    "CommandSpec",
    "Param",
    "ParamKind",
    "Speculative",
    "Surface",
    "parse_command",
    "parse_speculative",
    "parse_whole_number",
]

NEW_LIMIT = 50
# The most popular models are the ones worth ranking; the rest rarely qualify and cost time.
RANK_CANDIDATES = 300
RANK_LIMIT = 25  # five pages of five on Discord


MODEL = ParamKind("model", parse_model_name, "MODEL", terminal_parse=parse_model_ref)
BUDGET = ParamKind("budget", parse_budget, "BUDGET")
CONTEXT = ParamKind("context", parse_context, "TOKENS")
KV_CACHE = ParamKind("kv_cache", parse_kv_type, "TYPE", choices=tuple(KvCacheType))


class Speculative(StrEnum):
    """Speculative decoding for /fit: off, or drafting with the model's own MTP (NextN) layers."""

    OFF = "off"
    MTP = "mtp"


def parse_speculative(text: str) -> Speculative:
    """Read "mtp" (also on/yes/true) or "off" (also no/false/none).

    Raises:
        CommandParseError: anything else.
    """
    key = text.strip().lower()
    key = {
        "on": "mtp",
        "yes": "mtp",
        "true": "mtp",
        "nextn": "mtp",
        "no": "off",
        "false": "off",
        "none": "off",
    }.get(key, key)
    if key not in tuple(Speculative):
        raise CommandParseError(f"'{text}' is not a speculative mode: try speculative:mtp or speculative:off")
    return Speculative(key)


SPECULATIVE = ParamKind("speculative", parse_speculative, "MODE", choices=tuple(Speculative))
DAYS = ParamKind("days", parse_days, "DAYS")
TERM = ParamKind("term", parse_term, "TERM")
USE = ParamKind("use", parse_use_text, "USE", choices=tuple(Use))


async def run_fit(
    ctx: CommandContext,
    model: ModelRef,
    budget: Budget,
    context: int | None = None,
    kv_cache: KvCacheType = KvCacheType.F16,
    speculative: Speculative | None = None,
) -> Document:
    mtp = speculative is Speculative.MTP
    return render_fit(await ctx.service.fit(model, budget, context=context, kv_type=kv_cache, mtp_draft=mtp))


async def run_model(ctx: CommandContext, model: ModelRef) -> Document:
    return render_model(await ctx.service.resolve(model))


async def run_define(ctx: CommandContext, term: str) -> Document:
    service = ctx.service
    glossary = await service.glossary()
    entry = glossary.lookup(term)
    example = await get_model(service.db, entry.example_model) if entry.example_model else None
    related = tuple(glossary.entries[k] for k in entry.related if k in glossary.entries)
    return render_define(entry, example, related)


async def run_compare(ctx: CommandContext, a: ModelRef, b: ModelRef) -> Document:
    return render_compare(await ctx.service.resolve(a), await ctx.service.resolve(b))


async def run_rank(
    ctx: CommandContext, budget: Budget, use: Use | None = None, *, executor: Executor | None = None
) -> Document:
    """The models that run well on ``budget`` (for ``use``), best first, in pages.

    ``executor`` runs the ranking (default: a thread); the bot passes a process pool.
    """
    records = await list_models(ctx.service.db, limit=RANK_CANDIDATES)
    candidates = rank_candidates(records, ctx.service.db.clock())
    # ~150 recommendations take 1-3 s of CPU: never on the event loop.
    work = functools.partial(rank_models, candidates, budget, use=use, limit=RANK_LIMIT)
    ranked = await asyncio.get_running_loop().run_in_executor(executor, work)
    bare_size = not budget.names_gpu and not budget.cpu_only
    return render_rank(ranked, describe_budget(budget), use, card_assumed=bare_size)


async def run_new(ctx: CommandContext, days: int = NEW_DAYS_DEFAULT) -> Document:
    """Models added or re-read in the last ``days`` days (default a week).

    Raises:
        CommandParseError: ``days`` is not 1-90 (Discord's client keeps the range, a raw API
            call does not: the soak's 10^20 days overflowed ``timedelta``).
    """
    days = parse_days(days)
    now = ctx.service.db.clock()
    records = await list_updated_since(ctx.service.db, now - timedelta(days=days), limit=NEW_LIMIT)
    return render_new(records, days, now=now)


async def run_about(ctx: CommandContext) -> Document:
    return render_about(await ctx.service.stats(), ctx.source_url)


async def run_help(ctx: CommandContext) -> Document:
    surface = Surface.ASK if ctx.surface is Surface.DISCORD else ctx.surface
    lines = tuple(
        HelpLine(spec.name, spec.summary, tuple(spec.example_text(surface, e) for e in spec.examples))
        for spec in COMMANDS.values()
        if surface not in spec.absent
    )
    return render_help(lines, terminal=surface is Surface.CLI)


_MODEL_HELP = "Model name or repo id, e.g. qwen2.5-32b"
_CLI_MODEL_HELP = "; on the terminal also a checkpoint folder or config.json"

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "fit",
            "Will a model fit in your GPU memory? Memory per quantization and the best choice.",
            (
                Param(
                    "model", MODEL, _MODEL_HELP, rest=True, autocomplete=True, terminal_note=_CLI_MODEL_HELP
                ),
                Param(
                    "budget", BUDGET, "Your GPU memory: 24GB, 2x3090, RTX 4090, M3 Max 128GB, 4090 + 64GB RAM"
                ),
                Param(
                    "context",
                    CONTEXT,
                    "Context length in tokens, e.g. 8192 or 32k (default 8192)",
                    required=False,
                ),
                Param(
                    "kv_cache",
                    KV_CACHE,
                    "KV cache type (default f16)",
                    required=False,
                    default=KvCacheType.F16,
                ),
                Param(
                    "speculative",
                    SPECULATIVE,
                    "mtp: add the model's MTP draft (weights + KV) for speculative decoding (default off)",
                    required=False,
                ),
            ),
            (
                (("model", "qwen2.5-32b"), ("budget", "24GB")),
                (("model", "llama 3.1 70b"), ("budget", "2x3090"), ("context", "32k")),
                (("model", "deepseek v3"), ("budget", "8x H100"), ("speculative", "mtp")),
            ),
            run_fit,
        ),
        CommandSpec(
            "model",
            "Exact parameter count, components, MoE layout and storage of a model.",
            (
                Param(
                    "model",
                    MODEL,
                    "Model name or repo id, e.g. deepseek v3",
                    rest=True,
                    autocomplete=True,
                    terminal_note=_CLI_MODEL_HELP,
                ),
            ),
            ((("model", "ds v3"),),),
            run_model,
        ),
        CommandSpec(
            "define",
            "Explain a term: parameters, KV cache, quantization, MoE...",
            (
                Param(
                    "term",
                    TERM,
                    "The term, e.g. kv cache, moe, Q4_K_M (aliases and typos are fine)",
                    rest=True,
                    autocomplete=True,
                ),
            ),
            ((("term", "parameter"),), (("term", "kv cache"),)),
            run_define,
        ),
        CommandSpec(
            "compare",
            "Two models side by side: size, layout, memory at Q4_K_M.",
            (
                Param("a", MODEL, "First model, e.g. qwen2.5-32b", autocomplete=True),
                Param("b", MODEL, "Second model, e.g. llama 3.3 70b", autocomplete=True),
            ),
            ((("a", "qwen2.5-32b"), ("b", "llama 3.3 70b")),),
            run_compare,
        ),
        CommandSpec(
            "rank",
            "What can I run? The best models for your hardware, at 4-bit or better, with their speed.",
            (
                Param("budget", BUDGET, "Your hardware: 24GB, RTX 3090, 2x3090, M4 Max 128GB, 64GB RAM"),
                Param(
                    "use",
                    USE,
                    "What for: chat, code, long_context or vision (default: any)",
                    required=False,
                ),
            ),
            ((("budget", "24GB"),), (("budget", "RTX 3090"), ("use", "code"))),
            run_rank,
        ),
        CommandSpec(
            "new",
            "Models newly listed or re-read from their checkpoints.",
            (
                Param(
                    "days",
                    DAYS,
                    f"How many days back (1-{NEW_DAYS_MAX}, default {NEW_DAYS_DEFAULT})",
                    required=False,
                    default=NEW_DAYS_DEFAULT,
                ),
            ),
            ((("days", "7"),),),
            run_new,
        ),
        CommandSpec(
            "about",
            "Data freshness, what fitbot stores (privacy) and its source.",
            (),
            ((),),
            run_about,
        ),
        CommandSpec(
            "help",
            "The commands, what each answers, and an example of each.",
            (),
            ((),),
            run_help,
        ),
    )
}

# Commands of one surface only, and why they are not on the others.
CLI_ONLY: dict[str, str] = {
    "models": "lists the whole catalog: too long for a chat answer",
    "status": "operator health check of this machine's database and crawls",
    "config": "shows this machine's settings",
    "backup": "copies this machine's database file",
    "export": "writes dataset files on this machine",
    "crawl": "operator command: reads the Hub with this machine's token",
    "crawler": "operator service: the daily crawl",
    "bot": "starts the Discord bot itself",
    "sync-commands": "registers the Discord commands (operator)",
    "ask": "the terminal twin of the Discord commands",
}
DISCORD_ONLY: dict[str, str] = {
    "listing": "a per-server daily post, set up by server admins",
}


def parse_command(text: str) -> tuple[CommandSpec, dict[str, Any]]:
    """Split "/fit 'qwen2.5 32b' 24GB context:32k" into a command and its typed arguments.

    Arguments are positional in the table's order, or ``name:value``; each goes through
    its parameter's parser, as on Discord.

    Raises:
        CommandParseError: an unknown command, a missing argument, or bad quoting.
        InputError subclasses: a value its parser refuses.
    """
    spec, raw = split_command(text)
    return spec, spec.parse_args(raw, Surface.ASK)


def split_command(text: str) -> tuple[CommandSpec, dict[str, str]]:
    """The command ``text`` names and its arguments as text, not yet parsed.

    Raises:
        CommandParseError: an unknown command, a missing argument, or bad quoting.
    """
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise CommandParseError(
            f"cannot read {text!r}: {e}; quote names with spaces, e.g. /fit 'qwen2.5 32b' 24GB"
        ) from None
    if not words:
        raise CommandParseError(f"nothing to run: try {COMMANDS['fit'].usage}")
    name = words[0].lstrip("/").lower()
    spec = COMMANDS.get(name)
    if spec is None or Surface.ASK in spec.absent:
        raise CommandParseError(
            f"'/{name}' is not a command: use one of {', '.join('/' + c for c in COMMANDS)}"
        )
    names = [p.name for p in spec.params]
    args: dict[str, str] = {}
    positional = []
    for word in words[1:]:
        key, sep, value = word.partition(":")
        if sep and key in names:
            args[key] = value
        else:
            positional.append(word)
    if spec.name == "fit" and "model" not in args and "budget" not in args and len(positional) > 2:
        args.update(_group_fit_words(spec, positional))
        positional = []
    free = [n for n in names if n not in args]
    if len(free) == 1 and positional and spec.param(free[0]).rest:  # /model ds v3, /define kv cache
        positional = [" ".join(positional)]
    if len(positional) > len(free):
        raise CommandParseError(
            f"too many words for /{spec.name}: quote names with spaces, e.g. {spec.usage}"
        )
    args.update(zip(free, positional, strict=False))
    missing = [p.name for p in spec.params if p.required and not args.get(p.name)]
    if missing:
        raise CommandParseError(f"/{spec.name} needs {', '.join(missing)}: e.g. {spec.usage}")
    return spec, args


def _group_fit_words(spec: CommandSpec, words: list[str]) -> dict[str, str]:
    """Read "/fit llama 3.1 8b 2x3090 32k q8_0" from the right: KV type, context, budget;
    the rest is the model name, so unquoted multi-word names work."""
    rest = list(words)
    out: dict[str, str] = {}
    for name in ("kv_cache", "context"):
        parse = spec.param(name).kind.parse
        if len(rest) > 2 and _parses(parse, rest[-1]) and not _parses(parse_budget, rest[-1]):
            out[name] = rest.pop()
    out["budget"] = rest.pop()
    out["model"] = " ".join(rest)
    return out


def _parses(parse: Callable[[str], object], word: str) -> bool:
    try:
        parse(word)
    except InputError:
        return False
    return True
