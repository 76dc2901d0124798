"""The fit with the multi-token-prediction (MTP / NextN) draft on, for speculative decoding.

Runtimes drop the MTP layers unless speculative decoding uses them (vLLM ``--speculative-config
'{"method": "mtp"}'``, llama.cpp's NextN draft), so ``estimate_fit`` leaves them out. With the draft on,
each option also holds the draft's weights and its own KV, sized from the chosen context (not
``n_ctx_train``). The draft sits after the last decoder layer, so it is charged to the last device:
that device's capacity is lowered by the draft and the option re-estimated, so verdicts, the
context that fits and offload plans all account for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._budget import Budget
from ._fit import FitReport, ModelFacts, QuantOption, estimate_fit
from ._fit import _best as best_option
from ._kv_cache import LLAMA_CPP_POLICY, VLLM_POLICY, MtpDraft, estimate_mtp_draft
from ._weights import NON_GGUF
from .errors import MtpDraftUnavailableError


@dataclass(frozen=True, slots=True)
class DraftFit:
    """A fit with the MTP draft on, and the draft each option carries (quant -> draft)."""

    report: FitReport
    mtp_params: int
    drafts: tuple[tuple[str, MtpDraft], ...]

    def draft_for(self, quant: str) -> MtpDraft | None:
        """The draft held by the ``quant`` option, or None when that option is not in the report."""
        return next((draft for name, draft in self.drafts if name == quant), None)


def estimate_fit_with_mtp_draft(
    model: ModelFacts,
    budget: Budget,
    *,
    context: int | None = None,
    kv_type: str = "f16",
    flash_attention: bool = True,
) -> DraftFit:
    """``estimate_fit`` with the MTP draft's weights and KV added to every option.

    The draft's weights are the accounting's ``mtp`` parameters at the option's average bits per
    weight (an estimate); its KV follows the runtime's rule for the option at the report's context.

    Raises:
        MtpDraftUnavailableError: the model stores no MTP / NextN layers.
    """
    mtp_params = model.accounting.components.mtp
    if not mtp_params or not model.config.layer_map.mtp_layers:
        raise MtpDraftUnavailableError(model.config.model_type)
    base = estimate_fit(model, budget, context=context, kv_type=kv_type, flash_attention=flash_attention)
    main_params = max(1, model.accounting.total_params - mtp_params)
    options: list[QuantOption] = []
    drafts: list[tuple[str, MtpDraft]] = []
    for option in base.options:
        policy = VLLM_POLICY if option.quant in NON_GGUF else LLAMA_CPP_POLICY
        bits = 8 * option.weights_bytes / main_params
        draft = estimate_mtp_draft(model.config, mtp_params, bits, base.context, kv_type, policy)
        reserved = min(draft.total_bytes, budget.devices[-1].usable_bytes) if budget.devices else 0
        again = estimate_fit(
            model,
            _reserve_on_last_device(budget, reserved),
            context=base.context,
            kv_type=kv_type,
            quants=(option.quant,),
            flash_attention=flash_attention,
        )
        if again.options:
            options.append(_with_draft(again.options[0], draft, reserved))
            drafts.append((option.quant, draft))
    report = replace(base, options=tuple(options), best=best_option(options))
    return DraftFit(report, mtp_params, tuple(drafts))


def _reserve_on_last_device(budget: Budget, reserved: int) -> Budget:
    """The budget with the draft's bytes taken from the last device, where the draft layer runs."""
    if not budget.devices:
        return budget
    *rest, last = budget.devices
    return replace(budget, devices=(*rest, replace(last, usable_bytes=last.usable_bytes - reserved)))


def _with_draft(option: QuantOption, draft: MtpDraft, reserved: int) -> QuantOption:
    """The option as the user will see it: the draft's bytes shown, each device's real capacity."""
    devices = list(option.devices)
    if devices:
        last = devices[-1]
        devices[-1] = replace(
            last,
            weights_bytes=last.weights_bytes + draft.weights_bytes,
            kv_cache_bytes=last.kv_cache_bytes + draft.kv_bytes,
            capacity_bytes=last.capacity_bytes + reserved,
        )
    return replace(
        option,
        weights_bytes=option.weights_bytes + draft.weights_bytes,
        weights_gpu_bytes=option.weights_gpu_bytes + draft.weights_bytes,
        kv_cache_bytes=option.kv_cache_bytes + draft.kv_bytes,
        devices=tuple(devices),
    )
