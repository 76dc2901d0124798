"""``fitbot bot`` with the hour compressed: ``python -m bench.reliability._bot_proc VIEW_TIMEOUT_S``.

The soak plays an hour of interactions in a couple of minutes. Buttons stay live for
10 minutes (``VIEW_TIMEOUT_SECONDS``), a sixth of an hour; played at full length, every
view of the run would still be alive at its end, and the soak would measure how many
answers have buttons rather than whether memory leaks. So the view timeout is scaled by
the same factor as the hour, and nothing else changes: this runs ``fitbot bot`` itself.

With $FITBOT_BENCH_MEMORY_DIR set, SIGUSR2 writes the process's memory, part by part, there
(``_memory_parts``): how the soak tells where growth went.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from bot._discord._views import OwnedView, PagedView
    from bot.cli import main as fitbot

    from ._memory_parts import install_dump_on_signal

    timeout_s = float(argv[0])
    for view in (OwnedView, PagedView):  # keyword-only defaults, bound when the class was made
        view.__init__.__kwdefaults__["timeout"] = timeout_s
    install_dump_on_signal()
    fitbot(["bot"], prog_name="fitbot")


if __name__ == "__main__":
    main(sys.argv[1:])
