"""The crawl sources file."""

from __future__ import annotations

import pytest

from crawler import AUTHORS, REPOS, TOP, SourcesError, load_sources, parse_sources


def test_the_bundled_sources_cover_what_users_expect():
    """The default file lists top downloads, trending, the watched labs and pinned anchors."""
    sources = load_sources()
    kinds = {s.name: s.kind for s in sources.sources}
    assert kinds == {"downloads": TOP, "trending": TOP, "authors": AUTHORS, "pinned": REPOS}
    authors = set(sources.named("authors").authors)
    assert {"meta-llama", "Qwen", "mistralai", "deepseek-ai", "google", "microsoft", "openai", "zai-org",
            "moonshotai", "ibm-granite", "nvidia", "allenai"} <= authors
    assert sources.named("trending").sort == "trending_score"
    assert sources.scope.pipelines == ("text-generation", "image-text-to-text")
    assert sources.scope.library == "transformers"


def test_a_sources_file_is_read_from_a_path(tmp_path):
    """FITBOT_SOURCES points at a file of the same format."""
    path = tmp_path / "mine.toml"
    path.write_text('[[source]]\nname = "mine"\nkind = "repos"\nrepos = ["a/b"]\n', encoding="utf-8")
    sources = load_sources(path)
    assert sources.named("mine").repos == ("a/b",)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("not toml = = 1", "not valid TOML"),
        ("[scope]\n", "no [[source]]"),
        ('[[source]]\nkind = "top"\n', "needs a name"),
        ('[[source]]\nname = "x"\nkind = "everything"\n', "kind 'everything'"),
        ('[[source]]\nname = "x"\nkind = "top"\nsort = "stars"\n', "sort 'stars'"),
        ('[[source]]\nname = "x"\nkind = "top"\nlimit = 0\n', "limit 0"),
        ('[[source]]\nname = "x"\nkind = "top"\nlimit = true\n', "limit True"),
        ('[[source]]\nname = "x"\nkind = "authors"\n', "lists no authors"),
        ('[[source]]\nname = "x"\nkind = "repos"\nrepos = ["no-slash"]\n', "not owner/name"),
        ('[[source]]\nname = "x"\nkind = "authors"\nauthors = ["a"]\nmax_age_days = -1\n', "max_age_days"),
        ('[[source]]\nname = "x"\nkind = "top"\n[[source]]\nname = "x"\nkind = "top"\n', "more than once"),
        ('[scope]\npipelines = "text-generation"\n[[source]]\nname = "x"\nkind = "top"\n', "list of names"),
    ],
)
def test_a_bad_sources_file_says_what_is_wrong(text, needle):
    """Each mistake names the source and the field, and what to write instead."""
    with pytest.raises(SourcesError) as caught:
        parse_sources(text, "my.toml")
    assert needle in str(caught.value) and "my.toml" in str(caught.value)


def test_an_unknown_source_name_lists_the_known_ones():
    """`--source nope` says which names exist."""
    with pytest.raises(SourcesError, match="use one of: downloads, trending, authors, pinned"):
        load_sources().named("nope")


def test_a_missing_file_is_a_sources_error(tmp_path):
    """A path that does not exist is reported, not a traceback."""
    with pytest.raises(SourcesError, match="cannot be read"):
        load_sources(tmp_path / "absent.toml")
