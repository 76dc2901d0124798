"""Budgets as people type them (issue 12 §2): CPU only, Macs by size, used cards, Colab, GPU shares."""

from __future__ import annotations

import pytest

import estimator
from estimator import GIB, BudgetParseError
from estimator._budget import assumed_speed_gpu


@pytest.mark.parametrize(
    ("text", "ram_gib", "assumed"),
    [
        ("64GB RAM", 64, False),
        ("no gpu", 32, True),
        ("cpu only", 32, True),
        ("cpu only 64GB", 64, False),
        ("CPU only, 128GB RAM", 128, False),
        ("no GPU 16GB RAM", 16, False),
    ],
)
def test_cpu_only_budgets(text, ram_gib, assumed):
    """CPU-only phrases give one system-RAM device (4 GiB left to the OS) and say what was assumed."""
    budget = estimator.parse_budget(text)
    (device,) = budget.devices
    assert budget.cpu_only and device.cpu and device.gpu is None
    assert device.memory_bytes == budget.system_ram_bytes == ram_gib * GIB
    assert device.usable_bytes == ram_gib * GIB - min(4 * GIB, ram_gib * GIB // 8)
    assert device.bandwidth_bytes_per_s == estimator._budget.SYSTEM_RAM_BANDWIDTH
    assert any("assumed" in note for note in budget.notes)
    assert any("GiB assumed" in note for note in budget.notes) == assumed


@pytest.mark.parametrize(
    ("text", "key", "memory_gib", "said"),
    [
        ("128GB mac", "m4-max", 128, "M4 Max"),
        ("mac studio 192", "m2-ultra", 192, "M2 Ultra"),
        ("macbook pro 48gb", "m4-pro", 48, "M4 Pro"),
        ("mac mini 64GB", "m4-pro", 64, "M4 Pro"),
        ("Mac Studio 512GB", "m3-ultra", 512, "M3 Ultra"),
        ("macbook air 24gb", "m4", 24, "Apple M4"),
    ],
)
def test_macs_by_size_name_the_chip_they_assume(text, key, memory_gib, said):
    """A Mac named by size reads as the newest chip sold with that size, and the note names it."""
    budget = estimator.parse_budget(text)
    (device,) = budget.devices
    assert device.gpu.key == key and device.memory_bytes == memory_gib * GIB
    assert device.usable_bytes == memory_gib * GIB * (3 if memory_gib > 36 else 2) // (
        4 if memory_gib > 36 else 3
    )
    assert any(said in note for note in budget.notes)


def test_mac_without_a_size_asks_for_one():
    """ "mac studio" alone is a BudgetParseError (no size to go on)."""
    with pytest.raises(BudgetParseError):
        estimator.parse_budget("mac studio")


def test_m4_max_without_a_size_says_the_size_it_assumed():
    """ "M4 Max" is the 128 GB part, and a note says so and how to give another size."""
    budget = estimator.parse_budget("M4 Max")
    assert budget.devices[0].memory_bytes == 128 * GIB
    assert any("128 GB assumed" in note and "48GB" in note for note in budget.notes)


@pytest.mark.parametrize(
    ("text", "key", "memory_gib", "bandwidth"),
    [
        ("P40", "p40", 24, 347.1),
        ("Tesla P100", "p100", 16, 732.2),
        ("MI50", "mi50", 16, 1024.0),
        ("MI60", "mi60", 32, 1024.0),
        ("RX 6700 XT", "rx-6700-xt", 12, 384.0),
        ("RX 6800", "rx-6800", 16, 512.0),
        ("RTX 5060 Ti 16GB", "rtx-5060-ti-16gb", 16, 448.0),
        ("colab t4", "t4", 16, 320.0),
        ("colab", "t4", 16, 320.0),
    ],
)
def test_used_and_budget_cards(text, key, memory_gib, bandwidth):
    """The cards of the local-LLM world resolve to their table rows, memory and bandwidth."""
    (device,) = estimator.parse_budget(text).devices
    assert (device.gpu.key, device.memory_bytes, device.gpu.bandwidth_gb_per_s) == (
        key,
        memory_gib * GIB,
        bandwidth,
    )
    assert device.gpu.source.startswith("https://")


def test_bare_5060_ti_is_the_8gb_card_and_says_so():
    """ "5060 Ti" is the 8 GB card (never overstate), with a note naming the 16 GB spelling."""
    budget = estimator.parse_budget("5060 Ti")
    assert budget.devices[0].memory_bytes == 8 * GIB
    assert any("16GB" in note for note in budget.notes)


@pytest.mark.parametrize(
    ("text", "share", "assumed"), [("strix halo", 3 / 4, False), ("DGX Spark", 9 / 10, True)]
)
def test_unified_chips_give_the_gpu_the_documented_share(text, share, assumed):
    """Strix Halo's GPU gets 96 of 128 GB (AMD); DGX Spark's share is an assumption and the note says so."""
    budget = estimator.parse_budget(text)
    (device,) = budget.devices
    assert device.usable_bytes == int(device.memory_bytes * share)
    assert device.usable_bytes < device.memory_bytes
    assert any(("assumed" in note) == assumed for note in budget.notes if "GPU may use" in note)


@pytest.mark.parametrize(("text", "key"), [("24GB", "rtx-a5000"), ("12GB", "rtx-3060"), ("8GB", "rtx-4060")])
def test_bare_sizes_assume_the_slowest_card_of_that_size(text, key):
    """For speed only, a bare size assumes the slowest non-datacenter card of exactly that size."""
    (device,) = estimator.parse_budget(text).devices
    gpu = assumed_speed_gpu(device)
    assert gpu is not None and gpu.key == key
    same = [
        g
        for g in estimator.GPU_TABLE
        if g.memory_gb * GIB == device.memory_bytes and not g.unified and not g.datacenter
    ]
    assert gpu.bandwidth_gb_per_s == min(g.bandwidth_gb_per_s for g in same)


def test_named_gpus_need_no_assumption():
    """A named GPU, or a budget fully specified, carries no notes."""
    assert estimator.parse_budget("RTX 4090 + 64GB RAM").notes == ()
    assert assumed_speed_gpu(estimator.parse_budget("RTX 4090").devices[0]) is None
