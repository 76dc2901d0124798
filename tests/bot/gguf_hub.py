"""A Hub stand-in holding GGUF repos of real catalog models, written by llama.cpp's ``GGUFWriter``.

The files are tiny, but they name the catalog's Qwen models as their base model, so every query
form of issue 15 (repo id, base name plus quant, file name, Ollama tag) can be tried as a user
would type it. Their parameter counts differ from the base models' on purpose: the answer must say so.
"""

from __future__ import annotations

from functools import lru_cache

from gguf import GGUFReader

from tests.crawler.gguf_corpus import _base_meta, _repo
from tests.crawler.hub_standin import StandInRepo
from tests.factories.gguf_files import dense_spec, gguf_bytes

QWEN25 = "Qwen/Qwen2.5-32B-Instruct"
QWEN3_MOE = "Qwen/Qwen3-30B-A3B"
BARTOWSKI = "bartowski/Qwen2.5-32B-Instruct-GGUF"
LMSTUDIO = "lmstudio-community/Qwen2.5-32B-Instruct-GGUF"
UNSLOTH = "unsloth/Qwen3-30B-A3B-GGUF"
Q4 = "Qwen2.5-32B-Instruct-Q4_K_M.gguf"
FILE_TYPES = {"Q4_K": 15, "Q5_K": 17, "Q8_0": 7, "Q6_K": 18}


def _file(base: str, quant: str) -> bytes:
    extra = {**_base_meta(base), "general.file_type": FILE_TYPES[quant]}
    return gguf_bytes(dense_spec(quant=quant, extra=extra))


@lru_cache(maxsize=1)
def qwen_gguf_repos() -> tuple[StandInRepo, ...]:
    """Two quantizers of Qwen2.5-32B-Instruct (bartowski the more downloaded) and unsloth's Qwen3 MoE."""
    return (
        _repo(BARTOWSKI, {Q4: _file(QWEN25, "Q4_K"), "Qwen2.5-32B-Instruct-Q8_0.gguf": _file(QWEN25, "Q8_0")},
              downloads=90_000, base=QWEN25),
        _repo(LMSTUDIO, {Q4: _file(QWEN25, "Q4_K")}, downloads=4_000, base=QWEN25),
        _repo(UNSLOTH, {"Qwen3-30B-A3B-UD-Q4_K_XL.gguf": _file(QWEN3_MOE, "Q4_K"),
                        "Qwen3-30B-A3B-Q5_K_M.gguf": _file(QWEN3_MOE, "Q5_K")},
              downloads=50_000, base=QWEN3_MOE),
    )


def tensor_data_bytes(repo_id: str, file: str, tmp_dir) -> int:
    """The file's tensor data bytes, as the ``gguf`` package's own reader counts them."""
    repo = next(r for r in qwen_gguf_repos() if r.repo_id == repo_id)
    path = tmp_dir / "check.gguf"
    path.write_bytes(repo.files[file].prefix)
    reader = GGUFReader(path)
    return sum(int(t.n_bytes) for t in reader.tensors)
