"""The /fit footnote names each runtime in the words of the budget's hardware (issue 12 §1)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main


def _footer(db_path, budget: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db_path), "fit", "llama-3.1-8b", budget])
    assert result.exit_code == 0, result.output
    return next(line for line in result.output.splitlines() if line.startswith("Budget: "))


@pytest.mark.parametrize(
    ("budget", "says", "never"),
    [
        ("128GB mac", ("llama.cpp (Metal)", "no CUDA reserve", "MLX rows: mlx-lm"), ("reserve per GPU", "FP8/stored")),
        ("M2 Ultra 192GB", ("llama.cpp (Metal)",), ("reserve per GPU", "FP8/stored")),
        ("64GB RAM", ("llama.cpp on the CPU",), ("CUDA", "reserve", "MLX")),
        ("rx 6800", ("ROCm (HIP) or Vulkan", "reserve per GPU"), ("CUDA", "MLX")),
        ("rtx 4090", ("llama.cpp (CUDA)", "reserve per GPU", "FP8/stored rows"), ("MLX", "(Metal)")),
    ],
)
def test_the_footnote_speaks_the_hardware(db_path, budget: str, says: tuple[str, ...], never: tuple[str, ...]):
    """Apple: Metal, no reserve, MLX rows, no CUDA and no FP8 rows; CPU-only: all in RAM; AMD: ROCm."""
    footer = _footer(db_path, budget)
    for text in says:
        assert text in footer, (budget, text, footer)
    for text in never:
        assert text not in footer, (budget, text, footer)
