"""Word bitmaps (migration 5) hold exactly the name postings, and the bitmap path answers as the walk does."""

import itertools
import sqlite3
from dataclasses import replace

import pytest

import store
import store._names as names
from store import HubFacts, NameIndex
from store._name_bits import CHUNK_BITS, members
from store._name_tables import tokens
from store._schema import MIGRATIONS
from tests.store.test_models import _record

FAMILIES = ("Qwen2.5", "Qwen3", "Llama-3.1", "Llama-3.2", "Mistral", "DeepSeek-R1-Distill-Qwen", "gemma-3")
SIZES = ("0.5B", "1.5B", "3B", "7B", "8B", "14B", "32B", "70B")
SUFFIXES = ("", "-Instruct", "-Coder", "-Coder-Instruct", "-abliterated", "-GGUF", "-AWQ", "-merged")
ORGS = ("acme", "mergecore", "bytewolf", "quantlab", "coderbay")


def _catalog() -> list[tuple[str, float]]:
    """A few thousand names whose words are common alone and rare together, as at scale."""
    repos = [
        (f"{org}/{family}-{size}{suffix}", (n * 7919 % 1000) / 100)
        for n, (org, family, size, suffix) in enumerate(itertools.product(ORGS, FAMILIES, SIZES, SUFFIXES))
    ]
    return repos


def _queries(repos: list[tuple[str, float]]) -> list[str]:
    """Prefixes of names, with and without the organisation, and a few typos."""
    out = []
    for repo, _ in repos[::37]:
        name = repo.split("/", 1)[1]
        out += [name[:k].replace("-", " ") for k in range(3, len(name) + 1, 4)]
        out += [repo[: len(repo) - 2], name.replace("Qwen", "Qwne")]
    return out


async def _bits_as_postings(db: store.Database) -> set[tuple[str, str]]:
    """(word, repo id) for every bit set in name_bits, through the name_models rowids."""
    by_rowid = {int(r): str(repo) for r, repo in await db.fetchall("SELECT rowid, repo_id FROM name_models")}
    pairs = set()
    for word, chunk, bits in await db.fetchall("SELECT word, chunk, bits FROM name_bits"):
        for bit in members(int.from_bytes(bits, "little")):
            pairs.add((str(word), by_rowid[int(chunk) * CHUNK_BITS + bit]))
    return pairs


async def _postings(db: store.Database) -> set[tuple[str, str]]:
    return {(str(w), str(r)) for w, r in await db.fetchall("SELECT word, repo_id FROM name_postings")}


async def test_bitmaps_follow_every_write(seeded):
    """After new models, a popularity change and an alias move, the bits are exactly the postings."""
    await store.upsert_model(seeded, replace(_record(repo="acme/Zebrafish-13B"), aliases=("zf13",)))
    await store.upsert_model(seeded, replace(_record(repo="acme/Other-1B"), aliases=("zf13",)))
    await store.update_hub_facts(seeded, [("Qwen/Qwen2.5-32B-Instruct", HubFacts(downloads=5))])
    assert await _bits_as_postings(seeded) == await _postings(seeded)
    assert ("zf", "acme/Other-1B") in await _bits_as_postings(seeded)
    assert ("zf", "acme/Zebrafish-13B") not in await _bits_as_postings(seeded)


async def test_rewritten_rows_keep_their_bit(seeded):
    """A model whose name rows are rewritten (new popularity) keeps its rowid, so no chunk grows."""
    before = await seeded.fetchone("SELECT rowid FROM name_models WHERE repo_id = 'Qwen/Qwen2.5-32B-Instruct'")
    await store.update_hub_facts(seeded, [("Qwen/Qwen2.5-32B-Instruct", HubFacts(downloads=7))])
    after = await seeded.fetchone("SELECT rowid FROM name_models WHERE repo_id = 'Qwen/Qwen2.5-32B-Instruct'")
    assert before == after


