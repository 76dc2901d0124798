"""Glossary lookup: aliases, plurals, typos, suggestions."""

import pytest

from store import GlossaryIndex, load_bundled_glossary
from store.errors import TermNotFoundError


@pytest.fixture(scope="module")
def glossary():
    return GlossaryIndex(load_bundled_glossary())


def test_bundled_glossary_is_complete():
    """At least 40 terms, every related key exists, the issue's required terms are there."""
    entries = load_bundled_glossary()
    keys = {e.key for e in entries}
    assert len(entries) >= 40
    assert all(r in keys for e in entries for r in e.related)
    index = GlossaryIndex(entries)
    for term in ("parameter", "gguf", "safetensors", "mixture of experts", "active parameters", "kv cache",
                 "gqa", "mla", "sliding-window attention", "vram", "unified memory", "memory bandwidth",
                 "tokens per second", "offloading", "flops", "chinchilla", "lora", "distillation", "llm", "token",
                 "inference", "context length", "router", "expert", "quantization", "precision", "fine-tuning",
                 "scaling laws", "training compute", "weights", "parameter count"):
        assert index.lookup(term)


@pytest.mark.parametrize(("typed", "key"), [("params", "parameter"), ("Parameters", "parameter"), ("KV-Cache", "kv-cache"), ("paramter", "parameter"), ("experts", "expert")])
def test_lookup_forgives(glossary, typed, key):
    """Case, plurals, separators and small typos still find the entry."""
    assert glossary.lookup(typed).key == key


def test_exact_alias_beats_fuzzy(glossary):
    """'fp16' is FP16, not BF16, although the two are one letter apart."""
    assert glossary.lookup("fp16").key == "fp16"


def test_unknown_term_suggests(glossary):
    """Nothing close: the error carries suggestions."""
    with pytest.raises(TermNotFoundError) as caught:
        glossary.lookup("quantisation thingy")
    assert caught.value.suggestions


def test_complete_is_bounded(glossary):
    """Autocomplete returns at most 25 (label, key) pairs."""
    choices = glossary.complete("")
    assert 0 < len(choices) <= 25
    assert all(key in glossary.entries for _, key in glossary.complete("q"))
