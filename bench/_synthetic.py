"""A synthetic Hub catalog for scale benchmarks: distinct repos with realistic names and sizes.

Names follow what the Hub holds: a base family from a lab ("Qwen/Qwen2.5-7B-Instruct"),
then fine-tunes, merges and re-uploads under thousands of user handles
("someuser42/Qwen2.5-7B-Instruct-abliterated-GGUF"). Each size maps to a plausible shape
(hidden size, layers, heads, FFN width) and the MoE families to their expert layouts, so the
accounting of every row comes from the real estimator. Vocabulary and context vary, so
configs differ; accounting is computed once per distinct config.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from estimator import ParamAccounting, account_from_config, parse_model_config
from store import ModelRecord
from store._records import HubFacts

# Dense shapes by nominal size in billions: hidden, layers, heads, kv heads, FFN width.
_DENSE = {
    0.5: (896, 24, 14, 2, 4864), 0.6: (1024, 28, 16, 8, 3072), 1: (2048, 16, 32, 8, 8192),
    1.5: (1536, 28, 12, 2, 8960), 1.7: (2048, 28, 16, 8, 6144), 2: (2304, 26, 8, 4, 9216),
    3: (3072, 28, 24, 8, 8192), 4: (2560, 36, 32, 8, 9728), 7: (3584, 28, 28, 4, 18944),
    8: (4096, 32, 32, 8, 14336), 9: (3584, 42, 16, 8, 14336), 12: (5120, 40, 32, 8, 14336),
    14: (5120, 48, 40, 8, 13824), 24: (5120, 40, 32, 8, 32768), 27: (5376, 62, 32, 16, 21504),
    32: (5120, 64, 40, 8, 27648), 70: (8192, 80, 64, 8, 28672), 72: (8192, 80, 64, 8, 29568),
    405: (16384, 126, 128, 8, 53248),
}
# MoE shapes by label: hidden, layers, heads, kv heads, expert FFN, experts, experts per token.
_MOE = {
    "8x7B": ("mixtral", 4096, 32, 32, 8, 14336, 8, 2),
    "8x22B": ("mixtral", 6144, 56, 48, 8, 16384, 8, 2),
    "30B-A3B": ("qwen3_moe", 2048, 48, 32, 4, 768, 128, 8),
    "235B-A22B": ("qwen3_moe", 4096, 94, 64, 4, 1536, 128, 8),
    "16B-A2B": ("qwen3_moe", 2048, 28, 16, 4, 1408, 64, 6),
    "57B-A14B": ("qwen3_moe", 3584, 28, 28, 4, 2560, 64, 8),
}
# (lab, family, sizes): sizes are dense billions or MoE labels.
FAMILIES: tuple[tuple[str, str, tuple[float | str, ...]], ...] = (
    ("meta-llama", "Llama-3.1", (8, 70, 405)), ("meta-llama", "Llama-3.2", (1, 3)),
    ("meta-llama", "Llama-3.3", (70,)), ("Qwen", "Qwen2.5", (0.5, 1.5, 3, 7, 14, 32, 72)),
    ("Qwen", "Qwen2.5-Coder", (1.5, 7, 14, 32)), ("Qwen", "Qwen3", (0.6, 1.7, 4, 8, 14, 32, "30B-A3B", "235B-A22B")),
    ("Qwen", "Qwen2", (1.5, 7, 72, "57B-A14B")), ("mistralai", "Mistral", (7,)),
    ("mistralai", "Mistral-Small", (24,)), ("mistralai", "Mistral-Nemo", (12,)),
    ("mistralai", "Mixtral", ("8x7B", "8x22B")), ("google", "gemma-2", (2, 9, 27)),
    ("google", "gemma-3", (1, 4, 12, 27)), ("microsoft", "Phi-3", (4, 14)), ("microsoft", "phi-4", (14,)),
    ("deepseek-ai", "DeepSeek-R1-Distill-Qwen", (1.5, 7, 14, 32)),
    ("deepseek-ai", "DeepSeek-R1-Distill-Llama", (8, 70)), ("deepseek-ai", "DeepSeek-Coder-V2-Lite", ("16B-A2B",)),
    ("allenai", "OLMo-2", (7, 32)), ("ibm-granite", "granite-3.3", (2, 8)), ("HuggingFaceTB", "SmolLM3", (3,)),
    ("NousResearch", "Hermes-3-Llama-3.1", (8, 70)), ("01-ai", "Yi-1.5", (9,)), ("tiiuae", "Falcon3", (7,)),
    ("internlm", "internlm3", (8,)), ("THUDM", "glm-4", (9,)), ("CohereForAI", "aya-expanse", (8, 32)),
)
QUANTIZERS = ("unsloth", "bartowski", "TheBloke", "mlx-community", "lmstudio-community", "QuantFactory",
              "mradermacher", "MaziyarPanahi", "RedHatAI", "nvidia")
_HANDLE_PARTS = ("neural", "deep", "open", "tiny", "llm", "ai", "lab", "dev", "byte", "quant", "merge", "data",
                 "alpha", "nova", "zen", "kai", "max", "sun", "moon", "wolf", "fox", "cat", "star", "core")
VARIANTS = ("", "-Instruct", "-it", "-Chat", "-Base", "-Instruct-GGUF", "-GGUF", "-AWQ", "-GPTQ-Int4", "-FP8",
            "-4bit", "-8bit", "-bnb-4bit", "-MLX", "-i1-GGUF", "-EXL2")
TUNES = ("", "", "", "-abliterated", "-uncensored", "-DPO", "-SFT", "-ORPO", "-merge", "-RP", "-Math", "-Coder",
         "-lora-merged", "-v2", "-v0.2", "-reasoning", "-distill", "-roleplay", "-function-calling")
_VOCABS = (32000, 32768, 128256, 151936, 152064, 256000)
_CONTEXTS = (8192, 32768, 40960, 131072)


@dataclass(frozen=True, slots=True)
class _Shape:
    kind: str  # model_type
    dims: tuple[int, ...]
    vocab: int
    context: int
    tied: bool


class SyntheticCatalog:
    """Deterministic synthetic models; accounting computed once per distinct shape."""

    def __init__(self, templates: dict[str, dict[str, object]], seed: int = 13) -> None:
        self._rng = random.Random(seed)
        self._templates = templates
        self._cache: dict[_Shape, tuple[object, ParamAccounting, str]] = {}
        self.dense = self.moe = 0

    def records(self, n: int, taken: set[str]) -> Iterator[ModelRecord]:
        """``n`` models whose lower-case repo ids are not in ``taken`` (which grows)."""
        made = 0
        while made < n:
            lab, family, sizes = self._rng.choice(FAMILIES)
            size = self._rng.choice(sizes)
            repo = self._name(lab, family, size)
            if repo.lower() in taken:
                continue
            taken.add(repo.lower())
            made += 1
            yield self._record(repo, size)

    def _name(self, lab: str, family: str, size: float | str) -> str:
        rng = self._rng
        label = size if isinstance(size, str) else f"{size:g}B"
        roll = rng.random()
        if roll < 0.01:
            org = lab
        elif roll < 0.25:
            org = rng.choice(QUANTIZERS)
        else:
            org = f"{rng.choice(_HANDLE_PARTS)}{rng.choice(_HANDLE_PARTS)}{rng.randrange(1000) or ''}"
        tail = f"-{rng.randrange(1, 10**4)}" if rng.random() < 0.3 else ""
        return f"{org}/{family}-{label}{rng.choice(TUNES)}{rng.choice(VARIANTS)}{tail}"

    def _record(self, repo: str, size: float | str) -> ModelRecord:
        rng = self._rng
        config, accounting, config_json = self._shape(size)
        downloads = int(10 ** (6.5 * rng.random() ** 3))
        roll = rng.random()
        status = "ok" if roll < 0.94 else "gated" if roll < 0.97 else "no_safetensors"
        usable = status != "no_safetensors"
        return ModelRecord(
            repo_id=repo,
            sha=f"{rng.getrandbits(160):040x}",
            provenance="header" if usable else "config",
            status=status,
            status_reason=None if usable else "no .safetensors files in the repo",
            config=config if usable else None,  # type: ignore[arg-type]
            accounting=accounting if usable else None,
            hub=HubFacts(author=repo.split("/")[0], downloads=downloads, likes=downloads // 200,
                         pipeline_tag="text-generation", library_name="transformers"),
            config_json=config_json if usable else None,
            popularity=math.log10(1 + downloads),
        )

    def _shape(self, size: float | str) -> tuple[object, ParamAccounting, str]:
        rng = self._rng
        if isinstance(size, str):
            kind, *dims = _MOE[size]
            self.moe += 1
        else:
            kind, dims = "llama", list(_DENSE[size])
            self.dense += 1
        small = isinstance(size, float | int) and size < 4
        shape = _Shape(str(kind), tuple(int(d) for d in dims), rng.choice(_VOCABS), rng.choice(_CONTEXTS),
                       small and rng.random() < 0.7)
        if shape not in self._cache:
            config = self._config(shape)
            parsed = parse_model_config(config)
            accounting = replace(account_from_config(config), provenance="header")
            accounting = replace(accounting, stored_bytes=accounting.total_params * 2)
            self._cache[shape] = (parsed, accounting, json.dumps(config, sort_keys=True))
        return self._cache[shape]

    def _config(self, shape: _Shape) -> dict[str, object]:
        config = copy.deepcopy(self._templates[shape.kind])
        d = shape.dims
        config.update(hidden_size=d[0], num_hidden_layers=d[1], num_attention_heads=d[2], num_key_value_heads=d[3],
                      vocab_size=shape.vocab, max_position_embeddings=shape.context, tie_word_embeddings=shape.tied)
        if shape.kind == "llama":
            config.update(intermediate_size=d[4], head_dim=d[0] // d[2])
        elif shape.kind == "mixtral":
            config.update(intermediate_size=d[4], num_local_experts=d[5], num_experts_per_tok=d[6])
        else:
            config.update(moe_intermediate_size=d[4], num_experts=d[5], num_experts_per_tok=d[6], max_window_layers=d[1])
        return config


def templates_from(records: tuple[ModelRecord, ...]) -> dict[str, dict[str, object]]:
    """One bundled config per architecture the generator varies (llama, mixtral, qwen3_moe)."""
    wanted = {"llama": "meta-llama/Llama-3.1-8B", "mixtral": "mistralai/Mixtral-8x7B-Instruct-v0.1",
              "qwen3_moe": "Qwen/Qwen3-30B-A3B"}
    by_id = {r.repo_id: r for r in records}
    return {kind: json.loads(by_id[repo].config_json or "{}") for kind, repo in wanted.items()}
