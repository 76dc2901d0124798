"""The /fit chart: a valid PNG whose bars carry each option's verdict colour."""

from __future__ import annotations

import struct
import zlib

import pytest

from bot import _chart
from bot._service import FitAnswer, ResolvedModel
from estimator import ModelFacts, estimate_fit, parse_budget
from store import Resolution, load_bundled_catalog

CATALOG = {r.repo_id: r for r in load_bundled_catalog()}


def _answer(repo_id: str, budget: str) -> FitAnswer:
    record = CATALOG[repo_id]
    parsed = parse_budget(budget)
    report = estimate_fit(ModelFacts(record.config, record.accounting), parsed)
    return FitAnswer(ResolvedModel(record, Resolution(repo_id, True)), parsed, report)


def _decode(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw RGB rows (filter bytes removed), checking every chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + 3 * width)
    rows = b"".join(raw[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height))
    return width, height, rows


@pytest.mark.parametrize(("repo_id", "budget"), [("Qwen/Qwen2.5-32B-Instruct", "24GB"), ("deepseek-ai/DeepSeek-V3", "2x3090 + 128GB RAM"), ("Qwen/Qwen3-0.6B", "8GB")])
def test_chart_is_a_png_with_one_bar_per_option_in_its_verdict_colour(repo_id: str, budget: str) -> None:
    """Each option's bar starts in the colour of its verdict."""
    answer = _answer(repo_id, budget)
    png = _chart.render_fit_chart(answer)
    assert png is not None
    width, height, rows = _decode(png)
    assert width == _chart.WIDTH and height == _chart.TOP + _chart.ROW_H * len(answer.report.options) + _chart.BOTTOM
    for n, option in enumerate(answer.report.options):
        y = _chart.TOP + n * _chart.ROW_H + _chart.BAR_H // 2
        offset = (y * width + _chart.BAR_X + 1) * 3
        assert tuple(rows[offset : offset + 3]) == _chart.VERDICT_RGB[option.verdict], option.quant
