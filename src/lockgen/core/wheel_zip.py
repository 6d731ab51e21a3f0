"""A wheel's METADATA through random access: end record, ZIP64, central directory.

Pure, and written against an injected ``read_at`` so the range-request client, the
whole-file fallback and the tests share one ZIP reader with a fixed, cheap read
pattern (end record, optional ZIP64 records, the whole central directory in one read,
then the member in one read): with the HTTP client's 32 KiB tail prefetch, that is one
request for nearly every wheel.

Every step mirrors how CPython's ``zipfile`` (which pip and installer install with)
reads an archive: the last end record, ZIP64 only when a locator and record sit right
before it, the central directory placed by its size (the "concat" shift for prepended
bytes), its names decoded and cut at NUL the same way. Where ``zipfile`` would read
something else or fail, lockgen refuses, so a lock never records dependencies that
differ from the installed wheel's.

This module owns the wheel's side (which member is METADATA, reading and checking
it); :mod:`lockgen.core.zip_end` locates the central directory and
:mod:`lockgen.core.zip_directory` parses it.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lockgen.core.errors import MetadataError
from lockgen.core.limits import METADATA_LIMIT
from lockgen.core.zip_directory import parse_central_directory
from lockgen.core.zip_end import Archive, ReadAt, locate_central_directory

if TYPE_CHECKING:
    from typing import IO

    from packaging.utils import NormalizedName

    from lockgen.core.zip_directory import Entry

__all__ = [
    "MAX_METADATA_SIZE",
    "ReadAt",
    "read_wheel_metadata",
    "read_wheel_metadata_from_file",
]

#: Larger METADATA / PKG-INFO files are refused rather than inflated into memory.
MAX_METADATA_SIZE = METADATA_LIMIT

_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes
_LOCAL_SIG = b"PK\x03\x04"
_STORED, _DEFLATED = 0, 8
_FLAG_ENCRYPTED = 0x1
_FLAG_PATCHED, _FLAG_STRONG_ENCRYPTION = 0x20, 0x40
# Most a member can span besides its data: local header, name, extra, data descriptor.
_MEMBER_OVERHEAD = _LOCAL.size + 2 * 0xFFFF + 24


def read_wheel_metadata(read_at: ReadAt, size: int, filename: str) -> bytes:
    """Raw bytes of ``<name>-<ver>.dist-info/METADATA`` of the wheel ``filename``.

    ``size`` is the archive's length. Reads the end record (plus the ZIP64 locator and
    record when there are some), the whole central directory in one read and the
    member in one read, because every read beyond the prefetched tail costs an HTTP
    request.
    """
    name, version = _wheel_name_version(filename)
    archive = Archive(read_at, size, filename)
    cd_start, data, concat = locate_central_directory(archive)
    entries = parse_central_directory(data, concat, filename)
    entry = _find_metadata_entry(entries, name, version, filename)
    following = [e.offset for e in entries if e.offset > entry.offset]
    end = min([cd_start, *following])
    return _read_member(archive, entry, end)


def _wheel_name_version(filename: str) -> tuple[NormalizedName, Version]:
    """The project and version a wheel's file name promises."""
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise MetadataError(filename, f"not a wheel file name: {exc}") from exc
    return name, version


def _find_metadata_entry(
    entries: list[Entry], name: NormalizedName, version: Version, filename: str
) -> Entry:
    """The METADATA entry of the one top-level ``.dist-info`` dir matching the wheel."""
    tops = {e.name.split("/", 1)[0] for e in entries}  # top-level files count too
    every = sorted(d for d in tops if d.endswith(".dist-info"))
    if len(every) > 1:  # pip and uv refuse these too: which one would be installed?
        raise MetadataError(
            filename,
            "several .dist-info directories: " + ", ".join(map(_shown, every)),
        )
    dirs = [d for d in every if _is_dist_info_of(d, name, version)]
    if not dirs:
        raise MetadataError(
            filename,
            f"no .dist-info/METADATA (no top-level .dist-info directory "
            f"for {name} {version})",
        )
    wanted = f"{dirs[0]}/METADATA"
    found = [e for e in entries if e.name == wanted]
    if len(found) != 1:
        problem = "is missing" if not found else "appears more than once"
        raise MetadataError(filename, f"{_shown(wanted)} {problem}")
    return found[0]


