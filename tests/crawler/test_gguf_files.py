"""Pure GGUF crawl helpers: tree entries, split grouping, quant names, base models, the [gguf] table."""

from __future__ import annotations

import pytest

from crawler import (
    SourcesError,
    group_gguf_files,
    parse_card_base_model,
    parse_gguf_sources,
    parse_quantized_base,
    parse_sources,
    parse_tree_entries,
    quant_from_name,
)


def test_tree_entries_take_lfs_sizes_and_only_gguf_files():
    """Only .gguf files are kept, with the LFS object's size when the Hub gives one."""
    entries = [
        {"type": "file", "path": "a-Q4_K_M.gguf", "size": 134, "lfs": {"size": 19_851_335_840}},
        {"type": "file", "path": "README.md", "size": 10},
        {"type": "directory", "path": "Q8_0"},
        {"type": "file", "path": "Q8_0/a-Q8_0-00001-of-00002.gguf", "size": 7},
        {"type": "file", "path": "bad.gguf", "size": -1},
        "junk",
    ]
    assert parse_tree_entries(entries) == (("Q8_0/a-Q8_0-00001-of-00002.gguf", 7), ("a-Q4_K_M.gguf", 19_851_335_840))
    assert parse_tree_entries({"error": "x"}) == ()


def test_split_parts_group_into_one_file_and_mmproj_is_an_add_on():
    """Parts of one split file become one file with their summed size; a missing part is counted."""
    groups = group_gguf_files((
        ("Q8_0/m-Q8_0-00002-of-00003.gguf", 20), ("Q8_0/m-Q8_0-00001-of-00003.gguf", 10),
        ("Q8_0/m-Q8_0-00003-of-00003.gguf", 30), ("m-Q4_K_M.gguf", 5), ("mmproj-m-F16.gguf", 3),
        ("big-Q2_K-00001-of-00002.gguf", 1),
    ))
    by_name = {g.name: g for g in groups}
    split = by_name["Q8_0/m-Q8_0-00001-of-00003.gguf"]
    assert (split.size_bytes, split.split_count, split.quant, split.missing_parts) == (60, 3, "Q8_0", 0)
    assert [p for p, _ in split.parts] == [f"Q8_0/m-Q8_0-0000{n}-of-00003.gguf" for n in (1, 2, 3)]
    assert by_name["mmproj-m-F16.gguf"].kind == "mmproj" and by_name["m-Q4_K_M.gguf"].kind == "model"
    assert by_name["big-Q2_K-00001-of-00002.gguf"].missing_parts == 1


@pytest.mark.parametrize(("name", "quant"), [
    ("Qwen2.5-32B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("qwen2.5-32b-instruct-q4_k_m.gguf", "Q4_K_M"),
    ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
    ("Meta-Llama-3.1-8B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
    ("gpt-oss-20b-MXFP4.gguf", "MXFP4"),
    ("Phi-3-mini-4k-instruct-fp16.gguf", None),
    ("model-bf16-00001-of-00002.gguf", "BF16"),
    ("Q4_0/x-Q4_0.gguf", "Q4_0"),
])
def test_quant_names_from_file_names(name, quant):
    """The quant a file name states, whatever its case; a name that states none gives None."""
    assert quant_from_name(name) == quant


def test_base_model_of_quantized_repos_only():
    """The Hub's quantized tag wins; the card counts only for repos tagged as quantized; lists take the first."""
    assert parse_quantized_base(("base_model:quantized:Qwen/Qwen2.5-7B",), None) == "Qwen/Qwen2.5-7B"
    assert parse_quantized_base(("awq",), {"base_model": ["meta-llama/Llama-3.1-8B", "x/y"]}) == "meta-llama/Llama-3.1-8B"
    assert parse_quantized_base(("mlx",), {"base_model": "Qwen/Qwen3-8B"}) == "Qwen/Qwen3-8B"
    assert parse_quantized_base(("transformers",), {"base_model": "Qwen/Qwen3-8B"}) is None
    assert parse_card_base_model({"base_model": "not a repo"}) is None


def test_gguf_table_parses_and_rejects_bad_limits():
    """The [gguf] table rides in the sources file; a bad limit names the key to fix."""
    text = '[[source]]\nname = "p"\nkind = "repos"\nrepos = ["a/b"]\n[gguf]\ntop_limit = 5\nquantizers = ["bartowski"]\n'
    sources = parse_sources(text)
    assert sources.gguf is not None and (sources.gguf.top_limit, sources.gguf.quantizers) == (5, ("bartowski",))
    assert parse_sources(text.split("[gguf]")[0]).gguf is None
    with pytest.raises(SourcesError, match="gguf.top_limit"):
        parse_gguf_sources({"top_limit": -1}, "test")
