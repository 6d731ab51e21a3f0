"""Files in the cache's ``tmp`` directory, and moving them into place atomically.

Every cache write goes through here: a fresh file in ``ROOT/v1/tmp`` (created with
``O_EXCL``, mode 0666 minus the umask), filled, then moved over its final name with
:func:`os.replace`. So a reader in any thread or process sees either no file or one
complete file, never a mix of two writers, and a crash leaves at most a temp file
(which ``lockgen cache clean`` removes once it is an hour old).
"""

from __future__ import annotations

import itertools
import os
import shutil
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "copy_into",
    "ensure_dir",
    "forget",
    "link_into",
    "new_temp",
    "unlink_quietly",
    "write_atomic",
]

_TEMP_ATTEMPTS = 100
_O_BINARY: int = getattr(os, "O_BINARY", 0)
#: Temp names are this process's random prefix and a count: one ``urandom`` call per
#: process, not per file. A forked child draws its own (:func:`_new_sequence`): with
#: its parent's, it would make the very names its parent makes, and a name removed
#: after a rename (:func:`link_into`) could be the other process's fresh temp file.
#: ``O_EXCL`` still refuses a name in use, and the next count is tried.
_PREFIX = os.urandom(6).hex()
_COUNT = itertools.count()


def _new_sequence() -> None:
    global _PREFIX, _COUNT
    _PREFIX = os.urandom(6).hex()
    _COUNT = itertools.count()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_new_sequence)
#: Directories this process made or found already: a cold lock writes hundreds of
#: entries into a few directories, and asking for each again cost two system calls
#: per entry, each a release and re-take of the GIL under load. A directory removed
#: meanwhile (``cache clean`` in another process) is made again when a write finds it
#: gone, and that write tried once more.
_MADE: set[Path] = set()


def ensure_dir(path: Path) -> None:
    """Make ``path`` (and its parents) unless this process has seen it already."""
    if path not in _MADE:
        path.mkdir(parents=True, exist_ok=True)
        _MADE.add(path)


def forget(*paths: Path) -> None:
    """Let :func:`ensure_dir` make these again: a write found one of them gone."""
    for path in paths:
        _MADE.discard(path)


def new_temp(tmp: Path) -> tuple[int, Path]:
    """Create and open a fresh file in ``tmp`` (mode 0666 minus the umask)."""
    try:
        return _new_temp(tmp)
    except FileNotFoundError:  # ``tmp`` was removed since this process saw it
        forget(tmp)
        return _new_temp(tmp)


def _new_temp(tmp: Path) -> tuple[int, Path]:
    ensure_dir(tmp)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
    for _ in range(_TEMP_ATTEMPTS):
        path = _temp_name(tmp)
        with suppress(FileExistsError):
            return os.open(path, flags, 0o666), path
    raise FileExistsError(f"no free temp file name in {tmp}")


def write_atomic(tmp: Path, path: Path, chunks: tuple[bytes, ...]) -> None:
    """Write ``chunks`` to a temp file in ``tmp``, then replace ``path`` with it.

    Four system calls for a whole entry (open, one ``writev``, close, rename): each
    one lets go of the GIL, and under a busy resolution taking it back can wait a
    few milliseconds, on the path from a fetched page to the resolver.
    """
    try:
        _write_atomic(tmp, path, chunks)
    except FileNotFoundError:  # a directory was removed since this process saw it
        forget(tmp, path.parent)
        _write_atomic(tmp, path, chunks)


def _write_atomic(tmp: Path, path: Path, chunks: tuple[bytes, ...]) -> None:
    ensure_dir(path.parent)
    fd, temp = _new_temp(tmp)
    try:
        try:
            _write_all(fd, chunks)
        finally:
            os.close(fd)
        temp.replace(path)
    except BaseException:
        unlink_quietly(temp)
        raise


def _write_all(fd: int, chunks: tuple[bytes, ...]) -> None:
    """All of ``chunks`` to ``fd``: one ``writev`` where it writes all (a regular
    file's usual case), the rest with ``write``."""
    total = sum(map(len, chunks))
    done = os.writev(fd, chunks) if hasattr(os, "writev") else 0
    if done < total:
        rest = memoryview(b"".join(chunks))[done:]
        while rest:
            rest = rest[os.write(fd, rest) :]


def link_into(tmp: Path, source: Path, final: Path) -> None:
    """Hard-link ``source`` to ``final`` via a fresh name in ``tmp``."""
    ensure_dir(tmp)
    link = _temp_name(tmp)
    for _ in range(_TEMP_ATTEMPTS):
        try:
            link.hardlink_to(source)
            break
        except FileExistsError:  # a name left by a crash: the next one
            link = _temp_name(tmp)
    else:
        raise FileExistsError(f"no free temp file name in {tmp}")
    try:
        link.replace(final)
    finally:
        # still there if the replace failed, or was a no-op because ``final``
        # already was this very inode (POSIX rename of two links to one file)
        unlink_quietly(link)


def copy_into(tmp: Path, source: Path, final: Path) -> None:
    """Copy ``source`` to ``final`` via a temp file, for when linking fails."""
    fd, temp = new_temp(tmp)
    os.close(fd)
    try:
        shutil.copyfile(source, temp)
        temp.replace(final)
    finally:
        unlink_quietly(temp)


def _temp_name(tmp: Path) -> Path:
    return tmp / f"{_PREFIX}{next(_COUNT):x}.tmp"


def unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it is there; a file already gone or locked is no error."""
    with suppress(OSError):
        path.unlink()
