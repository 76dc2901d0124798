"""Resolve what people type ("qwen2.5-32b", "llama3.1 8b", "ds v3", "mixtrl") to one repo id.

Lookups run as SQL against the name tables (``_name_tables``), which every write keeps
current, so opening an index costs one connection whatever the catalog's size:

* exact keys: the repo id, its name part and every alias, compacted to letters and digits;
* an inverted index from name tokens ("qwen", "2", "5", "32", "b") to models, each
  posting list in popularity order, walked for the rarest query word only;
* when even that word is common, the query words' bitmaps (``_name_bits``) are ANDed first:
  words that are common alone and rare together ("qwen2.5 3b co") no longer cost a walk of
  tens of thousands of postings. Both paths give the same matches;
* typos are fixed per token against the token vocabulary (rapidfuzz), never in numbers:
  "32" and "3" are different models.

Among equally good matches, the more popular model wins. Autocomplete on a quantizer's prefix
("bartowski/", "unsloth/qwen") adds that organisation's GGUF repos, most downloaded first.
"""

from __future__ import annotations

import heapq
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, zip_longest

from rapidfuzz import fuzz, process

from ._name_bits import DDL as BITS_DDL
from ._name_bits import members, read_bits
from ._name_tables import DDL, compact, fill_tables, name_entry, tokens
from .errors import ModelNotFoundError

__all__ = ["GgufWords", "NameIndex", "Resolution", "compact", "tokens"]

# Variant suffixes that do not make a name a worse match: "llama3.1 8b" means the instruct model.
_SOFT_TOKENS = frozenset({"instruct", "chat", "it", "hf"})
# A release tag ("0324", "2507") does not make a name a worse match either, so among a model and its
# re-releases the bundled popularity decides, and the catalog ranks each successor above what it replaced.
_RELEASE_TAG = re.compile(r"\d{4}")
_MAX_SCORED = 250
_MAX_CHOICE_LENGTH = 100
_PREFIX_WORDS = 64
_SUGGEST_POOL = 5000
_FUZZY_CUTOFF = 75
# The index's own page cache: the postings of common words stay in memory between answers
# (SQLite's default is 2 MiB; cold pages cost a read() each).
_CACHE_KIB = 32 * 1024

# Measured at 300,000 models (bench/scale.py autocomplete): a walk of 6,000 postings costs about
# 2 ms CPU at worst, and a bitmap match (a rowid lookup to sort it) about 3 postings' worth. A
# word's bitmap costs 0.1-0.3 ms to read, so a group of many words (a short stem's completions)
# is tested on the rows instead.
_WALK_POSTINGS = 15000
_BITMAP_ROW_COST = 6
_BITMAP_WORDS = 4

# The organisations that publish other people's models as GGUF (crawler/data/sources.toml, issue 15 §1):
# they count as quantizer words even where they also publish safetensors repos ("unsloth").
_KNOWN_QUANTIZERS = frozenset(
    {"bartowski", "unsloth", "lmstudio-community", "ggml-org", "mradermacher", "quantfactory"}
)
_GGUF_WORD = "gguf"
_GGUF_SUFFIX = "-gguf"

# A posting row: rank, repo id, " words ", compacted name part, how many words are the name's.
_Candidate = tuple[float, str, str, str, int]
# A query word's group: postings, position, the words that count as it, the typed stem of a
# partly typed last word (None otherwise), and whether ``words`` holds every word of that stem.
_Group = tuple[int, int, tuple[str, ...], str | None, bool]


@dataclass(frozen=True, slots=True)
class GgufWords:
    """A name split into what asks for GGUF repos (quantizer organisations, the word "gguf") and the
    model's own name, which alone decides the model."""

    orgs: tuple[str, ...]
    says_gguf: bool
    rest: str

    @property
    def names_gguf(self) -> bool:
        return bool(self.orgs) or self.says_gguf


@dataclass(frozen=True, slots=True)
class Resolution:
    """The model a name resolved to, and whether that was a guess."""

    repo_id: str
    exact: bool
    alternatives: tuple[str, ...] = ()


