"""Budget and context parsing: what users type in /fit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import estimator
from estimator import GIB, BudgetParseError, ContextParseError, InputError, UnknownGpuError

GIB_24 = 24 * 2**30


@pytest.mark.parametrize("text", ["24GB", "24 GB", "24gb", "24G", "24GiB", "24", "  24  gb "])
def test_sizes_read_as_24_gib(text):
    """Every spelling of 24 GB is one device of 24 GiB (24·2**30 bytes), all of it usable."""
    budget = estimator.parse_budget(text)
    assert [(d.memory_bytes, d.usable_bytes) for d in budget.devices] == [(GIB_24, GIB_24)]
    assert budget.usable_bytes == 25_769_803_776
    assert budget.system_ram_bytes is None
    assert not budget.names_gpu


def test_byte_count_is_taken_literally():
    """A bare byte count ("25769803776") is that many bytes, not gigabytes."""
    budget = estimator.parse_budget("25769803776")
    assert [d.memory_bytes for d in budget.devices] == [25_769_803_776]
    assert budget.devices[0].read_as == estimator.READ_AS_BYTES


@pytest.mark.parametrize(
    ("text", "memories"),
    [("2x24GB", [24, 24]), ("24+12GB", [24, 12]), ("2x3090", [24, 24]), ("24GB + 24GB", [24, 24])],
)
def test_multi_device_budgets(text, memories):
    """Counts and sums give one device per GPU, each with its own memory."""
    budget = estimator.parse_budget(text)
    assert [d.memory_bytes for d in budget.devices] == [m * GIB for m in memories]
    assert budget.usable_bytes == sum(memories) * 2**30


@pytest.mark.parametrize(
    ("text", "memory_gib", "name_part"),
    [("4090", 24, "4090"), ("RTX 3090", 24, "3090"), ("H100", 80, "H100"), ("7900 XTX", 24, "7900 XTX"),
     ("RTX 4090", 24, "4090"), ("nvidia geforce rtx 4090", 24, "4090")],
)
def test_gpu_names(text, memory_gib, name_part):
    """A GPU name is one device with that card's memory, bandwidth known; "4090" is a card, not 4090 GB."""
    budget = estimator.parse_budget(text)
    (device,) = budget.devices
    assert device.memory_bytes == device.usable_bytes == memory_gib * 2**30
    assert name_part in device.gpu.name
    assert device.bandwidth_bytes_per_s > 0
    assert budget.names_gpu and not budget.unified


def test_apple_unified_memory_lends_three_quarters():
    """"M3 Max 128GB" is 128 GiB of unified memory of which the GPU may use 96 GiB."""
    budget = estimator.parse_budget("M3 Max 128GB")
    (device,) = budget.devices
    assert device.memory_bytes == 128 * 2**30
    assert device.usable_bytes == 96 * 2**30
    assert budget.unified and device.unified


@pytest.mark.parametrize(("text", "size_gb", "bandwidth"), [("M3 Max 36GB", 36, 300.0), ("M3 Max 96GB", 96, 300.0),
                                                           ("M4 Max 36GB", 36, 410.0)])
def test_apple_chip_size_picks_the_matching_bin(text, size_gb, bandwidth):
    """A Max chip with 36GB (or M3 Max 96GB) exists only as the binned chip: that is the one the budget names."""
    (device,) = estimator.parse_budget(text).devices
    assert device.memory_bytes == size_gb * 2**30
    assert device.gpu.bandwidth_gb_per_s == bandwidth


def test_system_ram_is_read_apart_from_gpus():
    """"4090 + 64GB RAM" is one 24 GiB GPU and 64 GiB of system RAM."""
    budget = estimator.parse_budget("4090 + 64GB RAM")
    assert [d.memory_bytes for d in budget.devices] == [GIB_24]
    assert budget.system_ram_bytes == 64 * 2**30


