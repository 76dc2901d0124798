"""``fitbot rank BUDGET``: what can I run? (the ranking itself is estimator/_rank.py)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from estimator import ModelFacts, RankCandidate, RankedModel, parse_budget, parse_use, rank_models
from estimator.errors import BudgetParseError
from store import ModelRecord, list_models

from . import _format as fmt
from .app._database import open_service

if TYPE_CHECKING:
    from .app._cli import CliState

# The most popular models are the ones worth ranking; the rest rarely qualify and cost time.
_CANDIDATES = 300


def _downloads(record: ModelRecord) -> int:
    """The Hub's download count; for bundled-catalog rows without one, 10**popularity (its log10 stand-in)."""
    if record.hub.downloads is not None:
        return record.hub.downloads
    return round(10**record.popularity) - 1 if record.popularity > 0 else 0


@click.command(name="rank")
@click.argument("budget")
@click.option("--use", "use_text", help="chat, code, long_context or vision.")
@click.option(
    "--limit", "-n", default=15, show_default=True, type=click.IntRange(1, 100), help="How many to list."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.pass_obj
def rank_command(state: CliState, budget: str, use_text: str | None, limit: int, as_json: bool) -> None:
    """What can I run on BUDGET? Models at 4-bit or better, 8K+ context, usable speed.

    \b
    Ranked by downloads and likes, recency and size class.
    Example:
      fitbot rank "RTX 3090" --use code
    """
    parsed = parse_budget(budget)
    try:
        use = parse_use(use_text) if use_text else None
    except ValueError as error:
        raise BudgetParseError(use_text or "", str(error)) from None

    async def run() -> tuple[RankedModel, ...]:
        async with open_service(state.settings) as service:
            records = await list_models(service.db, limit=_CANDIDATES)
        now = datetime.now(UTC)
        candidates = [
            RankCandidate(
                r.repo_id,
                ModelFacts(r.config, r.accounting),
                downloads=_downloads(r),
                likes=r.hub.likes or 0,
                age_days=(now - r.hub.last_modified).total_seconds() / 86400 if r.hub.last_modified else None,
                pipeline_tag=r.hub.pipeline_tag,
                tags=r.hub.tags,
            )
            for r in records
            if r.config is not None and r.accounting is not None
        ]
        return rank_models(candidates, parsed, use=use, limit=limit)

    ranked = asyncio.run(run())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "model": r.model,
                        "quant": r.quant,
                        "file": r.file,
                        "context": r.context,
                        "decode_tokens_per_s": round(r.decode_tokens_per_s, 2)
                        if r.decode_tokens_per_s
                        else None,
                        "verdict": r.verdict,
                        "runtime": str(r.runtime),
                    }
                    for r in ranked
                ],
                indent=2,
            )
        )
        return
    lines = [f"{'model':<44} {'quant':<9} {'context':>8} {'speed':>12}  runtime"]
    for r in ranked:
        lines.append(
            f"{r.model[:44]:<44} {r.quant:<9} {fmt.tokens(r.context):>8} "
            f"{fmt.speed(r.decode_tokens_per_s):>12}  {r.runtime}"
        )
    if not ranked:
        lines.append("(nothing in the catalog runs well on this budget)")
    lines.append("Ranked by downloads and likes, recency and size class; speeds are estimates.")
    click.echo("\n".join(lines))
