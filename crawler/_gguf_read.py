"""Reading a GGUF repo: one tree call for every file and its exact size, then each header by
HTTP ranges, and no tensor data.

The first model file is read in growing ranges (64 KiB doubling up to ``CHUNK_BYTES``; a
tokenizer of several MB takes a few, its fixed-width arrays are stepped over unread).
The other quantizations of the same model carry the same metadata and the same tensor names,
so the first file's header length, plus ``SIBLING_SLACK_BYTES``, sizes one request for each of
them; the parser then checks every byte of it as it would any header (a sibling whose header is
longer simply asks for the rest).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from estimator import (
    GgufHeader,
    GgufHeaderError,
    gguf_base_models,
    layout_gguf_weights,
    parse_gguf_facts,
    parse_gguf_header,
)
from store import GgufFileRecord, GgufRepoRecord

from ._gguf_files import MODEL, GgufFileGroup, group_gguf_files, parse_tree_entries
from ._http import Target
from ._hub import HubClient
from .errors import HubError, RepoGatedError, RepoNotFoundError

CHUNK_BYTES = 4 << 20
SIBLING_SLACK_BYTES = 16 * 1024  # file_type, imatrix keys and file names differ between quants
LATER_PART_FIRST_READ = 16 * 1024  # parts 2..n of a split file hold little metadata
MAX_TREE_BYTES = 16 * 2**20
MAX_TREE_PAGES = 100  # 100,000 files at 1,000 a page (huggingface_hub list_repo_tree); a looping cursor stops

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HeaderRead:
    """One parsed header and what reading it cost."""

    header: GgufHeader
    requests: int
    bytes_read: int


async def fetch_gguf_tree(hub: HubClient, repo_id: str, revision: str) -> tuple[tuple[str, int], ...]:
    """Every ``.gguf`` file of the repo at ``revision`` with its exact size: one API call.

    Raises:
        HubError: the listing failed for good.
    """
    tree = hub.api_url(f"models/{repo_id}/tree/{quote(revision, safe='')}")
    next_url: str | None = f"{tree}?recursive=true"
    entries: list[tuple[str, int]] = []
    pages = 0
    # The Hub pages a long tree (Link header with a cursor, as huggingface_hub's list_repo_tree
    # follows): a repo of many quantizations and split parts can hold more files than one page.
    while next_url is not None and pages < MAX_TREE_PAGES:
        payload, next_url = await hub.http.fetch_json_page(
            next_url, Target(repo_id, None, revision), max_bytes=MAX_TREE_BYTES
        )
        entries += parse_tree_entries(payload)
        pages += 1
    return tuple(sorted(entries))


async def fetch_gguf_header(
    hub: HubClient, repo_id: str, revision: str, path: str, size: int, *, first_read: int | None = None
) -> HeaderRead:
    """Read and parse the header of one GGUF file by ranged GETs.

    Raises:
        GgufHeaderError: the header is malformed or hostile, or the Hub's size disagrees.
        HubError: a request failed for good.
    """
    url = hub.resolve_url(repo_id, revision, path)
    target = Target(repo_id, path, revision)
    steps = parse_gguf_header(size, chunk_bytes=CHUNK_BYTES, first_read=first_read)
    requests = read = 0
    try:
        wanted = next(steps)
        while True:
            got = await hub.http.fetch_range(url, wanted.start, wanted.length, target)
            requests, read = requests + 1, read + len(got.content)
            if got.file_size is not None and got.file_size != size:
                raise GgufHeaderError(
                    f"the listing says {size:,} bytes, the file has {got.file_size:,}", filename=path
                )
            wanted = steps.send(got.content)
    except StopIteration as done:
        return HeaderRead(done.value, requests, read)
    except GgufHeaderError as e:
        raise GgufHeaderError(e.reason, filename=path) from None


async def read_gguf_repo(
    hub: HubClient, repo_id: str, sha: str | None, now: datetime, *, downloads: int | None = None
) -> GgufRepoRecord:
    """Read every GGUF file of a repo into records; a bad file fails alone, with its reason.

    Raises:
        HubError: the tree listing or a request failed for good (the whole repo is retried later).
    """
    revision = sha or "main"
    groups = group_gguf_files(await fetch_gguf_tree(hub, repo_id, revision))
    models = [g for g in groups if g.kind == MODEL]
    records: dict[str, GgufFileRecord] = {}
    learned: dict[int, int] = {}  # part number -> header length read from a sibling
    for group in models:  # the first file that parses teaches the header length
        records[group.name] = await _read_group(hub, repo_id, revision, group, learned)
        if records[group.name].status == "ok":
            break
    rest = [g for g in groups if g.name not in records]
    for record in await asyncio.gather(*(_read_group(hub, repo_id, revision, g, learned) for g in rest)):
        records[record.file] = record
    files = tuple(records[g.name] for g in groups)
    return GgufRepoRecord(repo_id, sha, "ok", None, now, downloads, files)


async def _read_group(
    hub: HubClient, repo_id: str, revision: str, group: GgufFileGroup, learned: dict[int, int]
) -> GgufFileRecord:
    base = GgufFileRecord(
        repo_id, group.name, group.quant, group.kind, group.size_bytes, group.split_count, "error"
    )
    if group.kind != MODEL:
        learned = {}  # a projector's header is nothing like the model files' headers
    if group.missing_parts:
        return dataclasses.replace(
            base, status_reason=f"{group.missing_parts} of its {group.split_count} parts are missing"
        )
    headers: list[GgufHeader] = []
    try:
        for number, (path, size) in enumerate(group.parts, start=1):
            known = learned.get(number)
            first = known + SIBLING_SLACK_BYTES if known else LATER_PART_FIRST_READ if number > 1 else None
            read = await fetch_gguf_header(hub, repo_id, revision, path, size, first_read=first)
            learned.setdefault(number, read.header.data_offset)
            headers.append(read.header)
        return _file_record(base, tuple(headers))
    except GgufHeaderError as e:
        return dataclasses.replace(base, status_reason=str(e))
    except (RepoNotFoundError, RepoGatedError):
        raise
    except HubError as e:
        return dataclasses.replace(base, status_reason=f"could not be read: {e}")


def _file_record(base: GgufFileRecord, headers: tuple[GgufHeader, ...]) -> GgufFileRecord:
    facts = parse_gguf_facts(headers)
    split_count = headers[0].get("split.count")
    if isinstance(split_count, int) and split_count != base.split_count:
        raise GgufHeaderError(f"split.count says {split_count} parts, the repo has {base.split_count}")
    tensors = tuple(t for h in headers for t in h.tensors)
    nextn = facts.nextn_predict_layers or 0
    layers = max(0, (facts.block_count or 0) - nextn)
    layout = layout_gguf_weights(
        tensors, layers, base.quant or facts.file_type or "gguf", skip_blocks_from=layers if nextn else None
    )
    base_models = gguf_base_models(headers[0])
    return dataclasses.replace(
        base,
        status="ok",
        tensor_bytes=facts.tensor_bytes,
        total_params=facts.total_params,
        header_bytes=headers[0].data_offset,
        base_model=base_models[0] if base_models else None,
        facts=facts,
        layout=layout,
    )
