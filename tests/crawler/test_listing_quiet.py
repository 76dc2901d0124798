"""A Hub that dies in the middle of a listing fails the crawl within the listing's quiet
deadline (``RetryPolicy.listing_quiet_s``), not after every retry layer has run out.

huggingface_hub's paginate() retries each page 5 times (sleeps of 1, 2, 4, 8, 8 s) and our
call retried the whole listing on top: about 150 s per listing call with the production
policy. The quiet spans both layers and every answer restarts it; here it is 2 s, so once
the second page fails, huggingface_hub's third try (3 s of its own sleeps later) is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from crawler import CrawlFailedError, crawl_once
from crawler._session import Quiet, QuietTooLongError
from store import RUN_FAILED, last_run

from .conftest import FAST, hub_for, options_for
from .corpus import small_repos
from .dying_hub import REFUSED, RESET, DyingListingHub

pytestmark = pytest.mark.network

QUIET_S = 2.0
PAGE = 50


class _RetryLines(logging.Handler):
    """Counts huggingface_hub's "Retrying in …" warnings: one per retry of a page."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "Retrying in" in record.getMessage()


@pytest.fixture
def retry_lines() -> Iterator[_RetryLines]:
    handler = _RetryLines()
    logger = logging.getLogger("huggingface_hub.utils._http")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("death", [RESET, REFUSED])
async def test_a_hub_dying_mid_listing_fails_the_crawl_within_the_quiet(db, retry_lines, death):
    """The second page's connection dies (reset, or nothing listens any more): at most two
    tries of it before the quiet refuses the third, no retry of the whole listing, the crawl
    fails naming the endpoint and the listing, and the run is recorded failed."""
    standin = DyingListingHub(small_repos(3 * PAGE), death=death, page_size=PAGE)
    standin.start()
    try:
        async with hub_for(standin, policy=replace(FAST, listing_quiet_s=QUIET_S)) as hub:
            with pytest.raises(CrawlFailedError) as caught:
                await crawl_once(hub, db, options_for(()))
    finally:
        standin.stop()
    assert standin.died.is_set()  # it did die mid-listing, after serving the first page
    message = str(caught.value)
    assert standin.url in message and "while listing 'downloads'" in message, message
    assert f"no answer for {QUIET_S:.0f} s" in message, message
    # huggingface_hub retries the dead page at most twice (1 s, then 2 s); its third try and
    # our own retry of the whole listing are refused by the quiet. Without it: 5 per try.
    assert retry_lines.count <= 2, retry_lines.count
    if death == RESET:
        assert 1 <= standin.requests_after_death <= 2, standin.requests_after_death
    run = await last_run(db)
    assert run.status == RUN_FAILED and standin.url in run.error


def test_every_answer_restarts_the_quiet():
    """The quiet is on progress: an answer, or a told wait, moves the deadline on; silence ends it."""
    now = [0.0]
    quiet = Quiet(10.0, clock=lambda: now[0])
    now[0] = 9.0
    assert quiet.left_s() == pytest.approx(1.0)
    quiet.answered()
    now[0] = 18.0
    assert quiet.left_s() == pytest.approx(1.0)  # 10 s from the answer at 9 s
    quiet.answered(extra_s=30.0)  # a 429 said: wait 30 s
    now[0] = 57.0
    assert quiet.left_s() == pytest.approx(1.0)
    now[0] = 58.0
    with pytest.raises(QuietTooLongError, match="no answer for 10 s"):
        quiet.left_s()
