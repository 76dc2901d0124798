"""The accuracy suite runs in CI: a regression beyond any target fails here."""

import pytest

from bench.accuracy import KV_CONTEXTS, evaluate

CASES = evaluate()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}: {c.name}" for c in CASES])
def test_case_within_target(case):
    """Each published measurement is met within its target (KV cache exactly)."""
    assert case.passed, f"{case.name}: expected {case.expected:,.0f}, predicted {case.predicted:,.0f} ({case.error_pct:+.3f}%)"


def test_suite_covers_what_the_issue_asks():
    """GGUF sizes, KV for six anchors at 4K/32K/128K (GQA, MLA, sliding window, the Qwen2.5 trap), the measured run."""
    groups = {c.group for c in CASES}
    assert {"GGUF weights", "KV cache (exact)", "llama.cpp run"} <= groups
    kv = [c for c in CASES if c.group == "KV cache (exact)"]
    assert len(kv) == 6 * len(KV_CONTEXTS)
    for name in ("DeepSeek-V3", "gpt-oss-20b", "Qwen2.5-32B-Instruct"):
        assert any(name in c.name for c in kv)


def _log_case(**spec):
    from bench.accuracy import _memory_log_cases

    base = {"name": "t", "source": "t", "size_mib": 1.0}
    return _memory_log_cases({"memory_log": [base | spec]})[0].predicted


def test_iswa_buffers_split_the_whole_kv():
    """The non-SWA and the SWA buffer of one llama.cpp context add up to its whole KV, each sized apart."""
    spec = {"model": "google/gemma-3-270m-it", "n_ctx": 8192}
    full, sliding = _log_case(what="kv full", **spec), _log_case(what="kv sliding", **spec)
    assert full + sliding == _log_case(what="kv", **spec)
    # Gemma 3 270M: 3 full and 15 sliding layers, 1 KV head x 256 at f16 = 1024 B per layer and token;
    # llama.cpp's SWA cache keeps pad(min(8192, 512 + 512), 256) = 1024 cells.
    assert full == 3 * 1024 * 8192
    assert sliding == 15 * 1024 * 1024


def test_unified_sequences_widen_the_swa_cache():
    """n_seq sequences in one unified cache: the SWA buffer keeps pad(n_swa·n_seq + n_ubatch, 256) cells."""
    sliding = _log_case(what="kv sliding", model="google/gemma-3-270m-it", n_ctx=8192, n_seq=4)
    assert sliding == 15 * 1024 * (512 * 4 + 512)


def test_mtp_kv_is_the_nextn_layer_alone():
    """The MTP draft's cache holds the NextN layer only: Qwen3.5-27B's one layer of 4 KV heads x 256."""
    assert _log_case(what="mtp kv", model="Qwen/Qwen3.5-27B", cells=262144) == 262144 * 2 * 4 * 256 * 2


V4_FLASH = "deepseek-ai/DeepSeek-V4-Flash"


@pytest.mark.parametrize("n_ctx", [1000, 64_000, 131_072])
def test_dsv4_caches_split_the_whole_llama_cpp_cache(n_ctx):
    """llama_kv_cache_dsv4's four caches and three compressor states add up to the estimator's whole cache."""
    from bench.accuracy import catalog_configs
    from estimator import estimate_kv_cache_bytes, parse_model_config
    from estimator._kv_cache import LLAMA_CPP_POLICY

    parts = ("raw", "csa", "hca", "lid")
    kv = sum(_log_case(what="kv", dsv4_cache=p, model=V4_FLASH, n_ctx=n_ctx) for p in parts)
    state = sum(_log_case(what="state", dsv4_cache=p, model=V4_FLASH) for p in ("csa", "hca", "lid"))
    config = parse_model_config(catalog_configs()[V4_FLASH])
    assert kv + state == estimate_kv_cache_bytes(config, n_ctx, "f16", LLAMA_CPP_POLICY)


def test_dsv4_printed_cells_times_each_cache_row():
    """With the printed cells: Flash's raw cache is 43 K-only rows of 512, CSA/HCA one 512 row per layer
    (21 / 20 layers), the indexer one 128-wide key on the 21 ratio-4 layers, all at 2 bytes (f16)."""
    rows = {"raw": 43 * 512, "csa": 21 * 512, "hca": 20 * 512, "lid": 21 * 128}
    for part, values in rows.items():
        assert _log_case(what="kv", dsv4_cache=part, model=V4_FLASH, cells=4352) == 4352 * values * 2


def test_dsv4_cache_names_are_checked():
    """An unknown cache name, or state asked of the raw window cache, is refused with the names to use."""
    for spec in ({"dsv4_cache": "swa", "what": "kv"}, {"dsv4_cache": "raw", "what": "state"}):
        with pytest.raises(ValueError, match="raw"):
            _log_case(model=V4_FLASH, n_ctx=4096, **spec)
