"""A zip archive's central directory, parsed entry by entry as ``zipfile`` parses it.

Split from :mod:`lockgen.core.wheel_zip`: this part turns the directory's bytes
(read in one piece) into :class:`Entry` values, applying ZIP64 extra blocks, the
``concat`` shift for prepended bytes and ``zipfile``'s name decoding, and refuses
any entry ``zipfile`` could not parse, since installers would refuse the archive.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from lockgen.core.errors import MetadataError
from lockgen.core.zip_end import U32

__all__ = ["Entry", "parse_central_directory"]

_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes
_CENTRAL_SIG = b"PK\x01\x02"
_U64 = 0xFFFFFFFFFFFFFFFF
_MAX_EXTRACT_VERSION = 63  # zipfile.MAX_EXTRACT_VERSION
_ZIP64_EXTRA_ID = 0x0001
_FLAG_UTF8 = 0x800


class Entry(NamedTuple):
    """What the central directory says about one member."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int


def parse_central_directory(data: bytes, concat: int, filename: str) -> list[Entry]:
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
) -> tuple[Entry, int]:
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
    entry = Entry(
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
    if U32 in (usize, csize, offset):
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

    if usize in (U32, _U64):
        usize = take()
    if csize == U32:
        csize = take()
    if offset == U32:
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
