"""GGUF metadata mapped onto the estimator's ``ModelConfig``, so a GGUF file's KV cache and
recurrent state come from the same memory model as a config.json's.

The keys are llama.cpp's (``gguf.Keys``); the rules follow ``src/llama-model.cpp``'s hparams
loading: per-layer head-count arrays (0 KV heads marks a recurrent layer in hybrid models),
MLA's ``key_length``/``value_length`` holding the compressed latent, ``nextn_predict_layers``
trailing blocks that llama.cpp gives no KV cache, and the SSM state sizes ``n_embd_r`` and
``n_embd_s``.
"""

from __future__ import annotations

from ._config import MlaDims, ModelConfig
from ._gguf_facts import GgufFacts
from ._layer_records import AttentionCache, Layer, LayerKind, LayerMap, RecurrentState
from .errors import ConfigError

# Architectures whose files may omit the window pattern: llama.cpp sets it in code
# (``hparams.set_swa_pattern(n)`` in src/llama-model.cpp: every n-th layer is full attention).
_SWA_PERIODS = {"gemma2": 2, "gemma3": 6, "gemma3n": 5, "cohere2": 4, "gpt-oss": 2}


def gguf_model_config(facts: GgufFacts) -> ModelConfig:
    """The ``ModelConfig`` a GGUF file's own metadata describes.

    Raises:
        ConfigError: the metadata lacks the block count, embedding length or head count.
    """
    if not facts.arch or not facts.block_count or not facts.embedding_length or not facts.head_count:
        raise ConfigError("the GGUF metadata lacks block_count, embedding_length or attention.head_count")
    nextn = facts.nextn_predict_layers or 0
    layers = facts.block_count - nextn  # llama.cpp keeps no KV cache for the MTP blocks
    heads = max(facts.head_count)
    kv_heads = _per_layer(facts.head_count_kv or facts.head_count, layers)
    mla = _mla(facts)
    head_dim = facts.key_length or facts.embedding_length // heads
    layer_map = _layer_map(facts, kv_heads, layers, head_dim, mla)
    return ModelConfig(
        model_type=facts.arch,
        architectures=(facts.arch,),
        hidden_size=facts.embedding_length,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=max([h for h in kv_heads if h] or [heads]),
        head_dim=head_dim,
        intermediate_size=None,
        vocab_size=facts.vocab_size or 0,
        tie_word_embeddings=facts.tied_embeddings,
        max_context=facts.context_length,
        layer_kinds=tuple(layer.kind for layer in layer_map.layers),
        sliding_window=facts.sliding_window,
        mla=mla,
        mtp_layers=nextn,
        layer_map=layer_map,
    )


def _per_layer(values: tuple[int, ...], layers: int) -> list[int]:
    if len(values) >= layers:
        return list(values[:layers])
    return [values[0]] * layers if values else [0] * layers


def _layer_map(
    facts: GgufFacts, kv_heads: list[int], layers: int, head_dim: int, mla: MlaDims | None
) -> LayerMap:
    """The per-layer memory map (estimator/_layer_records.py) the metadata describes."""
    recurrent_only = facts.ssm_state_size is not None and len(facts.head_count_kv) <= 1 and not any(kv_heads)
    v_dim = facts.value_length or head_dim
    out = []
    for layer in range(layers):
        if recurrent_only or (facts.ssm_state_size is not None and kv_heads[layer] == 0):
            out.append(
                Layer(LayerKind.MAMBA2 if facts.ssm_group_count else LayerKind.MAMBA, state=_state(facts))
            )
        elif mla is not None:
            latent = mla.kv_lora_rank + mla.qk_rope_head_dim
            out.append(Layer(LayerKind.MLA, attention=AttentionCache(LayerKind.MLA, 1, latent, 0)))
        elif facts.sliding_window and _is_sliding(_pattern(facts), layer):
            cache = AttentionCache(LayerKind.SLIDING, kv_heads[layer], head_dim, v_dim, facts.sliding_window)
            out.append(Layer(LayerKind.SLIDING, attention=cache))
        else:
            cache = AttentionCache(LayerKind.FULL, kv_heads[layer] or max(kv_heads), head_dim, v_dim)
            out.append(Layer(LayerKind.FULL, attention=cache))
    return LayerMap(tuple(out))


def _pattern(facts: GgufFacts) -> tuple[int, ...]:
    if facts.sliding_window_pattern:
        return facts.sliding_window_pattern
    period = _SWA_PERIODS.get(facts.arch or "")
    return (period,) if period else ()


def _is_sliding(pattern: tuple[int, ...], layer: int) -> bool:
    """A per-layer array (1: sliding), or one period n (every n-th layer is full); none: all sliding."""
    if len(pattern) > 1:
        return bool(pattern[layer % len(pattern)])
    if len(pattern) == 1 and pattern[0] > 0:
        return (layer + 1) % pattern[0] != 0
    return True


def _mla(facts: GgufFacts) -> MlaDims | None:
    if not facts.kv_lora_rank:
        return None
    rope = facts.rope_dimension_count or ((facts.key_length or 0) - facts.kv_lora_rank)
    key_mla = facts.key_length_mla or 0
    return MlaDims(
        q_lora_rank=facts.q_lora_rank,
        kv_lora_rank=facts.kv_lora_rank,
        qk_nope_head_dim=max(0, key_mla - rope),
        qk_rope_head_dim=rope,
        v_head_dim=facts.value_length_mla or 0,
    )


def _state(facts: GgufFacts) -> RecurrentState:
    """llama.cpp's ``n_embd_r()`` (conv) and ``n_embd_s()`` (SSM) states of one recurrent layer."""
    kind = LayerKind.MAMBA2 if facts.ssm_group_count else LayerKind.MAMBA
    if not facts.ssm_state_size or not facts.ssm_inner_size:
        return RecurrentState(kind, 0, 0)
    groups = facts.ssm_group_count or 0
    conv = max(0, (facts.ssm_conv_kernel or 1) - 1) * (
        facts.ssm_inner_size + 2 * groups * facts.ssm_state_size
    )
    return RecurrentState(kind, conv, facts.ssm_state_size * facts.ssm_inner_size)


def compare_param_counts(gguf_total: int, base_total: int | None, nextn_params: int = 0) -> str | None:
    """A note when the file's parameter count (from its tensor shapes) differs from its base model's;
    ``nextn_params`` are the MTP block's, which a GGUF holds and the base count leaves out."""
    if base_total is None or gguf_total - nextn_params == base_total:
        return None
    diff = gguf_total - nextn_params - base_total
    return (
        f"the file holds {gguf_total - nextn_params:,} parameters, {abs(diff):,} "
        f"{'more' if diff > 0 else 'fewer'} than its base model's {base_total:,}"
    )
