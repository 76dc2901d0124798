"""The /fit chart (matplotlib): a PNG with a legend, the GPU/RAM split of an offload, and no label on a bar or line."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from bot import _chart
from estimator import GIB, NEEDS_OFFLOAD

from .catalog_answers import catalog_answer

CASES = [
    ("Qwen/Qwen2.5-32B-Instruct", "24GB"),
    ("Qwen/Qwen3-30B-A3B", "RTX 3060 + 64GB RAM"),
    ("deepseek-ai/DeepSeek-V3", "2x3090 + 128GB RAM"),
    ("Qwen/Qwen3-0.6B", "8GB"),
    ("openai/gpt-oss-120b", "M4 Max 128GB"),
]


@pytest.mark.parametrize(("repo_id", "budget"), CASES)
def test_chart_is_a_png_of_the_figure_size(repo_id: str, budget: str) -> None:
    """The PNG decodes (matplotlib's own reader) to the figure's pixel size."""
    answer = catalog_answer(repo_id, budget)
    png = _chart.render_fit_chart(answer)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    figure = _chart.chart_figure(answer)
    assert figure is not None
    width, height = figure.canvas.get_width_height()
    assert imread(io.BytesIO(png), format="png").shape[:2] == (height, width)


@pytest.mark.parametrize(("repo_id", "budget"), CASES)
def test_labels_never_touch_a_bar_or_the_budget_line(repo_id: str, budget: str) -> None:
    """Drawn on Agg: no value label, tick label or legend overlaps any bar or the budget line."""
    figure = _chart.chart_figure(catalog_answer(repo_id, budget))
    assert figure is not None
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    axes = figure.axes[0]
    bars = [
        p.get_window_extent(renderer) for p in axes.patches if isinstance(p, Rectangle) and p.get_width() > 0
    ]
    lines = [line.get_window_extent(renderer) for line in axes.lines if isinstance(line, Line2D)]
    labels = [t for t in axes.texts if isinstance(t, Annotation)]
    assert len(labels) == len(axes.get_yticks())
    texts = [t.get_window_extent(renderer) for t in labels]
    texts += [t.get_window_extent(renderer) for t in axes.get_yticklabels()]
    texts.append(figure.legends[0].get_window_extent(renderer))
    for text in texts:
        for shape in bars + lines:
            assert not text.overlaps(shape), (text, shape)


def test_legend_names_each_part_and_the_budget() -> None:
    """A budget that fits shows weights, KV cache, buffers and the budget in GiB in its legend."""
    answer = catalog_answer("Qwen/Qwen2.5-32B-Instruct", "24GB")
    figure = _chart.chart_figure(answer)
    assert figure is not None
    names = [t.get_text() for t in figure.legends[0].get_texts()]
    assert names[:3] == ["weights", "KV cache", "buffers + reserve"]
    assert names[-1] == f"budget {answer.budget.usable_bytes / GIB:.1f} GiB"


def test_an_offload_is_drawn_as_its_gpu_and_ram_split() -> None:
    """An option that needs offload has two bars: its plan's GPU bytes, then its RAM bytes."""
    answer = catalog_answer("Qwen/Qwen3-30B-A3B", "RTX 3060 + 64GB RAM")
    offloaded = [n for n, o in enumerate(answer.report.options) if o.verdict == NEEDS_OFFLOAD]
    assert offloaded
    figure = _chart.chart_figure(answer)
    assert figure is not None
    names = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "offload: on the GPU" in names and "offload: weights in RAM" in names
    row = offloaded[0]
    plan = answer.report.options[row].offload
    assert plan is not None
    widths = [
        p.get_width() for p in figure.axes[0].patches if abs(p.get_y() + p.get_height() / 2 - row) < 1e-9
    ]
    assert widths == pytest.approx([plan.gpu_bytes / GIB, plan.ram_bytes / GIB])
