"""Where a zip archive's central directory is: the end record, ZIP64 records, and
checked random access to the archive.

Split from :mod:`lockgen.core.wheel_zip` because locating the directory is the part
of reading a wheel that must copy CPython's ``zipfile`` quirk for quirk (the last end
record, ZIP64 only when a locator and record sit right before it, the directory
placed by its size): kept alone, those rules can be read against ``zipfile``'s own.
Pure: every byte comes through an injected :class:`ReadAt`.
"""

from __future__ import annotations

import struct
from typing import Protocol

from lockgen.core.errors import MetadataError

__all__ = ["U32", "Archive", "ReadAt", "locate_central_directory"]

_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF
_U16 = 0xFFFF
#: A saturated 32-bit field: the real value is in a ZIP64 record or extra block.
U32 = 0xFFFFFFFF


class ReadAt(Protocol):
    """Random access to a remote or local archive: exactly ``length`` bytes at ``start``."""

    def __call__(self, start: int, length: int, /) -> bytes: ...


class Archive:
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


def locate_central_directory(archive: Archive) -> tuple[int, bytes, int]:
    """Where ``zipfile`` finds the central directory, its bytes, and the shift.

    ``zipfile`` takes ZIP64 values only from a locator right before the end record
    and a record right before that, and places the directory by its size, right
    before those records; the stated offset only yields the shift ("concat") added
    to every member offset. When the end record is plain, the directory read also
    covers where a locator would be, so the common case still costs one read.
    """
    eocd_at, eocd = _find_eocd(archive)
    _sig, disk, cd_disk, n_here, n_total, cd_size, cd_offset, _n = _EOCD.unpack(eocd)
    saturated = _U16 in (n_here, n_total) or U32 in (cd_size, cd_offset)
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


def _find_eocd(archive: Archive) -> tuple[int, bytes]:
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
    archive: Archive, eocd_at: int, locator: bytes
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
