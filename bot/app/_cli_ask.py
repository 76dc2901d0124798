"""``fitbot ask``: a bot command ("/fit qwen2.5-32b 24GB") or a plain question, answered as a document.

A plain question is read by ``bot._ask_sentence`` against this catalog's name index and
glossary; the answer starts with the command it was read as, so the user learns the
short form and can correct a wrong reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from estimator import KvCacheType
from estimator.errors import InputError
from store.errors import ModelNotFoundError, TermNotFoundError

from .._ask_sentence import AskRoute, ModelMatch, PlainQuestion, read_question
from .._commands import COMMANDS, CommandContext, Surface, parse_command
from .._document import Document
from .._parsers import parse_model_name
from .._service import CatalogService
from ..errors import CommandParseError

__all__ = ["AskAnswer", "answer_ask", "is_command_syntax"]


@dataclass(frozen=True, slots=True)
class AskAnswer:
    """A document to print, or (for "what can I run?") the ``fitbot rank`` arguments to run."""

    read_as: str | None
    document: Document | None = None
    rank_args: tuple[str, ...] = ()


def is_command_syntax(text: str) -> bool:
    """True for "/fit ..." and "fit qwen2.5-32b 24GB": the bot's own command syntax."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return True
    first = stripped.split(maxsplit=1)[0].lower() if stripped else ""
    if first not in COMMANDS:
        return False
    try:
        parse_command(stripped)
    except CommandParseError:
        return False
    except InputError:  # a value the command's parser refuses: still the command's syntax
        return True
    return True


async def read_plain(service: CatalogService, text: str) -> PlainQuestion:
    """The question in ``text``, matched against this catalog's names and glossary.

    Raises:
        CommandParseError: no model, budget or term in it; says what to type.
    """
    await service.refresh()
    index = service.index
    glossary = await service.glossary()

    def find_model(span: str) -> ModelMatch | None:
        if index is None:
            return None
        try:
            found = index.resolve(span)
        except ModelNotFoundError:
            return None
        return ModelMatch(found.repo_id, found.exact)

    def find_term(span: str) -> str | None:
        try:
            return glossary.lookup(span).key
        except TermNotFoundError:
            return None

    return read_question(text, find_model, find_term)


async def answer_ask(service: CatalogService, source_url: str, text: str) -> AskAnswer:
    """The answer to ``fitbot ask TEXT``, command syntax or a plain question.

    Raises:
        CommandParseError: neither syntax can be read; says what to type.
        InputError subclasses: a value a parser refuses.
    """
    ctx = CommandContext(service, source_url, Surface.ASK)
    if is_command_syntax(text):
        spec, args = parse_command(text)
        return AskAnswer(None, await spec.run(ctx, **args))
    question = await read_plain(service, text)
    if question.route is AskRoute.RANK:
        assert question.budget is not None
        use = ("--use", str(question.use)) if question.use else ()
        return AskAnswer(question.command_line, rank_args=(question.budget.text, *use))
    spec = COMMANDS[str(question.route)]
    return AskAnswer(question.command_line, await spec.run(ctx, **_arguments(question)))


def _arguments(question: PlainQuestion) -> dict[str, Any]:
    if question.route is AskRoute.DEFINE:
        return {"term": question.term}
    model = parse_model_name(question.model or "")
    if question.route is AskRoute.MODEL:
        return {"model": model}
    return {
        "model": model,
        "budget": question.budget,
        "context": question.context,
        "kv_cache": question.kv_cache or KvCacheType.F16,
    }
