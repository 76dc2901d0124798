"""Fixed per-sequence state of the recurrent and convolution mixers, from each family's config keys.

State sizes are element counts; the runtimes' rules (dtype, padding) live in ``_kv_cache``. The
formulas are llama.cpp's ``llama_hparams::n_embd_r`` (conv) and ``n_embd_s`` (recurrent) in
``src/llama-hparams.cpp``, which equal vLLM's ``MambaStateShapeCalculator`` shapes in
``vllm/model_executor/layers/mamba/mamba_utils.py`` for one sequence without speculative tokens.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._layer_records import AttentionShape, LayerKind, RecurrentState, json_int


def short_conv_state(text: Mapping[str, object], shape: AttentionShape) -> RecurrentState:
    """LFM2: ``n_embd · (L_cache − 1)`` conv values.

    llama.cpp ``n_embd_r``; transformers' default L_cache is 3.
    """
    cache = json_int(text.get("conv_L_cache")) or 3
    return RecurrentState(LayerKind.SHORT_CONV, shape.hidden_size * (cache - 1), 0)


def gated_deltanet_state(text: Mapping[str, object]) -> RecurrentState:
    """Qwen3-Next / Qwen3.5: conv over q, k and v channels; one k×v matrix per value head.

    llama.cpp maps ``ssm_d_inner = v_heads·v_dim``, ``ssm_n_group = k_heads``, ``ssm_d_state = k_dim``;
    vLLM's ``gated_delta_net_state_shape`` gives the same counts.
    """
    k_heads = json_int(text.get("linear_num_key_heads")) or 16
    v_heads = json_int(text.get("linear_num_value_heads")) or 32
    k_dim = json_int(text.get("linear_key_head_dim")) or 128
    v_dim = json_int(text.get("linear_value_head_dim")) or 128
    kernel = json_int(text.get("linear_conv_kernel_dim")) or 4
    conv = (kernel - 1) * (2 * k_heads * k_dim + v_heads * v_dim)
    return RecurrentState(LayerKind.GATED_DELTANET, conv, v_heads * k_dim * v_dim)


def kda_state(text: Mapping[str, object], shape: AttentionShape) -> RecurrentState:
    """Kimi Delta Attention: conv over q, k, v (3·(k−1)·heads·dim); a dim×dim matrix per head.

    llama.cpp ``n_embd_r``/``n_embd_s`` with ``n_embd_head_kda``; vLLM ``kda_state_shape`` keeps the
    recurrent part in F32.
    """
    section = text.get("linear_attn_config")
    cfg: Mapping[str, object] = section if isinstance(section, Mapping) else {}
    heads = json_int(cfg.get("num_heads")) or json_int(text.get("linear_num_heads")) or shape.num_heads
    dim = json_int(cfg.get("head_dim")) or json_int(text.get("linear_head_dim")) or 128
    kernel = json_int(cfg.get("short_conv_kernel_size")) or json_int(text.get("linear_conv_kernel_dim")) or 4
    return RecurrentState(LayerKind.KIMI_DELTA, 3 * (kernel - 1) * heads * dim, heads * dim * dim, True)


def lightning_state(text: Mapping[str, object], shape: AttentionShape) -> RecurrentState:
    """MiniMax-01 lightning attention: one head_dim×head_dim matrix per head, no convolution.

    vLLM ``linear_attention_state_shape``; llama.cpp does not run this family.
    """
    return RecurrentState(LayerKind.LIGHTNING, 0, shape.num_heads * shape.head_dim * shape.head_dim)


def mamba1_state(text: Mapping[str, object], shape: AttentionShape) -> RecurrentState:
    """Mamba-1 (Jamba, Falcon-Mamba): conv ``(d_conv−1)·d_inner``, SSM ``d_inner·d_state``."""
    d_state = _first(text, "mamba_d_state", "state_size") or 16
    d_conv = _first(text, "mamba_d_conv", "conv_kernel") or 4
    expand = _first(text, "mamba_expand", "expand") or 2
    d_inner = (
        json_int(text.get("intermediate_size"))
        if text.get("model_type") in ("mamba", "falcon_mamba")
        else None
    )
    d_inner = d_inner or expand * shape.hidden_size
    return RecurrentState(LayerKind.MAMBA, (d_conv - 1) * d_inner, d_inner * d_state)


def mamba2_state(text: Mapping[str, object], shape: AttentionShape) -> RecurrentState:
    """Mamba2: conv ``(d_conv−1)·(d_inner + 2·n_group·d_state)``, SSM ``d_state·d_inner``."""
    d_state = _first(text, "mamba_d_state", "ssm_state_size", "state_size") or 128
    d_conv = _first(text, "mamba_d_conv", "conv_kernel") or 4
    groups = _first(text, "mamba_n_groups", "mamba_ngroups", "n_groups") or 1
    d_inner = _mamba2_inner(text, shape)
    conv = (d_conv - 1) * (d_inner + 2 * groups * d_state)
    return RecurrentState(LayerKind.MAMBA2, conv, d_inner * d_state)


def _mamba2_inner(text: Mapping[str, object], shape: AttentionShape) -> int:
    heads = _first(text, "mamba_n_heads", "mamba_num_heads", "n_mamba_heads")
    head_dim = _first(text, "mamba_d_head", "mamba_head_dim", "mamba_headdim")
    if heads and head_dim:
        return heads * head_dim
    expand = _first(text, "mamba_expand", "expand") or 2
    return json_int(text.get("mamba_d_ssm")) or expand * shape.hidden_size


def _first(text: Mapping[str, object], *keys: str) -> int | None:
    for key in keys:
        value = json_int(text.get(key))
        if value:
            return value
    return None
