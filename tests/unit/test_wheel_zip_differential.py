"""lockgen's wheel reader against CPython's ``zipfile``, which pip and installer use.

Archives come from tests/support/wheels.py's builder and from ``zipfile`` itself, then
are mutated the ways a hostile index could (bytes prepended or appended, a second end
record or whole archive appended, ZIP64 records added or removed, comments, duplicate
members, NUL in names, truncation, lying offsets and sizes, flipped name flags). For
every archive, lockgen either returns the METADATA bytes ``zipfile`` reads for the
same name, or refuses with a one-line MetadataError: it never locks dependencies that
differ from what an installer would install.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from lockgen.core.errors import MetadataError
from lockgen.core.wheel_zip import read_wheel_metadata, read_wheel_metadata_from_file
from tests.support.wheels import make_wheel

WHEEL = "demo-1.0-py3-none-any.whl"
DIST_INFO = "demo-1.0.dist-info"
METADATA = f"{DIST_INFO}/METADATA"
EOCD = struct.Struct("<4s4H2LH")
LOCATOR = struct.Struct("<4sLQL")
RECORD = struct.Struct("<4sQ2H2L4Q")
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
U32 = 0xFFFFFFFF

#: Archives per run: each is read by both readers in memory, about 2 s in all.
EXAMPLES = 400


class DiskFile(io.BytesIO):
    """Bytes that refuse a seek before the start as a real file does (BytesIO clamps),
    since pip and installer open wheels from disk and zipfile relies on that OSError."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)

    def seek(self, offset: int, whence: int = 0, /) -> int:
        base = {0: 0, 1: self.tell(), 2: self.size}[whence]
        if base + offset < 0:
            raise OSError(22, "Invalid argument")
        return super().seek(offset, whence)


def installer_metadata(data: bytes) -> bytes | None:
    """METADATA as pip finds it with zipfile (the one top-level .dist-info), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(DiskFile(data)) as zf:
                tops = {name.split("/", 1)[0] for name in zf.namelist()}
                dirs = [top for top in tops if top.endswith(".dist-info")]
                if len(dirs) != 1:
                    return None
                return zf.read(f"{dirs[0]}/METADATA")
    except Exception:  # noqa: BLE001 - any failure means installers refuse it too
        return None


def lockgen_metadata(data: bytes) -> bytes | None:
    """METADATA by lockgen's reader (range and file interfaces agree), or None."""
    try:
        got = read_wheel_metadata(
            lambda start, length: data[start : start + length], len(data), WHEEL
        )
    except MetadataError as exc:
        assert "\n" not in str(exc), str(exc)
        with pytest.raises(MetadataError):
            read_wheel_metadata_from_file(io.BytesIO(data), WHEEL)
        return None
    assert read_wheel_metadata_from_file(io.BytesIO(data), WHEEL) == got
    return got


def check(data: bytes) -> bytes | None:
    """lockgen returns nothing but what zipfile reads; what it returned."""
    got = lockgen_metadata(data)
    if got is not None:
        assert installer_metadata(data) == got
    return got


# --- archives ---------------------------------------------------------------------


def meta(requirement: str) -> bytes:
    """A METADATA naming one requirement, so two archives' answers differ."""
    return (
        f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
        f"Requires-Dist: {requirement}\n"
    ).encode()


def raw_zip(
    members: list[tuple[str, bytes]], *, stored: bool = False, comment: bytes = b""
) -> bytes:
    """An archive written by zipfile, duplicates and odd names included."""
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(buf, "w", compression=method) as zf:
            for name, content in members:  # zipfile would cut a name at NUL
                zf.writestr(name.replace("\0", "\1"), content)
            zf.comment = comment
    data = buf.getvalue()
    for name in {name for name, _ in members if "\0" in name}:
        data = data.replace(name.replace("\0", "\1").encode(), name.encode())
    return data


def eocd_at(data: bytes) -> int:
    """Where the last end signature is (where zipfile looks first), or -1."""
    return data.rfind(EOCD_SIG)


def central_directory(data: bytes) -> tuple[int, int]:
    """(offset, size) from a plain end record at the very end."""
    fields = EOCD.unpack_from(data, len(data) - EOCD.size)
    return fields[6], fields[5]


def zip64_tail(cd_offset: int, cd_size: int, record_at: int, count: int = 1) -> bytes:
    """A ZIP64 end record and its locator, for a directory at ``cd_offset``."""
    record = RECORD.pack(
        b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )
    return record + LOCATOR.pack(b"PK\x06\x07", 0, record_at, 1)