def test_gigs_is_rejected_with_a_suggestion():
    """"24 gigs" is a BudgetParseError (not an unknown GPU) whose message suggests 24GB."""
    with pytest.raises(BudgetParseError) as caught:
        estimator.parse_budget("24 gigs")
    assert not isinstance(caught.value, UnknownGpuError)
    assert "24GB" in str(caught.value)


def test_unknown_gpu_suggests_the_nearest_card():
    """"RTX 5095" is an UnknownGpuError that suggests the RTX 5090."""
    with pytest.raises(UnknownGpuError) as caught:
        estimator.parse_budget("RTX 5095")
    assert any("5090" in s for s in caught.value.suggestions)
    assert "5090" in str(caught.value)


@pytest.mark.parametrize("text", ["", "   ", "lots", "-5GB", "0GB", "100x4090", "1e5", "32b"])
def test_unreadable_budgets_are_input_errors(text):
    """Empty, negative, zero, too many devices or implausible sizes raise a BudgetParseError."""
    with pytest.raises(BudgetParseError):
        estimator.parse_budget(text)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("32k", 32768), ("32K", 32768), ("128k", 131072), ("8192", 8192), ("1m", 1048576), ("4k tokens", 4096),
     ("32,768", 32768), (4096, 4096)],
)
def test_parse_context(text, tokens):
    """Context lengths: k is 1024 tokens, m is 1024², plain numbers are tokens."""
    assert estimator.parse_context(text) == tokens


@pytest.mark.parametrize("text", ["0", "lots", "-1k", "11m", "", True])
def test_bad_contexts_are_rejected(text):
    """Zero, negative, non-numeric or over-10M contexts raise ContextParseError."""
    with pytest.raises(ContextParseError):
        estimator.parse_context(text)


def _check_budget(text: str) -> None:
    try:
        budget = estimator.parse_budget(text)
    except InputError:
        return
    assert budget.devices
    for device in budget.devices:
        assert device.memory_bytes > 0
        assert 0 < device.usable_bytes <= device.memory_bytes
    assert budget.system_ram_bytes is None or budget.system_ram_bytes > 0


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_input_error(text):
    """Any text either parses to positive sizes or raises an InputError subclass."""
    _check_budget(text)


_PIECES = ["24", "12", "0", "1.5", "999", "1000000", "25769803776", "gb", "GiB", "tb", "mib", "g", "b", "x", "×",
           "*", "+", ",", "&", " and ", " with ", "ram", " ram", "ddr5", " ", "4090", "rtx", "3090", "m3 max",
           "h100", "7900 xtx", "128gb", "2", "-", ".", "of system"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=10).map("".join))
def test_budget_like_text_parses_or_raises_input_error(text):
    """Text built from budget vocabulary either parses to positive sizes or raises an InputError subclass."""
    _check_budget(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30) | st.integers())
def test_context_parses_in_range_or_raises(text):
    """Any context text is either 1 to 10M tokens or a ContextParseError."""
    try:
        tokens = estimator.parse_context(text)
    except ContextParseError:
        return
    assert 1 <= tokens <= estimator.MAX_CONTEXT


@pytest.mark.parametrize(
    ("text", "sizes_gib", "gpu"),
    [
        ("24GB VRAM", [24], None),
        ("24gb of vram", [24], None),
        ("3090s", [24], "rtx-3090"),
        ("dual 3090", [24, 24], "rtx-3090"),
        ("2x3090s", [24, 24], "rtx-3090"),
        ("quad 4090", [24, 24, 24, 24], "rtx-4090"),
        ("MacBook Pro M3 Max 128GB", [128], "m3-max"),
        ("Mac Studio M2 Ultra 192GB", [192], "m2-ultra"),
    ],
)
def test_budget_reads_how_people_write_it(text, sizes_gib, gpu):
    """Filler words ("VRAM"), word counts ("dual"), plurals and Mac model names are understood."""
    budget = estimator.parse_budget(text)
    assert [d.memory_bytes >> 30 for d in budget.devices] == sizes_gib
    assert {d.gpu.key if d.gpu else None for d in budget.devices} == {gpu}
