"""DeepSeek-V4 (Flash, Pro): compressed sparse attention, hash-routed first layers, hyper-connections.

The checkpoints keep DeepSeek's own tensor names (``layers.N.attn.wq_a``, ``layers.N.ffn.experts.E.w1``,
``mtp.K.e_proj``), not transformers'. Names and shapes follow the per-tensor model_inspector reports of
local downloads in github:gogongxt/python, under scripts/models/:
deepseek_v4_flash.md@ec9962697819add8f24ce1b180cf98ca6a53c40f (46 shards, 69,187 tensors),
deepseek_v4_pro.md@cbff706dc959707a9944e38e8164783122dfa32a (64 shards, 145,116 tensors) and
deepseek_v4_flash_0731.md@c1feefbda85d61ad5cca42410a39cc194aa790fc (the DSpark MTP variant, 48 shards,
72,317 tensors); tests/estimator/test_deepseek_v4_from_report.py rebuilds those lists. Routed experts
are built as one 3-D tensor per projection (the counts the accounting reads from the stored per-expert
tensors, see ``_decoder._add_experts``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._builder import Family, TensorBuilder

# Attention kinds under transformers' names (configuration_deepseek_v4): a config saved by transformers
# lists ``layer_types`` and ``compress_rates``; DeepSeek's own lists ``compress_ratios`` (0 sliding only,
# 4 compressed sparse attention with the indexer, 128 heavily compressed).
_SLIDING, _CSA, _HCA = "sliding_attention", "compressed_sparse_attention", "heavily_compressed_attention"
_RATIO_KIND = {0: _SLIDING, 4: _CSA, 128: _HCA}
# The mixing weights of the hyper-connections: (2 + hc_mult) * hc_mult rows per sublayer (pre, post
# and the hc_mult x hc_mult residual mix), 3 scales; the head mixes hc_mult streams into one.
_HC_SUBLAYERS = ("attn", "ffn")


def build_deepseek_v4(f: Family, b: TensorBuilder) -> None:
    """Embedding, head, every block and the MTP blocks as the V4 checkpoint stores them."""
    c, h = f.config, f.config.hidden_size
    b.add("embed.weight", c.vocab_size, h)
    b.add("head.weight", c.vocab_size, h)  # stored in every report; V4 has no tied variant
    b.norm("norm", h)
    _add_hc_head(b, f, "")
    for layer in range(c.num_layers):
        _add_block(b, f, f"layers.{layer}", layer)
    if not f.ints("compress_ratios"):
        return  # transformers' format: save_pretrained drops the MTP block (it never builds it)
    if f.text.get("dspark_target_layer_ids"):
        _add_dspark_mtp(b, f)
        return
    for k in range(c.mtp_layers):
        p = f"mtp.{k}"
        _add_block(b, f, p, c.num_layers + k)
        # The draft block reads the main model's embedding and head: it stores neither (both reports).
        b.linear(f"{p}.e_proj", h, h)
        b.linear(f"{p}.h_proj", h, h)
        for name in ("enorm", "hnorm", "norm"):
            b.norm(f"{p}.{name}", h)
        _add_hc_head(b, f, f"{p}.")


def _add_dspark_mtp(b: TensorBuilder, f: Family) -> None:
    """DeepSeek-V4-Flash-0731's DSpark draft: blocks without e/h projections; the first reads the
    target layers' hidden states (main_proj), the last carries its own markov and confidence heads."""
    c, h = f.config, f.config.hidden_size
    count = len(f.ints("compress_ratios")) - c.num_layers or c.mtp_layers
    rank = f.integer("dspark_markov_rank")
    for k in range(count):
        _add_block(b, f, f"mtp.{k}", c.num_layers + k)
    b.norm("mtp.0.main_norm", h)
    b.linear("mtp.0.main_proj", h, h * len(f.ints("dspark_target_layer_ids")))
    last = f"mtp.{count - 1}"
    b.norm(f"{last}.norm", h)
    _add_hc_head(b, f, f"{last}.")
    b.linear(f"{last}.markov_head.markov_w1", c.vocab_size, rank)
    b.linear(f"{last}.markov_head.markov_w2", c.vocab_size, rank)
    b.linear(f"{last}.confidence_head.proj", 1, h + rank)


def _add_block(b: TensorBuilder, f: Family, p: str, index: int) -> None:
    """One block: attention (with its compressor and indexer), the MoE, norms and hyper-connections."""
    h, hc = f.config.hidden_size, f.integer("hc_mult", 1)
    kinds = _attention_kinds(f)
    _add_attention(b, f, f"{p}.attn", *(kinds[index] if index < len(kinds) else (_SLIDING, 0)))
    _add_moe(b, f, f"{p}.ffn", hashed=_hashed(f, index))
    b.norm(f"{p}.attn_norm", h)
    b.norm(f"{p}.ffn_norm", h)
    for sub in _HC_SUBLAYERS:
        b.add(f"{p}.hc_{sub}_fn", (2 + hc) * hc, hc * h)
        b.add(f"{p}.hc_{sub}_base", (2 + hc) * hc)
        b.add(f"{p}.hc_{sub}_scale", 3)


