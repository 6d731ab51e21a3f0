"""An sdist unpacked into a folder, safely: the archive is untrusted input.

A member may not leave the folder (an absolute path, ``..``, a link pointing out), may
not be a device or a FIFO, and the whole is bounded in members and bytes, so a
hostile sdist costs at most a bounded amount of disk. ``.tar.gz`` goes through the
standard library's ``data`` filter (PEP 706), ``.zip`` through the checks below.
"""

from __future__ import annotations

import zlib
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    import zipfile
    from collections.abc import Iterable

__all__ = ["MAX_MEMBERS", "MAX_UNPACKED", "unpack_sdist"]

#: The most bytes an sdist may unpack to: real ones are a few MB, the largest few
#: hundred (with vendored sources and test data).
MAX_UNPACKED = 1024 * 1024 * 1024
#: The most members an sdist may hold.
MAX_MEMBERS = 100_000


def unpack_sdist(fileobj: IO[bytes], filename: str, into: Path) -> Path:
    """Unpack the sdist ``filename`` (read from ``fileobj``) into the empty folder
    ``into``; the source tree (its single top-level folder)."""
    import tarfile  # on use: only a lock that builds an sdist unpacks one
    import zipfile

    try:
        if filename.endswith(".tar.gz"):
            with tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
                members = tar.getmembers()
                _check_bounds(len(members), sum(m.size for m in members), filename)
                top = _single_top((m.name for m in members), filename)
                tar.extractall(into, filter="data")
        elif filename.endswith(".zip"):
            with zipfile.ZipFile(fileobj) as archive:
                infos = archive.infolist()
                _check_bounds(len(infos), sum(i.file_size for i in infos), filename)
                top = _single_top((i.filename for i in infos), filename)
                for info in infos:
                    _extract_zip_member(archive, info, into, filename)
        else:
            raise _error(filename, "not an sdist file name (.tar.gz or .zip)")
    except LockgenError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _error(filename, f"cannot unpack it: {exc}") from exc
    source = into / top
    if not source.is_dir():
        raise _error(filename, f"its top-level {top!r} is not a folder")
    return source


def _check_bounds(members: int, size: int, filename: str) -> None:
    if members > MAX_MEMBERS:
        raise _error(filename, f"it has more than {MAX_MEMBERS} members")
    if size > MAX_UNPACKED:
        raise _error(filename, f"it unpacks to more than {MAX_UNPACKED} bytes")


def _single_top(names: Iterable[str], filename: str) -> str:
    """The one top-level folder every member lives in."""
    tops = {name.removeprefix("./").split("/", 1)[0] for name in names}
    tops.discard("")
    if len(tops) != 1:
        raise _error(filename, "expected one top-level folder")
    (top,) = tops
    return top


def _extract_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, into: Path, filename: str
) -> None:
    path = PurePosixPath(info.filename)
    if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
        raise _error(filename, f"member {info.filename!r} would leave its folder")
    target = into.joinpath(*path.parts)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, target.open("wb") as sink:
        written = 0
        while chunk := source.read(1024 * 1024):
            written += len(chunk)
            if written > info.file_size:  # more than its header said
                raise _error(
                    filename, f"member {info.filename!r} is longer than stated"
                )
            sink.write(chunk)


def _error(filename: str, reason: str) -> LockgenError:
    return LockgenError(f"{filename}: cannot build it: {reason}")
