"""How a run uses the cache, shared by everything that reads an index through it."""

from __future__ import annotations

import enum

from lockgen.core.errors import OfflineError

__all__ = ["CacheMode", "OfflineError"]


class CacheMode(enum.Enum):
    """How the cache is used: normally, refetching pages, or never going online."""

    NORMAL = "normal"
    REFRESH = "refresh"
    OFFLINE = "offline"
