"""Vision towers counted from ``vision_config``, each as transformers 5.24 stores it.

SigLIP (Gemma 3), the Qwen3-VL / Qwen3.5 ViT with its mergers, Pixtral (Mistral Small 3.x),
Llama 4's vision model, Kimi-K2.5's MoonViT (as transformers stores it, and as Moonshot's own
checkpoints store it for Kimi-K2.5/K2.6 and Kimi-K3), Gemma 4's vision encoder and MiniMax-M3's
CLIP tower. Any other tower, or an audio tower, makes the whole count "needs the headers".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .._layer_records import json_int
from ._builder import Family, TensorBuilder


class _Vision:
    """Integer fields of ``vision_config`` with defaults."""

    def __init__(self, section: Mapping[str, object]) -> None:
        self.section = section

    def integer(self, key: str, default: int = 0) -> int:
        value = self.section.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return default
        return int(value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.section.get(key)
        return value if isinstance(value, bool) else default


def add_vision(b: TensorBuilder, f: Family) -> list[str]:
    """Add the vision tower and projector; returns notes naming what could not be described."""
    notes = []
    audio = f.raw.get("audio_config")
    if isinstance(audio, Mapping):
        notes.append(f"audio tower '{audio.get('model_type')}' is not described from config.json")
    vision = f.raw.get("vision_config")
    if not isinstance(vision, Mapping):
        return notes
    kind = str(vision.get("model_type") or "") or _remote_code_tower(f, vision)
    build = _TOWERS.get(kind)
    if kind == "siglip_vision_model" and not f.config.model_type.startswith("gemma3"):
        build = None
    if kind == "clip_vision_model" and f.config.model_type != "minimax_m3_vl":
        build = None  # CLIP layouts differ per model: only MiniMax-M3's is described
    if build is None:
        tower = f"vision tower '{kind}'" if kind else "a vision tower without a model_type"
        return [*notes, f"{tower} is not described from config.json"]
    build(b, _Vision(vision), f)
    return notes


# Moonshot's own configs (Kimi-K2.5/K2.6/K2.7-Code, Kimi-K3) leave vision_config's model_type empty
# or absent: their MoonViT is remote code. Such a tower is known by the top-level model_type, its
# ``vt_*`` keys and a projector type whose stored tensors we have seen.
_MOONVIT_MODELS = frozenset({"kimi_k25", "kimi_k3"})
_MOONVIT_PROJECTORS = frozenset({"patchmerger", "patchmergerv2"})
_MOONVIT_REMOTE_CODE = "moonvit (remote code)"


def _remote_code_tower(f: Family, vision: Mapping[str, object]) -> str:
    """The _TOWERS key of a tower whose vision_config names no model_type, or ""."""
    if (
        f.raw.get("model_type") in _MOONVIT_MODELS
        and "vt_hidden_size" in vision
        and vision.get("mm_projector_type") in _MOONVIT_PROJECTORS
    ):
        return _MOONVIT_REMOTE_CODE
    return ""


def _add_clip_encoder(b: TensorBuilder, prefix: str, layers: int, h: int, inter: int) -> None:
    """CLIP-style encoder layers (SigLIP, MiniMax-M3): biased q/k/v/out projections, 2 LayerNorms, fc1/fc2."""
    for i in range(layers):
        lp = f"{prefix}.layers.{i}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            b.linear(f"{lp}.self_attn.{proj}", h, h, bias=True)
        b.norm(f"{lp}.layer_norm1", h, bias=True)
        b.norm(f"{lp}.layer_norm2", h, bias=True)
        b.linear(f"{lp}.mlp.fc1", inter, h, bias=True)
        b.linear(f"{lp}.mlp.fc2", h, inter, bias=True)


def _add_siglip(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """SigLIP vision tower plus Gemma 3's projector (transformers ``modeling_siglip``)."""
    h, inter = v.integer("hidden_size"), v.integer("intermediate_size")
    patch, image = v.integer("patch_size", 14), v.integer("image_size", 224)
    p = "vision_tower.vision_model"
    b.add(f"{p}.embeddings.patch_embedding.weight", h, v.integer("num_channels", 3), patch, patch)
    b.add(f"{p}.embeddings.patch_embedding.bias", h)
    b.add(f"{p}.embeddings.position_embedding.weight", (image // patch) ** 2, h)
    _add_clip_encoder(b, f"{p}.encoder", v.integer("num_hidden_layers"), h, inter)
    b.norm(f"{p}.post_layernorm", h, bias=True)
    b.add("multi_modal_projector.mm_input_projection_weight", h, f.config.hidden_size)
    b.add("multi_modal_projector.mm_soft_emb_norm.weight", h)


def _add_qwen_vit(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """Qwen3-VL / Qwen3.5 ViT: 3-D patch conv, learned positions, fused-qkv blocks, the patch merger
    and (Qwen3-VL) one DeepStack merger per ``deepstack_visual_indexes`` entry."""
    h, inter, patch = v.integer("hidden_size"), v.integer("intermediate_size"), v.integer("patch_size", 16)
    merged = h * v.integer("spatial_merge_size", 2) ** 2
    out = v.integer("out_hidden_size") or f.config.hidden_size
    p = "model.visual"
    b.add(
        f"{p}.patch_embed.proj.weight",
        h,
        v.integer("in_channels", 3),
        v.integer("temporal_patch_size", 2),
        patch,
        patch,
    )
    b.add(f"{p}.patch_embed.proj.bias", h)
    b.add(f"{p}.pos_embed.weight", v.integer("num_position_embeddings", 2304), h)
    for i in range(v.integer("depth")):
        lp = f"{p}.blocks.{i}"
        b.norm(f"{lp}.norm1", h, bias=True)
        b.norm(f"{lp}.norm2", h, bias=True)
        b.linear(f"{lp}.attn.qkv", 3 * h, h, bias=True)
        b.linear(f"{lp}.attn.proj", h, h, bias=True)
        b.linear(f"{lp}.mlp.linear_fc1", inter, h, bias=True)
        b.linear(f"{lp}.mlp.linear_fc2", h, inter, bias=True)
    mergers = [(f"{p}.merger", h)]
    deepstack = v.section.get("deepstack_visual_indexes")
    if isinstance(deepstack, list):
        mergers += [(f"{p}.deepstack_merger_list.{j}", merged) for j in range(len(deepstack))]
    for name, norm in mergers:
        b.norm(f"{name}.norm", norm, bias=True)
        b.linear(f"{name}.linear_fc1", merged, merged, bias=True)
        b.linear(f"{name}.linear_fc2", out, merged, bias=True)


def _add_pixtral(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """Pixtral encoder plus Mistral 3's projector (RMS norm, patch merger, two linears)."""
    h, inter, patch = v.integer("hidden_size"), v.integer("intermediate_size"), v.integer("patch_size", 16)
    heads_width = v.integer("num_attention_heads") * (
        v.integer("head_dim") or h // max(1, v.integer("num_attention_heads"))
    )
    p = "model.vision_tower"
    b.add(f"{p}.patch_conv.weight", h, v.integer("num_channels", 3), patch, patch)
    b.norm(f"{p}.ln_pre", h)
    for i in range(v.integer("num_hidden_layers")):
        lp = f"{p}.transformer.layers.{i}"
        b.norm(f"{lp}.attention_norm", h)
        b.norm(f"{lp}.ffn_norm", h)
        for proj in ("q_proj", "k_proj", "v_proj"):
            b.linear(f"{lp}.attention.{proj}", heads_width, h)
        b.linear(f"{lp}.attention.o_proj", h, heads_width)
        b.linear(f"{lp}.feed_forward.gate_proj", inter, h)
        b.linear(f"{lp}.feed_forward.up_proj", inter, h)
        b.linear(f"{lp}.feed_forward.down_proj", h, inter)
    merge = int(f.raw.get("spatial_merge_size", 2))  # type: ignore[call-overload]
    bias = bool(f.raw.get("multimodal_projector_bias", False))
    text_h = f.config.hidden_size
    b.norm("model.multi_modal_projector.norm", h)
    b.linear("model.multi_modal_projector.patch_merger.merging_layer", h, h * merge * merge)
    b.linear("model.multi_modal_projector.linear_1", text_h, h, bias=bias)
    b.linear("model.multi_modal_projector.linear_2", text_h, text_h, bias=bias)


def _add_llama4_vision(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """Llama 4 vision model: unfold patch embedding, class token, pixel-shuffle adapter, one projector."""
    h, inter, patch = v.integer("hidden_size"), v.integer("intermediate_size"), v.integer("patch_size", 14)
    channels, image = v.integer("num_channels", 3), v.integer("image_size", 336)
    p = "vision_model"
    b.add(f"{p}.class_embedding", h)
    b.add(f"{p}.positional_embedding_vlm", (image // patch) ** 2 + 1, h)
    b.linear(f"{p}.patch_embedding.linear", h, channels * patch * patch)
    b.norm(f"{p}.layernorm_pre", h, bias=True)
    b.norm(f"{p}.layernorm_post", h, bias=True)
    for i in range(v.integer("num_hidden_layers")):
        lp = f"{p}.model.layers.{i}"
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            b.linear(f"{lp}.self_attn.{proj}", h, h, bias=True)
        b.linear(f"{lp}.mlp.fc1", inter, h, bias=True)
        b.linear(f"{lp}.mlp.fc2", h, inter, bias=True)
        b.norm(f"{lp}.input_layernorm", h, bias=True)
        b.norm(f"{lp}.post_attention_layernorm", h, bias=True)
    proj_in, proj_out = v.integer("projector_input_dim"), v.integer("projector_output_dim")
    b.linear(f"{p}.vision_adapter.mlp.fc1", proj_in, inter)
    b.linear(f"{p}.vision_adapter.mlp.fc2", proj_out, proj_out)
    b.linear(
        "multi_modal_projector.linear_1",
        f.config.hidden_size,
        v.integer("vision_output_dim"),
        bias=v.flag("multi_modal_projector_bias"),
    )


def _merge_kernel_patches(v: _Vision) -> int:
    """MoonViT's patch merger joins ``merge_kernel_size`` [h, w] patches into one token (2 x 2 by default)."""
    kernel = v.section.get("merge_kernel_size")
    return kernel[0] * kernel[1] if isinstance(kernel, list) and len(kernel) == 2 else 4


def _add_moonvit(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """Kimi-K2.5's MoonViT plus its patch-merging projector."""
    h, inter, patch = v.integer("hidden_size"), v.integer("intermediate_size"), v.integer("patch_size", 14)
    merge = _merge_kernel_patches(v)
    p = "model.vision_tower"
    b.add(f"{p}.patch_embed.proj.weight", h, 3, patch, patch)
    b.add(f"{p}.patch_embed.proj.bias", h)
    b.add(
        f"{p}.patch_embed.pos_emb.position_embeddings",
        v.integer("pos_emb_height", 64),
        v.integer("pos_emb_width", 64),
        h,
    )
    for i in range(v.integer("num_hidden_layers")):
        lp = f"{p}.layers.{i}"
        b.norm(f"{lp}.norm1", h, bias=True)
        b.norm(f"{lp}.norm2", h, bias=True)
        for proj in ("q_proj", "k_proj", "v_proj", "proj"):
            b.linear(f"{lp}.attn.{proj}", h, h, bias=True)
        b.linear(f"{lp}.mlp.fc1", inter, h, bias=True)
        b.linear(f"{lp}.mlp.fc2", h, inter, bias=True)
    b.norm(f"{p}.final_layernorm", h, bias=True)
    pre_norm = f.raw.get("projection_hidden_size")
    b.norm("model.mm_projector.pre_norm", pre_norm if isinstance(pre_norm, int) else h, bias=True)
    b.linear("model.mm_projector.in_proj", h * merge, h * merge, bias=True)
    b.linear("model.mm_projector.out_proj", f.config.hidden_size, h * merge, bias=True)


def _add_moonvit_remote_code(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """MoonViT and its projector as Moonshot's checkpoints store them (``vision_tower.encoder.blocks.N``
    with fused ``wqkv``, ``mm_projector.proj.0/2``).

    Kimi-K2.5/K2.6/K2.7-Code: LayerNorms and biases everywhere, qkv width = hidden, a "patchmerger"
    projector with a pre-norm. Kimi-K3: RMSNorm, ``attn_bias``/``linear_bias``/``patch_embed_proj_bias``
    false, a wider ``qkv_hidden_size`` and a "patchmergerv2" projector (two bias-free linears, then an
    RMSNorm over the text width). Shapes from the per-tensor reports github:gogongxt/python
    scripts/models/kimi_k2.5.md@ec9962697819add8f24ce1b180cf98ca6a53c40f and
    scripts/models/kimi_k3.md@a0d3871ab6f58cbda18c00a8b8c79f84fcc043eb.
    """
    h, inter, patch = (
        v.integer("vt_hidden_size"),
        v.integer("vt_intermediate_size"),
        v.integer("patch_size", 14),
    )
    qkv = v.integer("qkv_hidden_size") or h
    attn_bias, mlp_bias = v.flag("attn_bias", True), v.flag("linear_bias", True)
    norm_bias = v.section.get("norm_type", "layernorm") != "rmsnorm"
    merged = h * _merge_kernel_patches(v)
    p = "vision_tower"
    b.add(f"{p}.patch_embed.proj.weight", h, 3, patch, patch)
    if v.flag("patch_embed_proj_bias", True):
        b.add(f"{p}.patch_embed.proj.bias", h)
    # "divided_fixed": a learned [height, width] grid; the time embedding is a fixed sinusoid, not stored.
    b.add(
        f"{p}.patch_embed.pos_emb.weight",
        v.integer("init_pos_emb_height", 64),
        v.integer("init_pos_emb_width", 64),
        h,
    )
    for i in range(v.integer("vt_num_hidden_layers")):
        lp = f"{p}.encoder.blocks.{i}"
        b.norm(f"{lp}.norm0", h, bias=norm_bias)
        b.norm(f"{lp}.norm1", h, bias=norm_bias)
        b.linear(f"{lp}.wqkv", 3 * qkv, h, bias=attn_bias)
        b.linear(f"{lp}.wo", h, qkv, bias=attn_bias)
        b.linear(f"{lp}.mlp.fc0", inter, h, bias=mlp_bias)
        b.linear(f"{lp}.mlp.fc1", h, inter, bias=mlp_bias)
    b.norm(f"{p}.encoder.final_layernorm", h, bias=norm_bias)
    text_h = f.config.hidden_size
    if v.section.get("mm_projector_type") == "patchmergerv2":
        b.linear("mm_projector.proj.0", merged, merged)
        b.linear("mm_projector.proj.2", text_h, merged)
        b.norm("mm_projector.post_norm", text_h)
    else:
        b.norm("mm_projector.pre_norm", v.integer("mm_hidden_size") or h, bias=True)
        b.linear("mm_projector.proj.0", merged, merged, bias=True)
        b.linear("mm_projector.proj.2", text_h, merged, bias=True)


def _add_gemma4_vision(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """Gemma 4's vision encoder (Gemma-style blocks over patches) and its embedding projection."""
    h, inter, patch = v.integer("hidden_size"), v.integer("intermediate_size"), v.integer("patch_size", 16)
    heads, kv_heads = (
        v.integer("num_attention_heads"),
        v.integer("num_key_value_heads") or v.integer("num_attention_heads"),
    )
    head_dim = v.integer("head_dim") or h // max(1, heads)
    clipped = v.flag("use_clipped_linears")
    p = "model.vision_tower"
    b.add(f"{p}.patch_embedder.position_embedding_table", 2, v.integer("position_embedding_size", 10240), h)
    b.linear(f"{p}.patch_embedder.input_proj", h, 3 * patch * patch)
    if v.flag("standardize"):
        b.add(f"{p}.std_bias", h)
        b.add(f"{p}.std_scale", h)

    def linear(name: str, out: int, inp: int) -> None:
        b.linear(f"{name}.linear", out, inp)
        if clipped:  # calibrated clipping bounds, one scalar each
            for bound in ("input_min", "input_max", "output_min", "output_max"):
                b.add(f"{name}.{bound}", 1)

    for i in range(v.integer("num_hidden_layers")):
        lp = f"{p}.encoder.layers.{i}"
        linear(f"{lp}.self_attn.q_proj", heads * head_dim, h)
        linear(f"{lp}.self_attn.k_proj", kv_heads * head_dim, h)
        linear(f"{lp}.self_attn.v_proj", kv_heads * head_dim, h)
        linear(f"{lp}.self_attn.o_proj", h, heads * head_dim)
        b.norm(f"{lp}.self_attn.q_norm", head_dim)
        b.norm(f"{lp}.self_attn.k_norm", head_dim)
        linear(f"{lp}.mlp.gate_proj", inter, h)
        linear(f"{lp}.mlp.up_proj", inter, h)
        linear(f"{lp}.mlp.down_proj", h, inter)
        for norm in (
            "input_layernorm",
            "post_attention_layernorm",
            "pre_feedforward_layernorm",
            "post_feedforward_layernorm",
        ):
            b.norm(f"{lp}.{norm}", h)
    b.linear("model.embed_vision.embedding_projection", f.config.hidden_size, h)


def _add_minimax_clip(b: TensorBuilder, v: _Vision, f: Family) -> None:
    """MiniMax-M3's vision tower (CLIP layers, 3-D patch embedding, RoPE, so no position table), its
    two-layer projector and the patch-merge MLP that joins ``spatial_merge_size``² projected patches.
    Shapes from the per-tensor report github:gogongxt/python/scripts/models/minimax_m3.md@b521199."""
    h, inter, text_h = v.integer("hidden_size"), v.integer("intermediate_size"), f.config.hidden_size
    compression = f.raw.get("img_token_compression_config") or v.section.get("img_token_compression_config")
    merge = temporal = 1
    if isinstance(compression, Mapping):
        merge = int(compression.get("spatial_merge_size") or 1)
        temporal = int(compression.get("temporal_patch_size") or 1)
    patch = v.integer("patch_size", 14)
    p = "vision_tower.vision_model"
    b.add(f"{p}.embeddings.patch_embedding.weight", h, v.integer("num_channels", 3), temporal, patch, patch)
    b.norm(f"{p}.pre_layrnorm", h, bias=True)  # sic: transformers' CLIP spelling
    _add_clip_encoder(b, f"{p}.encoder", v.integer("num_hidden_layers"), h, inter)
    projector = json_int(f.raw.get("projector_hidden_size")) or text_h
    bias = f.raw.get("multimodal_projector_bias") is not False
    b.linear("multi_modal_projector.linear_1", projector, h, bias=bias)
    b.linear("multi_modal_projector.linear_2", text_h, projector, bias=bias)
    # [6144, 24576] and [6144, 6144] in the report: text width in and out, merge² tokens joined.
    b.linear("patch_merge_mlp.linear_1", text_h, text_h * merge * merge, bias=True)
    b.linear("patch_merge_mlp.linear_2", text_h, text_h, bias=True)


_TOWERS: dict[str, Callable[[TensorBuilder, _Vision, Family], None]] = {
    "siglip_vision_model": _add_siglip,
    "qwen3_vl_vision": _add_qwen_vit,
    "qwen3_vl_moe_vision": _add_qwen_vit,
    "qwen3_5_vision": _add_qwen_vit,
    "qwen3_5_moe_vision": _add_qwen_vit,
    # Hub configs saved by transformers 4.57 name the vision section after the whole model.
    "qwen3_vl": _add_qwen_vit,
    "qwen3_vl_moe": _add_qwen_vit,
    "qwen3_5": _add_qwen_vit,
    "qwen3_5_moe": _add_qwen_vit,
    "pixtral": _add_pixtral,
    "llama4_vision_model": _add_llama4_vision,
    "kimi_k25_vision": _add_moonvit,
    _MOONVIT_REMOTE_CODE: _add_moonvit_remote_code,
    "gemma4_vision": _add_gemma4_vision,
    "clip_vision_model": _add_minimax_clip,
}
