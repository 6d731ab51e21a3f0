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
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from lockgen.core.errors import MetadataError
from lockgen.core.limits import METADATA_LIMIT

if TYPE_CHECKING:
    from typing import IO

    from packaging.utils import NormalizedName

__all__ = [
    "MAX_METADATA_SIZE",
    "ReadAt",
    "read_wheel_metadata",
    "read_wheel_metadata_from_file",
]

#: Larger METADATA / PKG-INFO files are refused rather than inflated into memory.
MAX_METADATA_SIZE = METADATA_LIMIT

_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes
_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL_SIG = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
_MAX_EXTRACT_VERSION = 63  # zipfile.MAX_EXTRACT_VERSION
_ZIP64_EXTRA_ID = 0x0001
_STORED, _DEFLATED = 0, 8
_FLAG_ENCRYPTED, _FLAG_UTF8 = 0x1, 0x800
_FLAG_PATCHED, _FLAG_STRONG_ENCRYPTION = 0x20, 0x40
# Most a member can span besides its data: local header, name, extra, data descriptor.
_MEMBER_OVERHEAD = _LOCAL.size + 2 * 0xFFFF + 24

#: Fields whose loss would silently change a resolution, so unreadable ones are errors.


class ReadAt(Protocol):
    """Random access to a remote or local archive: exactly ``length`` bytes at ``start``."""

    def __call__(self, start: int, length: int, /) -> bytes: ...


class _Entry(NamedTuple):
    """What the central directory says about one member."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int


class _Archive:
    """The reader with the archive's size and file name, so every read is checked."""

    def __init__(self, read_at: ReadAt, size: int, filename: str) -> None:
        self.read_at = read_at
        self.size = size
        self.filename = filename

    def read(self, start: int, length: int) -> bytes:
        """Bytes ``[start, start + length)``, or a MetadataError if they are not there."""
        if start < 0 or length < 0 or start + length > self.size:
            raise self.error(
                f"truncated or corrupt archive (bytes {start}..{start + length} "
                f"of a {self.size}-byte file)"
            )
        data = self.read_at(start, length)
        if len(data) != length:
            raise self.error(
                f"short read: wanted {length} bytes at {start}, got {len(data)}"
            )
        return data

    def error(self, reason: str) -> MetadataError:
        """A MetadataError about this archive."""
        return MetadataError(self.filename, reason)


def read_wheel_metadata(read_at: ReadAt, size: int, filename: str) -> bytes:
    """Raw bytes of ``<name>-<ver>.dist-info/METADATA`` of the wheel ``filename``.

    ``size`` is the archive's length. Reads the end record (plus the ZIP64 locator and
    record when there are some), the whole central directory in one read and the
    member in one read, because every read beyond the prefetched tail costs an HTTP
    request.
    """
    name, version = _wheel_name_version(filename)
    archive = _Archive(read_at, size, filename)
    cd_start, data, concat = _read_central_directory(archive)
    entries = _parse_central_directory(data, concat, filename)
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


def _read_central_directory(archive: _Archive) -> tuple[int, bytes, int]:
    """Where ``zipfile`` finds the central directory, its bytes, and the shift.

    ``zipfile`` takes ZIP64 values only from a locator right before the end record
    and a record right before that, and places the directory by its size, right
    before those records; the stated offset only yields the shift ("concat") added
    to every member offset. When the end record is plain, the directory read also
    covers where a locator would be, so the common case still costs one read.
    """
    eocd_at, eocd = _find_eocd(archive)
    _sig, disk, cd_disk, n_here, n_total, cd_size, cd_offset, _n = _EOCD.unpack(eocd)
    saturated = _U16 in (n_here, n_total) or _U32 in (cd_size, cd_offset)
    data = None
    if not saturated and _ZIP64_LOCATOR.size <= cd_size <= eocd_at:
        data = archive.read(eocd_at - cd_size, cd_size)
        locator = data[-_ZIP64_LOCATOR.size :]
    elif eocd_at >= _ZIP64_LOCATOR.size:
        locator = archive.read(eocd_at - _ZIP64_LOCATOR.size, _ZIP64_LOCATOR.size)
    else:
        locator = b""
    zip64 = _read_zip64_end(archive, eocd_at, locator)
    if zip64 is not None:
        cd_size, cd_offset = zip64
        data = None
        records_at = eocd_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    elif saturated:
        raise archive.error("ZIP64 end of central directory locator is missing")
    elif disk or cd_disk:
        raise archive.error("multi-disk zip archives are not supported")
    else:
        records_at = eocd_at
    start = records_at - cd_size
    if start < 0:
        raise archive.error("bad offset for central directory")
    if data is None:
        data = archive.read(start, cd_size)
    return start, data, start - cd_offset


def _find_eocd(archive: _Archive) -> tuple[int, bytes]:
    """Position and fixed 22 bytes of the end record, as ``zipfile`` finds it.

    That is the last end signature in the file's final 64 KiB, whatever its comment
    length claims: an earlier, self-consistent record is not what installers read.
    """
    size = archive.size
    if size < _EOCD.size:
        raise archive.error("not a zip archive (too short)")
    tail = archive.read(size - _EOCD.size, _EOCD.size)
    if tail.startswith(_EOCD_SIG) and tail[20:] == b"\0\0":
        return size - _EOCD.size, tail
    start = max(0, size - _EOCD.size - _MAX_COMMENT)
    tail = archive.read(start, size - start)
    pos = tail.rfind(_EOCD_SIG)
    if pos < 0 or pos + _EOCD.size > len(tail):
        raise archive.error("not a zip archive (no end of central directory record)")
    return start + pos, tail[pos : pos + _EOCD.size]


