"""Closed vocabularies are enums, declared once; the old module-level names are the members."""

from __future__ import annotations

from estimator import (
    DOES_NOT_FIT,
    FITS,
    KV_TYPES,
    QUANT_NAMES,
    STORED,
    KvCacheType,
    Quant,
    Runtime,
    Verdict,
    parse_kv_type,
    parse_quant,
)
from estimator._runtime import LLAMA_CPP, TRANSFORMERS
from store import RUN_COMPLETED, STATUS_OK, STATUSES, ModelStatus, RunStatus


def test_enums_hold_every_name_the_old_constants_did() -> None:
    """Each enum lists exactly the values the code accepts; the old names are its members."""
    assert tuple(Quant) == QUANT_NAMES and Quant.STORED is parse_quant(STORED)
    assert set(KvCacheType) == set(KV_TYPES) and parse_kv_type("Q8") is KvCacheType.Q8_0
    assert FITS is Verdict.FITS and DOES_NOT_FIT is Verdict.DOES_NOT_FIT and len(Verdict) == 4
    assert (LLAMA_CPP, TRANSFORMERS) == (Runtime.LLAMA_CPP, Runtime.TRANSFORMERS)
    assert STATUS_OK is ModelStatus.OK and STATUSES == tuple(ModelStatus) and RUN_COMPLETED is RunStatus.COMPLETED


def test_enum_values_are_the_stored_strings() -> None:
    """Members compare and serialise as their plain strings, so rows and JSON are unchanged."""
    assert Verdict.FITS == "fits" and f"{Verdict.NEEDS_OFFLOAD}" == "needs_offload"
    assert str(KvCacheType.F16) == "f16" and Quant.Q4_K_M == "Q4_K_M" and ModelStatus.NOT_FOUND == "not_found"
