"""Store maintenance commands: ``python -m store precompute``."""

from __future__ import annotations

import sys
from pathlib import Path

from ._catalog import bundled_entries
from ._precompute import FILE_NAME, write_precomputed
from ._template import TEMPLATE_FILE, write_template


def main(argv: list[str]) -> int:
    if argv != ["precompute"]:
        print(
            "usage: python -m store precompute   (regenerates the generated files in store/data)",
            file=sys.stderr,
        )
        return 2
    target = Path(__file__).resolve().parent / "data" / FILE_NAME
    count = write_precomputed(bundled_entries(), target)
    print(f"wrote {count} precomputed accountings to {target}")
    template = target.with_name(TEMPLATE_FILE)
    write_template(template)  # after the accountings: the seeded store is built from them
    print(f"wrote the seeded bundled store to {template}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
