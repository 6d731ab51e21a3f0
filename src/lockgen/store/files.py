"""Files in the cache's ``tmp`` directory, and moving them into place atomically.

Every cache write goes through here: a fresh file in ``ROOT/v1/tmp`` (created with
``O_EXCL``, mode 0666 minus the umask), filled, then moved over its final name with
:func:`os.replace`. So a reader in any thread or process sees either no file or one
complete file, never a mix of two writers, and a crash leaves at most a temp file
(which ``lockgen cache clean`` removes once it is an hour old).
"""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["copy_into", "link_into", "new_temp", "unlink_quietly", "write_atomic"]

_TEMP_ATTEMPTS = 100
_O_BINARY: int = getattr(os, "O_BINARY", 0)


def new_temp(tmp: Path) -> tuple[int, Path]:
    """Create and open a fresh file in ``tmp`` (mode 0666 minus the umask)."""
    tmp.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
    for _ in range(_TEMP_ATTEMPTS):
        path = tmp / f"{os.urandom(8).hex()}.tmp"
        with suppress(FileExistsError):
            return os.open(path, flags, 0o666), path
    raise FileExistsError(f"no free temp file name in {tmp}")


def write_atomic(tmp: Path, path: Path, chunks: tuple[bytes, ...]) -> None:
    """Write ``chunks`` to a temp file in ``tmp``, then replace ``path`` with it."""
    fd, temp = new_temp(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        temp.replace(path)
    finally:
        unlink_quietly(temp)  # only still there if something failed


def link_into(tmp: Path, source: Path, final: Path) -> None:
    """Hard-link ``source`` to ``final`` via a fresh name in ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    link = tmp / f"{os.urandom(8).hex()}.tmp"
    link.hardlink_to(source)
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


def unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it is there; a file already gone or locked is no error."""
    with suppress(OSError):
        path.unlink()
