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
