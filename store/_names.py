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
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .errors import ModelNotFoundError

_TOKEN = re.compile(r"[a-z]+|\d+")
# Variant suffixes that do not make a name a worse match: "llama3.1 8b" means the instruct model.
_SOFT_TOKENS = frozenset({"instruct", "chat", "it", "hf"})
# A release tag ("0324", "2507") does not make a name a worse match either, so among a model and its
# re-releases the bundled popularity decides, and the catalog ranks each successor above what it replaced.
_RELEASE_TAG = re.compile(r"\d{4}")
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
        # Memory matters at 100,000 names: tokens are interned and kept per model as one
        # tuple (name tokens first, then the organisation's), postings as int arrays.
        ranked = sorted(models, key=lambda m: (-m[1], m[0]))
        self._ids = [repo for repo, _ in ranked]
        self._names = [compact(repo.rpartition("/")[2]) for repo in self._ids]
        self._tokens: list[tuple[str, ...]] = []
        self._name_tokens = array("H")
        postings: dict[str, list[int]] = {}
        self._exact: dict[str, int] = {}
        for i, repo in enumerate(self._ids):
            org, _, name = repo.rpartition("/")
            own = tuple(dict.fromkeys(sys.intern(t) for t in tokens(name)))
            org_only = tuple(t for t in dict.fromkeys(sys.intern(t) for t in tokens(org)) if t not in own)
            self._tokens.append(own + org_only)
            self._name_tokens.append(min(len(own), 65535))
            for token in self._tokens[-1]:
                postings.setdefault(token, []).append(i)
            self._exact.setdefault(compact(repo), i)
        # Exact keys rank: a full repo id, then an alias, then a bare name part, so that the
        # alias "llama3.1 8b" (the instruct model) beats the base model's name "Llama-3.1-8B".
        position = {repo.lower(): i for i, repo in enumerate(self._ids)}
        for alias, repo in aliases:
            if (i := position.get(repo.lower())) is not None:
                self._exact.setdefault(compact(alias), i)
                for token in tokens(alias):
                    posting = postings.setdefault(sys.intern(token), [])
                    if i not in posting:
                        bisect.insort(posting, i)
        del position
        for i, name in enumerate(self._names):
            self._exact.setdefault(name, i)
        self._postings = {token: array("i", ids) for token, ids in postings.items()}
        # The 64 commonest tokens ("b", "instruct", digits) get one bit each in a per-model
        # mask, so testing them is one integer AND instead of a tuple scan.
        common = sorted(self._postings, key=lambda t: -len(self._postings[t]))[:64]
        self._bits = {t: 1 << n for n, t in enumerate(common)}
        self._masks = array("Q", bytes(8 * len(self._ids)))
        for token, bit in self._bits.items():
            for i in self._postings[token]:
                self._masks[i] |= bit
        self._vocab = sorted(self._postings)
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
        """The most popular models whose names hold every query token (the last may be a
        prefix; misspelt words match their closest corrections).

        Walks the rarest token's postings in popularity order and checks the other tokens
        against each model's own tokens, stopping after enough matches: no set is built.
        """
        matchers = []
        for n, token in enumerate(query):
            words = self._matching_words(token, prefix=prefix and n == len(query) - 1)
            if not words:
                return []
            matchers.append((words, token))
        matchers.sort(key=lambda m: sum(len(self._postings[w]) for w in m[0]))
        # Each other token must match: common words by their bit, rare ones by a set test.
        required, groups = 0, []
        for words, _ in matchers[1:]:
            bits = sum(self._bits.get(w, 0) for w in words)
            rare = frozenset(w for w in words if w not in self._bits)
            if len(words) == 1 and bits:
                required |= bits
            else:
                groups.append((bits, rare))
        masks, out = self._masks, []
        for i in self._ascending(matchers[0][0]):
            mask = masks[i]
            if mask & required != required:
                continue
            if groups and not all(mask & bits or (rare and not rare.isdisjoint(self._tokens[i])) for bits, rare in groups):
                continue
            out.append(i)
            if len(out) == _MAX_SCORED:
                break
        return out

    def _matching_words(self, token: str, *, prefix: bool) -> tuple[str, ...]:
        """Vocabulary words that count as ``token``: itself, its completions, or corrections."""
        words = [token] if token in self._postings else []
        if prefix:
            start = bisect.bisect_left(self._vocab, token)
            for word in self._vocab[start : start + 64]:
                if not word.startswith(token):
                    break
                if word != token:
                    words.append(word)
        if words or token.isdigit() or len(token) < 3:
            return tuple(words)
        # Only the closest corrections: "mixtrl" is "mixtral", not also "mistral".
        corrections = process.extract(token, self._words, scorer=fuzz.ratio, limit=5, score_cutoff=75)
        best = corrections[0][1] if corrections else 0
        return tuple(word for word, score, _ in corrections if score >= best - 3)

    def _ascending(self, words: tuple[str, ...]):
        """Model numbers (most popular first) whose names hold any of ``words``, without repeats."""
        if len(words) == 1:
            yield from self._postings[words[0]]
            return
        last = -1
        for i in heapq.merge(*(self._postings[w] for w in words)):
            if i != last:
                yield i
                last = i

    def _extra_tokens(self, i: int, wanted: frozenset[str]) -> int:
        """Name tokens the text did not ask for (the organisation's never count)."""
        own = self._tokens[i][: self._name_tokens[i]]
        return sum(1 for t in own if t not in wanted and t not in _SOFT_TOKENS and not _RELEASE_TAG.fullmatch(t))
