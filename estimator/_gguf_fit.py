"""The fit of one real GGUF file: its exact weights by llama.cpp's placement, its KV cache and
state from its own metadata, through the same evaluation as the estimated quantizations."""

from __future__ import annotations

from dataclasses import replace

from ._accounting import HEADER, Components, MoeLayout, ParamAccounting
from ._budget import ASSUMED_SYSTEM_RAM_BYTES, Budget
from ._config import ModelConfig
from ._fit import DEFAULT_CONTEXT, FitRequest, ModelFacts, QuantOption, evaluate_option
from ._gguf_facts import GgufFacts
from ._placement import placement_for
from ._runtime import LLAMA_CPP_PROFILE
from ._weights import WeightLayout


def gguf_file_accounting(facts: GgufFacts, layout: WeightLayout) -> ParamAccounting:
    """What the fit needs to know of a file's parameters, from its own tensor table."""
    moe = None
    if facts.expert_count and facts.expert_used_count:
        moe_layers = sum(1 for experts in layout.per_layer_experts if experts)
        moe = MoeLayout(facts.expert_count, facts.expert_used_count, 0, moe_layers)
    return ParamAccounting(
        total_params=facts.total_params,
        active_params=facts.total_params,
        components=Components(other=facts.total_params),
        moe=moe,
        stored_bytes=facts.tensor_bytes,
        stored_dtypes=(),
        quantization="gguf",
        provenance=HEADER,
        tied_embeddings=facts.tied_embeddings,
        tensor_groups=(),
    )


def estimate_gguf_file_fit(
    config: ModelConfig,
    layout: WeightLayout,
    accounting: ParamAccounting,
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: str = "f16",
    flash_attention: bool = True,
) -> QuantOption:
    """The verdict, memory and largest context of one GGUF file (``layout`` from its tensor table,
    ``config`` from ``gguf_model_config``) on ``budget``, run by llama.cpp."""
    profile = LLAMA_CPP_PROFILE if flash_attention else replace(LLAMA_CPP_PROFILE, flash_attention=False)
    ctx = context or min(DEFAULT_CONTEXT, config.max_context or DEFAULT_CONTEXT)
    ram = budget.system_ram_bytes or ASSUMED_SYSTEM_RAM_BYTES
    request = FitRequest(ModelFacts(config, accounting), budget, ctx, kv_type, ram)
    return evaluate_option(request, placement_for(layout, config, budget, profile))
