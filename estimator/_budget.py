"""Read the memory budget a user types: "24GB", "2x3090", "24+12GB", "M3 Max 128GB", "4090 + 64GB RAM",
"64GB RAM" or "no gpu" (CPU only), "128GB mac", "mac studio 192".

A size typed by a user is memory as vendors sell it: "24GB" is the memory of a 24 GB card,
which is 24 GiB (an RTX 4090 reports 24,564 MiB). "24GiB" is the same; a byte count is
taken literally. Unified-memory chips lend only part of their memory to the GPU.
Wherever a chip, a variant or an amount is assumed, ``Budget.notes`` says so.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ._gpu_spec import GpuSpec
from ._gpu_table import GPU_TABLE
from ._units import GIB, MIB, TIB
from .errors import BudgetParseError, UnknownGpuError

READ_AS_VENDOR_GB = "vendor_gb"  # "24GB": the memory of a 24 GB card, 24 GiB
READ_AS_GIB = "gib"
READ_AS_MIB = "mib"
READ_AS_BYTES = "bytes"
READ_AS_GPU = "gpu"
READ_AS_SYSTEM_RAM = "system_ram"  # a CPU-only budget: the "device" is system RAM

# The most common desktop size (Steam hardware survey); "64GB RAM" changes it.
ASSUMED_SYSTEM_RAM_BYTES = 32 * GIB
# Dual-channel DDR5-5600, spec sheet: what a CPU-only or offloaded decode reads through.
SYSTEM_RAM_BANDWIDTH = 89.6e9
# A CPU-only machine keeps this much RAM for the OS and desktop (assumed, and said).
_OS_RAM_BYTES = 4 * GIB

# A bare number below 1000 is GB; "1080" (a card?) or "24564" (nvidia-smi MiB) is ambiguous.
_MAX_BARE_GB = 999
_MIN_BARE_BYTES = 10**6
_MAX_DEVICES = 64
# macOS lets the GPU wire about 3/4 of unified memory on larger machines and about 2/3 on
# smaller ones (Metal's recommendedMaxWorkingSetSize, as llama.cpp logs it).
_APPLE_LARGE_FRACTION = (3, 4)
_APPLE_SMALL_FRACTION = (2, 3)

_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT = r"(tib|tb|t|gib|gb|g|mib|mb|m|bytes|byte|b)?"
_SIZE = re.compile(rf"^{_NUMBER}\s*{_UNIT}$")
_RAM = re.compile(
    rf"(?:^|[\s+,&]|with|and)\s*(?:ram\s*[:=]?\s*{_NUMBER}\s*{_UNIT}|{_NUMBER}\s*{_UNIT}\s*(?:of\s+)?(?:system\s+)?(?:ram|ddr\d?)\b)"
)
_COUNT_PREFIX = re.compile(r"^(\d+)\s*[x×*]\s*(.+)$")
_COUNT_SUFFIX = re.compile(r"^(.+?)\s*[x×*]\s*(\d+)$")
_NOISE = re.compile(r"\b(nvidia|geforce|amd|radeon|apple|intel|graphics|card|gpu)\b")


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU (or unified-memory chip) in a budget."""

    memory_bytes: int  # as sold, read as GiB
    usable_bytes: int  # what the GPU may allocate
    read_as: str
    gpu: GpuSpec | None = None
    cpu: bool = False  # system RAM standing in for a GPU (CPU-only budget)

    @property
    def bandwidth_bytes_per_s(self) -> float | None:
        if self.cpu:
            return SYSTEM_RAM_BANDWIDTH
        return self.gpu.bandwidth_gb_per_s * 1e9 if self.gpu else None

    @property
    def unified(self) -> bool:
        """Weights and host buffers share this memory: no CUDA reserve, nothing to offload to."""
        return self.cpu or bool(self.gpu and self.gpu.unified)


@dataclass(frozen=True, slots=True)
class Budget:
    """The memory a user has: one or more devices, and system RAM when given."""

    text: str
    devices: tuple[Device, ...]
    system_ram_bytes: int | None = None
    notes: tuple[str, ...] = ()  # what was assumed while reading the text, in plain words

    @property
    def usable_bytes(self) -> int:
        return sum(d.usable_bytes for d in self.devices)

    @property
    def cpu_only(self) -> bool:
        return bool(self.devices) and all(d.cpu for d in self.devices)

    @property
    def names_gpu(self) -> bool:
        return all(d.gpu is not None for d in self.devices)

    @property
    def unified(self) -> bool:
        return any(d.unified for d in self.devices)