def _read_zip64_end(
    archive: _Archive, eocd_at: int, locator: bytes
) -> tuple[int, int] | None:
    """(CD size, CD offset) from the ZIP64 record, or None when ``zipfile`` sees none.

    Like ``zipfile``, the locator must end where the end record starts and the
    record must end where the locator starts; the locator's own offset is ignored.
    """
    if len(locator) != _ZIP64_LOCATOR.size:
        return None
    sig, disk, _record_at, disks = _ZIP64_LOCATOR.unpack(locator)
    if sig != _ZIP64_LOCATOR_SIG:
        return None
    if disk != 0 or disks > 1:
        raise archive.error("multi-disk zip archives are not supported")
    record_at = eocd_at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    if record_at < 0:
        raise archive.error("ZIP64 end of central directory record is out of range")
    record = _ZIP64_EOCD.unpack(archive.read(record_at, _ZIP64_EOCD.size))
    if record[0] != _ZIP64_EOCD_SIG:
        return None
    return record[-2], record[-1]


def _parse_central_directory(data: bytes, concat: int, filename: str) -> list[_Entry]:
    """Every entry of a central directory read in one piece, offsets shifted by
    ``concat`` as ``zipfile`` shifts them; any entry ``zipfile`` cannot parse makes
    the whole archive unreadable to installers, so it is refused here too."""
    entries = []
    pos = 0
    while pos < len(data):
        entry, pos = _parse_central_header(data, pos, concat, filename)
        entries.append(entry)
    return entries


def _parse_central_header(
    data: bytes, pos: int, concat: int, filename: str
) -> tuple[_Entry, int]:
    """One central directory header at ``pos``, and where the next one starts."""
    if pos + _CENTRAL.size > len(data):
        raise MetadataError(filename, "truncated central directory")
    (
        sig,
        _made,
        needed,
        flags,
        method,
        _time,
        _date,
        crc,
        csize,
        usize,
        n,
        m,
        k,
        _disk,
        _internal,
        _external,
        offset,
    ) = _CENTRAL.unpack_from(data, pos)
    if sig != _CENTRAL_SIG:
        raise MetadataError(filename, f"bad central directory signature at {pos}")
    name_at = pos + _CENTRAL.size
    end = name_at + n + m + k
    if end > len(data):
        raise MetadataError(filename, "truncated central directory")
    raw_name = data[name_at : name_at + n]
    extra = data[name_at + n : name_at + n + m]
    name = _decode_name(raw_name, flags, filename)
    if needed & 0xFF > _MAX_EXTRACT_VERSION:  # zipfile raises NotImplementedError
        raise MetadataError(filename, f"{name!r} needs zip version {needed & 0xFF}")
    usize, csize, offset = _apply_zip64_extra(extra, (usize, csize, offset), filename)
    # zipfile's ZipInfo cuts names at NUL: that cut name is the one installers look up
    entry = _Entry(
        name.split("\0", 1)[0], raw_name, flags, method, crc, csize, usize,
        offset + concat,
    )  # fmt: skip
    return entry, end


def _apply_zip64_extra(
    extra: bytes, values: tuple[int, int, int], filename: str
) -> tuple[int, int, int]:
    """(usize, csize, offset) after every ZIP64 extra block, as ``zipfile`` applies them.

    Each 0x0001 block replaces, in order, the values still saturated; a block whose
    length runs past the extra field makes ``zipfile`` refuse the archive.
    """
    usize, csize, offset = values
    pos = 0
    while len(extra) - pos >= 4:
        block_id, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if len(body) != length:
            raise MetadataError(filename, f"corrupt extra field {block_id:04x}")
        if block_id == _ZIP64_EXTRA_ID:
            usize, csize, offset = _zip64_block(body, (usize, csize, offset), filename)
        pos += 4 + length
    if _U32 in (usize, csize, offset):
        raise MetadataError(filename, "a saturated size or offset has no ZIP64 extra")
    return usize, csize, offset


def _zip64_block(
    body: bytes, values: tuple[int, int, int], filename: str
) -> tuple[int, int, int]:
    """``values`` with the saturated ones read from one ZIP64 extra block."""
    usize, csize, offset = values
    fields = iter(body[i : i + 8] for i in range(0, len(body), 8))

    def take() -> int:
        field = next(fields, b"")
        if len(field) != 8:
            raise MetadataError(filename, "truncated ZIP64 extra field")
        return int.from_bytes(field, "little")

    if usize in (_U32, _U64):
        usize = take()
    if csize == _U32:
        csize = take()
    if offset == _U32:
        offset = take()
    return usize, csize, offset


def _decode_name(raw: bytes, flags: int, filename: str) -> str:
    """A member name: UTF-8 when flag bit 11 says so, else code page 437."""
    if not flags & _FLAG_UTF8:
        return raw.decode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataError(filename, f"member name is not UTF-8: {raw!r}") from exc


def _find_metadata_entry(
    entries: list[_Entry], name: NormalizedName, version: Version, filename: str
) -> _Entry:
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


def _read_member(archive: _Archive, entry: _Entry, end: int) -> bytes:
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


def _member_data(chunk: bytes, entry: _Entry, filename: str) -> bytes:
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


def _inflate(raw: bytes, entry: _Entry, filename: str) -> bytes:
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
