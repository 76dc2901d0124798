"""The hostile repos item 5 serves: ids, card data (tags), config values and tensor names
with markdown, mentions, zero-width and bidi characters, or 10 KB long.

Each repo keeps what it served, so the round trip through the crawler and SQLite can be
compared value for value, and the markers say what must never show up unescaped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.crawler.corpus import hub_safetensors, reduced_config
from tests.crawler.hub_standin import StandInRepo, commit_sha
from tests.factories import FileImage, make_header, numel, replica, safetensors_image
from tests.factories.configs import small_dense_config

MARKDOWN = "**PWN** __u__ ~~s~~ ||spoiler|| `code` [x](evil.invalid) # head > quote"
MENTIONS = "@everyone @here <@123456789012345678> <@&987654321098765432>"
INVISIBLE = "q\u200bw\u200ce\u200dn\u2060\ufeff\u202eright-to-left"
LONG_UNIT = "**PWN**<@1>A"
LONG = (LONG_UNIT * (10_240 // len(LONG_UNIT) + 1))[:10_240]  # 10 KB
# Pieces that must never appear as they are in an answer: markdown that would format,
# mentions that would ping, characters that hide or reorder text.
RAW_MARKERS = ("**PWN**", "~~s~~", "||spoiler||", "`code`", "[x](evil.invalid)", "@everyone", "@here",
               "<@123456789012345678>", "<@&987654321098765432>", "<@1>")
INVISIBLES = ("\u200c", "\u200d", "\u2060", "\ufeff", "\u202e")
LONGEST_RUN = 400  # characters of the 10 KB value an answer may show, at most


@dataclass(frozen=True)
class HostileRepo:
    """A repo as served, and what the crawl must store for it."""

    repo: StandInRepo
    config: dict | None  # config.json as served
    total: int | None  # parameters, when the headers can be read
    readable: bool = True  # False: the Hub (stand-in) cannot serve its files (the URL is too long)


def _tiny_files(config: dict, extra_tensors: list[tuple[str, str, tuple[int, ...]]] = ()) -> tuple[dict, int]:
    base = replica("gated")  # the tiny Llama, ungated under other names
    tensors = [*base.tensors(), *extra_tensors]
    raw = (json.dumps(config, ensure_ascii=False) + "\n").encode()
    files = {"config.json": FileImage(raw, len(raw)), "model.safetensors": safetensors_image(make_header(tensors))}
    return files, sum(numel(shape) for _, _, shape in tensors)


def _repo(repo_id: str, config: dict, *, tags: tuple[str, ...] = (), extra=(), downloads: int = 1000) -> HostileRepo:
    files, total = _tiny_files(config, list(extra))
    tensors = [*replica("gated").tensors(), *extra]
    safetensors = {"parameters": {"BF16": sum(numel(s) for _, _, s in tensors)}, "total": sum(numel(s) for _, _, s in tensors)}
    repo = StandInRepo(repo_id, commit_sha(repo_id), files, tags=tags, downloads=downloads,
                       safetensors=safetensors, api_config=reduced_config(config))
    return HostileRepo(repo, config, total, readable=len(repo_id) < 2000)


def hostile_repos() -> list[HostileRepo]:
    """Nine repos; every hostile class in ids, tags, config values and tensor names."""
    plain = small_dense_config()
    config = {**plain, "model_type": f"llama {MARKDOWN} {MENTIONS} {INVISIBLE}",
              "architectures": [MENTIONS, MARKDOWN], "_name_or_path": LONG, "torch_dtype": "bfloat16",
              "quantization_config": {"quant_method": f"{MARKDOWN} {LONG}", "bits": 16}}
    tensor_names = [(f"model.{MARKDOWN}.weight", "BF16", (4, 4)), (f"model.{MENTIONS}.bias", "BF16", (4,)),
                    (f"model.{INVISIBLE}.scale", "BF16", (2,)), (f"model.{LONG}.weight", "BF16", (8,))]
    return [
        _repo("hostile-md/PWN-**bold**-__u__-~~s~~-||spoiler||-`code`-[x](evil.invalid)", plain, downloads=900),
        _repo("hostile-mention/@everyone-<@123456789012345678>-<@&987654321098765432>-@here", plain, downloads=800),
        _repo("hostile-zw/qwen\u200b2.5\u200c-32b\u200d\u2060\ufeff\u202e-instruct", plain, downloads=700),
        _repo("hostile-space/qwen 2.5 32b instruct", plain, downloads=650),
        _repo(f"hostile-long/{LONG}", plain, downloads=600),
        _repo("**org**<@42>/config-values", config, tags=(MARKDOWN, MENTIONS, INVISIBLE, LONG), downloads=500),
        _repo("hostile-tensors/names", plain, extra=tensor_names, downloads=400),
        _repo(f"hostile-zw/{INVISIBLE}", {**plain, "model_type": INVISIBLE}, tags=(INVISIBLE,), downloads=300),
        _repo("hostile-long-config/values", {**plain, "model_type": LONG, "architectures": [LONG]},
              tags=(LONG,), downloads=200),
    ]


def served_tags(repo: StandInRepo) -> list[str]:
    """The tags the stand-in's listing shows for ``repo`` (what the crawler must keep)."""
    return sorted(repo.all_tags())


def hub_total(hostile: HostileRepo) -> int | None:
    return (hostile.repo.safetensors or hub_safetensors(replica("gated")))["total"]
