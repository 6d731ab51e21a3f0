"""Process-wide memory settings for a command-line lock: freed big buffers go back
to the system at once, and the cyclic garbage collector runs less often.

Both change the whole process, so only the command line applies them (through
:attr:`lockgen.app.services.Services.before_resolving`); the API leaves the process
of the build tool that calls it alone.

- A lock reads index pages of up to tens of MB, each body a few large buffers that
  are freed once the page is cut into entries. glibc's malloc serves such buffers
  with ``mmap`` at first, but raises its ``mmap`` threshold each time one is freed,
  so the later ones come from the heap and stay there, fragmented, after they are
  freed: locking prefect (106 packages, 36 MB of pages) peaked at 152-161 MB of RSS,
  of which tracemalloc saw 72 MB alive. Fixing the threshold at glibc's own starting
  value keeps every buffer of 128 KiB or more in ``mmap``, returned when freed:
  122-126 MB, for no measured change in time. Elsewhere (musl, macOS, Windows)
  nothing is done.
- What a lock allocates is nearly all acyclic (bytes, strings, tuples of entries),
  but it is a lot, and Python's default thresholds (700 new containers) made the
  collector run about 390 times in prefect's lock, scanning an ever larger heap:
  250 ms, all of it holding the GIL the fetching threads wait for. Freezing what the
  imports made (it lives as long as the process) and collecting after 20000 new
  containers rather than 700: 60 ms.
"""

from __future__ import annotations

import gc
import sys

__all__ = [
    "MMAP_THRESHOLD",
    "YOUNG_COLLECTION",
    "collect_less",
    "return_big_buffers",
    "tune_for_a_lock",
]

#: glibc's initial ``M_MMAP_THRESHOLD`` (bytes), kept from then on.
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
#: New container objects between two collections of the youngest generation.
YOUNG_COLLECTION = 20000


def tune_for_a_lock() -> None:
    """Both settings (see the module docstring), for a lock about to resolve."""
    return_big_buffers()
    collect_less()


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


def collect_less() -> None:
    """Leave the objects alive now out of every later collection, and collect the
    youngest generation after :data:`YOUNG_COLLECTION` new containers."""
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, middle, oldest)
