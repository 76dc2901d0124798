"""Why? explains the option the headline recommends, not another row (issue 12)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.mark.parametrize(
    ("model", "budget"),
    [("qwen3-30b-a3b", "RTX 3060"), ("gpt-oss-120b", "dgx spark"), ("llama-3.1-8b", "12GB"), ("qwen2.5-32b", "24GB")],
)
def test_why_explains_the_recommended_pick(db_path, model: str, budget: str) -> None:
    """The quant after "Best choice:" is the quant that the explanation's title names."""
    result = CliRunner().invoke(main, ["--db", str(db_path), "fit", model, budget, "--explain"])
    assert result.exit_code == 0, result.output
    picked = re.search(r"Best choice: (\S+)", result.output)
    explained = re.search(r"^Why: .* at (\S+) \(", result.output, re.M)
    assert picked and explained, result.output
    assert explained.group(1) == picked.group(1)