def two_directories(first: bytes, second: bytes, *, saturate: bool) -> bytes:
    """Members of two archives, both central directories, a ZIP64 record for the
    second and a plain end record for the first (the issue's two-answer archive)."""
    off1, size1 = central_directory(first)
    off2, size2 = central_directory(second)
    shift = off1
    cd2 = bytearray(second[off2 : off2 + size2])
    pos = cd2.find(CENTRAL_SIG)
    while pos >= 0:  # move the second archive's member offsets behind the first's
        (old,) = struct.unpack_from("<L", cd2, pos + 42)
        struct.pack_into("<L", cd2, pos + 42, old + shift)
        pos = cd2.find(CENTRAL_SIG, pos + 46)
    body = first[:off1] + second[:off2]
    cd1 = bytearray(first[off1 : off1 + size1])
    cd1_at = len(body)
    cd2_at = cd1_at + size1
    record_at = cd2_at + len(cd2)
    tail = zip64_tail(cd2_at, len(cd2), record_at)
    sizes = (U32, U32) if saturate else (size1, cd1_at)
    end = EOCD.pack(EOCD_SIG, 0, 0, 1, 1, *sizes, 0)
    return bytes(body + cd1 + cd2) + tail + end


@st.composite
def archives(draw: st.DrawFn) -> bytes:
    """A wheel from the builder, or a zipfile-written one with odd members."""
    if draw(st.booleans()):
        dist = make_wheel(
            "demo",
            "1.0",
            requires_dist=[draw(st.sampled_from(["a", "b>=2", "c; extra == 'x'"]))],
            compression=draw(st.sampled_from(["deflate", "stored"])),
            metadata_first=draw(st.booleans()),
            zip64=draw(st.booleans()),
            padding=draw(st.sampled_from([0, 0, 50])),
        )
        return dist.data
    names = st.sampled_from(
        [
            METADATA,
            f"{METADATA}\0x",
            "demo/__init__.py",
            f"{DIST_INFO}/WHEEL",
            "Demo-1.0.dist-info/METADATA",
            "demo-1.0.dist-info",
            "démo/ü.py",
        ]
    )
    members = draw(
        st.lists(st.tuples(names, st.sampled_from([meta("a"), meta("b"), b""]))),
    )
    if draw(st.booleans()):
        members.append((METADATA, meta("z")))
    comment = draw(st.sampled_from([b"", b"hi", EOCD_SIG + b"\0" * 18]))
    return raw_zip(members, stored=draw(st.booleans()), comment=comment)


# --- mutations ----------------------------------------------------------------------

Mutation = Callable[[bytes, st.DrawFn], bytes]


def prepend(data: bytes, draw: st.DrawFn) -> bytes:
    return draw(st.sampled_from([b"#!/bin/sh\n", b"\0" * 46, b"PK\x03\x04"])) + data


def append(data: bytes, draw: st.DrawFn) -> bytes:
    return data + draw(st.sampled_from([b"\0", b"junk" * 10, EOCD_SIG]))


def append_archive(data: bytes, draw: st.DrawFn) -> bytes:
    other = raw_zip([(METADATA, meta(draw(st.sampled_from(["evil", "a"]))))])
    return data + other


def second_end_record(data: bytes, draw: st.DrawFn) -> bytes:
    at = eocd_at(data)
    if at < 0:
        return data
    record = bytearray(data[at : at + EOCD.size].ljust(EOCD.size, b"\0"))
    field = draw(st.sampled_from([16, 12, 20]))  # offset, size, comment length
    width = 2 if field == 20 else 4
    value = draw(st.integers(0, (1 << (8 * width)) - 1))
    record[field : field + width] = value.to_bytes(width, "little")
    return data + bytes(record)


def add_zip64(data: bytes, draw: st.DrawFn) -> bytes:
    at = eocd_at(data)
    if at < 0 or at + EOCD.size > len(data):
        return data
    _sig, _d, _c, _n1, _n2, size, offset, _k = EOCD.unpack_from(data, at)
    size = draw(st.sampled_from([size, 0, size + 46, size - 1]))
    offset = draw(st.sampled_from([offset, 0, offset + 1]))
    record_at = draw(st.sampled_from([at, 0, at + 5]))
    tail = zip64_tail(offset, max(size, 0), record_at)
    if draw(st.booleans()):
        tail = tail[RECORD.size :]  # a locator alone
    return data[:at] + tail + data[at:]


def remove_zip64(data: bytes, draw: st.DrawFn) -> bytes:
    at = eocd_at(data)
    if at >= LOCATOR.size and data[at - LOCATOR.size : at].startswith(b"PK\x06\x07"):
        cut = draw(st.sampled_from([LOCATOR.size, LOCATOR.size + RECORD.size]))
        return data[: max(at - cut, 0)] + data[at:]
    return data


def set_comment(data: bytes, draw: st.DrawFn) -> bytes:
    at = eocd_at(data)
    if at < 0 or at + EOCD.size > len(data):
        return data
    comment = draw(st.sampled_from([b"c", EOCD_SIG + b"\0" * 16 + b"\xff\xff"]))
    claimed = draw(st.sampled_from([len(comment), 0, 0xFFFF]))
    head = data[: at + 20] + struct.pack("<H", claimed)
    return head + comment


def truncate(data: bytes, draw: st.DrawFn) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def overwrite(data: bytes, draw: st.DrawFn) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    value = draw(st.sampled_from([0, 0xFF, 0x01, 0x08]))
    return data[:at] + bytes([value]) + data[at + 1 :]


