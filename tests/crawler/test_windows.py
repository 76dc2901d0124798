"""Header windows: the first ranged GET is sized so headers arrive whole, with few spare bytes.

The property test runs the real fetch path (``fetch_header_bytes`` + ``parse_header``) over
an in-process transport, with headers on both sides of every window boundary, and checks
the parameter count against the sum of the shapes' products (the factories' oracle).
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler import (
    Candidate,
    HubClient,
    HubConfig,
    fetch_header_bytes,
    parse_header,
    predict_shard_header_bytes,
    predict_single_header_bytes,
)
from tests.factories import (
    BUILDERS,
    DTYPE_BITS,
    FileImage,
    file_prefix,
    make_header,
    numel,
    replica,
    safetensors_image,
)

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


def _sharded_keys() -> list[str]:
    return [k for k in BUILDERS if k in ("llama-3.1-8b", "qwen2.5-32b-instruct", "mixtral-8x7b", "qwen3-30b-a3b",
                                         "gpt-oss-20b", "qwen1.5-moe-a2.7b", "gemma3-4b-multimodal",
                                         "mistral-consolidated")]


@pytest.mark.parametrize("key", _sharded_keys())
def test_shard_windows_cover_each_header_with_little_to_spare(key):
    """Predicted from the index's tensor names: never short (a second GET), at most 12% over."""
    rep = replica(key)
    names: dict[str, list[str]] = {}
    for tensor, shard in rep.index["weight_map"].items():
        names.setdefault(shard, []).append(tensor)
    shard_bytes = rep.index["metadata"]["total_size"] // len(names)
    for shard, tensors in names.items():
        actual = len(file_prefix(rep.files[shard]))
        window = predict_shard_header_bytes(tensors, shard_bytes)
        assert actual <= window <= max(1.12 * actual, actual + 512), (shard, actual, window)


def test_single_file_windows_aim_low_for_moe_and_close_for_dense():
    """Without an index the guess comes from config.json: close for dense and quantized
    models, and an MoE's large header costs a second GET rather than a 12× over-read."""
    for key in ("gptq-4bit", "awq-4bit", "llama-3.2-1b-tied", "granite-moe-1b", "tiny-llama4"):
        rep = replica(key)
        actual = len(file_prefix(rep.files["model.safetensors"]))
        assert 0.9 * actual <= predict_single_header_bytes(rep.config) <= 1.25 * actual, key
    olmoe = replica("olmoe-single-file")
    assert predict_single_header_bytes(olmoe.config) < len(file_prefix(olmoe.files["model.safetensors"]))
    assert predict_single_header_bytes(None) == 64 * 1024


class _Server:
    """Serves one FileImage over an in-process transport, honouring Range (or not)."""

    def __init__(self, image: FileImage, *, ranges: bool = True) -> None:
        self.image = image
        self.ranges = ranges
        self.requests: list[str | None] = []
        self.bytes_sent = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        wanted = request.headers.get("range")
        self.requests.append(wanted)
        match = _RANGE.fullmatch(wanted or "")
        if not self.ranges or not match:
            body = self.image.read(0, self.image.size)
            self.bytes_sent += len(body)
            return httpx2.Response(200, content=body)
        start, end = int(match[1]), min(int(match[2]), self.image.size - 1)
        body = self.image.read(start, end + 1)
        self.bytes_sent += len(body)
        return httpx2.Response(206, content=body, headers={"Content-Range": f"bytes {start}-{end}/{self.image.size}"})


async def _fetch(server: _Server, window: int):
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        hub = HubClient(HubConfig(endpoint="http://hub.invalid", read_strategy="ranged"), client)
        candidate = Candidate("org/model", "0" * 40, "test", ("model.safetensors",))
        return parse_header(await fetch_header_bytes(hub, candidate, "model.safetensors", window))


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=70)
_TENSOR = st.tuples(_NAME, st.sampled_from(sorted(DTYPE_BITS)), st.lists(st.integers(1, 20_000), max_size=3))


@settings(max_examples=40, deadline=None)
@given(st.lists(_TENSOR, min_size=1, max_size=40, unique_by=lambda t: t[0]), st.integers(-12, 12))
def test_any_header_on_either_side_of_the_window_is_read_whole_and_counted_exactly(tensors, delta):
    """One GET when the window covers the header, exactly one more when it does not; the
    parameter count is the sum of the shapes' products either way."""
    header = make_header([(name, dtype, tuple(shape)) for name, dtype, shape in tensors])
    image = safetensors_image(header)
    header_end = len(image.prefix)
    window = max(9, header_end + delta)
    server = _Server(image)
    parsed = asyncio.run(_fetch(server, window))
    assert sum(t.numel for t in parsed.tensors) == sum(numel(shape) for _, _, shape in tensors)
    assert len(server.requests) == (1 if window >= header_end else 2)
    assert server.bytes_sent <= max(window, header_end)


def test_a_server_that_ignores_range_is_read_only_as_far_as_needed():
    """A 200 with the whole file still works, and the crawler stops reading after the window."""
    header = make_header([("a.weight", "BF16", (4096, 4096))])  # 32 MiB of (zero) data behind it
    image = safetensors_image(header)
    server = _Server(image, ranges=False)
    parsed = asyncio.run(_fetch(server, 4096))
    assert [t.name for t in parsed.tensors] == ["a.weight"]
    assert server.requests == ["bytes=0-4095"]


def test_the_index_predicts_from_names_it_does_not_see_in_bytes():
    """The window depends on tensor names and shard size only (no config needed)."""
    names = [f"model.layers.{i}.mlp.up_proj.weight" for i in range(10)]
    assert predict_shard_header_bytes(names, 10**9) > predict_shard_header_bytes(names, 10**3)
    assert predict_shard_header_bytes(names + ["x" * 500], None) > predict_shard_header_bytes(names, None)
    assert json.dumps(names)  # names are plain text
