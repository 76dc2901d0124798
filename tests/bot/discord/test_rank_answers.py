"""/rank answers are computed once per budget and use, and again after the catalog changes."""

from __future__ import annotations

import asyncio

from bot._commands import CommandContext, Surface
from bot._discord._rank_answers import RankAnswers
from bot._service import CatalogService
from estimator import Use, parse_budget


async def test_identical_requests_share_one_answer_until_the_index_is_rebuilt(service: CatalogService) -> None:
    """Two concurrent "24GB" requests get the same document; another use differs; a new index recomputes."""
    await service.refresh(force=True)
    ctx = CommandContext(service, surface=Surface.DISCORD)
    answers = RankAnswers()
    try:
        first, second = await asyncio.gather(
            answers(ctx, parse_budget("24GB"), None), answers(ctx, parse_budget("24GB"), None)
        )
        assert first is second and first.lines
        coder = await answers(ctx, parse_budget("24GB"), Use.CODE)
        assert coder is not first and coder.title.endswith("for code")
        await service.refresh(force=True)  # what a crawl that changed the catalog does
        again = await answers(ctx, parse_budget("24GB"), None)
        assert again is not first and again == first
    finally:
        answers.close()