def parse_budget(text: str) -> Budget:
    """Parse a budget such as "24GB", "2x24GB", "24+12GB", "RTX 4090", "M3 Max 128GB".

    Raises:
        BudgetParseError: the text is not a size or a list of sizes and GPUs.
        UnknownGpuError: a GPU name that is not in the table (with suggestions).
    """
    original = text
    cleaned = " ".join(str(text).lower().replace("×", "x").split())
    if not cleaned or len(cleaned) > 200:
        raise BudgetParseError(original[:60])
    cleaned, cpu_only = _strip_cpu_only(cleaned)
    cleaned, mac = _strip_mac(cleaned)
    cleaned = _normalise_phrasing(cleaned)
    cleaned, ram = _split_ram(cleaned, original)
    parts = [p.strip() for p in re.split(r"\s*(?:\+|,|&|\band\b)\s*", cleaned) if p.strip()]
    if cpu_only or (ram is not None and not parts and not mac):
        return _cpu_budget(original, parts, ram)
    if mac is not None and len(parts) == 1 and _SIZE.match(parts[0]):
        return _mac_budget(original, mac, parts[0])
    if not parts:
        raise BudgetParseError(original[:60])
    shared_unit = _shared_unit(parts)
    devices: list[Device] = []
    notes: list[str] = []
    for part in parts:
        count, item = _split_count(part)
        device = _parse_item(item, shared_unit, original)
        devices.extend([device] * count)
        if len(devices) > _MAX_DEVICES:
            raise BudgetParseError(original[:60], f"'{original[:60]}' names more than {_MAX_DEVICES} GPUs")
        notes.extend(n for n in _device_notes(device, item) if n not in notes)
    return Budget(original, tuple(devices), ram, tuple(notes))


_CPU_ONLY = re.compile(r"\b(?:no\s+gpu|without\s+(?:a\s+)?gpu|cpu[\s-]*only|only\s+cpu|cpu)\b")
_MAC = re.compile(
    r"\b(?:apple\s+)?(mac\s*book\s+air|mac\s*book(?:\s+pro)?|mac\s+studio|mac\s+mini|mac\s+pro|imac|mac)\b"
)
_APPLE_CHIP = re.compile(r"\bm[1-9]\b")
# What a Mac model can carry: a Mac Studio has a Max or Ultra chip, a Mac mini a base or Pro chip.
_MAC_TIERS = {"mac studio": ("max", "ultra"), "mac mini": ("", "pro"), "macbook air": ("",)}


def _strip_cpu_only(text: str) -> tuple[str, bool]:
    stripped = _CPU_ONLY.sub(" ", text)
    return " ".join(stripped.split()), stripped != text


def _strip_mac(text: str) -> tuple[str, str | None]:
    """Find a Mac model named without its chip ("128GB mac", "mac studio 192")."""
    match = _MAC.search(text)
    if not match or _APPLE_CHIP.search(text):
        return text, None
    model = " ".join(match.group(1).replace("macbook", "macbook ").split())
    spelled = {"mac book air": "macbook air", "mac book pro": "macbook pro", "mac book": "macbook"}
    model = spelled.get(model, model)
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    return " ".join(rest.split()), model


