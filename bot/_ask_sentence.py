"""A plain question ("can I run deepseek r1 on a 4090?") read as a command with typed values.

The sentence is split into words. A context length ("32k context") and a KV-cache type
("q8_0 kv cache") are taken out first, then the longest run of words the estimator's own
``parse_budget`` reads as hardware (a GPU, a size with its unit, RAM, a Mac), then the run
of the remaining words that the catalog's name resolution knows (one that keeps every
number first, then exact, then longest). Filler words ("can I run ... on my") never reach
either parser. Which command answers follows from what was found: a model and a budget →
fit; a budget alone, or with what the models are for ("for coding") → rank; a model alone
→ model; a glossary term → define.

This module does no I/O: the caller passes the name and glossary look-ups in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from estimator import GPU_TABLE, Budget, KvCacheType, Use, parse_budget, parse_context, parse_kv_type
from estimator.errors import InputError

from .errors import CommandParseError

__all__ = ["AskRoute", "ModelMatch", "PlainQuestion", "read_question"]

_WORD_LIMIT = 40
_SUBJECT_LIMIT = 8  # words tried as a model name: 36 look-ups at most
_PUNCTUATION = "?!,;:\"'()"
# Words that carry the question, not its subject. Model-name words such as "mini", "air", "pro",
# "small" or "chat" are not here: they tell models apart.
_FILLER = frozenset(
    """a an the i i'd i'm im me my mine we our you your it this that these those is are am be
    can could will would should does do did shall may might must
    run runs running load loads loading fit fits fitting host use using serve inference infer
    what which whats what's how how's much many big large enough good best well there any anything
    something model models llm llms one ones locally local at in on into onto for with without of
    to under within inside and or but if so than then please pls plz tell about know show
    gpu gpus card cards graphics laptop computer pc desktop machine rig box setup system hardware
    mac macbook have has got get need want vram memory ram""".split()
)
_DEFINE_OPENERS = (
    ("what", "is"),
    ("what", "are"),
    ("whats",),
    ("what's",),
    ("define",),
    ("explain",),
    ("meaning", "of"),
    ("what", "does"),
)
_DEFINE_FILLER = frozenset({"a", "an", "the", "mean", "means", "meaning", "stand", "for", "of", "term"})
# Words that name what the models are for (fitbot rank --use).
_USES = {
    "chat": Use.CHAT,
    "chatting": Use.CHAT,
    "assistant": Use.CHAT,
    "code": Use.CODE,
    "coding": Use.CODE,
    "programming": Use.CODE,
    "coder": Use.CODE,
    "vision": Use.VISION,
    "images": Use.VISION,
    "image": Use.VISION,
}
_COUNTS = {str(n): str(n) for n in range(2, 9)} | {
    "two": "2",
    "dual": "2",
    "three": "3",
    "four": "4",
    "quad": "4",
    "six": "6",
    "eight": "8",
}
_BUDGET_WORDS = 8  # the longest budget tried, e.g. "macbook pro m3 max 64gb + 32gb ram"
# Words that can start or end a budget without a digit: the GPU table's name words, and how people
# say "no GPU", "RAM" or name a Mac without its chip.
_HARDWARE_WORDS = frozenset(
    word
    for gpu in GPU_TABLE
    for name in (gpu.name, gpu.key, *gpu.aliases)
    for word in re.split(r"[\s()/,]+", name.lower())
    if word and not any(c.isdigit() for c in word)
) | frozenset(
    """ram vram memory unified gpu gpus cpu only no without mac macbook imac studio mini air
    dual two three four quad six eight x""".split()
)
# One word that names a model by its exact form: "org/name", a Hub link, "qwen2.5:32b", "x.gguf".
_QUERY_FORM = re.compile(r"\w/\w|\w:\w|\.gguf$")
_CONTEXT_WORDS = frozenset({"context", "ctx", "tokens", "token", "window", "length"})
_KV_WORDS = frozenset({"kv", "kv-cache", "kvcache", "cache"})
_CONTEXT_NUMBER = re.compile(r"^\d+(?:\.\d+)?k$|^\d{3,7}$")
_UNIT = re.compile(r"\d\s*(?:gb|gib|g|tb|tib)\b|\b(?:ram|mac|macbook|cpu|gpu)\b")


class AskRoute(StrEnum):
    """The command a plain question is answered by."""

    FIT = "fit"
    RANK = "rank"
    MODEL = "model"
    DEFINE = "define"


@dataclass(frozen=True, slots=True)
class ModelMatch:
    """What the catalog made of a run of words: the repo id, and whether the name was exact."""

    repo_id: str
    exact: bool


@dataclass(frozen=True, slots=True)
class PlainQuestion:
    """A question as a command: the route and the values found (text spans as typed)."""

    route: AskRoute
    model: str | None = None
    budget: Budget | None = None
    context: int | None = None
    kv_cache: KvCacheType | None = None
    term: str | None = None
    use: Use | None = None

    @property
    def command_line(self) -> str:
        """The ``fitbot`` command that gives the same answer."""
        parts = ["fitbot", str(self.route)]
        for value in (self.model, self.budget.text if self.budget else None, self.term):
            if value:
                parts.append(f'"{value}"' if " " in value else value)
        if self.context is not None:
            parts += ["--context", str(self.context)]
        if self.kv_cache is not None:
            parts += ["--kv-cache", str(self.kv_cache)]
        if self.use is not None:
            parts += ["--use", str(self.use)]
        return " ".join(parts)


FindModel = Callable[[str], ModelMatch | None]
FindTerm = Callable[[str], str | None]


def read_question(text: str, find_model: FindModel, find_term: FindTerm) -> PlainQuestion:
    """The command a plain sentence asks for, with its typed values.

    ``find_model`` returns the catalog's match for a run of words (or None);
    ``find_term`` returns the glossary key a text names (or None).

    Raises:
        CommandParseError: nothing in the sentence is a model, a budget or a term; the
            message says what to type instead.
    """
    words = _words(text)
    if not words:
        raise CommandParseError(_what_to_type(text))
    term = _defined_term(words, find_term)
    if term is not None:
        return PlainQuestion(AskRoute.DEFINE, term=term)
    words, context = _take_context(words)
    words, kv_cache = _take_kv_cache(words)
    words, budget = _take_budget(words)
    subject = [w for w in words if w not in _FILLER]
    if budget is not None:  # "what can I run on a 3060 for coding": the words say what for, not which model
        rest, use = _take_use(subject)
        if not rest:
            return PlainQuestion(AskRoute.RANK, budget=budget, use=use)
    model = _find_model_span(subject, find_model)
    if model is not None:
        model = _as_typed(text).get(model, model)  # a repo id keeps its capitals
        route = AskRoute.FIT if budget is not None else AskRoute.MODEL
        return PlainQuestion(route, model=model, budget=budget, context=context, kv_cache=kv_cache)
    if subject:
        term = find_term(" ".join(subject)) if budget is None else None
        if term is not None:
            return PlainQuestion(AskRoute.DEFINE, term=term)
        raise CommandParseError(_no_model(subject, budget) if budget else _what_to_type(text))
    raise CommandParseError(_what_to_type(text))


def _words(text: str) -> list[str]:
    return [w.lower() for w in _typed_words(text)][:_WORD_LIMIT]


def _typed_words(text: str) -> list[str]:
    """The words of ``text`` as typed, without the punctuation around them."""
    words = (w.strip(_PUNCTUATION).rstrip(".") for w in str(text).replace("×", "x").split())
    return [w for w in words if w]


def _as_typed(text: str) -> dict[str, str]:
    """Each word in lower case → the word as typed."""
    return {w.lower(): w for w in _typed_words(text)}


def _defined_term(words: list[str], find_term: FindTerm) -> str | None:
    """ "what is a kv cache", "define moe": the glossary key, when the rest names a term."""
    for opener in _DEFINE_OPENERS:
        if tuple(words[: len(opener)]) == opener:
            rest = [w for w in words[len(opener) :] if w not in _DEFINE_FILLER]
            return find_term(" ".join(rest)) if rest else None
    return None


def _take_context(words: list[str]) -> tuple[list[str], int | None]:
    """A context length: "32k", "128k context", "context of 32768", "16384 tokens"."""
    for i, word in enumerate(words):
        if not _CONTEXT_NUMBER.match(word):
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i > 0 else ""
        before2 = words[i - 2] if i > 1 else ""
        named = after in _CONTEXT_WORDS or before in _CONTEXT_WORDS or before2 in _CONTEXT_WORDS
        if not (word.endswith("k") or named):
            continue
        try:
            context = parse_context(word)
        except InputError:
            continue
        drop = {i} | {j for j in (i - 2, i - 1, i + 1) if 0 <= j < len(words) and words[j] in _CONTEXT_WORDS}
        return [w for j, w in enumerate(words) if j not in drop], context
    return words, None


def _take_kv_cache(words: list[str]) -> tuple[list[str], KvCacheType | None]:
    """A KV-cache type next to "kv" or "kv cache": "q8_0 kv cache", "kv cache q4_0"."""
    for i, word in enumerate(words):
        if word not in _KV_WORDS:
            continue
        for j in (i - 1, i + 1, i + 2):
            if 0 <= j < len(words) and words[j] not in _KV_WORDS:
                try:
                    kv = parse_kv_type(words[j])
                except InputError:
                    continue
                drop = {j} | {k for k in range(min(i, j), max(i, j) + 1) if words[k] in _KV_WORDS}
                drop |= {k for k in (i + 1,) if k < len(words) and words[k] in _KV_WORDS}
                return [w for k, w in enumerate(words) if k not in drop], kv
    return words, None


def _take_budget(words: list[str]) -> tuple[list[str], Budget | None]:
    """The longest run of words that reads as hardware; of equal runs, the last (budgets end questions)."""
    best: tuple[int, int, Budget] | None = None
    for start in range(len(words)):
        if not _may_edge_budget(words[start]):
            continue
        for end in range(min(len(words), start + _BUDGET_WORDS), start, -1):
            if best is not None and end - start < best[1] - best[0]:
                break
            if not _may_edge_budget(words[end - 1]):
                continue
            budget = _as_budget(words[start:end])
            if budget is not None and (best is None or end - start >= best[1] - best[0]):
                best = (start, end, budget)
    if best is None:
        return words, None
    start, end, budget = best
    return words[:start] + words[end:], budget


def _may_edge_budget(word: str) -> bool:
    """Whether ``word`` can start or end a budget: a number, or a word of a GPU's or a Mac's name.

    Only a pruning step (every span tried costs a parse, and a refused GPU name a fuzzy search).
    """
    return word in _HARDWARE_WORDS or any(c.isdigit() for c in word)


def _as_budget(span: list[str]) -> Budget | None:
    """``span`` as a budget, when it names hardware: a bare number ("3.1", "8") is a model's, not a size.

    Counted cards as people write them, "2 3090s and 2 4090s", are read as "2x 3090 and 2x 4090".
    """
    text = " ".join(span)
    counted = " ".join(
        f"{_COUNTS[w]}x" if w in _COUNTS and i + 1 < len(span) and _has_digit(span[i + 1]) else w
        for i, w in enumerate(span)
    )
    for candidate in dict.fromkeys((text, re.sub(r"(\d)s\b", r"\1", counted))):
        try:
            budget = parse_budget(candidate)
        except InputError:
            continue
        names_hardware = any(d.gpu is not None or d.cpu for d in budget.devices) or budget.system_ram_bytes
        return budget if names_hardware or _UNIT.search(text) else None
    return None


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def _take_use(words: list[str]) -> tuple[list[str], Use | None]:
    """What the models are for, in "what can I run on a 3060 for coding"."""
    joined = " ".join(words)
    if "long context" in joined:
        return [w for w in words if w not in ("long", "context")], Use.LONG_CONTEXT
    for i, word in enumerate(words):
        if word in _USES:
            return words[:i] + words[i + 1 :], _USES[word]
    return words, None


def _find_model_span(words: Sequence[str], find_model: FindModel) -> str | None:
    """The run of words the catalog knows.

    Preferred: a run that leaves out no word with a digit ("the new deepseek r1" is DeepSeek-R1,
    but "qwen5 999b" is not whatever "qwen5" guesses), then an exact name, then the longest, then
    the first. A guessed (not exact) match never leaves out a word with a digit.
    A word in an exact form (a repo id, a Hub link, an Ollama tag, a file name) is taken as it is.
    """
    named = [w for w in words if _QUERY_FORM.search(w)]
    if named:  # a repo id, Hub link, Ollama tag or file name: the service reads it as it is
        return named[0]
    words = words[:_SUBJECT_LIMIT]
    best: tuple[bool, bool, int, int, str] | None = None
    for length in range(len(words), 0, -1):  # longest first: a run that is exact and keeps every
        for start in range(len(words) - length + 1):  # number cannot be beaten by a shorter one
            end = start + length
            span = " ".join(words[start:end])
            match = find_model(span)
            if match is None:
                continue
            keeps_numbers = not any(c.isdigit() for w in (*words[:start], *words[end:]) for c in w)
            if not (match.exact or keeps_numbers):
                continue
            key = (keeps_numbers, match.exact, length, -start, span)
            if best is None or key[:4] > best[:4]:
                best = key
        if best is not None and best[0] and best[1]:
            break
    return best[4] if best is not None else None


def _no_model(subject: list[str], budget: Budget | None) -> str:
    said = " ".join(subject)[:80]
    where = f"on {budget.text}" if budget is not None else "on a 4090"
    return (
        f"no model in the catalog is called '{said}': name one as on its Hub page, "
        f'e.g. fitbot ask "can I run qwen2.5 32b {where}", or find names with fitbot models -s WORD'
    )


def _what_to_type(text: str) -> str:
    return (
        f"cannot find a model, a GPU or a term in '{str(text).strip()[:80]}': "
        'ask e.g. fitbot ask "can I run qwen2.5 32b on a 4090", "what can I run on a 3060" '
        'or "what is a kv cache"'
    )
