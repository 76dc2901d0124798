"""The name index is frozen out of the cyclic GC's sight; nothing else may stay frozen for good."""

from __future__ import annotations

import gc
import weakref

from bot._discord._client import _freeze_long_lived_objects


class _Cyclic:
    """Stands for a view with buttons: it refers to itself through its items."""

    def __init__(self) -> None:
        self.me = self


def test_what_died_after_a_freeze_is_collected_at_the_next_rebuild() -> None:
    """A view alive at one index rebuild and dead by the next is freed then, not kept forever."""
    view = _Cyclic()
    alive = weakref.ref(view)
    try:
        _freeze_long_lived_objects()
        del view
        gc.collect()
        assert alive() is not None  # frozen: the collector does not see it (why the rebuild must unfreeze)
        _freeze_long_lived_objects()
        assert alive() is None
    finally:
        gc.unfreeze()  # the test process shares one collector
