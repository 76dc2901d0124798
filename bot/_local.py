"""A checkpoint on this machine: a folder with config.json and safetensors files, or a
bare config.json.

The terminal accepts one wherever it takes a model name (``fitbot model PATH``,
``fitbot fit PATH BUDGET``). The files are read here, because estimator/ does no I/O,
and counted by the same estimator parsers as a crawled checkpoint: from the safetensors
headers when the folder has them (``model.safetensors`` or the index and its shards),
from config.json otherwise. Only the headers are read, never the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from estimator import (
    CONFIG,
    HEADER,
    INDEX_FILE,
    SINGLE_FILE,
    ConfigError,
    ParamAccounting,
    SafetensorsHeader,
    TensorInfo,
    account_from_config,
    account_from_tensors,
    parse_header_length,
    parse_model_config,
    parse_safetensors_file,
    parse_safetensors_index,
    select_checkpoint_files,
)
from store import STATUS_OK, ModelRecord

from .errors import LocalModelError

CONFIG_FILE = "config.json"
MAX_CONFIG_BYTES = 4 << 20  # the largest Hub config.json files are a few hundred KB
MAX_INDEX_BYTES = 64 << 20


def read_local_model(path: Path) -> ModelRecord:
    """The model a local folder or config.json holds, counted as the crawler would count it.

    Raises:
        LocalModelError: no config.json, or a file that cannot be read.
        HeaderParseError: a safetensors header or the index is malformed.
        ConfigError: config.json lacks what the counts need.
    """
    if path.is_file():
        return _from_config(path, _read_text(path, MAX_CONFIG_BYTES))
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise LocalModelError(f"{path} has no config.json: give the folder of a Hugging Face checkpoint")
    config_text = _read_text(config_path, MAX_CONFIG_BYTES)
    counted = select_checkpoint_files(p.name for p in path.iterdir() if p.is_file())
    if counted is None:
        return _from_config(path, config_text)
    if counted == INDEX_FILE:
        index = parse_safetensors_index(_read_bytes(path / INDEX_FILE, MAX_INDEX_BYTES))
        shards = index.shards
    else:
        shards = (SINGLE_FILE,)
    tensors: list[TensorInfo] = [t for shard in shards for t in read_header(path / shard).tensors]
    raw = _json_object(config_text, config_path)
    config = parse_model_config(raw)
    reason = f"read {len(shards)} safetensors header{'s' if len(shards) > 1 else ''} in {path}"
    return _record(
        path, HEADER, reason, json.dumps(raw, sort_keys=True), account_from_tensors(tensors, config)
    )


def read_header(file: Path) -> SafetensorsHeader:
    """The header of one local safetensors file (its first 8 + N bytes only).

    Raises:
        LocalModelError: the shard is missing or unreadable.
        HeaderParseError: the header is malformed.
    """
    try:
        size = file.stat().st_size
        with file.open("rb") as stream:
            prefix = stream.read(8)
            length = parse_header_length(prefix, filename=file.name)
            content = prefix + stream.read(length)
    except OSError as e:
        raise LocalModelError(f"cannot read {file}: {e.strerror or e}") from None
    return parse_safetensors_file(content, file_size=size, filename=file.name)


def _from_config(path: Path, config_text: str) -> ModelRecord:
    raw = _json_object(config_text, path)
    accounting = account_from_config(raw)
    reason = f"counted from {path if path.is_file() else path / CONFIG_FILE} (no safetensors headers read)"
    return _record(path, CONFIG, reason, json.dumps(raw, sort_keys=True), accounting)


def _record(
    path: Path, provenance: str, reason: str, config_json: str, accounting: ParamAccounting
) -> ModelRecord:
    config = parse_model_config(json.loads(config_json))
    return ModelRecord(
        repo_id=str(path),
        sha=None,
        provenance=provenance,
        status=STATUS_OK,
        status_reason=reason,
        config=config,
        accounting=accounting,
        config_json=config_json,
    )


def _json_object(text: str, path: Path) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise LocalModelError(f"{path} is not JSON ({e})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return value


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as e:
        raise LocalModelError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > limit:
        raise LocalModelError(f"{path} is larger than {limit >> 20} MiB: is it really a config or index?")
    return data


def _read_text(path: Path, limit: int) -> str:
    try:
        return _read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise LocalModelError(f"{path} is not UTF-8 text") from None
