"""The /model answer: exact counts, components, MoE layout, storage, provenance."""

from __future__ import annotations

from estimator import kv_bytes_per_token

from . import _format as fmt
from ._answer_fit import ACTIVE_CONVENTION, hub_url
from ._document import Document, Field
from ._safe import escape
from ._service import ResolvedModel

COMPONENT_LABELS = {
    "embedding": "input embedding",
    "lm_head": "output head",
    "attention": "attention / mixers",
    "mlp": "dense MLP",
    "shared_experts": "shared experts",
    "routed_experts": "routed experts",
    "router": "routers",
    "norm": "norms",
    "mtp": "multi-token prediction",
    "vision": "vision / audio tower",
    "other": "other",
}


def render_model(resolved: ResolvedModel) -> Document:
    record = resolved.record
    facts = resolved.facts
    a, config = facts.accounting, facts.config
    lines = [
        f"**{fmt.params_exact(a.total_params)} parameters ({fmt.params_short(a.total_params)})**, "
        f"{fmt.params_exact(a.active_params)} active ({fmt.params_short(a.active_params)}).",
        f"_{ACTIVE_CONVENTION}_",
    ]
    if not a.counts_known:  # issue 10: an undescribed family's config-derived numbers are not counts
        lines = ["**Parameter counts need the safetensors headers**: the crawler will read them."]
    if not resolved.resolution.exact:
        lines.insert(0, "Closest match for your text.")
    if a.moe:
        m = a.moe
        lines.append(
            f"Mixture of experts: {m.num_experts} routed experts, top-{m.experts_per_token}, "
            f"{m.shared_experts} shared, in {m.moe_layers} of {config.num_layers} layers."
        )
    else:
        lines.append(f"Dense model, {config.num_layers} layers.")
    components = "\n".join(
        f"{COMPONENT_LABELS[name]:<22} {count:>18,}" for name, count in a.components.items() if count
    )
    fields = [Field("Components (parameters)", f"```\n{components}\n{'total':<22} {a.total_params:>18,}\n```")]
    fields.append(Field("Storage", _storage(a)))
    kv = kv_bytes_per_token(config)
    attention = "MLA latent" if config.mla else f"{config.num_kv_heads} KV heads × {config.head_dim}"
    windowed = sum(1 for k in config.layer_kinds if k != "full")
    arch = [
        f"type `{escape(config.model_type, 40)}`, hidden {config.hidden_size:,}, vocab {config.vocab_size:,}",
        f"context length {fmt.tokens(config.max_context) if config.max_context else 'not stated'}",
        f"KV cache {kv:,} bytes per token at f16 ({attention}; {config.full_attention_layers} growing layers"
        + (f", {windowed} windowed/recurrent" if windowed else "")
        + ")",
    ]
    fields.append(Field("Architecture", "\n".join(arch)))
    fields.append(Field("Provenance", _provenance(record)))
    if a.notes:
        fields.append(Field("Notes", "\n".join(escape(n, 300) for n in a.notes[:5])))
    return Document(
        title=escape(record.repo_id, 200),
        url=hub_url(record.repo_id),
        description="\n".join(lines),
        fields=tuple(fields),
        footer="Parameter counts are exact integers. GiB = 2^30 bytes, GB = 10^9 bytes.",
    )


def _storage(a) -> str:
    if a.stored_bytes is None:
        return "not read yet: counts come from config.json"
    dtypes = ", ".join(f"{dtype} {fmt.size_both(size)}" for dtype, size in a.stored_dtypes[:6])
    quant = f"quantization: {escape(a.quantization, 40)}\n" if a.quantization else ""
    return f"{quant}{fmt.size_both(a.stored_bytes)} in all\n{dtypes}"


def _provenance(record) -> str:
    if record.provenance == "header":
        sha = (record.sha or "")[:12]
        read = record.read_at.strftime("%Y-%m-%d %H:%M UTC") if record.read_at else "unknown"
        text = f"read from safetensors headers at commit `{sha}` on {read}"
        if record.count_mismatch:
            text += f"\nthe Hub says {record.hub.hub_total_params:,} (it counts packed elements and scales)"
        return text
    return "derived from config.json (bundled catalog); a crawl will replace it with header-exact counts"
