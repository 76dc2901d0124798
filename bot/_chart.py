"""A compact PNG bar chart for /fit: memory per quantization against the budget.

Pure Python (zlib and struct), so the bot needs no imaging library: flat rectangles, a
5×7 bitmap font for labels, and an uncompressed-then-deflated RGB image. One bar per
quantization, stacked as weights (verdict colour), KV cache (lighter) and overhead
(grey), with a vertical line at the usable budget.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

from estimator import DOES_NOT_FIT, FITS, FITS_REDUCED_CONTEXT, GIB, NEEDS_OFFLOAD, Verdict

from ._service import FitAnswer

WIDTH = 640
SCALE = 2  # font pixels per glyph pixel
CHAR_W = 6 * SCALE
GLYPH_H = 7 * SCALE
ROW_H = 26
TOP = 40
BOTTOM = 16
LABEL_X = 10
BAR_X = 10 + 10 * CHAR_W
BAR_RIGHT = WIDTH - 16
BAR_H = 16

BACKGROUND = (0x2B, 0x2D, 0x31)  # Discord's dark theme, so the image sits in the embed
TEXT = (0xDB, 0xDE, 0xE1)
BUDGET_LINE = (0xFF, 0xFF, 0xFF)
OVERHEAD = (0x80, 0x84, 0x8E)
VERDICT_RGB = {
    FITS: (0x2E, 0xCC, 0x71),
    FITS_REDUCED_CONTEXT: (0xF1, 0xC4, 0x0F),
    NEEDS_OFFLOAD: (0xE6, 0x7E, 0x22),
    DOES_NOT_FIT: (0xE7, 0x4C, 0x3C),
}

_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    ",": "00000 00000 00000 00000 00110 00100 01000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}


class _Canvas:
    def __init__(self, width: int, height: int, colour: tuple[int, int, int]) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(colour) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x1 <= x0:
            return
        run = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def text(self, x: int, y: int, text: str, colour: tuple[int, int, int]) -> None:
        """Draw ``text`` on the background colour: one slice assignment per pixel row."""
        glyphs = [_glyph(char, colour) for char in text.upper()]
        x0, x1 = max(0, x), min(self.width, x + len(glyphs) * CHAR_W)
        if x1 <= x0:
            return
        for dy in range(GLYPH_H):
            if 0 <= y + dy < self.height:
                row = b"".join(g[dy] for g in glyphs)[(x0 - x) * 3 : (x1 - x) * 3]
                start = ((y + dy) * self.width + x0) * 3
                self.pixels[start : start + len(row)] = row

    def png(self) -> bytes:
        stride = self.width * 3
        view = memoryview(self.pixels)
        raw = b"".join(b"\x00" + view[y * stride : (y + 1) * stride] for y in range(self.height))  # filter 0
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 1))
            + _chunk(b"IEND", b"")
        )


@cache
def _glyph(char: str, colour: tuple[int, int, int]) -> tuple[bytes, ...]:
    """A character cell as pixel rows (``CHAR_W`` wide, on the background), scaled up."""
    ink, paper = bytes(colour), bytes(BACKGROUND)
    rows = []
    for row in _GLYPHS.get(char, _GLYPHS[" "]).split():
        pixels = b"".join((ink if bit == "1" else paper) * SCALE for bit in row) + paper * (
            CHAR_W - 5 * SCALE
        )
        rows.extend([pixels] * SCALE)
    return tuple(rows)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _lighter(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = colour
    return ((r + 255) // 2, (g + 255) // 2, (b + 255) // 2)


def render_fit_chart(answer: FitAnswer) -> bytes | None:
    """PNG bytes of the chart, or None when there is nothing to draw."""
    options = answer.report.options
    if not options:
        return None
    budget = answer.budget.usable_bytes
    top_value = max(max(o.total_bytes for o in options), budget) * 1.08
    span = BAR_RIGHT - BAR_X

    def x_of(size: float) -> int:
        return BAR_X + int(span * size / top_value)

    canvas = _Canvas(WIDTH, TOP + ROW_H * len(options) + BOTTOM, BACKGROUND)
    canvas.text(LABEL_X, 8, f"GIB AT {answer.report.context:,} TOKENS, KV {answer.report.kv_type}", TEXT)
    labels: list[tuple[int, int, str]] = []
    for n, option in enumerate(options):
        y = TOP + n * ROW_H
        canvas.text(LABEL_X, y + 1, option.quant[:9], TEXT)
        colour = VERDICT_RGB.get(Verdict(option.verdict), OVERHEAD)
        start = BAR_X
        for size, tint in (
            (option.weights_gpu_bytes, colour),
            (option.kv_cache_bytes, _lighter(colour)),
            (option.overhead_bytes, OVERHEAD),
        ):
            end = start + int(span * size / top_value)
            canvas.rect(start, y, end, y + BAR_H, tint)
            start = end
        labels.append((start, y, f"{option.total_bytes / GIB:.1f}"))
    line_x = x_of(budget)
    canvas.rect(line_x - 1, TOP - 6, line_x + 1, TOP + ROW_H * len(options), BUDGET_LINE)
    for end, y, label in labels:  # after the line, so the line never strikes a number through
        width = len(label) * CHAR_W
        label_x = end + 6 if end + 6 + width <= WIDTH else end - 6 - width
        canvas.rect(label_x - 2, y, label_x + width, y + BAR_H, BACKGROUND)
        canvas.text(label_x, y + 1, label, TEXT)
    budget_label = f"BUDGET {budget / GIB:.1f}"
    canvas.text(min(line_x + 4, WIDTH - len(budget_label) * CHAR_W - 2), 8 + 16, budget_label, BUDGET_LINE)
    return canvas.png()
