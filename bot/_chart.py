"""The /fit chart (matplotlib, Agg): memory per quantization against the budget, shown on request.

One horizontal bar per quantization. A bar that runs on the GPU alone is stacked as weights,
KV cache, and buffers + reserve; a bar that needs offload is split into what sits on the GPU
and the weights kept in system RAM, so the split reads at a glance. The budget is a dashed
line named in the legend.

Nothing written on the chart can touch a bar or the budget line: the totals and verdicts sit
in their own column outside the plotting area (right of it), the quantization names are the
axis labels (left of it), and the legend is below it. ``tests/bot/discord/test_chart.py``
draws the figure and checks those boxes do not overlap.

``matplotlib.figure.Figure`` with its Agg canvas, never ``pyplot``: no global figure state, so
two charts can be drawn at once in worker threads.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from estimator import GIB, NEEDS_OFFLOAD, QuantOption

from ._service import FitAnswer

__all__ = ["LEGEND", "chart_figure", "render_fit_chart"]

BACKGROUND = "#2b2d31"  # Discord's dark theme, so the image sits in the embed
TEXT = "#dbdee1"
BUDGET = "#ffffff"
# (legend label, colour, hatch)
LEGEND = {
    "weights": ("weights", "#5865f2", ""),
    "kv": ("KV cache", "#3ba55d", ""),
    "other": ("buffers + reserve", "#80848e", ""),
    "gpu": ("offload: on the GPU", "#5865f2", "//"),
    "ram": ("offload: weights in RAM", "#e67e22", ""),
}
VERDICT_WORDS = {
    "fits": "fits",
    "fits_reduced_context": "less ctx",
    "needs_offload": "offload",
    "does_not_fit": "no",
}
WIDTH_INCHES = 6.4
DPI = 100
ROW_INCHES = 0.34


def _segments(option: QuantOption) -> list[tuple[str, float]]:
    """The bar's pieces in GiB, left to right."""
    plan = option.offload
    if option.verdict == NEEDS_OFFLOAD and plan is not None:
        return [("gpu", plan.gpu_bytes / GIB), ("ram", plan.ram_bytes / GIB)]
    return [
        ("weights", option.weights_gpu_bytes / GIB),
        ("kv", option.kv_cache_bytes / GIB),
        ("other", option.overhead_bytes / GIB),
    ]


def chart_figure(answer: FitAnswer) -> Figure | None:
    """The chart as a matplotlib figure (drawn, not saved), or None when there is nothing to draw."""
    options = answer.report.options
    if not options:
        return None
    budget = answer.budget.usable_bytes / GIB
    rows = [_segments(o) for o in options]
    widest = max(max(sum(size for _, size in row) for row in rows), budget)
    figure = Figure(figsize=(WIDTH_INCHES, 1.5 + ROW_INCHES * len(options)), dpi=DPI, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    axes = figure.add_axes(_plot_box(len(options)))
    axes.set_facecolor(BACKGROUND)
    used: set[str] = set()
    for y, row in enumerate(rows):
        left = 0.0
        for kind, size in row:
            _, colour, hatch = LEGEND[kind]
            axes.barh(y, size, left=left, height=0.7, color=colour, hatch=hatch, edgecolor=BACKGROUND)
            left += size
            used.add(kind)
    axes.axvline(budget, color=BUDGET, linestyle="--", linewidth=1.2)
    axes.set_xlim(0, widest * 1.04)
    axes.set_ylim(len(options) - 0.5, -0.5)  # the first option on top
    axes.set_yticks(range(len(options)), [o.quant for o in options], color=TEXT, fontsize=9)
    axes.tick_params(axis="x", colors=TEXT, labelsize=8)
    axes.set_xlabel("GiB (2^30 bytes)", color=TEXT, fontsize=8)
    for spine in axes.spines.values():
        spine.set_color("#4e5058")
    for y, option in enumerate(options):
        # In the column right of the plot: never on a bar, never on the budget line.
        axes.annotate(
            f"{option.total_bytes / GIB:.1f} {VERDICT_WORDS.get(option.verdict, option.verdict)}",
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            color=TEXT,
            fontsize=8,
            annotation_clip=False,
        )
    handles = [
        Patch(facecolor=LEGEND[k][1], hatch=LEGEND[k][2], label=LEGEND[k][0]) for k in LEGEND if k in used
    ]
    handles.append(
        Patch(facecolor=BACKGROUND, edgecolor=BUDGET, linestyle="--", label=f"budget {budget:.1f} GiB")
    )
    legend = figure.legend(
        handles=handles,
        loc="lower center",
        ncols=3,
        fontsize=7.5,
        frameon=False,
        labelcolor=TEXT,
        bbox_to_anchor=(0.5, 0.0),
    )
    legend.set_in_layout(False)
    report = answer.report
    figure.suptitle(
        f"Memory at {report.context:,} tokens, KV cache {report.kv_type}", color=TEXT, fontsize=10, y=0.985
    )
    return figure


def _plot_box(rows: int) -> tuple[float, float, float, float]:
    """The plotting area (left, bottom, width, height) in figure fractions: room for the legend
    below, the title above and the totals column to the right."""
    height = 1.5 + ROW_INCHES * rows
    bottom = 0.95 / height
    top = 0.35 / height
    return (0.16, bottom, 0.64, 1.0 - bottom - top)


def render_fit_chart(answer: FitAnswer) -> bytes | None:
    """PNG bytes of the chart, or None when there is nothing to draw."""
    figure = chart_figure(answer)
    if figure is None:
        return None
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor=BACKGROUND)
    return out.getvalue()
