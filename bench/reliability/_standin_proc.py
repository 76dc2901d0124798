"""The Hub stand-in in a process of its own, so that its CPU does not share a GIL with what
is being measured. ``python -m bench.reliability._standin_proc COUNT [LATENCY_S]`` serves
COUNT tiny single-file repos, prints its URL, and stops when its stdin closes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ._common import ROOT, loopback_only

SMALL_PREFIX = "fitbot-reliability"
START_LIMIT_S = 60.0


@contextmanager
def small_hub(count: int, *, latency_s: float = 0.0) -> Iterator[str]:
    """A stand-in process serving ``count`` tiny single-file repos; yields its URL."""
    process = subprocess.Popen([sys.executable, "-m", "bench.reliability._standin_proc", str(count), str(latency_s)],
                               cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()  # the child prints its URL once it listens
        loopback_only(url)
        yield url
    finally:
        process.stdin.close()  # the child's signal to stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def top_sources(count: int) -> str:
    """A sources file listing the first ``count`` repos by downloads."""
    return f'[[source]]\nname = "top"\nkind = "top"\nlimit = {count}\n'


def main(argv: list[str]) -> None:
    from tests.crawler.corpus import small_repos
    from tests.crawler.hub_standin import HubStandIn

    count, latency_s = int(argv[0]), float(argv[1]) if len(argv) > 1 else 0.0
    with HubStandIn(small_repos(count, prefix=SMALL_PREFIX), latency_s=latency_s, page_size=1000) as standin:
        print(standin.url, flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)


if __name__ == "__main__":
    main(sys.argv[1:])
