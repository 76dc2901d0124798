"""GGUF weight sizes: ggml block types and llama.cpp's per-tensor quantization mixes.

Bits per weight come from ggml block sizes in llama.cpp's own ``gguf`` package (gguf-py).
File types with _S/_M/_L suffixes mix base types per tensor role;
``gguf_tensor_type`` follows ``llama_tensor_get_type`` in llama.cpp ``src/llama-quant.cpp``
for non-Falcon models; IQ2/IQ3 files are assumed made with an importance matrix
(llama.cpp requires one for them), IQ4_XS without one.
With these rules Llama-3.1-8B Q4_K_M comes to 4,912,905,504 bytes, the published 4.58 GiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._ggml_constants import GGML_QUANT_SIZES, GGMLQuantizationType

QK_K = 256  # super-block size of the K-quants and IQ types


@dataclass(frozen=True, slots=True)
class GgmlType:
    name: str
    block_elements: int
    block_bytes: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.block_bytes / self.block_elements


# Every ggml tensor type with its block size, from llama.cpp's own gguf package (gguf-py), so a
# type llama.cpp adds reaches us with a package upgrade instead of a hand edit.
GGML_TYPES: dict[str, GgmlType] = {
    kind.name: GgmlType(kind.name, *GGML_QUANT_SIZES[kind])
    for kind in GGMLQuantizationType
    if kind in GGML_QUANT_SIZES
}


def ggml_type_name(type_id: int) -> str:
    """The name of ggml type number ``type_id`` ("Q4_K" for 12).

    Raises:
        ValueError: a number llama.cpp's gguf package does not define.
    """
    return GGMLQuantizationType(type_id).name


def ggml_tensor_bytes(type_name: str, numel: int) -> int:
    """Bytes of ``numel`` elements stored as ``type_name``; ``numel`` a multiple of its block.

    Raises:
        KeyError: an unknown type name.
        ValueError: ``numel`` is not a whole number of blocks.
    """
    ggml = GGML_TYPES[type_name]
    if numel % ggml.block_elements:
        raise ValueError(f"{numel} elements are not whole {type_name} blocks of {ggml.block_elements}")
    return numel // ggml.block_elements * ggml.block_bytes


# llama.cpp file type -> its default ("base") tensor type.
FILE_TYPES: dict[str, str] = {
    "F16": "F16",
    "BF16": "BF16",
    "Q8_0": "Q8_0",
    "Q6_K": "Q6_K",
    "Q5_K_M": "Q5_K",
    "Q5_K_S": "Q5_K",
    "Q4_K_M": "Q4_K",
    "Q4_K_S": "Q4_K",
    "Q4_0": "Q4_0",
    "Q3_K_L": "Q3_K",
    "Q3_K_M": "Q3_K",
    "Q3_K_S": "Q3_K",
    "Q2_K": "Q2_K",
    "IQ4_XS": "IQ4_XS",
    "IQ3_XXS": "IQ3_XXS",
    "IQ2_XXS": "IQ2_XXS",
    "MXFP4_MOE": "MXFP4",
}

# When a row is not a multiple of the block size, llama.cpp falls back to a type
# with 32-element blocks (``tensor_type_fallback``).
_FALLBACK = {
    "Q2_K": "Q4_0",
    "Q3_K": "Q4_0",
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
    "IQ2_XXS": "IQ4_NL",
    "IQ2_XS": "IQ4_NL",
    "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL",
    "IQ3_S": "IQ4_NL",
    "IQ4_XS": "IQ4_NL",
}
_ATTN_OUTPUT_Q5K_FOR_8_EXPERTS = frozenset(
    {"Q2_K", "Q3_K_S", "Q3_K_M", "Q4_K_S", "Q4_K_M", "IQ3_XXS", "IQ4_XS", "IQ2_XXS"}
)
_KEEP_F32 = frozenset({"norm", "bias", "ffn_gate_inp"})
_LOW_IQ = frozenset({"IQ2_XXS", "IQ3_XXS"})


@dataclass(frozen=True, slots=True)
class MixContext:
    """Model facts that llama.cpp's rules consult."""

    num_layers: int
    n_gqa: int  # attention heads per KV head
    n_expert: int
    llama_70b: bool = False  # llama.cpp's LLM_TYPE_70B (80 layers, GQA 8)


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's choice of layers that get more bits in _M mixes."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def gguf_tensor_type(file_type: str, role: str, index: int, count: int, ctx: MixContext) -> str:
    """The ggml type llama.cpp gives one tensor of ``role``, the ``index``-th of ``count``."""
    base = FILE_TYPES[file_type]
    if role in _KEEP_F32:
        return "F32"
    if file_type == "MXFP4_MOE":  # gpt-oss style: experts stay MXFP4, the rest Q8_0
        return base if role.endswith("_exps") else "Q8_0"
    if base in ("F16", "BF16"):  # the mixing rules run only for quantized file types
        return base
    if role == "output":
        if base == "Q8_0":
            return base
        return "Q5_K" if file_type in _LOW_IQ else "Q6_K"
    if role == "token_embd":
        return {"IQ2_XXS": "Q2_K", "IQ3_XXS": "IQ3_S"}.get(file_type, base)
    if role in ("attn_v", "attn_qkv"):
        return _attn_v_type(file_type, base, index, count, ctx)
    if role.startswith("ffn_down"):
        return _ffn_down_type(file_type, base, index, count, ctx)
    if role == "attn_output":
        return _attn_output_type(file_type, base, ctx)
    if role == "attn_k" and ctx.n_expert == 8:
        return "Q4_K" if file_type == "IQ2_XXS" else "Q8_0"
    if role in ("attn_k", "attn_q") and file_type == "IQ3_XXS":
        return "IQ2_S"
    return base


