"""Which file URLs an index page may name: a page is untrusted input, like a lock.

A page from an http(s) index, or a remote find-links page, may name only http(s)
files. A ``file:`` link (written out, or made by ``<base href="file:///">``) would
make ``lock`` hash a file of this machine into the lock and copy it into the cache,
and other schemes (``ftp:``, ``data:``, ``javascript:``) are no downloads at all. A
``file://`` index may also name local files under its root: the folder that holds
the index folder (``/srv/mirror/`` for ``file:///srv/mirror/simple/``), where mirrors
keep their ``files/`` or ``packages/`` beside ``simple/``. A local find-links page is
the user's own choice, like a directory, so it may name any local file.

An offending link is skipped, as pip skips links it cannot use, rather than refusing
the page: one bad entry then costs only itself, and ``-v`` says which was skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.core.urls import local_path, strip_credentials

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from lockgen.core.models import DistFile

__all__ = ["confine"]

_REMOTE = frozenset({"http", "https"})


def confine(
    files: Iterable[DistFile],
    source: str,
    *,
    any_local: bool = False,
    on_skip: Callable[[str], None] | None = None,
) -> list[DistFile]:
    """The files of the page at ``source`` (an index or find-links URL) it may name.

    ``any_local`` is for a local find-links page: any ``file:`` link is allowed.
    Each skipped file is reported to ``on_skip`` (a ``-v`` line).
    """
    root = _local_root(source)
    kept: list[DistFile] = []
    for dist in files:
        reason = _refusal(dist.url, root, any_local=any_local)
        if reason is None:
            kept.append(dist)
        elif on_skip is not None:
            label = strip_credentials(source)[0]
            on_skip(f"{label}: skipped {dist.filename!r}: {reason}")
    return kept


def _local_root(source: str) -> Path | None:
    """The folder a ``file://`` source may name files under (``None``: remote)."""
    if not source.startswith("file:"):
        return None
    index_dir = local_path(source)
    return index_dir.resolve().parent


def _refusal(url: str, root: Path | None, *, any_local: bool) -> str | None:
    """Why a page from ``root``'s source may not name ``url`` (``None``: it may).

    Nearly every link of a big page is a plain absolute http(s) URL: those skip
    URL parsing (parsing all of them cost 0.25 s of an offline web-service lock).
    """
    if url.startswith(("https://", "http://")):
        return None
    parts = urlsplit(url)
    if parts.scheme in _REMOTE:
        return None
    if parts.scheme != "file":
        return f"{parts.scheme or 'no'} scheme (links must be http(s))"
    if root is None and not any_local:
        return "a remote page may not name a file: URL"
    if parts.netloc not in ("", "localhost"):
        return "a file: URL on another host"
    if any_local or root is None:
        return None
    # local_path unquotes once, as the transport does when it opens the file
    try:
        path = local_path(url).resolve()
    except ValueError:  # "%00", or a lone surrogate: no file can have that name
        return "a file: URL no file can have"
    if not path.is_relative_to(root):
        return f"a file: URL outside the index's root {root}"
    return None
