"""What one GGUF file states about itself: exact weights by placement, parameters, and the
metadata the KV cache and recurrent state depend on.

Pure: parsed headers in, frozen records out. Key names come from llama.cpp's ``gguf.Keys``.
A split file's parts are one file: their tensors are joined and the first part's metadata
speaks for all (``gguf-split`` writes the full metadata into part 1 only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._ggml_constants import Keys, LlamaFileType
from ._gguf_header import GgufHeader, GgufTensorInfo, MetadataValue
from ._weights import WeightLayout

_BLOCK = re.compile(r"^blk\.(\d+)\.")
_HF_URL = re.compile(r"^https?://(?:www\.)?huggingface\.co/(?P<repo>[^/\s]+/[^/\s?#]+)")


@dataclass(frozen=True, slots=True)
class GgufFacts:
    """A GGUF file's exact sizes and the metadata a memory model needs (None: not stated)."""

    arch: str | None
    file_type: str | None  # llama.cpp's general.file_type, e.g. "MOSTLY_Q4_K_M"
    tensor_bytes: int  # sum of the tensors' data: exactly the weights llama.cpp loads
    total_params: int  # from the tensor shapes
    block_count: int | None
    context_length: int | None
    embedding_length: int | None
    head_count: tuple[int, ...]  # per layer when the file gives an array, else one value
    head_count_kv: tuple[int, ...]
    key_length: int | None
    value_length: int | None
    key_length_mla: int | None
    value_length_mla: int | None
    kv_lora_rank: int | None
    sliding_window: int | None
    sliding_window_pattern: tuple[int, ...]
    ssm_state_size: int | None
    ssm_conv_kernel: int | None
    ssm_inner_size: int | None
    ssm_group_count: int | None
    nextn_predict_layers: int | None
    expert_count: int | None
    expert_used_count: int | None
    base_models: tuple[str, ...]  # Hub repo ids from general.base_model.*
    vocab_size: int | None = None  # rows of token_embd
    tied_embeddings: bool = False  # no output.weight: llama.cpp reuses token_embd as the head
    rope_dimension_count: int | None = None
    q_lora_rank: int | None = None


def join_split_headers(headers: tuple[GgufHeader, ...]) -> tuple[tuple[GgufTensorInfo, ...], GgufHeader]:
    """Every tensor of a split file's parts, and the part whose metadata speaks for the file."""
    tensors = tuple(t for h in headers for t in h.tensors)
    return tensors, headers[0]


def parse_gguf_facts(headers: tuple[GgufHeader, ...]) -> GgufFacts:
    """The facts of one GGUF file (all parts of a split file, in order)."""
    tensors, head = join_split_headers(headers)
    arch = _str(head.get(Keys.General.ARCHITECTURE))
    a = arch or ""

    def key(template: str) -> MetadataValue | None:
        return head.get(template.format(arch=a))

    return GgufFacts(
        arch=arch,
        file_type=_file_type(head.get(Keys.General.FILE_TYPE)),
        tensor_bytes=sum(t.size_bytes for t in tensors),
        total_params=sum(t.numel for t in tensors),
        block_count=_int(key(Keys.LLM.BLOCK_COUNT)),
        context_length=_int(key(Keys.LLM.CONTEXT_LENGTH)),
        embedding_length=_int(key(Keys.LLM.EMBEDDING_LENGTH)),
        head_count=_ints(key(Keys.Attention.HEAD_COUNT)),
        head_count_kv=_ints(key(Keys.Attention.HEAD_COUNT_KV)),
        key_length=_int(key(Keys.Attention.KEY_LENGTH)),
        value_length=_int(key(Keys.Attention.VALUE_LENGTH)),
        key_length_mla=_int(key(Keys.Attention.KEY_LENGTH_MLA)),
        value_length_mla=_int(key(Keys.Attention.VALUE_LENGTH_MLA)),
        kv_lora_rank=_int(key(Keys.Attention.KV_LORA_RANK)),
        sliding_window=_int(key(Keys.Attention.SLIDING_WINDOW)),
        sliding_window_pattern=_ints(key(Keys.Attention.SLIDING_WINDOW_PATTERN)),
        ssm_state_size=_int(key(Keys.SSM.STATE_SIZE)),
        ssm_conv_kernel=_int(key(Keys.SSM.CONV_KERNEL)),
        ssm_inner_size=_int(key(Keys.SSM.INNER_SIZE)),
        ssm_group_count=_int(key(Keys.SSM.GROUP_COUNT)),
        nextn_predict_layers=_int(key(Keys.LLM.NEXTN_PREDICT_LAYERS)),
        expert_count=_int(key(Keys.LLM.EXPERT_COUNT)),
        expert_used_count=_int(key(Keys.LLM.EXPERT_USED_COUNT)),
        base_models=gguf_base_models(head),
        vocab_size=next(
            (t.shape[1] for t in tensors if t.name == "token_embd.weight" and len(t.shape) > 1), None
        ),
        tied_embeddings=not any(t.name == "output.weight" for t in tensors),
        rope_dimension_count=_int(key(Keys.Rope.DIMENSION_COUNT)),
        q_lora_rank=_int(key(Keys.Attention.Q_LORA_RANK)),
    )