def _attention_kinds(f: Family) -> tuple[tuple[str, int], ...]:
    """(kind, compress rate) of every block, the decoder's and then the MTP blocks'."""
    ratios = f.ints("compress_ratios")
    if ratios:
        return tuple((_RATIO_KIND.get(r, _HCA), r) for r in ratios)
    given = f.text.get("compress_rates")
    rates: dict[str, object] = {_CSA: 4, _HCA: 128, **(given if isinstance(given, Mapping) else {})}
    return tuple((kind, _rate(rates.get(kind))) for kind in f.strings("layer_types"))


def _rate(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _hashed(f: Family, index: int) -> bool:
    """Hash-routed block: transformers' ``mlp_layer_types`` or DeepSeek's first ``num_hash_layers``
    (transformers' default when neither is given: 3)."""
    kinds = f.strings("mlp_layer_types")
    if kinds:
        return index < len(kinds) and kinds[index] == "hash_moe"
    return index < f.integer("num_hash_layers", 3)


def _add_hc_head(b: TensorBuilder, f: Family, prefix: str) -> None:
    hc = f.integer("hc_mult", 1)
    b.add(f"{prefix}hc_head_fn", hc, hc * f.config.hidden_size)
    b.add(f"{prefix}hc_head_base", hc)
    b.add(f"{prefix}hc_head_scale", 1)


def _add_attention(b: TensorBuilder, f: Family, p: str, kind: str, ratio: int) -> None:
    """Low-rank query, one shared 512-wide KV head, grouped low-rank output, per-head sinks.

    A layer with compress ratio r > 0 also compresses its KV every r tokens; compressed sparse
    attention (r = 4) uses overlapping windows, twice as wide, and adds the lightning indexer that
    picks ``index_topk`` compressed entries, itself with such a compressor (all three reports).
    """
    c, h = f.config, f.config.hidden_size
    heads, head_dim, q_rank = c.num_heads, c.head_dim, f.integer("q_lora_rank")
    groups, o_rank = f.integer("o_groups", 1), f.integer("o_lora_rank")
    b.linear(f"{p}.wq_a", q_rank, h)
    b.norm(f"{p}.q_norm", q_rank)
    b.linear(f"{p}.wq_b", heads * head_dim, q_rank)
    b.linear(f"{p}.wkv", head_dim, h)
    b.norm(f"{p}.kv_norm", head_dim)
    b.linear(f"{p}.wo_a", groups * o_rank, heads * head_dim // groups)
    b.linear(f"{p}.wo_b", h, groups * o_rank)
    b.add(f"{p}.attn_sink", heads)
    if kind == _SLIDING:
        return
    overlap = kind == _CSA
    _add_compressor(b, f"{p}.compressor", ratio, head_dim, h, overlap=overlap)
    if overlap:
        index_heads, index_dim = f.integer("index_n_heads"), f.integer("index_head_dim")
        b.linear(f"{p}.indexer.wq_b", index_heads * index_dim, q_rank)
        b.linear(f"{p}.indexer.weights_proj", index_heads, h)
        _add_compressor(b, f"{p}.indexer.compressor", ratio, index_dim, h, overlap=True)


def _add_compressor(b: TensorBuilder, p: str, ratio: int, dim: int, h: int, *, overlap: bool) -> None:
    width = 2 * dim if overlap else dim  # overlapping windows: kv and gate are twice as wide
    b.linear(f"{p}.wkv", width, h)
    b.linear(f"{p}.wgate", width, h)
    b.add(f"{p}.ape", ratio, width)  # learned position bias inside each window
    b.norm(f"{p}.norm", dim)


def _add_moe(b: TensorBuilder, f: Family, p: str, *, hashed: bool) -> None:
    """Routed experts, the shared expert and the router.

    The first ``num_hash_layers`` route by token id through a stored table ``tid2eid``
    [vocab, top-k] (it is stored and learned-from-data, so it counts); the others carry
    the score-correction bias ``gate.bias`` instead.
    """
    c, h = f.config, f.config.hidden_size
    moe = c.moe
    assert moe is not None
    inter = moe.moe_intermediate_size or h
    experts = moe.num_experts
    b.add(f"{p}.experts.w1.weight", experts, inter, h)
    b.add(f"{p}.experts.w3.weight", experts, inter, h)
    b.add(f"{p}.experts.w2.weight", experts, h, inter)
    b.add(f"{p}.gate.weight", experts, h)
    if hashed:
        b.add(f"{p}.gate.tid2eid", c.vocab_size, moe.experts_per_token)
    else:
        b.add(f"{p}.gate.bias", experts)
    shared = inter * max(moe.shared_experts, 1)
    b.linear(f"{p}.shared_experts.w1", shared, h)
    b.linear(f"{p}.shared_experts.w3", shared, h)
    b.linear(f"{p}.shared_experts.w2", h, shared)


# sgl-project's DeepSeek-V4-*-FP8 configs say model_type "deepseek_ref" but architectures
# ["DeepseekV4ForCausalLM"], with every V4 sizing key (compress_ratios, hc_mult, o_groups, index_*).
BUILDERS = {"deepseek_v4": build_deepseek_v4, "deepseek_ref": build_deepseek_v4}
