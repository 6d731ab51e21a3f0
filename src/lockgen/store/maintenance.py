"""``lockgen cache info`` and ``lockgen cache clean``: counting and removing entries.

Both walk the tree without following symbolic links, so neither reaches outside the
cache. ``clean`` keeps temp files younger than an hour (another lockgen may be writing
them) and counts only bytes it really frees (a hard-linked artifact frees nothing).
"""

from __future__ import annotations

import os
import stat
import time
from contextlib import suppress
from pathlib import Path

__all__ = ["OLD_LAYOUT", "clean", "info"]

#: The entry directories under ``ROOT/v1``, in the order ``cache info`` lists them.
_KINDS = (
    "pages",
    "listings",
    "metadata",
    "artifacts",
    "hashes",
    "resolutions",
    "inputs",
    "settled",
    "build-envs",
    "build-logs",
    "git",
)
#: The kinds kept in one flat directory (``pages/<key>``); earlier versions kept
#: them in 256 subdirectories (``pages/ab/<key>``), which are not read any more.
_FLAT = frozenset(
    {
        "pages",
        "listings",
        "metadata",
        "artifacts",
        "hashes",
        "resolutions",
        "inputs",
        "settled",
    }
)
#: The row of ``cache info`` for entries in that old layout.
OLD_LAYOUT = "old layout (not read; cache clean removes it)"
_STALE_TEMP_SECONDS = 3600


def info(base: Path) -> dict[str, tuple[int, int]]:
    """``kind -> (entries, bytes on disk)`` for each kind under ``base``, then
    ``"old layout"`` if any entry is still in a subdirectory of a kind that is now
    one flat directory (written by an earlier lockgen; never read, so not counted
    as an entry of its kind)."""
    kinds = {}
    old_entries = old_size = 0
    for kind in _KINDS:
        if kind in _FLAT:
            kinds[kind] = _tally(base / kind, depth=0)
            entries, size = _tally(base / kind, depth=1)
            old_entries += entries
            old_size += size
        else:
            kinds[kind] = _tally(base / kind)
    if old_entries:
        kinds[OLD_LAYOUT] = (old_entries, old_size)
    return kinds


def clean(base: Path) -> int:
    """Remove every entry and stale temp file under ``base``; returns the bytes freed.

    ``base`` is removed too once empty; what is beside it is left alone.
    """
    try:
        children = list(os.scandir(base))
    except OSError:
        return 0
    cutoff = time.time() - _STALE_TEMP_SECONDS
    freed = 0
    for child in children:
        if child.name == "tmp" and child.is_dir(follow_symlinks=False):
            freed += _remove_stale(Path(child.path), cutoff)
        else:
            freed += _remove_any(Path(child.path))
    _remove_dir(base / "tmp")
    _remove_dir(base)
    return freed


def _tally(top: Path, depth: int | None = None) -> tuple[int, int]:
    """Regular files under ``top`` (only those ``depth`` directories down, if given):
    how many, and their bytes."""
    entries = size = 0
    for parent, _dirs, files in os.walk(top):
        if depth is not None and len(Path(parent).relative_to(top).parts) != depth:
            continue
        for name in files:
            try:
                found = Path(parent, name).lstat()
            except OSError:
                continue
            if stat.S_ISREG(found.st_mode):
                entries += 1
                size += found.st_size
    return entries, size


def _remove_stale(tmp: Path, cutoff: float) -> int:
    freed = 0
    with suppress(OSError):
        for entry in os.scandir(tmp):
            with suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    freed += _remove_any(Path(entry.path))
    return freed


def _remove_any(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return _remove_tree(path)
    return _remove_file(path)


def _remove_tree(top: Path) -> int:
    freed = 0
    for parent, dirs, files in os.walk(top, topdown=False):
        for name in files:
            freed += _remove_file(Path(parent, name))
        for name in dirs:
            _remove_dir(Path(parent, name))
    _remove_dir(top)
    return freed


def _remove_file(path: Path) -> int:
    """Unlink ``path``; returns the bytes that frees (0 if other links remain)."""
    try:
        found = path.lstat()
        path.unlink()
    except OSError:
        return 0
    freed = stat.S_ISREG(found.st_mode) and found.st_nlink <= 1
    return found.st_size if freed else 0


def _remove_dir(path: Path) -> None:
    with suppress(OSError):
        if path.is_symlink():
            path.unlink()
        else:
            path.rmdir()
