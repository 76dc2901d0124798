"""Resolve what people type ("qwen2.5-32b", "llama3.1 8b", "ds v3", "mixtrl") to one repo id.

An in-memory index over the catalog's names, built once and rebuilt when the catalog
version moves:

* exact keys: the repo id, its name part and every alias, compacted to letters and digits;
* an inverted index from name tokens ("qwen", "2", "5", "32", "b") to models. Models are
  numbered in order of popularity, so posting lists are already ranked;
* typos are fixed per token against the token vocabulary (rapidfuzz), never in numbers:
  "32" and "3" are different models.

Among equally good matches, the more popular model wins.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .errors import ModelNotFoundError

_TOKEN = re.compile(r"[a-z]+|\d+")
# Variant suffixes that do not make a name a worse match: "llama3.1 8b" means the instruct model.
_SOFT_TOKENS = frozenset({"instruct", "chat", "it", "hf"})
_MAX_SCORED = 250
_MAX_CHOICE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Resolution:
    """The model a name resolved to, and whether that was a guess."""

    repo_id: str
    exact: bool
    alternatives: tuple[str, ...] = ()


def compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class NameIndex:
    """Name lookup over the whole catalog."""

    def __init__(self, models: Iterable[tuple[str, float]], aliases: Iterable[tuple[str, str]] = ()) -> None:
        ranked = sorted(models, key=lambda m: (-m[1], m[0]))
        self._ids = [repo for repo, _ in ranked]
        self._names = [compact(repo.rpartition("/")[2]) for repo in self._ids]
        position = {repo.lower(): i for i, repo in enumerate(self._ids)}
        self._token_sets: list[frozenset[str]] = []
        self._org_tokens: list[frozenset[str]] = []
        self._postings: dict[str, list[int]] = {}
        self._exact: dict[str, int] = {}
        for i, repo in enumerate(self._ids):
            org, _, name = repo.rpartition("/")
            name_tokens = tokens(name)
            self._token_sets.append(frozenset(name_tokens) | frozenset(tokens(org)))
            self._org_tokens.append(frozenset(tokens(org)) - frozenset(name_tokens))
            for token in self._token_sets[-1]:
                self._postings.setdefault(token, []).append(i)
            self._exact.setdefault(compact(repo), i)
        # Exact keys rank: a full repo id, then an alias, then a bare name part, so that the
        # alias "llama3.1 8b" (the instruct model) beats the base model's name "Llama-3.1-8B".
        for alias, repo in aliases:
            if (i := position.get(repo.lower())) is not None:
                self._exact.setdefault(compact(alias), i)
                for token in tokens(alias):
                    posting = self._postings.setdefault(token, [])
                    if not posting or posting[-1] != i:
                        bisect.insort(posting, i)
        for i, repo in enumerate(self._ids):
            self._exact.setdefault(compact(repo.rpartition("/")[2]), i)
        self._vocab = sorted(self._postings)
        self._sets: dict[str, frozenset[int]] = {}
        self._words = [t for t in self._vocab if t.isalpha() and len(t) >= 3]

    def __len__(self) -> int:
        return len(self._ids)

    def resolve(self, text: str) -> Resolution:
        """The one repo id ``text`` names, with alternatives when it was not exact.

        Raises:
            ModelNotFoundError: nothing matches; carries the nearest names.
        """
        query = text.strip()
        key = compact(query)
        if key in self._exact:
            i = self._exact[key]
            return Resolution(self._ids[i], True, tuple(r for r in self.search(query, 5) if r != self._ids[i])[:4])
        found = self.search(query, 5)
        if not found:
            raise ModelNotFoundError(query[:100], self.suggest(query))
        return Resolution(found[0], False, tuple(found[1:5]))

    def search(self, text: str, limit: int = 25, *, prefix: bool = False) -> list[str]:
        """Repo ids matching every token of ``text`` (typos forgiven), best first."""
        query = tokens(text)
        if not query:
            return []
        candidates = self._candidates(query, prefix=prefix)
        if not candidates:
            return []
        wanted = frozenset(query)
        typed = compact(text)
        scored = sorted(
            candidates,
            # Token sets lose word order, so a name that starts the way the text does wins first:
            # "qwen3 3" is Qwen3-32B or Qwen3-30B, not Qwen3-8B.
            key=lambda i: (not self._names[i].startswith(typed), self._extra_tokens(i, wanted), i),
        )
        return [self._ids[i] for i in scored[:limit]]

    def complete(self, text: str, limit: int = 25) -> list[str]:
        """Autocomplete choices for a partly typed name: at most ``limit``, each ≤ 100 chars."""
        limit = min(limit, 25)
        if not text.strip():
            names = self._ids[:limit]
        else:
            names = self.search(text, limit, prefix=True)
            key = compact(text)
            if key in self._exact and self._ids[self._exact[key]] not in names:
                names = [self._ids[self._exact[key]], *names][:limit]
        return [n for n in names if 1 <= len(n) <= _MAX_CHOICE_LENGTH]

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """The names closest to ``text`` when nothing matched, for the error message."""
        key = compact(text)
        if not key:
            return ()
        matches = process.extract(key, self._names[:5000], scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        return tuple(self._ids[index] for _, _, index in matches)

    def _candidates(self, query: list[str], *, prefix: bool) -> list[int]:
        """The most popular models matching every token; the last token may be a prefix."""
        exact_tokens, partial = (query[:-1], query[-1]) if prefix else (query, None)
        sets = []
        for token in exact_tokens:
            postings = self._postings_for(token)
            if postings is None:
                return []
            sets.append(postings)
        if partial is None:
            return self._top(sets, exact_tokens)
        words = self._prefix_words(partial)
        if not words:
            postings = self._postings_for(partial)
            if postings is None:
                return []
            sets.append(postings)
            return self._top(sets, [*exact_tokens, partial])
        if not sets:  # a lone prefix: merge the popularity-ordered posting lists lazily
            out: list[int] = []
            for i in heapq.merge(*(self._postings[w] for w in words)):
                if not out or out[-1] != i:  # merged ascending, so repeats are adjacent
                    out.append(i)
                    if len(out) == _MAX_SCORED:
                        break
            return out
        sets.sort(key=len)
        base = sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]
        wanted = frozenset(words)
        out = []
        for i in sorted(base):  # ascending = most popular first
            if not wanted.isdisjoint(self._token_sets[i]):
                out.append(i)
                if len(out) == _MAX_SCORED:
                    break
        return out

    def _top(self, sets: list, words: list[str]) -> list[int]:
        """The most popular members of the intersection. Tokens that nearly every name has
        ("b") filter almost nothing, so they are checked per candidate, not intersected."""
        broad_limit = 0.6 * len(self._ids)
        narrow = sorted((s for s in sets if len(s) <= broad_limit), key=len)
        broad = [w for s, w in zip(sets, words) if len(s) > broad_limit and w in self._postings]
        if not narrow:
            narrow = [min(sets, key=len)]
        result = narrow[0].intersection(*narrow[1:]) if len(narrow) > 1 else narrow[0]
        if broad:
            result = (i for i in result if all(w in self._token_sets[i] for w in broad))
        # Lower numbers are more popular: keep the best-ranked few without sorting them all.
        return heapq.nsmallest(_MAX_SCORED, result)

    def _prefix_words(self, token: str) -> list[str]:
        start = bisect.bisect_left(self._vocab, token)
        words = []
        for word in self._vocab[start : start + 64]:
            if not word.startswith(token):
                break
            words.append(word)
        return words

    def _posting_set(self, token: str) -> frozenset[int]:
        """Postings as a set; big ones ("b", "instruct") are converted once and kept."""
        cached = self._sets.get(token)
        if cached is None:
            cached = frozenset(self._postings.get(token, ()))
            if len(cached) > 256:
                self._sets[token] = cached
        return cached

    def _postings_for(self, token: str) -> frozenset[int] | set[int] | None:
        exact = self._posting_set(token)
        if exact:
            return exact  # no copy: most tokens are spelled right
        if token.isdigit() or len(token) < 3:
            return None
        # Only the closest corrections: "mixtrl" is "mixtral", not also "mistral".
        corrections = process.extract(token, self._words, scorer=fuzz.ratio, limit=5, score_cutoff=75)
        best = corrections[0][1] if corrections else 0
        found: set[int] = set()
        for word, score, _ in corrections:
            if score >= best - 3:
                found.update(self._posting_set(word))
        return found or None

    def _extra_tokens(self, i: int, wanted: frozenset[str]) -> int:
        extra = self._token_sets[i] - wanted - self._org_tokens[i] - _SOFT_TOKENS
        return len(extra)