class NameIndex:
    """Name lookup over the whole catalog, answered by SQLite."""

    def __init__(self, models: Iterable[tuple[str, float]], aliases: Iterable[tuple[str, str]] = ()) -> None:
        """An index over the names given, in a private in-memory database."""
        by_repo: dict[str, list[str]] = {}
        for alias, repo in aliases:
            by_repo.setdefault(repo.lower(), []).append(alias)
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        for statement in (*DDL, *BITS_DDL):
            conn.execute(statement)
        entries = [name_entry(repo, pop, by_repo.get(repo.lower(), ())) for repo, pop in dict(models).items()]
        fill_tables(conn, entries)
        self._conn = conn

    @classmethod
    def open(cls, path: str) -> NameIndex:
        """The index of the store at ``path`` (its name tables; nothing is loaded)."""
        index = cls.__new__(cls)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        index._conn = conn
        return index

    def close(self) -> None:
        self._conn.close()

    def __len__(self) -> int:
        row = self._conn.execute("SELECT n FROM name_count").fetchone()
        return int(row[0]) if row else 0

    def resolve(self, text: str) -> Resolution:
        """The one repo id ``text`` names, with alternatives when it was not exact.

        Raises:
            ModelNotFoundError: nothing matches; carries the nearest names.
        """
        query = text.strip()
        exact = self._exact(compact(query))
        if exact is not None:
            return Resolution(exact, True, tuple(r for r in self.search(query, 5) if r != exact)[:4])
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

        def key(item: tuple[int, _Candidate]) -> tuple[bool, int, int]:
            # Token sets lose word order, so a name that starts the way the text does wins first:
            # "qwen3 3" is Qwen3-32B or Qwen3-30B, not Qwen3-8B.
            order, (_, _, terms, name, name_tokens) = item
            own = terms.split()[:name_tokens]
            extra = sum(
                1 for t in own if t not in wanted and t not in _SOFT_TOKENS and not _RELEASE_TAG.fullmatch(t)
            )
            return (not name.startswith(typed), extra, order)

        return [c[1] for _, c in sorted(enumerate(candidates), key=key)[:limit]]

    def complete(self, text: str, limit: int = 25) -> list[str]:
        """Autocomplete choices for a partly typed name: at most ``limit``, each ≤ 100 chars."""
        limit = min(limit, 25)
        if not text.strip():
            names = self._top(limit)
        else:
            names = self.search(text, limit, prefix=True)
            exact = self._exact(compact(text))
            if exact is not None and exact not in names:
                names = [exact, *names][:limit]
            quantized = self._quantizer_repos(text, limit) or self._gguf_name_repos(text, limit)
            if quantized:
                names = _alternate(names, quantized)[:limit]
        return [n for n in names if 1 <= len(n) <= _MAX_CHOICE_LENGTH]

    def _quantizer_repos(self, text: str, limit: int) -> list[str]:
        """GGUF repos under the organisation that ``text`` starts with ("bartowski/qwen"), whose
        names hold the rest of its words (the last may be partly typed), most downloaded first."""
        org, slash, rest = text.strip().partition("/")
        if not slash or not org.strip():
            return []
        low = org.strip().lower() + "/"
        wanted = tokens(rest)
        # A coarse filter inside SQLite on the longest word; the exact test is on the name's tokens.
        longest = max(wanted, key=len, default="")
        try:
            rows = self._conn.execute(
                "SELECT repo_id FROM gguf_repos WHERE lower(repo_id) >= ? AND lower(repo_id) < ? "
                "AND status = 'ok' AND instr(lower(repo_id), ?) > 0 ORDER BY downloads DESC, repo_id",
                (low, low[:-1] + "0", longest),  # "0" sorts right after "/"
            ).fetchall()
        except sqlite3.OperationalError:  # an index built in memory holds no GGUF repos
            return []
        found = []
        for (repo_id,) in rows:
            own = tokens(str(repo_id).partition("/")[2])
            if all(t in own for t in wanted[:-1]) and (
                not wanted or any(o.startswith(wanted[-1]) for o in own)
            ):
                found.append(str(repo_id))
                if len(found) == limit:
                    break
        return found

    def gguf_words(self, text: str) -> GgufWords:
        """Split off the words of ``text`` that ask for GGUF repos: "gguf" (alone or as a "-gguf" suffix)
        and organisations that publish GGUF repos of other makers' models ("bartowski qwen2.5 32b").
        An organisation that also makes catalog models ("qwen", "google") stays part of the name."""
        if "/" in text:
            return GgufWords((), False, text.strip())
        orgs: list[str] = []
        says_gguf = False
        rest: list[str] = []
        for word in text.split():
            low = word.lower()
            if low == _GGUF_WORD:
                says_gguf = True
            elif low.endswith(_GGUF_SUFFIX) and len(low) > len(_GGUF_SUFFIX):
                says_gguf = True
                rest.append(word[: -len(_GGUF_SUFFIX)])
            elif self._is_quantizer(low):
                orgs.append(low)
            else:
                rest.append(word)
        return GgufWords(tuple(orgs), says_gguf, " ".join(rest))

    def _is_quantizer(self, org: str) -> bool:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", org):
            return False
        low, high = org + "/", org + "0"  # "0" sorts right after "/"
        try:
            publishes = self._conn.execute(
                "SELECT 1 FROM gguf_repos WHERE lower(repo_id) >= ? AND lower(repo_id) < ? AND status = 'ok' "
                "LIMIT 1",
                (low, high),
            ).fetchone()
            if publishes is None:
                return False
            if org in _KNOWN_QUANTIZERS:
                return True
            makes = self._conn.execute(
                "SELECT 1 FROM models WHERE repo_key >= ? AND repo_key < ? LIMIT 1", (low, high)
            ).fetchone()
        except sqlite3.OperationalError:  # an index built in memory holds no GGUF repos
            return False
        return makes is None

    def gguf_repos_of(self, bases: Iterable[str], orgs: Iterable[str] = ()) -> list[str]:
        """Readable GGUF repos made from any of ``bases`` (under ``orgs`` when given), the first base's
        first, then most downloaded first."""
        given = list(dict.fromkeys(bases))
        order = [b.lower() for b in given]
        if not given:
            return []
        wanted = {o.lower() for o in orgs}
        marks = ",".join("?" * len(given))
        try:
            # Equality on base_model uses its index (a lower() would scan every link); the Hub's
            # cards name a base the way its repo id is spelt, which is what the name index returns.
            rows = self._conn.execute(
                "SELECT r.repo_id, b.base_model FROM base_models b JOIN gguf_repos r USING (repo_id) "
                f"WHERE b.base_model IN ({marks}) AND r.status = 'ok' ORDER BY r.downloads DESC, r.repo_id",
                given,
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        found = [
            (order.index(str(base).lower()), str(repo))
            for repo, base in rows
            if not wanted or str(repo).partition("/")[0].lower() in wanted
        ]
        return [repo for _, repo in sorted(found, key=lambda item: item[0])]

    def _gguf_name_repos(self, text: str, limit: int) -> list[str]:
        """GGUF repos for a partly typed name that asks for them ("qwen2.5 32b gguf", "bartowski qwen"):
        the name alone picks the models, the quantizer words only which of their GGUF repos."""
        words = self.gguf_words(text)
        if not words.names_gguf or not words.rest.strip():
            return []
        return self.gguf_repos_of(self.search(words.rest, 5, prefix=True), words.orgs)[:limit]

    def suggest(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """The names closest to ``text`` when nothing matched, for the error message."""
        key = compact(text)
        if not key:
            return ()
        rows = self._conn.execute(
            "SELECT repo_id, name FROM name_models ORDER BY rank, repo_id LIMIT ?", (_SUGGEST_POOL,)
        ).fetchall()
        names = [name for _, name in rows]
        matches = process.extract(key, names, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        return tuple(rows[index][0] for _, _, index in matches)

    def _exact(self, key: str) -> str | None:
        if not key:
            return None
        row = self._conn.execute(
            "SELECT repo_id FROM name_keys WHERE key = ? ORDER BY kind, rank, repo_id LIMIT 1", (key,)
        ).fetchone()
        return str(row[0]) if row else None

    def _top(self, limit: int) -> list[str]:
        rows = self._conn.execute("SELECT repo_id FROM name_models ORDER BY rank, repo_id LIMIT ?", (limit,))
        return [str(r[0]) for r in rows]

    def _candidates(self, query: list[str], *, prefix: bool) -> list[_Candidate]:
        """The most popular models whose names hold every query token (the last may be a
        prefix; misspelt words match their closest corrections).

        Walks the rarest token's postings in popularity order; SQLite tests the other tokens
        against the words stored on each posting row, and stops after enough matches.
        """
        groups: list[_Group] = []
        for n, token in enumerate(query):
            last = prefix and n == len(query) - 1
            words = self._matching_words(token, prefix=last)
            if not words:
                return []
            stems = sum(1 for w in words if w.startswith(token)) if last else 0
            stem = token if stems else None
            groups.append((self._postings_count(words), n, words, stem, stems < _PREFIX_WORDS))
        groups.sort(key=lambda g: g[:2])
        if len(groups) > 1 and groups[0][0] > _WALK_POSTINGS:
            # One read snapshot: bits and the rows they point at must come from the same write.
            with _snapshot(self._conn):
                found = self._rare_together(groups)
            if found is not None:
                return found
        return self._walk(groups)

    def _walk(self, groups: list[_Group]) -> list[_Candidate]:
        conditions, params = _conditions([(words, stem) for _, _, words, stem, _ in groups[1:]])
        sql = (
            "SELECT p.rank, p.repo_id, p.terms, p.name, p.name_tokens FROM name_postings p WHERE p.word = ?"
            + "".join(f" AND {c}" for c in conditions)
            + " ORDER BY p.rank, p.repo_id LIMIT ?"
        )
        cursors = [self._conn.execute(sql, (word, *params, _MAX_SCORED)) for word in groups[0][2]]
        try:
            return list(islice(_distinct(heapq.merge(*cursors)), _MAX_SCORED))
        finally:
            for cursor in cursors:
                cursor.close()

    def _rare_together(self, groups: list[_Group]) -> list[_Candidate] | None:
        """The walk's answer from the words' bitmaps, or None when the walk costs less.

        The first group, and any of few words, is matched exactly by its bitmaps: the walk would
        open a cursor per word of the first. The others (a short stem's many completions) are
        tested on the rows as the walk tests them, in popularity order, a batch at a time, until
        enough rows pass.
        """
        found: int | None = None
        tested: list[tuple[tuple[str, ...], str | None]] = []
        passing = 1.0  # the share of bitmap matches that the tested groups let through, if independent
        for n, (postings, _, words, stem, complete) in enumerate(groups):
            if n > 0 and (len(words) > _BITMAP_WORDS or (stem is not None and not complete)):
                tested.append((words, stem if n > 0 else None))
                passing *= min(1.0, postings / max(len(self), 1))
                continue
            bits = read_bits(self._conn, words)
            found = bits if found is None else found & bits
            if not found:
                return []
        if found is None:
            return None
        # Costs in postings read by the walk: it reads the first group's postings until enough
        # of them match, about postings x wanted / matches with matches spread evenly. A bitmap
        # match costs about 3 postings to sort, and 6 more where it is fetched and tested.
        matching, postings = found.bit_count(), groups[0][0]
        walk = min(postings, _MAX_SCORED * postings / max(matching * passing, 1.0))
        bitmap = _BITMAP_ROW_COST * (matching + 2 * min(matching, _MAX_SCORED / max(passing, 1e-9)))
        if bitmap > walk:
            return None
        ordered = [
            int(r)
            for (r,) in self._conn.execute(
                "SELECT rowid FROM name_models WHERE rowid IN (SELECT value FROM json_each(?)) "
                "ORDER BY rank, repo_id",
                (_json_ids(members(found)),),
            )
        ]
        conditions, params = _conditions(tested)
        sql = (
            "SELECT p.rank, p.repo_id, p.terms, p.name, p.name_tokens FROM (SELECT rank, repo_id, "
            "' ' || terms || ' ' AS terms, name, name_tokens FROM name_models WHERE rowid IN "
            "(SELECT value FROM json_each(?))) p"
            + "".join(f" {'AND' if n else 'WHERE'} {c}" for n, c in enumerate(conditions))
            + " ORDER BY p.rank, p.repo_id"
        )
        out: list[_Candidate] = []
        for start in range(0, len(ordered), _MAX_SCORED):
            if len(out) >= _MAX_SCORED:
                break
            rows = self._conn.execute(sql, (_json_ids(ordered[start : start + _MAX_SCORED]), *params))
            out += [(float(r), str(repo), str(t), str(name), int(k)) for r, repo, t, name, k in rows]
        return out[:_MAX_SCORED]

    def _postings_count(self, words: tuple[str, ...]) -> int:
        marks = ",".join("?" * len(words))
        row = self._conn.execute(
            f"SELECT SUM(postings) FROM name_words WHERE word IN ({marks})", words
        ).fetchone()
        return int(row[0] or 0)

    def _matching_words(self, token: str, *, prefix: bool) -> tuple[str, ...]:
        """Vocabulary words that count as ``token``: itself, its completions, or corrections."""
        known = self._conn.execute("SELECT 1 FROM name_words WHERE word = ?", (token,)).fetchone()
        words = [token] if known else []
        if prefix:
            rows = self._conn.execute(
                "SELECT word FROM name_words WHERE word >= ? ORDER BY word LIMIT ?", (token, _PREFIX_WORDS)
            )
            for (word,) in rows:
                if not word.startswith(token):
                    break
                if word != token:
                    words.append(word)
        if words or token.isdigit() or len(token) < 3:
            return tuple(words)
        # Only the closest corrections: "mixtrl" is "mixtral", not also "mistral". A ratio of
        # 75 needs 2·min(a, b)/(a + b) ≥ 0.75, so only words of 0.6× to 1.67× the length can match.
        shortest, longest = int(len(token) * 0.6), -(-len(token) * 5 // 3)
        vocabulary = [
            str(w)
            for (w,) in self._conn.execute(
                "SELECT word FROM name_words WHERE fuzzy = 1 AND length(word) BETWEEN ? AND ? ORDER BY word",
                (shortest, longest),
            )
        ]
        corrections = process.extract(
            token, vocabulary, scorer=fuzz.ratio, limit=5, score_cutoff=_FUZZY_CUTOFF
        )
        best = corrections[0][1] if corrections else 0
        return tuple(word for word, score, _ in corrections if score >= best - 3)


def _alternate(first: list[str], second: list[str]) -> list[str]:
    """Both lists, one from each in turn, without repeats (repo ids compare case-blind)."""
    out: dict[str, str] = {}
    for pair in zip_longest(first, second):
        for name in pair:
            if name is not None:
                out.setdefault(name.lower(), name)
    return list(out.values())


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction around several statements (the connection is in autocommit mode)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _json_ids(ids: list[int]) -> str:
    return "[" + ",".join(map(str, ids)) + "]"


def _conditions(groups: list[tuple[tuple[str, ...], str | None]]) -> tuple[list[str], list[str]]:
    """SQL tests on a row's " words " for query groups: any of its words, or any word its stem begins."""
    conditions, params = [], []
    for words, stem in dict.fromkeys(groups):
        if stem is not None:  # a partly typed word: any word it begins
            conditions.append("instr(p.terms, ?) > 0")
            params.append(f" {stem}")
        else:
            conditions.append("(" + " OR ".join("instr(p.terms, ?) > 0" for _ in words) + ")")
            params += [f" {w} " for w in words]
    return conditions, params


def _distinct(rows: Iterator[_Candidate]) -> Iterator[_Candidate]:
    last = None
    for row in rows:
        if row[:2] != last:
            yield row
            last = row[:2]
