"""Hand big freed buffers back to the system at once, so a lock's peak memory is
what it holds, not what it once held.

A lock reads index pages of up to tens of MB, each body a few large buffers that are
freed once the page is cut into entries. glibc's malloc serves such buffers with
``mmap`` at first, but raises its ``mmap`` threshold each time one is freed, so the
later ones come from the heap and stay there, fragmented, after they are freed:
locking prefect (106 packages, 36 MB of pages) peaked at 156-161 MB of RSS, of which
tracemalloc saw 72 MB alive. Fixing the threshold at glibc's own starting value keeps
every buffer of 128 KiB or more in ``mmap``, returned when freed: 122-124 MB, for
no measured change in time. Elsewhere (musl, macOS, Windows) nothing is done.
"""

from __future__ import annotations

import sys

__all__ = ["MMAP_THRESHOLD", "return_big_buffers"]

#: glibc's initial ``M_MMAP_THRESHOLD`` (bytes), kept from then on.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h


def return_big_buffers() -> bool:
    """Keep buffers of :data:`MMAP_THRESHOLD` bytes or more out of the heap for the
    rest of the process; ``True`` if the C library took the setting."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
