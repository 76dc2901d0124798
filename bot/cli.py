"""The ``fitbot`` console entry point; the wiring lives in ``bot.app``."""

from __future__ import annotations

import sys

from .app import main

__all__ = ["main", "run"]


def run() -> None:  # pragma: no cover - console entry
    main(prog_name="fitbot")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="fitbot"))
