"""An sdist unpacked into a folder, safely: the archive is untrusted input.

lockgen extracts the members itself rather than through ``tarfile``'s extraction
(whose ``data`` filter could be bypassed before Python 3.11.13, CVE-2025-4517): a
member's path may not be absolute nor contain ``..``; only folders and regular files
are written; a link (symbolic or hard) is written as a copy of the regular member it
names inside the archive, and refused otherwise; anything else (a device, a FIFO) is
refused. Members are counted as they are read and their sizes summed from their
headers, so a hostile archive costs a bounded amount of time, memory and disk.
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError
from lockgen.core.limits import SDIST_MEMBERS

if TYPE_CHECKING:
    import tarfile
    import zipfile
    from collections.abc import Iterable

__all__ = ["MAX_MEMBERS", "MAX_UNPACKED", "unpack_sdist"]

#: The most bytes an sdist may unpack to: real ones are a few MB, the largest few
#: hundred (with vendored sources and test data).
MAX_UNPACKED = 1024 * 1024 * 1024
MAX_MEMBERS = SDIST_MEMBERS


def unpack_sdist(fileobj: IO[bytes], filename: str, into: Path) -> Path:
    """Unpack the sdist ``filename`` (read from ``fileobj``) into the empty folder
    ``into``; the source tree (its single top-level folder)."""
    import tarfile  # on use: only a lock that builds an sdist unpacks one
    import zipfile

    try:
        if filename.endswith(".tar.gz"):
            with tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
                top = _unpack_tar(tar, filename, into)
        elif filename.endswith(".zip"):
            with zipfile.ZipFile(fileobj) as archive:
                top = _unpack_zip(archive, filename, into)
        else:
            raise _error(filename, "not an sdist file name (.tar.gz or .zip)")
    except LockgenError:
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
        ValueError,  # a NUL in a name, among others
    ) as exc:
        raise _error(filename, f"cannot unpack it: {exc}") from exc
    source = into / top
    if not source.is_dir():
        raise _error(filename, f"its top-level {top!r} is not a folder")
    return source


def _unpack_tar(tar: tarfile.TarFile, filename: str, into: Path) -> str:
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    for member in tar:  # counted as read: a million empty headers stop early
        if len(members) >= MAX_MEMBERS:
            raise _error(filename, f"it has more than {MAX_MEMBERS} members")
        total += max(member.size, 0)
        if total > MAX_UNPACKED:
            raise _error(filename, f"it unpacks to more than {MAX_UNPACKED} bytes")
        members[_inside(member.name, filename)] = member
    top = _single_top(members, filename)
    links: list[tuple[str, str]] = []
    for name, member in members.items():
        target = into.joinpath(*PurePosixPath(name).parts)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
        elif member.isreg():
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                raise _error(filename, f"member {member.name!r} cannot be read")
            with source, target.open("wb") as sink:
                _copy(source, sink, member.size, member.name, filename)
        elif member.issym() or member.islnk():
            links.append((name, _link_target(name, member, filename)))
        else:
            raise _error(filename, f"member {member.name!r} is not a file or a folder")
    for name, pointed in links:
        _copy_link(name, pointed, members, into, filename)
    return top


def _link_target(name: str, member: tarfile.TarInfo, filename: str) -> str:
    """The archive path a link names: a symbolic link's relative to its folder, a
    hard link's from the archive's root; either must stay inside."""
    if member.islnk():
        return _inside(member.linkname, filename)
    joined = PurePosixPath(name).parent / member.linkname
    return _inside(str(joined), filename, resolve=True)


def _copy_link(
    name: str,
    pointed: str,
    members: dict[str, tarfile.TarInfo],
    into: Path,
    filename: str,
) -> None:
    """Write the link ``name`` as a copy of the regular member it points at."""
    member = members.get(pointed)
    if member is None or not member.isreg():
        raise _error(filename, f"link {name!r} does not point at a file inside it")
    target = into.joinpath(*PurePosixPath(name).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(into.joinpath(*PurePosixPath(pointed).parts), target)


def _unpack_zip(archive: zipfile.ZipFile, filename: str, into: Path) -> str:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _error(filename, f"it has more than {MAX_MEMBERS} members")
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise _error(filename, f"it unpacks to more than {MAX_UNPACKED} bytes")
    names = [_inside(i.filename, filename) for i in infos]
    top = _single_top(names, filename)
    for name, info in zip(names, infos, strict=True):
        target = into.joinpath(*PurePosixPath(name).parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, target.open("wb") as sink:
            _copy(source, sink, info.file_size, info.filename, filename)
    return top


def _copy(
    source: IO[bytes], sink: IO[bytes], size: int, name: str, filename: str
) -> None:
    """Copy one member, never past the size its header stated."""
    written = 0
    while chunk := source.read(1024 * 1024):
        written += len(chunk)
        if written > size:
            raise _error(filename, f"member {name!r} is longer than stated")
        sink.write(chunk)


def _inside(name: str, filename: str, *, resolve: bool = False) -> str:
    """``name`` as a relative archive path that stays inside (``resolve``: ``..``
    parts are followed, as a symbolic link's target is, and may not climb out)."""
    if "\\" in name or "\0" in name:
        raise _error(filename, f"member {name!r} would leave its folder")
    path = PurePosixPath(name)
    parts: list[str] = []
    for part in path.parts:
        if part == ".":
            continue
        if part == ".." and resolve and parts:
            parts.pop()
            continue
        if part in ("..", "/") or path.is_absolute():
            raise _error(filename, f"member {name!r} would leave its folder")
        parts.append(part)
    if not parts:
        raise _error(filename, f"member {name!r} names no file")
    return "/".join(parts)


def _single_top(names: Iterable[str], filename: str) -> str:
    """The one top-level folder every member lives in."""
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) != 1:
        raise _error(filename, "expected one top-level folder")
    (top,) = tops
    return top


def _error(filename: str, reason: str) -> LockgenError:
    return LockgenError(f"{filename}: cannot build it: {reason}")
