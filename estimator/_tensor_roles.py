"""Classify checkpoint tensors by name: which component they belong to and which
llama.cpp tensor role they would take in a GGUF file.

Names follow the transformers checkpoint conventions (``model.layers.3.mlp.experts.7.down_proj``);
the table in docs/reference/hub-protocol.md §5 lists the families covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

EMBEDDING = "embedding"
LM_HEAD = "lm_head"
ATTENTION = "attention"
MLP = "mlp"
SHARED_EXPERTS = "shared_experts"
ROUTED_EXPERTS = "routed_experts"
ROUTER = "router"
NORM = "norm"
MTP = "mtp"
VISION = "vision"
OTHER = "other"

COMPONENTS = (
    EMBEDDING,
    LM_HEAD,
    ATTENTION,
    MLP,
    SHARED_EXPERTS,
    ROUTED_EXPERTS,
    ROUTER,
    NORM,
    MTP,
    VISION,
    OTHER,
)

# DeepSeek-V4 keeps its own names, with no "model." in front: ``layers.3.attn.wq_a.weight``.
_LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|layer|h|blocks|block|decoder_layers)\.(\d+)\.")
_VISION_SEGMENTS = frozenset(
    "vision_tower vision_model visual vision_encoder vision multi_modal_projector mm_projector "
    "image_newline audio_tower audio_model audio embed_vision embed_audio vision_embed_tokens "
    "speech_encoder vision_projector patch_merge_mlp".split()
)
_MTP_SEGMENTS = frozenset({"mtp", "mtp_layers", "nextn", "mtp_block"})
# ``embed`` and ``head``: DeepSeek-V4's top-level ``embed.weight`` and ``head.weight``.
_EMBED_SEGMENTS = frozenset(
    "embed_tokens wte wpe tok_embeddings word_embeddings embed_in embed_tokens_per_layer embeddings "
    "embed".split()
)
_HEAD_SEGMENTS = frozenset({"lm_head", "embed_out", "output_layer", "head"})
_ATTN_SEGMENTS = frozenset(
    "self_attn attention attn self_attention cross_attn linear_attn mamba mixer conv token_mixer".split()
)
_MLP_SEGMENTS = frozenset("mlp feed_forward ffn block_sparse_moe moe dense_mlp".split())
_SHARED_SEGMENTS = frozenset({"shared_expert", "shared_experts", "shared_mlp"})
_ROUTER_SEGMENTS = frozenset({"gate", "router", "shared_expert_gate", "e_score_correction_bias"})


@dataclass(frozen=True, slots=True)
class TensorPlace:
    """Where one tensor sits in the model."""

    component: str
    role: str  # llama.cpp-style role, e.g. "attn_v", "ffn_down_exps", "token_embd"
    layer: int | None


def layer_index(name: str) -> int | None:
    """The decoder layer a tensor belongs to, from its name."""
    match = _LAYER_INDEX.search(name)
    return int(match.group(1)) if match else None


def layer_match(name: str) -> re.Match[str] | None:
    """Where a tensor name gives its decoder layer (group 1), if it does."""
    return _LAYER_INDEX.search(name)


def classify_tensor(name: str, ndim: int, num_layers: int | None = None) -> TensorPlace:
    """Place a tensor (by its logical name, packing suffixes already removed).

    ``num_layers`` is config.json's ``num_hidden_layers``; layers at or past it are
    multi-token-prediction layers (DeepSeek-V3's ``model.layers.61``, GLM-4.5's ``.92``).
    """
    layer = layer_index(name)
    beyond = num_layers is not None and layer is not None and layer >= num_layers
    # Names differ only in layer and expert numbers: classify each shape of name once.
    component, role = _classify_template(name_template(name), ndim, layer is not None, beyond)
    return TensorPlace(component, role, layer)


def name_template(name: str) -> str:
    """The tensor name with its layer and expert numbers taken out (``.3.`` becomes ``.#.``)."""
    return _NUMBER.sub(".#", name)


_NUMBER = re.compile(r"\.\d+(?=\.|$)")


@lru_cache(maxsize=4096)
def _classify_template(template: str, ndim: int, in_layer: bool, beyond_layers: bool) -> tuple[str, str]:
    segments = template.split(".")
    seg_set = set(segments)
    if seg_set & _VISION_SEGMENTS:
        return VISION, "vision"
    if seg_set & _MTP_SEGMENTS or beyond_layers:
        return MTP, "mtp"
    component = _component(segments, seg_set, 0 if in_layer else None, ndim)
    return component, _role(component, segments, ndim)


def _component(segments: list[str], seg_set: set[str], layer: int | None, ndim: int) -> str:
    # The module that owns the parameter decides: DBRX keeps attention under "norm_attn_norm.attn".
    owner = segments[-2] if len(segments) > 1 and segments[-1] in ("weight", "bias") else segments[-1]
    if "norm" in owner or owner.startswith("ln_") or owner == "ln":
        return NORM
    if layer is None:
        if seg_set & _EMBED_SEGMENTS:
            return EMBEDDING
        if seg_set & _HEAD_SEGMENTS or segments[0] == "output":
            return LM_HEAD
    if seg_set & _ROUTER_SEGMENTS:
        return ROUTER
    if seg_set & _SHARED_SEGMENTS:
        return SHARED_EXPERTS
    # JetMoE's ``experts.bias`` is added after the routed experts, for every token: not an expert.
    expert_bias = segments[-1] == "bias" and len(segments) > 1 and segments[-2] == "experts"
    if ("experts" in seg_set and not expert_bias) or (
        "block_sparse_moe" in seg_set and seg_set & {"input_linear", "output_linear"}
    ):
        return ROUTED_EXPERTS
    if seg_set & _ATTN_SEGMENTS:
        return ATTENTION
    if seg_set & _MLP_SEGMENTS:
        return MLP
    if seg_set & _EMBED_SEGMENTS:
        return EMBEDDING
    return OTHER


_ATTN_ROLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("q_proj", "wq", "query", "q_b_proj"), "attn_q"),
    (("k_proj", "wk", "key"), "attn_k"),
    (("v_proj", "wv", "value"), "attn_v"),
    (("o_proj", "out_proj", "wo", "dense", "c_proj", "proj"), "attn_output"),
    (("qkv_proj", "query_key_value", "wqkv", "c_attn", "in_proj"), "attn_qkv"),
)
_FFN_ROLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("gate_proj", "w1", "gate_up_proj", "fc1", "c_fc", "dense_h_to_4h", "input_linear"), "gate"),
    (("up_proj", "w3", "v1"), "up"),
    (("down_proj", "w2", "fc2", "dense_4h_to_h", "output_linear"), "down"),
)


def _role(component: str, segments: list[str], ndim: int) -> str:
    if component == EMBEDDING:
        return "token_embd"
    if component == LM_HEAD:
        return "output"
    if component == NORM:
        return "norm"
    if component == ROUTER:
        return "ffn_gate_inp"
    last = segments[-1]
    if ndim < 2 or last.endswith("bias") or last == "sinks":
        return "bias"  # llama.cpp quantizes only 2-D ``*.weight`` tensors
    seg_set = set(segments)
    if component == ATTENTION:
        if "kv_b_proj" in seg_set:
            return "attn_kv_b"  # MLA: llama.cpp's converter splits it into attn_k_b and attn_v_b
        for names, role in _ATTN_ROLES:
            if seg_set.intersection(names):
                return role
        return "attn_other"
    if component in (MLP, SHARED_EXPERTS, ROUTED_EXPERTS):
        suffix = {MLP: "", SHARED_EXPERTS: "_shexp", ROUTED_EXPERTS: "_exps"}[component]
        for names, kind in _FFN_ROLES:
            if seg_set.intersection(names):
                return f"ffn_{kind}{suffix}"
        return f"ffn_other{suffix}"
    return "other"
