"""Writing a lock file in one rename, so that a failed or interrupted run never leaves
a half-written or missing lock (the old one stays)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from lockgen.core.errors import LockFileError

__all__ = ["write_atomically"]


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename; on failure the old file stays.

    A new lock gets the mode the user's umask gives a new file (the temporary file is
    opened with 0o666, which the kernel masks; ``mkstemp``'s 0o600 would hide a
    committed lock from a group); an existing lock keeps its mode. Whatever stops
    the write, Ctrl-C included, removes the temporary file.
    """
    folder = path.parent if str(path.parent) else Path()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    try:
        fd, tmp = _create_temporary(folder, path.name)
    except OSError as exc:
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new file ``.NAME.RANDOM.tmp`` in ``folder``, created with the umask's mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))
