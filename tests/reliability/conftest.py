"""Fixtures for the reliability tests (issue 7): everything stays on 127.0.0.1.

Each test module runs its item once (a module-scoped fixture) and its tests assert the
issue's conditions on that one run; ``python -m bench.reliability`` runs the same code at
full size and writes docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huggingface_hub import constants


@pytest.fixture(autouse=True, scope="session")
def _no_hub_telemetry() -> Iterator[None]:
    """huggingface_hub 2.4 fetches an agent registry from huggingface.co (not loopback) to
    build its user agent unless telemetry is off; these tests must not reach it."""
    saved = constants.HF_HUB_DISABLE_TELEMETRY
    constants.HF_HUB_DISABLE_TELEMETRY = True
    yield
    constants.HF_HUB_DISABLE_TELEMETRY = saved
