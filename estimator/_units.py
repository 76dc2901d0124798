"""Byte units, said once.

GiB is 2**30 bytes and GB is 10**9 bytes. A size a user types ("24GB") is memory as
vendors sell it, which is GiB; sizes that fitbot computes always carry their unit.
"""

from __future__ import annotations

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
TIB = 1 << 40
KB = 10**3
MB = 10**6
GB = 10**9
TB = 10**12
