"""Reading a repo's counted checkpoint: config.json, the index and every header, and no more.

Two ways to get the headers of a sharded checkpoint:

* ranged reads: GET the index, then one ranged GET per shard sized from the index's
  tensor names (``_windows``), and a second GET only for the rest of a larger header.
  Cost: shards + 1 "resolvers" calls.
* the one-call endpoint ``/api/models/{id}/safetensors-metadata/{index}``: every shard
  header in one answer. Cost: one "api" call. It serves ``main`` only, and the API
  bucket is 6× smaller than the resolvers bucket (500 vs 3,000 calls per 5 minutes
  anonymously, 1,000 vs 5,000 with a token).

``choose_read_strategy`` compares what share of each bucket's window a repo would use:
the one call wins from about 5 shards up, and it is what saves the most where it
matters (163 requests become 1 for DeepSeek-V3). If the endpoint is missing (a mirror,
an older Hub) or refuses a repo, we fall back to ranged reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from estimator import (
    INDEX_FILE,
    MAX_SHAPE_RANK,
    SINGLE_FILE,
    ConfigError,
    HeaderParseError,
    ModelConfig,
    ParamAccounting,
    SafetensorsHeader,
    TensorInfo,
    account_from_tensors,
    parse_header_length,
    parse_header_object,
    parse_model_config,
    parse_safetensors_file,
    parse_safetensors_index,
    parse_tensor_entries,
)

from ._gc_pause import paused_gc
from ._http import Target
from ._hub import METADATA_API, RANGED, HubClient
from ._records import Candidate
from ._windows import predict_shard_header_bytes, predict_single_header_bytes
from .errors import HubRefusedError

CONFIG_FILE = "config.json"
SINGLE = "single"
MAX_CONFIG_BYTES = 8 * 2**20
MAX_INDEX_BYTES = 128 * 2**20  # DeepSeek-V3's index is 6.5 MB
MAX_METADATA_BYTES = 512 * 2**20  # every header of a repo, as JSON


@dataclass(frozen=True, slots=True)
class HeaderBytes:
    """The first bytes of a safetensors file, covering its whole header."""

    filename: str
    content: bytes
    file_size: int | None


@dataclass(frozen=True, slots=True)
class CheckpointRead:
    """What was read of one checkpoint: its tensors, or (the one-call answer, counted where it
    was parsed) their accounting."""

    config_raw: bytes | None
    tensors: tuple[TensorInfo, ...]
    files: tuple[str, ...]  # the counted files
    strategy: str  # SINGLE, RANGED or METADATA_API
    accounting: ParamAccounting | None = None


def choose_read_strategy(
    shard_count: int, *, forced: str, quotas: tuple[int, int], api_available: bool
) -> str:
    """RANGED or METADATA_API for a sharded checkpoint, by the share of each rate-limit
    window it would use: ranged reads cost shards + 1 resolver calls, the one call 1 API call."""
    if forced == RANGED or not api_available:
        return RANGED
    if forced == METADATA_API:
        return METADATA_API
    api_quota, resolve_quota = quotas
    return METADATA_API if (shard_count + 1) * api_quota > resolve_quota else RANGED


async def read_checkpoint(hub: HubClient, candidate: Candidate, counted: str) -> CheckpointRead:
    """Read config.json and every header of the counted checkpoint (``counted`` is the
    root ``model.safetensors`` or the index).

    Raises:
        HeaderParseError: a header or the index is malformed.
        HubError: a request failed for good.
    """
    has_config = CONFIG_FILE in (candidate.files or ())
    if counted == SINGLE_FILE:
        config_raw = await fetch_file(hub, candidate, CONFIG_FILE, MAX_CONFIG_BYTES) if has_config else None
        window = predict_single_header_bytes(_config_dict(config_raw))
        header = parse_header(await fetch_header_bytes(hub, candidate, SINGLE_FILE, window))
        return CheckpointRead(config_raw, header.tensors, (SINGLE_FILE,), SINGLE)
    assert counted == INDEX_FILE
    # config.json only matters for the accounting, so it travels with the index.
    config = fetch_file(hub, candidate, CONFIG_FILE, MAX_CONFIG_BYTES) if has_config else _nothing()
    config_raw, sharded = await gather_or_cancel(config, _read_sharded(hub, candidate))
    if isinstance(sharded, bytes):  # the one-call answer: parsed and counted together, maybe in the worker
        answer = await hub.parse_pool.run(len(sharded), count_sharded_answer, sharded, config_raw)
        if answer is not None:
            shards, accounting = answer
            return CheckpointRead(config_raw, (), shards, METADATA_API, accounting)
        sharded = await _read_sharded_ranged(hub, candidate)  # the answer was not JSON
    return CheckpointRead(config_raw, _join(sharded), tuple(h[0] for h in sharded), RANGED)


async def gather_or_cancel(*aws: Awaitable[Any]) -> list[Any]:
    """Like ``asyncio.gather``, but the first failure cancels the others (and is raised as
    itself, not wrapped in an ExceptionGroup as ``TaskGroup`` would)."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _nothing() -> None:
    return None


