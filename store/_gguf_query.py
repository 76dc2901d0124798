"""What a user typed that names a GGUF file: a base name plus a quant, a file name, or an Ollama tag.

Pure text work, for the bot's resolution to build on (issue 15 §4): the quant part is split off
first, so it can never steer the name match to another model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._db import Database
from ._files import (
    _FILE_COLUMNS,
    GgufFileRecord,
    _file_record,
    list_gguf_files_for_base,
)

# Quant forms as people type them: Q4_K_M, q4_k_m, q4km, Q4-K-M, IQ4_XS, iq4xs, Q8_0, q8, UD-Q4_K_XL.
_QUANT = re.compile(
    r"(?<![a-z0-9])(?P<ud>ud[-_]?)?(?:"
    r"(?P<iq>iq[1-4])[-_]?(?P<iqs>xxs|xs|nl|s|m)"
    r"|(?P<k>q[2-8])[-_]?k(?:[-_]?(?P<ks>xl|s|m|l))?"
    r"|(?P<leg>q[4-8])(?:[-_]?(?P<legs>[01]))?"
    r"|(?P<float>bf16|f16|f32|mxfp4(?:[-_]moe)?)"
    r")(?![a-z0-9])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class QuantQuery:
    """A query split into the model name and the quant it asks for (None: no quant named)."""

    name: str
    quant: str | None
    is_file_name: bool = False  # the user typed a .gguf file name


def parse_quant_query(text: str) -> QuantQuery:
    """Split "qwen2.5-32b Q4_K_M", "qwen2.5 32b q4km", "x-q4_k_m.gguf" or "qwen2.5:32b-instruct-q4_K_M"."""
    raw = text.strip()
    is_file = raw.lower().endswith(".gguf")
    body = raw[: -len(".gguf")] if is_file else raw
    body = re.sub(r"-\d{5}-of-\d{5}$", "", body)  # a split file's part number
    body = body.replace(":", " ")  # an Ollama tag: model:size-variant-quant
    matches = list(_QUANT.finditer(body))
    if not matches:
        return QuantQuery(raw, None, is_file)
    last = matches[-1]  # a quant is the last thing people type
    name = (body[: last.start()] + body[last.end() :]).strip(" -_.")
    return QuantQuery(re.sub(r"\s+", " ", name), _canonical(last), is_file)


def _canonical(m: re.Match[str]) -> str:
    prefix = "UD-" if m["ud"] else ""
    if m["iq"]:
        return f"{prefix}{m['iq'].upper()}_{m['iqs'].upper()}"
    if m["k"]:
        return f"{prefix}{m['k'].upper()}_K" + (f"_{m['ks'].upper()}" if m["ks"] else "")
    if m["leg"]:
        return f"{prefix}{m['leg'].upper()}_{m['legs'] or '0'}"
    return prefix + m["float"].upper().replace("-", "_")


async def list_gguf_files_for_quant(db: Database, base_model: str, quant: str) -> tuple[GgufFileRecord, ...]:
    """The files of ``base_model`` at exactly ``quant`` (case-blind), most downloaded repos first."""
    wanted = quant.upper()
    return tuple(
        f for f in await list_gguf_files_for_base(db, base_model) if (f.quant or "").upper() == wanted
    )


async def find_gguf_files_by_name(db: Database, file_name: str) -> tuple[GgufFileRecord, ...]:
    """Stored files whose name (without folder) is ``file_name``, case-blind; a split file by any part."""
    name = file_name.strip().rsplit("/", 1)[-1].lower()
    stem = re.sub(r"-\d{5}-of-\d{5}\.gguf$", "", name)
    rows = await db.fetchall(
        f"SELECT {_FILE_COLUMNS} FROM gguf_files WHERE lower(file) = ? OR lower(file) LIKE ? ESCAPE '\\' "
        "OR lower(file) LIKE ? ESCAPE '\\' ORDER BY repo_id, file",
        (name, "%/" + _escape(name), "%" + _escape(stem) + "-00001-of-%"),
    )
    return tuple(_file_record(r) for r in rows)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