def _shown(name: str) -> str:
    """An archive's member name fit for a one-line message: as is, or its repr."""
    return name if name.isprintable() else repr(name)


def _is_dist_info_of(directory: str, name: NormalizedName, version: Version) -> bool:
    """Whether ``directory`` is ``<name>-<version>.dist-info`` up to normalisation."""
    if not directory.endswith(".dist-info"):
        return False
    project, sep, ver = directory.removesuffix(".dist-info").rpartition("-")
    if not sep:
        return False
    try:
        return canonicalize_name(project) == name and Version(ver) == version
    except InvalidVersion:
        return False


def _read_member(archive: Archive, entry: Entry, end: int) -> bytes:
    """The checked, inflated bytes of ``entry``, whose local header is followed by ``end``."""
    if entry.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
        raise archive.error(f"{_shown(entry.name)} is encrypted")
    if entry.flags & _FLAG_PATCHED:
        raise archive.error(f"{_shown(entry.name)} is compressed patched data")
    if entry.method not in (_STORED, _DEFLATED):
        raise archive.error(
            f"{_shown(entry.name)} uses unsupported compression method {entry.method}"
        )
    if max(entry.usize, entry.csize) > MAX_METADATA_SIZE:
        raise archive.error(f"{_shown(entry.name)} is too large ({entry.usize} bytes)")
    span = min(end - entry.offset, _MEMBER_OVERHEAD + entry.csize)
    if span < _LOCAL.size:
        raise archive.error(f"{_shown(entry.name)} has no room for its local header")
    raw = _member_data(archive.read(entry.offset, span), entry, archive.filename)
    data = _inflate(raw, entry, archive.filename)
    if zlib.crc32(data) != entry.crc:
        raise archive.error(f"{_shown(entry.name)} fails its CRC-32 check")
    return data


def _member_data(chunk: bytes, entry: Entry, filename: str) -> bytes:
    """The compressed data in ``chunk``, which starts at the entry's local header."""
    sig, *_middle, n, m = _LOCAL.unpack_from(chunk)
    if sig != _LOCAL_SIG:
        raise MetadataError(
            filename, f"bad local header signature for {_shown(entry.name)}"
        )
    start = _LOCAL.size + n + m
    if start + entry.csize > len(chunk):
        raise MetadataError(filename, f"{_shown(entry.name)} is truncated")
    if chunk[_LOCAL.size : _LOCAL.size + n] != entry.raw_name:
        raise MetadataError(
            filename, f"local header name differs from {entry.name!r} in the directory"
        )
    return chunk[start : start + entry.csize]


def _inflate(raw: bytes, entry: Entry, filename: str) -> bytes:
    """Stored or raw-deflate data, at most one byte past the announced size."""
    data = raw
    if entry.method == _DEFLATED:
        try:
            data = zlib.decompressobj(-15).decompress(raw, entry.usize + 1)
        except zlib.error as exc:
            raise MetadataError(
                filename, f"{_shown(entry.name)} is corrupt: {exc}"
            ) from exc
    if len(data) != entry.usize:
        raise MetadataError(
            filename,
            f"{_shown(entry.name)} is {len(data)} bytes, the central directory says "
            f"{entry.usize}",
        )
    return data


def read_wheel_metadata_from_file(fh: IO[bytes], filename: str) -> bytes:
    """:func:`read_wheel_metadata` over a seekable local file (downloaded wheels)."""
    size = fh.seek(0, 2)

    def read_at(start: int, length: int) -> bytes:
        fh.seek(start)
        return fh.read(length)

    return read_wheel_metadata(read_at, size, filename)