async def test_bulk_load_and_rebuild_write_the_postings_as_bits(seeded):
    """The bulk path, then a full rebuild: the bits equal the postings each time."""
    held = store.load_bundled_catalog()[0]
    fresh = [replace(held, repo_id=f"bulk/Fresh-{n}B", aliases=(), popularity=float(n)) for n in range(1, 40)]
    await store.insert_new_models(seeded, fresh)
    assert await _bits_as_postings(seeded) == await _postings(seeded)
    await store.rebuild_name_tables(seeded)
    assert await _bits_as_postings(seeded) == await _postings(seeded)


@pytest.mark.parametrize("bitmap_words", [4, 100])
def test_bitmap_path_matches_the_walk(monkeypatch, bitmap_words):
    """On a catalog of common words, every query's candidates from bitmaps equal the walk's."""
    repos = _catalog()
    index = NameIndex(repos, [("q7", repos[0][0])])
    monkeypatch.setattr(names, "_WALK_POSTINGS", 0)
    monkeypatch.setattr(names, "_BITMAP_ROW_COST", 0)
    monkeypatch.setattr(names, "_BITMAP_WORDS", bitmap_words)
    compared = 0
    for text in _queries(repos):
        query = tokens(text)
        for prefix in (True, False):
            walked = _walk_only(index, query, prefix)
            assert index._candidates(query, prefix=prefix) == walked, text
            compared += bool(walked)
    assert compared > 100


def _walk_only(index: NameIndex, query: list[str], prefix: bool) -> list[names._Candidate]:
    """The walk's candidates, with the bitmaps out of the way."""
    saved = names._WALK_POSTINGS
    names._WALK_POSTINGS = 10**9
    try:
        return index._candidates(query, prefix=prefix)
    finally:
        names._WALK_POSTINGS = saved


def test_a_rare_combination_is_answered_without_the_walk(monkeypatch):
    """Common words that are rare together come from the bitmaps: the walk is never run."""
    repos = _catalog()
    index = NameIndex(repos)
    monkeypatch.setattr(names, "_WALK_POSTINGS", 100)
    monkeypatch.setattr(names, "_BITMAP_ROW_COST", 0)

    def no_walk(self, groups):
        raise AssertionError("walked")

    monkeypatch.setattr(NameIndex, "_walk", no_walk)
    found = index.complete("qwen2.5 3b coder instr")
    assert found and all("Qwen2.5-3B-Coder-Instruct" in r for r in found)


async def test_a_schema_4_store_gets_its_bitmaps_on_first_use(tmp_path):
    """A store from before migration 5 gets its bits from its postings, once, on first use."""
    path = tmp_path / "v4.sqlite"
    old = await store.Database.open(path)
    await store.upsert_model(old, replace(_record(repo="acme/Old-7B"), aliases=("old seven",)))
    await store.upsert_model(old, replace(_record(repo="acme/Other-7B"), aliases=()))
    await old.close()
    conn = sqlite3.connect(path)  # back to schema 4: no bitmaps, no gguf_repos index
    conn.execute("DROP TABLE name_bits")
    conn.execute("DROP INDEX gguf_repos_key")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.commit()
    conn.close()
    db = await store.Database.open(path)
    try:
        assert await store.get_meta(db, "name_bits") == "stale"
        assert await db.fetchone("SELECT COUNT(*) FROM name_bits") == (0,)
        index = await store.name_index(db)
        assert await store.get_meta(db, "name_bits") is None
        assert await _bits_as_postings(db) == await _postings(db) != set()
        assert index.resolve("old 7b").repo_id == "acme/Old-7B"
    finally:
        await db.close()


@pytest.mark.parametrize("text", ["qwen2.5 3b co", "Llama 3.1 8B Coder I"])
def test_bitmap_answers_equal_walk_answers_through_complete(monkeypatch, text):
    """complete() gives the same list whichever path found the candidates."""
    index = NameIndex(_catalog())
    monkeypatch.setattr(names, "_WALK_POSTINGS", 10**9)
    walked = index.complete(text)
    monkeypatch.setattr(names, "_WALK_POSTINGS", 0)
    monkeypatch.setattr(names, "_BITMAP_ROW_COST", 0)
    assert index.complete(text) == walked != []
