"""What a URL means for where its bytes come from: the one place that says which URLs
are local files (read in place, usable offline, never cached)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

if TYPE_CHECKING:
    from lockgen.core.models import DistFile

__all__ = ["is_local", "local_file"]


def is_local(url: str) -> bool:
    """Whether ``url`` is answered from disk (usable offline, never cached)."""
    return url.startswith("file:")


def local_file(dist: DistFile) -> Path | None:
    """The file on disk behind a find-links entry, or ``None`` (remote, or an index's:
    an index's ``file://`` files are read through the index, like remote ones)."""
    if dist.index or not is_local(dist.url):
        return None
    return Path(url2pathname(urlsplit(dist.url).path))
