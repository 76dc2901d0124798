"""Vision towers counted from ``vision_config``; each tower as transformers stores it."""

from __future__ import annotations

from collections.abc import Mapping

from ._builder import Family, TensorBuilder


def add_vision(b: TensorBuilder, f: Family) -> list[str]:
    """Add the vision tower and projector; returns notes naming what could not be described."""
    vision = f.raw.get("vision_config")
    if not isinstance(vision, Mapping):
        return []
    c = f.config
    if vision.get("model_type") == "siglip_vision_model" and c.model_type.startswith("gemma3"):
        _add_siglip(b, vision, c.hidden_size)
        return []
    return [f"vision tower '{vision.get('model_type')}' is not described from config.json"]


def _int(v: Mapping[str, object], key: str, default: int = 0) -> int:
    value = v.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _add_siglip(b: TensorBuilder, v: Mapping[str, object], text_hidden: int) -> None:
    """SigLIP vision tower plus Gemma 3's projector (transformers ``modeling_siglip``)."""
    h, inter = _int(v, "hidden_size"), _int(v, "intermediate_size")
    patch, image = _int(v, "patch_size", 14), _int(v, "image_size", 224)
    channels, layers = _int(v, "num_channels", 3), _int(v, "num_hidden_layers")
    p = "vision_tower.vision_model"
    b.add(f"{p}.embeddings.patch_embedding.weight", h, channels, patch, patch)
    b.add(f"{p}.embeddings.patch_embedding.bias", h)
    b.add(f"{p}.embeddings.position_embedding.weight", (image // patch) ** 2, h)
    for i in range(layers):
        lp = f"{p}.encoder.layers.{i}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            b.linear(f"{lp}.self_attn.{proj}", h, h, bias=True)
        b.norm(f"{lp}.layer_norm1", h, bias=True)
        b.norm(f"{lp}.layer_norm2", h, bias=True)
        b.linear(f"{lp}.mlp.fc1", inter, h, bias=True)
        b.linear(f"{lp}.mlp.fc2", h, inter, bias=True)
    b.norm(f"{p}.post_layernorm", h, bias=True)
    b.add("multi_modal_projector.mm_input_projection_weight", h, text_hidden)
    b.add("multi_modal_projector.mm_soft_emb_norm.weight", h)