def _cpu_budget(original: str, parts: list[str], ram: int | None) -> Budget:
    """No GPU: llama.cpp on the CPU, with system RAM in place of VRAM."""
    notes = []
    size = _SIZE.match(parts[0]) if len(parts) == 1 else None
    if ram is None and size is not None:
        ram, _ = _size_bytes(size.group(1), size.group(2) or "gb", original)
    elif parts:
        raise BudgetParseError(original[:60], f"'{original[:60]}': write 'cpu only 64GB RAM' or a GPU name")
    if ram is None:
        ram = ASSUMED_SYSTEM_RAM_BYTES
        notes.append(f"no RAM size given: {ram // GIB} GiB assumed (write '64GB RAM' for yours)")
    reserve = min(_OS_RAM_BYTES, ram // 8)
    notes.append(
        f"CPU only: {reserve / GIB:g} GiB of the {ram / GIB:g} GiB RAM is left to the OS (assumed); "
        f"speed assumes dual-channel DDR5-5600 ({SYSTEM_RAM_BANDWIDTH / 1e9:g} GB/s)"
    )
    device = Device(ram, ram - reserve, READ_AS_SYSTEM_RAM, None, cpu=True)
    return Budget(original, (device,), ram, tuple(notes))


def _mac_budget(original: str, model: str, size_text: str) -> Budget:
    size = _SIZE.match(size_text)
    assert size is not None
    memory, _ = _size_bytes(size.group(1), size.group(2) or "gb", original)
    size_gb = memory // GIB
    chip = _mac_chip_for(size_gb, _MAC_TIERS.get(model))
    if chip is None:
        message = f"no Apple chip in our table comes with {size_gb}GB: name the chip, e.g. 'M4 Max 64GB'"
        raise BudgetParseError(original[:60], message)
    device = Device(memory, _usable(chip, memory), READ_AS_GPU, chip)
    note = (
        f"'{original.strip()[:40]}' assumed to be an {chip.name} with {size_gb} GB, the newest chip sold "
        f"with that size ({chip.bandwidth_gb_per_s:g} GB/s); name the chip for its exact speed"
    )
    return Budget(original, (device,), None, (note, *_device_notes(device, f"{chip.key} {size_gb}gb")))


def _mac_chip_for(size_gb: int, tiers: tuple[str, ...] | None) -> GpuSpec | None:
    """The newest Apple chip sold with ``size_gb``; of several, the slowest, so speed is not overstated."""
    for generation in ("m4", "m3", "m2", "m1"):
        rows = [
            g
            for g in GPU_TABLE
            if g.vendor == "apple"
            and (g.key == generation or g.key.startswith(generation + "-"))
            and size_gb in g.memory_options_gb
            and (tiers is None or _apple_tier(g.key) in tiers)
        ]
        if rows:
            return min(rows, key=lambda g: g.bandwidth_gb_per_s)
    return None


def _apple_tier(key: str) -> str:
    parts = key.split("-")
    return parts[1] if len(parts) > 1 else ""


def _device_notes(device: Device, typed: str) -> tuple[str, ...]:
    """Say what reading ``typed`` assumed: a memory size, a card variant, the GPU's share of memory."""
    gpu = device.gpu
    if gpu is None:
        return ()
    notes = []
    sized = re.search(r"\d+\s*(?:gb|gib|g)\b", typed) is not None
    if gpu.unified and not sized and len(gpu.memory_options_gb) > 1:
        notes.append(
            f"{gpu.name}: {gpu.memory_gb} GB assumed "
            f"(sold with {', '.join(str(s) for s in gpu.memory_options_gb)} GB); "
            f"add the size, e.g. '{typed.strip()} {min(gpu.memory_options_gb)}GB'"
        )
    base = re.sub(r"-\d+gb$", "", gpu.key)
    siblings = (
        g for g in GPU_TABLE if g is not gpu and not g.unified and re.sub(r"-\d+gb$", "", g.key) == base
    )
    others = sorted({g.memory_gb for g in siblings})
    if not gpu.unified and not sized and others:
        notes.append(
            f"'{typed.strip()}' assumed to be the {gpu.memory_gb} GB card; "
            f"write '{typed.strip()} {others[-1]}GB' for the other"
        )
    if re.search(r"\bcolab\b", typed) and "t4" not in typed:
        notes.append("Colab assumed to be its free tier's NVIDIA T4 (16 GB)")
    if gpu.unified:
        share = device.usable_bytes / device.memory_bytes
        if gpu.vendor == "apple":
            why = "macOS's default GPU limit; sudo sysctl iogpu.wired_limit_mb raises it"
        elif gpu.share_assumed:
            why = f"assumed: the vendor documents no fixed share, {gpu.share_source}"
        else:
            why = f"vendor documentation: {gpu.share_source}"
        used, total = device.usable_bytes / GIB, device.memory_bytes / GIB
        notes.append(f"the GPU may use {used:g} of {total:g} GiB ({share:.0%}, {why})")
    return tuple(notes)


_FILLER = re.compile(r"\b(?:of\s+)?(?:vram|gpu\s+memory|video\s+memory)\b")
_MAC_MODELS = re.compile(r"\b(?:apple\s+)?(?:macbook\s+(?:pro|air)|mac\s+(?:studio|mini|pro)|imac)\b")
_WORD_COUNTS = re.compile(r"\b(dual|two|triple|three|quad|four)\s+")


def _normalise_phrasing(text: str) -> str:
    """Read how people write budgets: "24GB VRAM", "dual 3090", "MacBook Pro M3 Max 128GB"."""
    text = _FILLER.sub(" ", text)
    text = _MAC_MODELS.sub(" ", text)
    counts = {"dual": "2", "two": "2", "triple": "3", "three": "3", "quad": "4", "four": "4"}
    text = _WORD_COUNTS.sub(lambda m: counts[m.group(1)] + "x", text)
    return " ".join(text.split())


def _split_ram(cleaned: str, original: str) -> tuple[str, int | None]:
    match = _RAM.search(cleaned)
    if not match:
        return cleaned, None
    number = match.group(1) or match.group(3)
    unit = match.group(2) or match.group(4) or "gb"
    ram, _ = _size_bytes(number, unit, original)
    rest = (cleaned[: match.start()] + " " + cleaned[match.end() :]).strip(" +,&")
    return rest, ram


def _shared_unit(parts: list[str]) -> str | None:
    """In "24+12GB" the unit written once applies to every bare number."""
    units = {m.group(2) for p in parts if (m := _SIZE.match(_split_count(p)[1])) and m.group(2)}
    return units.pop() if len(units) == 1 else None


def _split_count(part: str) -> tuple[int, str]:
    if re.fullmatch(r"\d+x\d{3,4}s|\d{3,4}s", part):  # "2x3090s", "3090s": a plural, not seconds
        part = part[:-1]
    for pattern, count_group, item_group in ((_COUNT_PREFIX, 1, 2), (_COUNT_SUFFIX, 2, 1)):
        match = pattern.match(part)
        if match and not _SIZE.match(part):
            count = int(match.group(count_group))
            if 1 <= count <= _MAX_DEVICES:
                return count, match.group(item_group).strip()
    return 1, part


def _parse_item(item: str, shared_unit: str | None, original: str) -> Device:
    size = _SIZE.match(item)
    if size and not size.group(2) and (gpu := find_gpu(item)):  # "4090" is a card, not 4090 GB
        return Device(gpu.memory_gb * GIB, _usable(gpu, gpu.memory_gb * GIB), READ_AS_GPU, gpu)
    if size:
        unit = size.group(2) or shared_unit
        memory, read_as = _size_bytes(size.group(1), unit, original)
        return Device(memory, memory, read_as)
    return _gpu_device(item, original)


def _size_bytes(number: str, unit: str | None, original: str) -> tuple[int, str]:
    value = float(number)
    if unit is None:
        if value <= _MAX_BARE_GB:
            unit = "gb"
        elif value >= _MIN_BARE_BYTES and value.is_integer():
            unit = "b"
        else:
            raise BudgetParseError(
                original[:60],
                f"'{number}' is ambiguous: write {number}GB or {number}MiB, or a GPU name such as RTX 3090",
            )
    scale, read_as = {
        "tib": (TIB, READ_AS_GIB),
        "tb": (TIB, READ_AS_VENDOR_GB),
        "t": (TIB, READ_AS_VENDOR_GB),
        "gib": (GIB, READ_AS_GIB),
        "gb": (GIB, READ_AS_VENDOR_GB),
        "g": (GIB, READ_AS_VENDOR_GB),
        "mib": (MIB, READ_AS_MIB),
        "mb": (MIB, READ_AS_MIB),
        "m": (MIB, READ_AS_MIB),
        "bytes": (1, READ_AS_BYTES),
        "byte": (1, READ_AS_BYTES),
        "b": (1, READ_AS_BYTES),
    }[unit]
    size = int(value * scale)
    if size < 64 * MIB or size > 64 * TIB:  # "32b" is a model size, not a 32-byte budget
        raise BudgetParseError(original[:60], f"'{original[:60]}' is not a plausible memory size")
    return size, read_as


def _gpu_device(item: str, original: str) -> Device:
    name, size_gb = _strip_size(item)
    gpu = find_gpu(f"{name} {size_gb}gb" if size_gb else name) or find_gpu(name)
    if gpu is None:
        if re.match(r"^[-+]?\d", item):  # "24 gigs", "-5GB": a size gone wrong, not a GPU
            raise BudgetParseError(original[:60])
        raise UnknownGpuError(item[:60], suggest_gpus(name))
    if size_gb is not None and size_gb != gpu.memory_gb:
        # Apple sells some sizes only with a binned chip ("M3 Max 96GB" is the 30-core GPU).
        for variant in (gpu, *(g for g in GPU_TABLE if g.key.startswith(gpu.key + "-"))):
            if variant.unified and size_gb in variant.memory_options_gb:
                memory = size_gb * GIB
                return Device(memory, _usable(variant, memory), READ_AS_GPU, variant)
        sizes = sorted(
            {
                s
                for g in GPU_TABLE
                if g.key == gpu.key or g.key.startswith(gpu.key + "-")
                for s in (g.memory_options_gb or (g.memory_gb,))
            }
        )
        raise BudgetParseError(
            original[:60],
            f"{gpu.name} comes with {' or '.join(f'{s}GB' for s in sizes)}, not {size_gb}GB",
        )
    memory = gpu.memory_gb * GIB
    return Device(memory, _usable(gpu, memory), READ_AS_GPU, gpu)


def _strip_size(item: str) -> tuple[str, int | None]:
    match = re.search(r"\s*(\d+)\s*(?:gb|gib|g)\b", item)
    if not match or not re.sub(r"\d+\s*(?:gb|gib|g)\b", "", item).strip():
        return item, None
    return (item[: match.start()] + item[match.end() :]).strip(), int(match.group(1))


def _usable(gpu: GpuSpec, memory: int) -> int:
    if gpu.gpu_share is not None:
        num, den = gpu.gpu_share
        return memory * num // den
    if not gpu.unified or gpu.vendor != "apple":
        return memory
    num, den = _APPLE_LARGE_FRACTION if memory > 36 * GIB else _APPLE_SMALL_FRACTION
    return memory * num // den


def _normalise(name: str) -> str:
    name = _NOISE.sub(" ", name.lower())
    return " ".join(name.replace("-", " ").split())


_ALIASES: dict[str, GpuSpec] = {}
for _gpu in GPU_TABLE:
    for _alias in (*_gpu.aliases, _gpu.key.replace("-", " "), _gpu.name.lower()):
        _ALIASES.setdefault(_normalise(_alias), _gpu)
        _ALIASES.setdefault(_normalise(_alias).replace(" ", ""), _gpu)


def find_gpu(text: str) -> GpuSpec | None:
    """The GPU a name refers to ("4090", "RTX 3090 Ti", "m3 max"), or None."""
    key = _normalise(text)
    for candidate in (key, key.replace(" ", ""), re.sub(r"^(rtx|gtx|rx)\s*", "", key)):
        if candidate in _ALIASES:
            return _ALIASES[candidate]
    return None


def suggest_gpus(text: str, limit: int = 3) -> tuple[str, ...]:
    """Names of the GPUs closest to ``text``, for "did you mean" messages."""
    matches = difflib.get_close_matches(_normalise(text), list(_ALIASES), n=limit * 4, cutoff=0.5)
    names = dict.fromkeys(_ALIASES[m].name.removeprefix("NVIDIA ").removeprefix("AMD ") for m in matches)
    return tuple(names)[:limit]


def assumed_speed_gpu(device: Device) -> GpuSpec | None:
    """For a bare size ("24GB"), the slowest consumer card of exactly that size: the speed it implies.

    Picking the slowest never overstates a decode estimate; None when no card has that size.
    """
    if device.gpu is not None or device.cpu:
        return None
    same = [g for g in GPU_TABLE if not g.unified and g.memory_gb * GIB == device.memory_bytes]
    consumer = [g for g in same if not g.datacenter] or same
    return min(consumer, key=lambda g: g.bandwidth_gb_per_s) if consumer else None


def gpu_by_key(key: str) -> GpuSpec | None:
    """The table row with this key."""
    return next((g for g in GPU_TABLE if g.key == key), None)