def lie_in_end_record(data: bytes, draw: st.DrawFn) -> bytes:
    at = eocd_at(data)
    if at < 0 or at + EOCD.size > len(data):
        return data
    field = draw(st.sampled_from([8, 10, 12, 16]))  # counts, CD size, CD offset
    width = 2 if field < 12 else 4
    old = int.from_bytes(data[at + field : at + field + width], "little")
    value = draw(st.sampled_from([0, old + 1, old - 1, (1 << (8 * width)) - 1]))
    value %= 1 << (8 * width)
    return (
        data[: at + field]
        + value.to_bytes(width, "little")
        + data[at + field + width :]
    )


def lie_in_central_entry(data: bytes, draw: st.DrawFn) -> bytes:
    positions = []
    pos = data.find(CENTRAL_SIG)
    while pos >= 0:
        positions.append(pos)
        pos = data.find(CENTRAL_SIG, pos + 1)
    if not positions:
        return data
    at = draw(st.sampled_from(positions))
    # flags (UTF-8 bit and others), version needed, sizes, name length, offset
    field, mask = draw(
        st.sampled_from(
            [(8, 0x0800), (8, 0x0020), (6, 0x00FF), (20, U32), (24, U32), (42, 1)]
        )
    )
    width = 2 if field in (6, 8) else 4
    if at + field + width > len(data):
        return data
    old = int.from_bytes(data[at + field : at + field + width], "little")
    new = (old ^ mask) if mask != U32 else U32
    return (
        data[: at + field] + new.to_bytes(width, "little") + data[at + field + width :]
    )


MUTATIONS: list[Mutation] = [
    prepend,
    append,
    append_archive,
    second_end_record,
    add_zip64,
    remove_zip64,
    set_comment,
    truncate,
    overwrite,
    lie_in_end_record,
    lie_in_central_entry,
]


@st.composite
def mutated_archives(draw: st.DrawFn) -> bytes:
    """An archive after up to three mutations."""
    data = draw(archives())
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=3)):
        data = mutation(data, draw)
    return data


# --- tests --------------------------------------------------------------------------


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_archives())
@example(b"")
@example(two_directories(raw_zip([(METADATA, meta("a"))]), raw_zip([(METADATA, meta("evil"))]), saturate=False))  # fmt: skip
def test_lockgen_reads_what_zipfile_reads_or_refuses(data: bytes) -> None:
    got = check(data)
    event("lockgen read METADATA" if got is not None else "lockgen refused")


def test_end_record_and_zip64_locator_give_zipfile_answer() -> None:
    # The case: a plain end record names one directory, the ZIP64 records
    # right before it another; zipfile follows the ZIP64 record.
    first = raw_zip([(METADATA, meta("good"))])
    second = raw_zip([(METADATA, meta("evil"))])
    data = two_directories(first, second, saturate=False)
    assert installer_metadata(data) == meta("evil")
    assert check(data) == meta("evil")


def test_locator_pointing_elsewhere_is_ignored_like_zipfile() -> None:
    # zipfile reads the ZIP64 record right before the locator, not where it points.
    data = make_wheel("demo", "1.0", requires_dist=["a"], zip64=True).data
    at = len(data) - EOCD.size - LOCATOR.size
    bogus = data[:at] + LOCATOR.pack(b"PK\x06\x07", 0, 0, 1) + data[at + LOCATOR.size :]
    assert check(bogus) == check(data) == installer_metadata(data)
    assert check(data) is not None


def test_prepended_bytes_are_read_through_the_concat_shift() -> None:
    data = make_wheel("demo", "1.0", requires_dist=["a"]).data
    assert check(b"#!/usr/bin/env python\n" + data) == check(data) is not None


def test_last_end_record_wins_even_with_a_bad_comment_length() -> None:
    good = make_wheel("demo", "1.0", requires_dist=["a"]).data
    data = good[:-2] + struct.pack("<H", 22) + EOCD_SIG + b"\0" * 16 + b"\xff\xff"
    assert installer_metadata(data) is None
    assert check(data) is None


def test_duplicate_metadata_is_refused() -> None:
    data = raw_zip([(METADATA, meta("a")), (METADATA, meta("b"))])
    assert installer_metadata(data) == meta("b")
    assert check(data) is None


def test_name_cut_at_nul_is_the_name_installers_look_up() -> None:
    data = raw_zip([(f"{METADATA}\0.bak", meta("a"))])
    assert installer_metadata(data) == meta("a")
    assert check(data) == meta("a")
    twice = raw_zip([(f"{METADATA}\0.bak", meta("a")), (METADATA, meta("b"))])
    assert check(twice) is None


def test_local_header_naming_another_member_is_refused_like_zipfile() -> None:
    data = raw_zip([(METADATA, meta("a"))])
    local = data.replace(METADATA.encode(), b"demo-1.0.dist-info/METADATX", 1)
    assert installer_metadata(local) is None
    assert check(local) is None
