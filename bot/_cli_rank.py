"""``fitbot rank BUDGET``: what can I run? (the ranking itself is estimator/_rank.py)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from estimator import Budget, RankedModel, Use, rank_models
from store import list_models

from . import _format as fmt
from ._answer_rank import rank_candidates
from ._commands import BUDGET, COMMANDS, RANK_CANDIDATES, USE
from .app._cli_table import ParserType
from .app._database import open_service

if TYPE_CHECKING:
    from .app._cli import CliState

RANK = COMMANDS["rank"]


@click.command(name="rank")
@click.argument("budget", type=ParserType(BUDGET))
@click.option("--use", "use", type=ParserType(USE), help=RANK.param("use").help + ".")
@click.option(
    "--limit", "-n", default=15, show_default=True, type=click.IntRange(1, 100), help="How many to list."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see README).")
@click.pass_obj
def rank_command(state: CliState, budget: Budget, use: Use | None, limit: int, as_json: bool) -> None:
    """What can I run? The best models for your hardware, at 4-bit or better, with their speed.

    BUDGET as for `fitbot fit`. Models at 4-bit or better, 8K+ context, usable speed.

    \b
    Ranked by downloads and likes, recency and size class.
    Example:
      fitbot rank "RTX 3090" --use code
    """

    async def run() -> tuple[RankedModel, ...]:
        async with open_service(state.settings) as service:
            records = await list_models(service.db, limit=RANK_CANDIDATES)
        candidates = rank_candidates(records, datetime.now(UTC))
        return rank_models(candidates, budget, use=use, limit=limit)

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
