"""Show the work: each term of one estimate with its formula and inputs.

A user who doubts a number can redo it by hand from these terms. They restate, for one
quantization at one context on one device layout, what ``_fit`` computed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._config import SLIDING
from ._fit import FitReport, ModelFacts, QuantOption, profile_for
from ._gguf import FILE_TYPES, GGML_TYPES
from ._kv_cache import (
    KV_TYPES,
    CacheRule,
    compressed_groups,
    kv_row_bytes,
    layer_bytes_per_token,
    sliding_groups,
    state_bytes_per_sequence,
)
from ._runtime import LLAMA_CPP_PROFILE, RuntimeProfile, estimate_compute_buffers
from ._weights import layout_weights


@dataclass(frozen=True, slots=True)
class Term:
    """One addend of an estimate."""

    name: str
    formula: str
    inputs: tuple[tuple[str, str], ...]
    value_bytes: int


@dataclass(frozen=True, slots=True)
class Explanation:
    quant: str
    runtime: str
    context: int
    terms: tuple[Term, ...]
    total_bytes: int
    capacity_bytes: int


def explain_option(model: ModelFacts, report: FitReport, quant: str) -> Explanation:
    """The terms behind ``report``'s option for ``quant``.

    Raises:
        KeyError: ``quant`` is not one of the report's options.
    """
    option = next((o for o in report.options if o.quant == quant), None)
    if option is None:
        raise KeyError(quant)
    llama = replace(LLAMA_CPP_PROFILE, flash_attention=report.flash_attention)
    profile = profile_for(quant, llama)
    terms = (
        _weights_term(model, option),
        _kv_term(model, report, option, profile),
        _compute_term(model, report, option, profile),
        Term(
            "runtime reserve",
            "reserve per GPU × GPUs (CUDA context, driver, allocator slack; 0 on unified memory)",
            (
                ("reserve per GPU", f"{profile.reserve_bytes_per_gpu:,} B"),
                ("GPUs counted", str(sum(1 for d in option.devices if d.reserve_bytes))),
            ),
            option.reserve_bytes,
        ),
    )
    return Explanation(
        quant=quant,
        runtime=option.runtime,
        context=report.context,
        terms=terms,
        total_bytes=option.total_bytes,
        capacity_bytes=sum(d.capacity_bytes for d in option.devices),
    )


def _weights_term(model: ModelFacts, option: QuantOption) -> Term:
    a = model.accounting
    layout = layout_weights(option.quant, a, model.config)
    inputs = [("parameters", f"{a.total_params:,}")]
    if option.quant in FILE_TYPES:
        base = GGML_TYPES[FILE_TYPES[option.quant]] if FILE_TYPES[option.quant] in GGML_TYPES else None
        if base:
            inputs.append(
                (
                    "base type",
                    f"{base.name}: {base.block_bytes} bytes per {base.block_elements} weights"
                    f" ({base.bits_per_weight:.4g} bits)",
                )
            )
        inputs.append(
            (
                "mix",
                "llama.cpp per-tensor rules"
                " (e.g. Q4_K_M: attn_v/ffn_down at Q6_K in use_more_bits layers, output at Q6_K)",
            )
        )
    inputs.append(("all weights", f"{layout.total:,} B"))
    if layout.embedding and option.weights_gpu_bytes < layout.total:
        inputs.append(
            (
                "kept off the GPU",
                f"{layout.total - option.weights_gpu_bytes:,} B (token embedding in system RAM)",
            )
        )
    formula = (
        "Σ over tensors of blocks × bytes per block"
        if option.quant in FILE_TYPES
        else "Σ over tensors of parameters × bytes per parameter"
    )
    return Term("weights on the GPU", formula, tuple(inputs), option.weights_gpu_bytes)


def _kv_term(model: ModelFacts, report: FitReport, option: QuantOption, profile: RuntimeProfile) -> Term:
    config = model.config
    if any(layer.attention and layer.attention.compressed for layer in config.layer_map.layers):
        return _deepseek_v4_kv_term(model, report, option, profile)
    per_layer = layer_bytes_per_token(config, report.kv_type)
    block_elements, block_bytes = KV_TYPES[report.kv_type]
    if config.mla:
        formula = "(kv_lora_rank + qk_rope_head_dim) × bytes per value × cells, per layer"
        shape = f"{config.mla.kv_lora_rank} + {config.mla.qk_rope_head_dim} values"
    else:
        formula = "2 (K and V) × kv_heads × head_dim × bytes per value × cells, per layer"
        shape = f"2 × {config.num_kv_heads} × {config.head_dim} values"
    pad = profile.kv_policy.pad_cells
    cells = -(-report.context // pad) * pad
    counts = config.layer_map.kind_counts()
    inputs = [
        (
            "per layer and token",
            f"{shape} at {report.kv_type} ({block_bytes} B per {block_elements}) = {per_layer:,} B",
        ),
        ("cells", f"{report.context:,} tokens padded to {pad} = {cells:,}"),
        ("layers", ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)),
    ]
    if counts.get(SLIDING) and config.sliding_window:
        inputs.append(
            (
                "window",
                f"sliding layers keep min(cells, {config.sliding_window}"
                f" + {profile.kv_policy.window_slack}) cells",
            )
        )
    if any(layer.state for layer in config.layer_map.layers):
        state = state_bytes_per_sequence(config, profile.kv_policy.rule)
        inputs.append(
            ("recurrent state", f"{state:,} B per sequence in all ({profile.kv_policy.rule} dtype rule)")
        )
    return Term("KV cache", formula, tuple(inputs), option.kv_cache_bytes)


def _deepseek_v4_kv_term(
    model: ModelFacts, report: FitReport, option: QuantOption, profile: RuntimeProfile
) -> Term:
    """DeepSeek-V4: a window of K=V rows on every layer, compressed rows per r tokens, compressor state."""
    config, policy = model.config, profile.kv_policy
    vllm = policy.rule is CacheRule.VLLM
    row = (
        "584 B (vLLM fp8_ds_mla, whatever the KV type)"
        if vllm
        else (f"{kv_row_bytes(config.head_dim, report.kv_type):,} B at {report.kv_type}")
    )
    window = ", ".join(f"{n} layers keep the last {w} tokens" for w, n, _ in sliding_groups(config))
    entries = ", ".join(f"{n} layers one row per {r} tokens" for r, n, _ in compressed_groups(config))
    if vllm:
        rule = (
            "vLLM pages, each padded to 576 B: the window in 64-token blocks for window − 1 + "
            f"{policy.window_slack} batched tokens (+1 block), compressed rows 256/r to a 256-token block, "
            "the 132-B indexer keys likewise, the state in 4- or 8-slot blocks"
        )
    else:
        rule = (
            f"llama.cpp llama_kv_cache_dsv4: window min(cells, {policy.window_slack} + window) cells; "
            "compressed rows and indexer keys in pad(max(1, ⌈cells / r⌉), 256) cells"
        )
    inputs = (
        ("row", f"one K=V row of {config.head_dim} values = {row}"),
        ("window", window),
        ("compressed", f"{entries}; each compressed sparse attention row adds the indexer key"),
        ("rule", rule),
        (
            "compressor state",
            f"{state_bytes_per_sequence(config, policy.rule):,} B per sequence in F32 "
            "(2r slots at r = 4, r at r = 128)"
            + (f"; vLLM pages it for those slots − 1 + {policy.window_slack} tokens" if vllm else ""),
        ),
    )
    formula = "Σ layers: window rows + compressed rows (+ indexer keys) + compressor state"
    return Term("KV cache", formula, inputs, option.kv_cache_bytes)


def _compute_term(model: ModelFacts, report: FitReport, option: QuantOption, profile: RuntimeProfile) -> Term:
    config = model.config
    buffers = estimate_compute_buffers(config, report.context, profile)
    if profile.activation_chunk_tokens:
        formula = "prefill chunk × (2·intermediate + 4·hidden) × 2 B + last-token logits (uncalibrated)"
        inputs: tuple[tuple[str, str], ...] = (
            ("chunk", f"{profile.activation_chunk_tokens} tokens"),
            ("intermediate", str(config.intermediate_size)),
            ("hidden", str(config.hidden_size)),
        )
    else:
        attention = (
            "n_kv × n_ubatch × 2 (F16 mask) + 4 × n_embd × n_ubatch × 4"
            if profile.flash_attention
            else "n_head × n_kv × n_ubatch × 4 + n_kv × n_ubatch × 4 + 4 × n_embd × n_ubatch × 4"
        )
        formula = (
            "max(logits stage, attention stage); logits = (n_vocab + n_embd) × n_ubatch × 4;"
            f" attention = {attention}"
        )
        inputs = (
            ("n_vocab, n_embd, n_head", f"{config.vocab_size:,}, {config.hidden_size:,}, {config.num_heads}"),
            (
                "n_ubatch, flash attention",
                f"{profile.n_ubatch}, {'on' if profile.flash_attention else 'off'}",
            ),
            ("logits stage", f"{buffers.logits_stage_bytes:,} B"),
            ("attention stage", f"{buffers.attention_stage_bytes:,} B"),
        )
    return Term("compute buffers", formula, inputs, option.compute_bytes)
