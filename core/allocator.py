"""glibc malloc settings for processes that receive, forward and free large bodies on every request.

By default glibc serves a block above a moving threshold (128 KiB at start) with a fresh mmap, and gives the top
of the heap back to the kernel once the free space there passes twice the last such block. A server that receives
a 400 KB body, forwards it and frees it on every request then page-faults every page of its next buffers: on the
engine's V2 binary benchmark that was a quarter of its CPU. Keeping freed heap up to `TRIM_THRESHOLD` and serving
blocks up to `MMAP_THRESHOLD` from the heap lets those buffers reuse memory that is already mapped; the cost is
that the process keeps up to `TRIM_THRESHOLD` of freed memory instead of returning it at once.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

MIB = 1024 * 1024
TRIM_THRESHOLD = 32 * MIB
MMAP_THRESHOLD = 32 * MIB  # glibc's largest accepted value on 64-bit
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory(env: Mapping[str, str] | None = None) -> bool:
    """Apply the thresholds above; False (nothing changed) without glibc's `mallopt`, or when the environment
    already sets malloc tunables (the operator's choice wins)."""
    env = os.environ if env is None else env
    if any(env.get(name) for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