def gguf_base_models(header: GgufHeader) -> tuple[str, ...]:
    """Hub repo ids of ``general.base_model.N.repo_url`` (or organization/name when no URL)."""
    count = _int(header.get(Keys.General.BASE_MODEL_COUNT)) or 0
    found: list[str] = []
    for n in range(min(count, 64)):
        url = _str(header.get(Keys.General.BASE_MODEL_REPO_URL.format(id=n)))
        match = _HF_URL.match(url or "")
        if match:
            found.append(match["repo"])
            continue
        org = _str(header.get(Keys.General.BASE_MODEL_ORGANIZATION.format(id=n)))
        name = _str(header.get(Keys.General.BASE_MODEL_NAME.format(id=n)))
        if org and name:
            found.append(f"{org}/{name}".replace(" ", "-"))
    return tuple(dict.fromkeys(found))


def layout_gguf_weights(
    tensors: tuple[GgufTensorInfo, ...], num_layers: int, quant: str, *, skip_blocks_from: int | None = None
) -> WeightLayout:
    """Exact bytes by llama.cpp's placement: blocks for ``-ngl``, ``_exps`` for ``--n-cpu-moe``,
    ``token_embd`` on the host, ``output`` (or, when the file has none, a copy of ``token_embd``,
    which llama.cpp loads twice) with the last layer.

    Blocks from ``skip_blocks_from`` on (the ``nextn_predict_layers`` MTP blocks) are left out:
    llama.cpp creates them with ``TENSOR_SKIP`` and never loads them (src/llama-model.cpp, deepseek2).
    """
    per_layer = [0] * num_layers
    experts = [0] * num_layers
    embedding = output = other = 0
    for tensor in tensors:
        match = _BLOCK.match(tensor.name)
        if match and skip_blocks_from is not None and int(match[1]) >= skip_blocks_from:
            continue
        if match and int(match[1]) < num_layers:
            layer = int(match[1])
            per_layer[layer] += tensor.size_bytes
            if "_exps." in tensor.name:
                experts[layer] += tensor.size_bytes
        elif tensor.name == "token_embd.weight":
            embedding += tensor.size_bytes
        elif tensor.name == "output.weight":
            output += tensor.size_bytes
        else:
            other += tensor.size_bytes
    if not any(t.name == "output.weight" for t in tensors):
        output = embedding
    return WeightLayout(quant, tuple(per_layer), tuple(experts), embedding, output, other)


def _file_type(value: MetadataValue | None) -> str | None:
    number = _int(value)
    if number is None:
        return None
    try:
        return LlamaFileType(number).name
    except ValueError:
        return str(number)


def _int(value: MetadataValue | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _ints(value: MetadataValue | None) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return tuple(int(v) for v in value if isinstance(v, int))  # bool arrays (SWA patterns) as 0/1
    single = _int(value)
    return () if single is None else (single,)


def _str(value: MetadataValue | None) -> str | None:
    return value if isinstance(value, str) else None
