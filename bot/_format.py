"""Numbers for people: sizes with their unit spelled out, parameter counts, speeds; tables as text.

GiB is 2**30 bytes and GB is 10**9 bytes; every size we print names which.
"""

from __future__ import annotations

from estimator import GB, GIB

from ._document import Column, Table


def gib(size_bytes: int | float, digits: int = 1) -> str:
    return f"{size_bytes / GIB:,.{digits}f} GiB"


def gib_number(size_bytes: int | float, digits: int = 1) -> str:
    return f"{size_bytes / GIB:,.{digits}f}"


def size_both(size_bytes: int) -> str:
    """Both units, for file sizes people compare with the Hub (which shows GB)."""
    return f"{size_bytes / GIB:,.2f} GiB ({size_bytes / GB:,.2f} GB)"


def params_short(count: int) -> str:
    """32,763,876,352 -> "32.8B"."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(count) >= scale:
            value = count / scale
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(count)


def params_exact(count: int) -> str:
    return f"{count:,}"


def tokens(count: int) -> str:
    return f"{count:,}"


def speed(tokens_per_s: float | None) -> str:
    if not tokens_per_s:
        return "—"
    return f"~{tokens_per_s:,.0f} tok/s" if tokens_per_s >= 10 else f"~{tokens_per_s:.1f} tok/s"


def content_table_lines(table: Table) -> list[str]:
    """The table as fixed-width rows, each column at least as wide as its widest cell.

    A column keeps its declared width when its content fits; where two neighbouring cells
    would touch (a right-aligned value that fills its column after a full one), one space
    is put between the columns.
    """
    rows = ([tuple(c.name for c in table.columns)] if table.header else []) + list(table.rows)
    widths = [max([c.width, *(len(row[i]) for row in rows)]) for i, c in enumerate(table.columns)]
    gaps = [_gap(table.columns, widths, rows, i) for i in range(len(table.columns))]
    return [
        "".join(
            " " * gap + f"{cell:{c.align}{width}}"
            for c, width, gap, cell in zip(table.columns, widths, gaps, row, strict=True)
        ).rstrip()
        for row in rows
    ]


def _gap(columns: tuple[Column, ...], widths: list[int], rows: list[tuple[str, ...]], i: int) -> int:
    """Spaces before column ``i``: its declared gap, or one where a cell would touch the one before."""
    column = columns[i]
    if i == 0 or column.gap > 0:
        return column.gap
    left, left_width = columns[i - 1], widths[i - 1]

    def space_between(row: tuple[str, ...]) -> int:
        trailing = left_width - len(row[i - 1]) if left.align == "<" else 0
        leading = widths[i] - len(row[i]) if column.align == ">" else 0
        return trailing + leading

    return 0 if all(space_between(row) > 0 for row in rows) else 1
