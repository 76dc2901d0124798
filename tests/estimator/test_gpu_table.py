"""Integrity checks and spot checks for the GPU table (estimator/_gpu_table.py)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from estimator._gpu_spec import GpuSpec
from estimator._gpu_table import GPU_TABLE

ALLOWED_VENDORS = {"nvidia", "amd", "apple", "intel"}
BY_KEY = {row.key: row for row in GPU_TABLE}
BY_ALIAS = {alias: row for row in GPU_TABLE for alias in row.aliases}


def _bandwidth(bus_bits: int, gbit_per_pin: float) -> float:
    """Peak DRAM bandwidth in GB/s (10**9 B/s) from bus width and per-pin data rate."""
    return bus_bits * gbit_per_pin / 8


def test_table_has_at_least_55_rows():
    """The table holds at least 55 GPUs / accelerators / unified-memory chips."""
    assert len(GPU_TABLE) >= 55


def test_rows_are_gpu_specs():
    """Every row is a GpuSpec record."""
    assert all(isinstance(row, GpuSpec) for row in GPU_TABLE)


def test_keys_unique():
    """No two rows share a key."""
    dupes = [k for k, n in Counter(row.key for row in GPU_TABLE).items() if n > 1]
    assert dupes == []


def test_aliases_unique_across_table():
    """No alias appears twice, within a row or across rows."""
    counts = Counter(alias for row in GPU_TABLE for alias in row.aliases)
    assert [a for a, n in counts.items() if n > 1] == []


def test_aliases_lowercase_and_trimmed():
    """Every alias is non-empty, lowercase and has no surrounding or doubled whitespace."""
    for row in GPU_TABLE:
        assert row.aliases, row.key
        for alias in row.aliases:
            assert alias == alias.lower(), (row.key, alias)
            assert alias == " ".join(alias.split()), (row.key, alias)
            assert alias, row.key


def test_sources_are_https_urls():
    """Every row cites exactly one https URL with no whitespace in it."""
    for row in GPU_TABLE:
        assert re.fullmatch(r"https://[^\s]+\.[^\s]+", row.source), (row.key, row.source)


def test_memory_and_bandwidth_positive():
    """memory_gb is a positive int and bandwidth a positive number for every row."""
    for row in GPU_TABLE:
        assert isinstance(row.memory_gb, int) and not isinstance(row.memory_gb, bool), row.key
        assert row.memory_gb > 0, row.key
        assert isinstance(row.bandwidth_gb_per_s, float), row.key
        assert row.bandwidth_gb_per_s > 0, row.key


def test_vendors_allowed():
    """Every vendor is one of nvidia, amd, apple, intel."""
    assert {row.vendor for row in GPU_TABLE} <= ALLOWED_VENDORS


def test_unified_rows_list_their_memory_options():
    """Unified rows list sorted, unique sizes that include memory_gb, which is the largest."""
    unified = [row for row in GPU_TABLE if row.unified]
    assert unified
    for row in unified:
        opts = row.memory_options_gb
        assert opts, row.key
        assert row.memory_gb in opts, row.key
        assert row.memory_gb == max(opts), row.key
        assert list(opts) == sorted(set(opts)), row.key


def test_discrete_rows_have_no_memory_options():
    """Non-unified rows leave memory_options_gb empty (their size is fixed)."""
    for row in GPU_TABLE:
        if not row.unified:
            assert row.memory_options_gb == (), row.key


def test_apple_rows_are_unified_without_sizes_in_aliases():
    """Apple rows are unified and no Apple alias carries a memory size."""
    apple = [row for row in GPU_TABLE if row.vendor == "apple"]
    assert apple
    for row in apple:
        assert row.unified, row.key
        for alias in row.aliases:
            assert not re.search(r"\d+\s*gb", alias), (row.key, alias)


def test_apple_binned_max_chips_split_by_bandwidth():
    """Plain "m3 max"/"m4 max" name the faster bin; the 30/32-core bins have their own rows."""
    assert BY_ALIAS["m3 max"].bandwidth_gb_per_s == 400.0
    assert BY_ALIAS["m3 max 30-core"].bandwidth_gb_per_s == 300.0
    assert BY_ALIAS["m3 max 30-core"].memory_options_gb == (36, 96)
    assert BY_ALIAS["m4 max"].bandwidth_gb_per_s == 546.0
    assert BY_ALIAS["m4 max 32-core"].bandwidth_gb_per_s == 410.0
    assert BY_ALIAS["m4 max 32-core"].memory_options_gb == (36,)


def test_required_coverage_present():
    """The rows the brief names are all present under their aliases."""
    required = [
        "2060", "2070", "2080", "2080 ti", "3060", "3060 ti", "3070", "3080", "3080 12gb",
        "3080 ti", "3090", "3090 ti", "4060", "4060 ti", "4060 ti 16gb", "4070", "4070 super",
        "4070 ti", "4070 ti super", "4080", "4080 super", "4090", "5060 ti 16gb", "5070",
        "5070 ti", "5080", "5090", "a4000", "a5000", "a6000", "rtx 6000 ada", "rtx pro 6000",
        "t4", "v100", "v100 32gb", "a10", "a40", "l4", "l40s", "a100 40gb", "a100 80gb",
        "h100", "h100 sxm", "h100 pcie", "h100 nvl", "h200", "b200", "dgx spark", "6800 xt",
        "6900 xt", "rx 7600", "7800 xt", "7900 gre", "7900 xt", "7900 xtx", "9070", "9070 xt",
        "w7900", "mi210", "mi250x", "mi300x", "mi325x", "strix halo", "a770", "b580",
        "m1 pro", "m1 max", "m1 ultra", "m2 pro", "m2 max", "m2 ultra", "m3 pro", "m3 max",
        "m3 ultra", "m4 pro", "m4 max",
    ]
    missing = [alias for alias in required if alias not in BY_ALIAS]
    assert missing == []
    assert BY_ALIAS["h100"].key == "h100"


@pytest.mark.parametrize(
    ("alias", "memory_gb", "bandwidth"),
    [
        # GDDR6X 384-bit at 21 Gbps: 384 * 21 / 8 = 1008 GB/s.
        ("4090", 24, _bandwidth(384, 21.0)),
        # GDDR6 192-bit at 15 Gbps: 360 GB/s.
        ("3060", 12, _bandwidth(192, 15.0)),
        # GDDR6 128-bit at 18 Gbps: 288 GB/s, both memory sizes.
        ("4060 ti", 8, _bandwidth(128, 18.0)),
        ("4060 ti 16gb", 16, _bandwidth(128, 18.0)),
        # GDDR7 512-bit at 28 Gbps: 1792 GB/s.
        ("5090", 32, _bandwidth(512, 28.0)),
        # GDDR6 384-bit at 20 Gbps: 960 GB/s.
        ("7900 xtx", 24, _bandwidth(384, 20.0)),
        # GDDR6X 256-bit at 22.4 Gbps: 716.8 GB/s.
        ("4080", 16, _bandwidth(256, 22.4)),
        # GDDR6X 192-bit at 21 Gbps: 504 GB/s.
        ("4070", 12, _bandwidth(192, 21.0)),
    ],
)
def test_spot_check_gddr_cards(alias, memory_gb, bandwidth):
    """Well-known cards match memory size and bus-width x data-rate bandwidth."""
    row = BY_ALIAS[alias]
    assert row.memory_gb == memory_gb
    assert row.bandwidth_gb_per_s == pytest.approx(bandwidth)


@pytest.mark.parametrize(
    ("alias", "memory_gb", "bandwidth"),
    [
        ("h100", 80, 3.35e12),
        ("h100 pcie", 80, 2.0e12),
        ("mi300x", 192, 5.3e12),
        ("m2 ultra", 192, 800e9),
        ("m1 max", 64, 400e9),
        ("m4 pro", 64, 273e9),
    ],
)
def test_spot_check_spec_sheet_figures(alias, memory_gb, bandwidth):
    """Spec-sheet figures quoted in bytes/s convert to the table's GB/s (10**9 B/s)."""
    row = BY_ALIAS[alias]
    assert row.memory_gb == memory_gb
    assert row.bandwidth_gb_per_s == pytest.approx(bandwidth / 1e9)
