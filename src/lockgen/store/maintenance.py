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
from typing import NamedTuple

__all__ = ["OLD_LAYOUT", "Cleaned", "clean", "info"]

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
_FLAT = frozenset(_KINDS) - {"build-envs", "build-logs", "git"}
#: The row of ``cache info`` for entries in that old layout.
OLD_LAYOUT = "old layout (not read; cache clean removes it)"
_STALE_TEMP_SECONDS = 3600


class Cleaned(NamedTuple):
    """What ``cache clean`` did: the bytes it freed, and how many files (or folders
    it could not list) it had to leave (a read-only mount, another user's files).
    What another lockgen writes meanwhile is not counted: that is not a failure."""

    freed: int
    kept: int


def info(base: Path) -> dict[str, tuple[int, int]]:
    """``kind -> (entries, bytes on disk)`` for each kind under ``base``, then
    :data:`OLD_LAYOUT` if any file is still in a subdirectory of a kind that is now
    one flat directory (written by an earlier lockgen; never read, so not counted
    as an entry of its kind)."""
    kinds = {}
    old_entries = old_size = 0
    for kind in _KINDS:
        here, below = _tally(base / kind)
        if kind in _FLAT:
            kinds[kind] = here
            old_entries += below[0]
            old_size += below[1]
        else:
            kinds[kind] = (here[0] + below[0], here[1] + below[1])
    if old_entries:
        kinds[OLD_LAYOUT] = (old_entries, old_size)
    return kinds


def clean(base: Path) -> Cleaned:
    """Remove every entry and stale temp file under ``base``.

    ``base`` is removed too once empty; what is beside it is left alone.
    """
    cleaning = _Cleaning()
    try:
        children = list(os.scandir(base))
    except FileNotFoundError:
        return Cleaned(0, 0)
    except OSError:
        return Cleaned(0, 1)
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for child in children:
        if child.name == "tmp" and child.is_dir(follow_symlinks=False):
            cleaning.stale(Path(child.path), cutoff)
        else:
            cleaning.any(Path(child.path))
    _remove_dir(base / "tmp")
    _remove_dir(base)
    return Cleaned(cleaning.freed, cleaning.kept)


def _tally(top: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    """Regular files right in ``top``, and those further down: (how many, bytes)
    of each, in one walk."""
    counts = [0, 0, 0, 0]  # here: entries, bytes; below: entries, bytes
    for parent, _dirs, files in os.walk(top):
        at = 0 if parent == str(top) else 2
        for name in files:
            try:
                found = Path(parent, name).lstat()
            except OSError:
                continue
            if stat.S_ISREG(found.st_mode):
                counts[at] += 1
                counts[at + 1] += found.st_size
    return (counts[0], counts[1]), (counts[2], counts[3])


class _Cleaning:
    """Bytes freed and files left, over one ``clean``."""

    def __init__(self) -> None:
        self.freed = 0
        self.kept = 0

    def stale(self, tmp: Path, cutoff: float) -> None:
        """The temp files in ``tmp`` older than ``cutoff`` (younger ones may be
        being written by another lockgen: they are neither removed nor counted)."""
        try:
            entries = list(os.scandir(tmp))
        except OSError:
            self.kept += 1
            return
        for entry in entries:
            with suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    self.any(Path(entry.path))

    def any(self, path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            self.tree(path)
        else:
            self.file(path)

    def tree(self, top: Path) -> None:
        for parent, dirs, files in os.walk(top, topdown=False, onerror=self._unlisted):
            for name in files:
                self.file(Path(parent, name))
            for name in dirs:
                _remove_dir(Path(parent, name))
        _remove_dir(top)

    def file(self, path: Path) -> None:
        """Unlink ``path``, counting the bytes that frees (none if other links
        remain); one that is already gone is no failure."""
        try:
            found = path.lstat()
            path.unlink()
        except FileNotFoundError:
            return
        except OSError:
            self.kept += 1
            return
        if stat.S_ISREG(found.st_mode) and found.st_nlink <= 1:
            self.freed += found.st_size

    def _unlisted(self, error: OSError) -> None:
        if not isinstance(error, FileNotFoundError):
            self.kept += 1  # a folder it cannot list: whatever is in it stays


def _remove_dir(path: Path) -> None:
    with suppress(OSError):
        if path.is_symlink():
            path.unlink()
        else:
            path.rmdir()
