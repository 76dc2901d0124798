"""The stand-in's corpus: factory replicas (tests/factories) as Hub repos, plus malformed repos.

Expected counts come from the factory records (published figures where there are some),
never from the crawler or the estimator. The Hub's own ``safetensors`` figure is what the
real Hub reports for such files: raw element counts per dtype over the counted checkpoint
(packed quantization and scale tensors included), which our count must differ from where
storage is packed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from tests.factories import (
    BUILDERS,
    INDEX_FILE,
    SINGLE_FILE,
    FileImage,
    Replica,
    all_malformed,
    numel,
    replica,
)
from tests.factories.configs import small_dense_config
from tests.factories.headers import make_header, safetensors_image

from .hub_standin import StandInRepo, commit_sha

OK, GATED, NOT_FOUND, NO_SAFETENSORS, ERROR = "ok", "gated", "not_found", "no_safetensors", "error"
HEAVY = ("deepseek-v3",)  # 163 shards, ~92k tensors: only where a test needs it
# Repos a token with access is refused anyway (the fixture gated repo stays gated).
ALWAYS_REFUSED = ("gated",)
# Outside the crawl scope (library mlx): reachable only as explicit repos.
MLX = ("mlx-4bit", "mlx-4bit-legacy-config")


@dataclass(frozen=True)
class Expect:
    """What the crawl must end with for one repo."""

    repo_id: str
    status: str
    total: int | None = None
    active: int | None = None
    hub_total: int | None = None


def hub_safetensors(rep: Replica) -> dict | None:
    """The Hub's ``safetensors`` field: raw elements per dtype of the counted checkpoint."""
    per_dtype: Counter[str] = Counter()
    for _, dtype, shape in rep.tensors():
        per_dtype[dtype] += numel(shape)
    if not per_dtype:
        return None
    return {"parameters": dict(per_dtype), "total": sum(per_dtype.values())}


def reduced_config(config: dict | None) -> dict | None:
    """The reduced view of config.json that the Hub API returns (hf_hub#2571)."""
    if config is None:
        return None
    reduced = {k: config[k] for k in ("architectures", "model_type") if k in config}
    reduced["tokenizer_config"] = {"bos_token": "<s>", "eos_token": "</s>"}
    return reduced


def repo_from_replica(key: str, rep: Replica, *, downloads: int, revision: int = 0) -> StandInRepo:
    """A stand-in repo for a factory replica."""
    config = rep.config or {}
    vision = "vision_config" in config
    return StandInRepo(
        repo_id=rep.repo_id,
        sha=commit_sha(rep.repo_id, revision),
        files=rep.repo_files(),
        gated=rep.gated,
        pipeline_tag="image-text-to-text" if vision else "text-generation",
        library_name="mlx" if key in MLX else "transformers",
        downloads=downloads,
        likes=downloads // 100,
        trending_score=downloads % 97,
        safetensors=hub_safetensors(rep),
        api_config=reduced_config(rep.config),
        access_tokens=frozenset() if key in ALWAYS_REFUSED else None,
    )


def expect_for(key: str, rep: Replica) -> Expect:
    if not rep.exists:
        return Expect(rep.repo_id, NOT_FOUND)
    hub = hub_safetensors(rep)
    hub_total = hub["total"] if hub else None
    if key in ALWAYS_REFUSED:
        return Expect(rep.repo_id, GATED, hub_total=hub_total)
    if not rep.files:
        return Expect(rep.repo_id, NO_SAFETENSORS, rep.expected_total, rep.expected_active)
    return Expect(rep.repo_id, OK, rep.expected_total, rep.expected_active, hub_total)


def malformed_repos() -> list[tuple[StandInRepo, Expect]]:
    """One single-file repo per malformed class, and a sharded repo with one bad shard."""
    config = small_dense_config()
    raw_config = (json.dumps(config) + "\n").encode()
    out = []
    for case in all_malformed():
        repo_id = f"fitbot-malformed/{case.name.replace('_', '-')}"
        files = {
            "config.json": FileImage(raw_config, len(raw_config)),
            SINGLE_FILE: FileImage(case.content, case.file_size if case.file_size is not None else len(case.content)),
        }
        repo = StandInRepo(repo_id, commit_sha(repo_id), files, downloads=10, api_config=reduced_config(config))
        out.append((repo, Expect(repo_id, ERROR)))
    out.append(_sharded_with_bad_shard(config, raw_config))
    return out


def _sharded_with_bad_shard(config: dict, raw_config: bytes) -> tuple[StandInRepo, Expect]:
    good = make_header([("model.embed_tokens.weight", "BF16", (256, 64)), ("model.norm.weight", "BF16", (64,))])
    bad = next(c for c in all_malformed() if c.name == "overlapping_offsets")
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    index = {"metadata": {"total_size": 256 * 64 * 2 + 128 + 12},
             "weight_map": {"model.embed_tokens.weight": names[0], "model.norm.weight": names[0],
                            "a.weight": names[1], "b.weight": names[1]}}
    raw_index = (json.dumps(index, indent=2) + "\n").encode()
    repo_id = "fitbot-malformed/sharded-one-bad-shard"
    files = {"config.json": FileImage(raw_config, len(raw_config)), INDEX_FILE: FileImage(raw_index, len(raw_index)),
             names[0]: safetensors_image(good), names[1]: FileImage(bad.content, bad.file_size)}
    return StandInRepo(repo_id, commit_sha(repo_id), files, downloads=10), Expect(repo_id, ERROR)


@lru_cache(maxsize=4)
def corpus(*, heavy: bool = True, malformed: bool = True) -> tuple[tuple[StandInRepo, ...], tuple[Expect, ...], tuple[str, ...]]:
    """(repos the stand-in serves, what each must end as, repo ids to pin as explicit)."""
    repos: list[StandInRepo] = []
    expects: list[Expect] = []
    pinned: list[str] = []
    for rank, key in enumerate(BUILDERS):
        if key in HEAVY and not heavy:
            continue
        rep = replica(key)
        expects.append(expect_for(key, rep))
        if not rep.exists or not rep.files or key in MLX:
            pinned.append(rep.repo_id)  # not listable with safetensors in scope: name it
        if rep.exists:
            repos.append(repo_from_replica(key, rep, downloads=1_000_000 // (rank + 1)))
    if malformed:
        for repo, expect in malformed_repos():
            repos.append(repo)
            expects.append(expect)
    return tuple(repos), tuple(expects), tuple(pinned)


def sources_toml(pinned: tuple[str, ...], *, limit: int = 500) -> str:
    """A sources file that lists everything in the stand-in and pins the rest."""
    repos = ", ".join(json.dumps(r) for r in pinned)
    pinned_source = f"""
[[source]]
name = "pinned"
kind = "repos"
repos = [{repos}]
""" if pinned else ""
    return f"""
[scope]
pipelines = ["text-generation", "image-text-to-text"]
library = "transformers"

[[source]]
name = "downloads"
kind = "top"
sort = "downloads"
limit = {limit}
{pinned_source}"""


def small_repos(count: int, *, prefix: str = "fitbot-small") -> list[StandInRepo]:
    """``count`` tiny single-file repos (the throughput corpus); they share their files."""
    config = small_dense_config()
    rep = replica("gated")  # the same tiny Llama, served ungated under many names
    files = rep.repo_files()
    return [
        StandInRepo(f"{prefix}/tiny-{i:05d}", commit_sha(prefix, i), files, downloads=count - i,
                    safetensors=hub_safetensors(rep), api_config=reduced_config(config))
        for i in range(count)
    ]