async def _read_sharded(hub: HubClient, candidate: Candidate) -> bytes | list[tuple[str, SafetensorsHeader]]:
    """The one-call answer's bytes, or every shard header read by ranged GETs."""
    shard_count = sum(1 for f in candidate.files or () if f.endswith(".safetensors") and "/" not in f)
    strategy = choose_read_strategy(
        shard_count,
        forced=hub.config.read_strategy,
        quotas=hub.quotas(),
        api_available=hub.metadata_api_available is not False,
    )
    body = await _read_via_metadata_api(hub, candidate) if strategy == METADATA_API else None
    return body if body is not None else await _read_sharded_ranged(hub, candidate)


async def _read_via_metadata_api(hub: HubClient, candidate: Candidate) -> bytes | None:
    """The one call's bytes, or None to fall back to ranged reads (endpoint missing, repo refused).
    They are parsed outside the probe lock, so the next repos' requests need not wait for it."""
    if hub.metadata_api_available is None:
        async with hub.metadata_api_probe:  # the first repos wait for one answer, not all ask
            return await _try_metadata_api(hub, candidate)
    return await _try_metadata_api(hub, candidate)


async def _try_metadata_api(hub: HubClient, candidate: Candidate) -> bytes | None:
    if hub.metadata_api_available is False:
        return None
    try:
        body = await fetch_sharded_metadata(hub, candidate)
    except HubRefusedError as e:
        if e.status == 404:  # no such endpoint here (a repo or file error has its own code)
            hub.metadata_api_available = False
        return None
    hub.metadata_api_available = True
    return body


async def _read_sharded_ranged(hub: HubClient, candidate: Candidate) -> list[tuple[str, SafetensorsHeader]]:
    index = parse_safetensors_index(await fetch_file(hub, candidate, INDEX_FILE, MAX_INDEX_BYTES))
    missing = [s for s in index.shards if s not in (candidate.files or ())]
    if missing:
        raise HeaderParseError(
            f"the index names shard {missing[0]} that the repo does not have", filename=INDEX_FILE
        )
    names: dict[str, list[str]] = {}
    for tensor, shard in index.weight_map:
        names.setdefault(shard, []).append(tensor)
    shard_bytes = index.total_size_bytes // len(names) if index.total_size_bytes else None
    windows = {shard: predict_shard_header_bytes(tensors, shard_bytes) for shard, tensors in names.items()}
    return await gather_or_cancel(*(_fetch_and_parse(hub, candidate, s, w) for s, w in windows.items()))


async def _fetch_and_parse(
    hub: HubClient, candidate: Candidate, shard: str, window: int
) -> tuple[str, SafetensorsHeader]:
    # Each shard is parsed as soon as it arrives, while the others are still on the wire.
    return shard, parse_header(await fetch_header_bytes(hub, candidate, shard, window))


async def fetch_file(hub: HubClient, candidate: Candidate, filename: str, max_bytes: int) -> bytes:
    """GET a whole small file of the repo at the listed commit."""
    revision = candidate.sha or "main"
    url = hub.resolve_url(candidate.repo_id, revision, filename)
    return await hub.http.fetch_bytes(url, Target(candidate.repo_id, filename, revision), max_bytes=max_bytes)


async def fetch_header_bytes(hub: HubClient, candidate: Candidate, filename: str, window: int) -> HeaderBytes:
    """One ranged GET of ``window`` bytes, and a second for the rest of a larger header.

    Raises:
        HeaderParseError: the declared header length is absurd or runs past the file.
        HubError: a request failed for good.
    """
    revision = candidate.sha or "main"
    url = hub.resolve_url(candidate.repo_id, revision, filename)
    target = Target(candidate.repo_id, filename, revision)
    first = await hub.http.fetch_range(url, 0, window, target)
    needed = 8 + parse_header_length(first.content, filename=filename)
    if first.file_size is not None and needed > first.file_size:
        raise HeaderParseError(
            f"header is truncated: it declares {needed - 8:,} bytes"
            f" but the file holds {first.file_size - 8:,}",
            filename=filename,
        )
    if len(first.content) >= needed:
        return HeaderBytes(filename, first.content[:needed], first.file_size)
    rest = await hub.http.fetch_range(url, len(first.content), needed - len(first.content), target)
    return HeaderBytes(filename, first.content + rest.content, first.file_size or rest.file_size)


async def fetch_sharded_metadata(hub: HubClient, candidate: Candidate) -> bytes:
    """Every shard header in one API call (``main`` only), as the answer's bytes."""
    url = hub.api_url(f"models/{candidate.repo_id}/safetensors-metadata/{INDEX_FILE}")
    target = Target(candidate.repo_id, INDEX_FILE, "main")
    return await hub.http.fetch_bytes(url, target, max_bytes=MAX_METADATA_BYTES)