def _attn_v_type(file_type: str, base: str, index: int, count: int, ctx: MixContext) -> str:
    if file_type == "IQ2_XXS":
        return "Q4_K" if ctx.n_gqa >= 4 or ctx.n_expert >= 4 else "Q2_K"
    if ctx.n_expert == 8:
        return "Q8_0"  # "for the 8-expert model, bumping this to Q8_0 trades just ~128MB"
    chosen = {
        "Q2_K": "Q4_K" if ctx.n_gqa >= 4 else "Q3_K",
        "Q3_K_M": "Q5_K" if index < 2 else "Q4_K",
        "Q3_K_L": "Q5_K",
        "IQ4_XS": "Q5_K" if ctx.n_gqa >= 4 else base,
        "IQ3_XXS": "Q4_K" if ctx.n_gqa >= 4 else "IQ3_XXS",
        "Q4_K_M": "Q6_K" if use_more_bits(index, count) else base,
        "Q5_K_M": "Q6_K" if use_more_bits(index, count) else base,
        "Q4_K_S": "Q5_K" if index < 4 else base,
    }.get(file_type, base)
    if ctx.llama_70b and chosen in ("Q3_K", "Q4_K"):
        return "Q5_K"  # 70B shares each V head across 8 query heads: V is 8x smaller
    return chosen


def _ffn_down_type(file_type: str, base: str, index: int, count: int, ctx: MixContext) -> str:
    n = ctx.num_layers if ctx.n_expert > 1 else count
    return {
        "Q2_K": "Q3_K",
        "Q3_K_M": "Q5_K" if index < n // 16 else "Q4_K",
        "Q3_K_L": "Q5_K",
        "Q4_K_M": "Q6_K" if use_more_bits(index, n) else base,
        "Q5_K_M": "Q6_K" if use_more_bits(index, n) else base,
        "Q4_K_S": "Q5_K" if index < n // 8 else base,
        # IQ4_XS needs no importance matrix, and the published sizes were made without one.
        "IQ4_XS": "Q5_K" if index < n // 8 else base,
        "IQ2_XXS": "Q2_K" if index < n // 8 else base,
    }.get(file_type, base)


def _attn_output_type(file_type: str, base: str, ctx: MixContext) -> str:
    if ctx.n_expert == 8 and file_type in _ATTN_OUTPUT_Q5K_FOR_8_EXPERTS:
        return "Q5_K"
    return {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K"}.get(file_type, base)


def tensor_bytes(type_name: str, params: int, row_size: int) -> int:
    """Bytes of one tensor in ``type_name``, after llama.cpp's block-size fallback."""
    ggml = GGML_TYPES[_fit_block(type_name, row_size)]
    blocks = -(-params // ggml.block_elements)
    return blocks * ggml.block_bytes


def _fit_block(type_name: str, row_size: int) -> str:
    ggml = GGML_TYPES[type_name]
    if row_size and row_size % ggml.block_elements:
        fallback = _FALLBACK.get(type_name, type_name)
        if row_size % GGML_TYPES[fallback].block_elements:
            return "F16"
        return fallback
    return type_name


def counter_key(role: str) -> str:
    """llama.cpp counts ``ffn_down``, ``ffn_down_exps`` and ``ffn_down_shexp`` together."""
    return "ffn_down" if role.startswith("ffn_down") else role
