"""Which ``.gguf`` files a repo holds, as users download them: split parts grouped, add-ons apart.

Pure: a tree listing in, file groups out. ``-00001-of-00003.gguf`` parts are one file
(llama.cpp's ``gguf-split`` naming); ``mmproj-*.gguf`` is a vision projector loaded next to
a model file, not a quantization of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MODEL = "model"
MMPROJ = "mmproj"
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")
# Quant labels as llama.cpp's quantize and the big quantizers spell them, longest first.
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(?P<quant>(?:UD-)?(?:IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K(?:_XL|_[SML])?|Q[4-8]_[01]"
    r"|TQ[12]_0|MXFP4(?:_MOE)?|BF16|F16|F32))(?![A-Za-z0-9])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GgufFileGroup:
    """One downloadable GGUF file: a single file, or every part of a split one."""

    name: str  # the single file, or the first part of a split one
    quant: str | None  # from the file name ("Q4_K_M", "UD-Q4_K_XL"); None when it names none
    kind: str  # MODEL or MMPROJ
    parts: tuple[tuple[str, int], ...]  # (path, exact size in bytes), in part order
    missing_parts: int = 0  # parts of a split file the listing lacks

    @property
    def size_bytes(self) -> int:
        return sum(size for _, size in self.parts)

    @property
    def split_count(self) -> int:
        return len(self.parts) + self.missing_parts


def parse_tree_entries(entries: object) -> tuple[tuple[str, int], ...]:
    """The ``(path, size)`` of every ``.gguf`` file in a tree listing (``/api/models/{id}/tree``).

    Sizes are the LFS object size when the Hub gives one (the file users download).
    """
    if not isinstance(entries, list):
        return ()
    found: list[tuple[str, int]] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "file":
            continue
        path = entry.get("path")
        lfs = entry.get("lfs")
        size = lfs.get("size") if isinstance(lfs, dict) else entry.get("size")
        if isinstance(path, str) and path.lower().endswith(".gguf") and isinstance(size, int) and size >= 0:
            found.append((path, size))
    return tuple(sorted(found))


def group_gguf_files(files: tuple[tuple[str, int], ...]) -> tuple[GgufFileGroup, ...]:
    """Group split parts into one file each and tell model files from projector add-ons."""
    singles: list[GgufFileGroup] = []
    splits: dict[tuple[str, int], dict[int, tuple[str, int]]] = {}
    for path, size in files:
        match = _SPLIT.match(path)
        if match is None:
            singles.append(GgufFileGroup(path, quant_from_name(path), _kind(path), ((path, size),)))
            continue
        key = (match["stem"], int(match["count"]))
        splits.setdefault(key, {})[int(match["no"])] = (path, size)
    for (stem, count), parts in splits.items():
        ordered = tuple(parts[n] for n in sorted(parts) if 1 <= n <= count)
        first = ordered[0][0]
        singles.append(
            GgufFileGroup(first, quant_from_name(stem), _kind(stem), ordered, count - len(ordered))
        )
    return tuple(sorted(singles, key=lambda g: g.name))


def quant_from_name(path: str) -> str | None:
    """The quantization a file name states, upper-cased ("q4_k_m" -> "Q4_K_M"); the last one wins."""
    base = path.rsplit("/", 1)[-1]
    found = [m["quant"] for m in _QUANT.finditer(base)]
    return found[-1].upper() if found else None


def _kind(path: str) -> str:
    return MMPROJ if path.rsplit("/", 1)[-1].lower().startswith("mmproj") else MODEL