# safetensors' own limits on a count (u64 below 2**63) and a shape's rank, checked while
# msgspec decodes, so the estimator need not look at each number again (counts_checked).
_Count = Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]
_Shape = Annotated[tuple[_Count, ...], msgspec.Meta(max_length=MAX_SHAPE_RANK)]


class _TensorEntry(msgspec.Struct, gc=False):  # holds no cycles: the collector need not track it
    """A header's tensor entry as msgspec decodes it (``__metadata__`` decodes to all None)."""

    dtype: str | None = None
    shape: _Shape | None = None  # tuples, as TensorInfo keeps them: no copy per tensor
    data_offsets: tuple[_Count, _Count] | None = None


class _MetadataAnswer(msgspec.Struct):
    headers: dict[str, dict[str, _TensorEntry]]


_DECODE_ANSWER = msgspec.json.Decoder(_MetadataAnswer)


def decode_sharded_metadata(body: bytes) -> list[tuple[str, SafetensorsHeader]] | None:
    """Parse the one-call answer's bytes; None if it is not JSON (the caller reads the shards).

    DeepSeek-V3's answer is 11.5 MB of 92,000 tensor entries. msgspec decodes it straight into
    typed entries, about twice as fast as ``json.loads`` into dicts and then checking each
    (bench.crawler_scale); an answer of any other shape takes the dict path, which names what
    is wrong with it.

    Raises:
        HeaderParseError: a header is malformed.
    """
    with paused_gc():
        try:
            answer = _DECODE_ANSWER.decode(body)
        except msgspec.ValidationError:
            return parse_sharded_metadata(msgspec.json.decode(body))
        except msgspec.DecodeError:
            return None
        if not answer.headers:
            raise HeaderParseError(
                "the safetensors-metadata answer holds no shard headers", filename=INDEX_FILE
            )
        return [
            (shard, parse_tensor_entries(header.items(), filename=shard, counts_checked=True))
            for shard, header in answer.headers.items()
        ]


def count_sharded_answer(
    body: bytes, config_raw: bytes | None
) -> tuple[tuple[str, ...], ParamAccounting] | None:
    """The one-call answer's shard names and the accounting of its tensors under the repo's
    config.json; None if the answer is not JSON. Runs in the parse worker for big answers, so
    only the (small) accounting travels back, not 92,000 tensors.

    Raises:
        HeaderParseError: a header is malformed.
    """
    # The collector stays paused until the 92,000 tensors are freed: freed by reference counting,
    # none of them is walked by a collection (re-enabling it in between cost ~0.1 s; bench.crawler_scale).
    with paused_gc():
        headers = decode_sharded_metadata(body)
        if headers is None:
            return None
        shards = tuple(h[0] for h in headers)
        accounting = account_from_tensors(_join(headers), parse_config(config_raw)[1])
        del headers
    return shards, accounting


def parse_config(raw: bytes | None) -> tuple[str | None, ModelConfig | None, str | None]:
    """(normalised JSON text, parsed config, problem) of a config.json; never raises.

    The text is kept only when the config parses: the store re-parses what it keeps."""
    if raw is None:
        return None, None, "the repo has no config.json"
    try:
        value = json.loads(raw)
    except ValueError:
        return None, None, "config.json is not JSON"
    if not isinstance(value, Mapping):
        return None, None, "config.json is not a JSON object"
    text = json.dumps(value, sort_keys=True)
    try:
        return text, parse_model_config(value), None
    except ConfigError as e:
        return None, None, e.reason


def parse_header(header: HeaderBytes) -> SafetensorsHeader:
    """Parse fetched header bytes with the estimator (file size checks the offsets).

    Raises:
        HeaderParseError: see ``estimator.parse_safetensors_file``.
    """
    return parse_safetensors_file(header.content, file_size=header.file_size, filename=header.filename)


def parse_sharded_metadata(payload: object) -> list[tuple[str, SafetensorsHeader]]:
    """Parse the one-call endpoint's answer: ``{"index": {...}, "headers": {shard: header}}``.

    Raises:
        HeaderParseError: the answer lacks headers, or one of them is malformed.
    """
    headers = payload.get("headers") if isinstance(payload, dict) else None
    if not isinstance(headers, dict) or not headers:
        raise HeaderParseError("the safetensors-metadata answer holds no shard headers", filename=INDEX_FILE)
    return [
        (str(shard), parse_header_object(header, filename=str(shard))) for shard, header in headers.items()
    ]


def _join(headers: list[tuple[str, SafetensorsHeader]]) -> tuple[TensorInfo, ...]:
    return tuple(tensor for _, header in headers for tensor in header.tensors)


def _config_dict(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
