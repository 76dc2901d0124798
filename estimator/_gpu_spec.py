"""The record for one row of the GPU table (see ``_gpu_table.py`` for the data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuSpec:
    """A GPU (or an Apple/AMD unified-memory chip) as its vendor sells it.

    ``memory_gb`` is the marketed size ("24 GB"), which fitbot reads as GiB, because
    that is what the card reports (an RTX 4090 shows 24,564 MiB).  Unified-memory
    chips come in several sizes: ``memory_options_gb`` lists them and ``memory_gb``
    is the one assumed when the user names none.

    ``gpu_share`` is the fraction (numerator, denominator) of a unified-memory chip's memory
    that its GPU may allocate, with ``share_source`` citing the vendor page that says so;
    Apple chips leave it None and use macOS's own rule (see ``_budget``).
    ``datacenter`` marks server accelerators, which vLLM rather than llama.cpp usually serves.
    """

    key: str
    name: str
    vendor: str  # "nvidia" | "amd" | "apple" | "intel"
    memory_gb: int
    bandwidth_gb_per_s: float  # 10**9 bytes per second, as on the spec sheet
    aliases: tuple[str, ...]
    source: str  # where memory and bandwidth were read (URL)
    unified: bool = False
    memory_options_gb: tuple[int, ...] = ()
    gpu_share: tuple[int, int] | None = None
    share_source: str = ""
    share_assumed: bool = False  # the vendor documents no share; ``gpu_share`` is our assumption
    datacenter: bool = False
