"""lockgen.core.wheel_metadata: the ZIP read pattern, its failure modes, and metadata parsing."""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from lockgen.core import wheel_metadata, wheel_zip
from lockgen.core.errors import MetadataError
from lockgen.core.models import MetadataSource
from lockgen.core.wheel_metadata import (
    dynamic_reason,
    parse_core_metadata,
    read_sdist_metadata,
)
from lockgen.core.wheel_zip import read_wheel_metadata

WHEEL = "foo-1.0-py3-none-any.whl"
SDIST = "foo-1.0.tar.gz"
CENTRAL = struct.Struct("<4s6H3L5H2L")
EOCD = struct.Struct("<4s4H2LH")
U32 = 0xFFFFFFFF


def metadata(
    name: str = "foo", version: str = "1.0", *lines: str, mv: str = "2.1"
) -> bytes:
    """A METADATA / PKG-INFO file with the given extra header lines."""
    head = [f"Metadata-Version: {mv}", f"Name: {name}", f"Version: {version}", *lines]
    return ("\n".join(head) + "\n\nA description.\n").encode()


META = metadata("foo", "1.0", "Requires-Dist: bar>=1", "Requires-Python: >=3.9")


def build_zip(
    members: list[tuple[str, bytes]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
) -> bytes:
    """A zip archive, in memory, holding ``members`` in order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
        zf.comment = comment
    return buf.getvalue()


def build_wheel(
    *,
    dist_info: str = "foo-1.0.dist-info",
    meta: bytes | None = META,
    first: bool = False,
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
    extra: tuple[tuple[str, bytes], ...] = (),
) -> bytes:
    """A small wheel with its dist-info last (or ``first``), plus ``extra`` members."""
    payload = [("foo/__init__.py", b"x = 1\n" * 40), ("foo/data.txt", b"data\n")]
    info = [(f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\n")]
    if meta is not None:
        info.insert(0, (f"{dist_info}/METADATA", meta))
    info.append((f"{dist_info}/RECORD", b""))
    members = info + payload if first else payload + info
    return build_zip(members + list(extra), compression=compression, comment=comment)


class Reader:
    """A ReadAt over bytes that records every read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, start: int, length: int, /) -> bytes:
        self.reads.append((start, length))
        return self.data[start : start + length]


def read(data: bytes, filename: str = WHEEL) -> tuple[bytes, Reader]:
    """METADATA read through a recording reader, and the reader."""
    reader = Reader(data)
    return read_wheel_metadata(reader, len(data), filename), reader


def cd_position(data: bytes) -> tuple[int, int]:
    """(offset, size) of the central directory of a plain zip without comment."""
    fields = EOCD.unpack_from(data, len(data) - EOCD.size)
    return fields[6], fields[5]


def member_span(data: bytes, name: str) -> tuple[int, int]:
    """The read expected for ``name``: its header offset up to the next one (or CD)."""
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    start = next(i.header_offset for i in infos if i.filename == name)
    later = [i.header_offset for i in infos if i.header_offset > start]
    end = min(later, default=cd_position(data)[0])
    return start, end - start


@dataclass
class Central:
    """One central directory entry, editable: 17 fixed fields, name, extra, comment."""

    fields: list[Any]
    name: bytes
    extra: bytes
    comment: bytes


def split_zip(data: bytes) -> tuple[bytes, list[Central]]:
    """The local part and the central entries of a plain zip without comment."""
    cd_offset, _size = cd_position(data)
    count = EOCD.unpack_from(data, len(data) - EOCD.size)[4]
    entries, pos = [], cd_offset
    for _ in range(count):
        fields = list(CENTRAL.unpack_from(data, pos))
        n, m, k = fields[10:13]
        at = pos + CENTRAL.size
        entries.append(
            Central(
                fields,
                data[at : at + n],
                data[at + n : at + n + m],
                data[at + n + m : at + n + m + k],
            )
        )
        pos = at + n + m + k
    return data[:cd_offset], entries


def pack_central(entries: list[Central]) -> bytes:
    """Central directory bytes for ``entries`` (lengths recomputed)."""
    out = b""
    for e in entries:
        e.fields[10:13] = [len(e.name), len(e.extra), len(e.comment)]
        out += CENTRAL.pack(*e.fields) + e.name + e.extra + e.comment
    return out


def plain_tail(count: int, cd: bytes, cd_offset: int) -> bytes:
    """A central directory followed by a plain end record."""
    return cd + EOCD.pack(b"PK\x05\x06", 0, 0, count, count, len(cd), cd_offset, 0)


def to_zip64(data: bytes, *, saturate_sizes: bool = False) -> bytes:
    """Rewrite a plain zip as ZIP64: saturated EOCD, locator, record, 0x0001 extras."""
    body, entries = split_zip(data)
    for e in entries:
        values = []
        if saturate_sizes:  # order in the extra: uncompressed, compressed, offset
            values += [e.fields[9], e.fields[8]]
            e.fields[8] = e.fields[9] = U32
        values.append(e.fields[16])
        e.fields[16] = U32
        packed = b"".join(struct.pack("<Q", v) for v in values)
        e.extra += struct.pack("<2H", 1, len(packed)) + packed
    cd = pack_central(entries)
    cd_offset, record_at, count = len(body), len(body) + len(cd), len(entries)
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(cd), cd_offset
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
    eocd = EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, U32, U32, 0)
    return body + cd + record + locator + eocd


def pad_local_extra(data: bytes, member: str, pad: int) -> bytes:
    """Grow ``member``'s local extra field by ``pad`` bytes; the central one is kept."""
    old, entries = split_zip(data)
    off = next(e for e in entries if e.name == member.encode()).fields[16]
    n, m = struct.unpack_from("<2H", old, off + 26)
    at = off + 30 + n + m
    block = struct.pack("<2H", 0xCAFE, pad - 4) + b"\0" * (pad - 4)
    body = old[: off + 28] + struct.pack("<H", m + pad) + old[off + 30 : at]
    body += block + old[at:]
    for e in entries:
        if e.fields[16] > off:
            e.fields[16] += pad
    return body + plain_tail(len(entries), pack_central(entries), len(body))


def edit_central(data: bytes, member: str, index: int, value: int) -> bytes:
    """Set fixed field ``index`` of ``member``'s central entry to ``value``."""
    body, entries = split_zip(data)
    next(e for e in entries if e.name == member.encode()).fields[index] = value
    return body + plain_tail(len(entries), pack_central(entries), len(body))


class TestReadPattern:
    @pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    def test_dist_info_last_reads_eocd_then_cd_then_member(
        self, compression: int
    ) -> None:
        data = build_wheel(compression=compression)
        got, reader = read(data)
        assert got == META
        assert reader.reads == [
            (len(data) - 22, 22),
            cd_position(data),
            member_span(data, "foo-1.0.dist-info/METADATA"),
        ]

    def test_metadata_first_in_archive(self) -> None:
        data = build_wheel(first=True)
        got, reader = read(data)
        assert got == META
        start, length = member_span(data, "foo-1.0.dist-info/METADATA")
        assert start == 0
        assert reader.reads[-1] == (0, length)
        assert len(reader.reads) == 3

    def test_metadata_as_last_member_reads_up_to_the_central_directory(self) -> None:
        data = build_zip(
            [("foo/__init__.py", b""), ("foo-1.0.dist-info/METADATA", META)]
        )
        got, reader = read(data)
        assert got == META
        start, _ = member_span(data, "foo-1.0.dist-info/METADATA")
        assert reader.reads[-1] == (start, cd_position(data)[0] - start)

    def test_zip_comment_makes_a_second_tail_read(self) -> None:
        data = build_wheel(comment=b"built by hand")
        got, reader = read(data)
        assert got == META
        assert reader.reads[:2] == [(len(data) - 22, 22), (0, len(data))]
        assert len(reader.reads) == 4

    def test_maximal_comment_on_a_large_archive(self) -> None:
        comment = b"c" * 0xFFFF
        data = build_wheel(comment=comment, extra=(("foo/big.bin", b"\1" * 70000),))
        got, reader = read(data)
        assert got == META
        assert reader.reads[1] == (len(data) - 65557, 65557)

    def test_comment_containing_an_end_signature(self) -> None:
        # zipfile takes the last end signature even when its comment length runs
        # past the end: here an empty archive, so lockgen finds no METADATA either.
        comment = b"PK\x05\x06" + b"\0" * 16 + b"\xff\xff" + b"tail"
        data = build_wheel(comment=comment)
        assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []
        with pytest.raises(MetadataError, match=r"no \.dist-info/METADATA"):
            read(data)

    @pytest.mark.parametrize("saturate_sizes", [False, True])
    def test_zip64_reads_locator_and_record(self, saturate_sizes: bool) -> None:
        plain = build_wheel()
        data = to_zip64(plain, saturate_sizes=saturate_sizes)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:  # the fixture is a real zip64
            assert zf.read("foo-1.0.dist-info/METADATA") == META
            offsets = sorted(i.header_offset for i in zf.infolist())
        got, reader = read(data)
        assert got == META
        eocd_at = len(data) - 22
        (record_at,) = struct.unpack_from("<Q", data, eocd_at - 20 + 8)
        assert reader.reads[:3] == [(eocd_at, 22), (eocd_at - 20, 20), (record_at, 56)]
        assert len(reader.reads) == 5
        assert offsets == sorted(
            i.header_offset for i in zipfile.ZipFile(io.BytesIO(plain)).infolist()
        )

    def test_local_extra_longer_than_the_central_one(self) -> None:
        name = "foo-1.0.dist-info/METADATA"
        data = pad_local_extra(build_wheel(), name, 100)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.read(name) == META
            info = zf.getinfo(name)
            assert info.extra == b""
        got, reader = read(data)
        assert got == META
        assert reader.reads[-1] == member_span(data, name)

    @pytest.mark.parametrize(
        ("filename", "dist_info"),
        [
            ("Foo.Bar-1.0-py3-none-any.whl", "foo_bar-1.0.dist-info"),
            ("foo_bar-1.0-py3-none-any.whl", "Foo.Bar-1.0.0.dist-info"),
            ("FOO_bar-1.0-2-py3-none-any.whl", "foo-bar-1.0.dist-info"),
        ],
    )
    def test_dist_info_name_is_matched_after_normalisation(
        self, filename: str, dist_info: str
    ) -> None:
        got, _ = read(build_wheel(dist_info=dist_info), filename)
        assert got == META

    def test_non_ascii_member_names(self) -> None:
        data = build_wheel(extra=(("foo/ünïcode.txt", b"x"),))
        assert read(data)[0] == META

    def test_unrelated_dist_info_is_refused_as_pip_and_uv_do(self) -> None:
        data = build_wheel(extra=(("bar-2.0.dist-info/METADATA", b"Name: bar\n"),))
        with pytest.raises(MetadataError, match=r"several \.dist-info directories"):
            read(data)


class TestWheelErrors:
    def error(self, data: bytes, filename: str = WHEEL) -> str:
        with pytest.raises(MetadataError) as info:
            read_wheel_metadata(Reader(data), len(data), filename)
        assert info.value.filename == filename
        return info.value.reason

    def test_two_matching_dist_info_dirs(self) -> None:
        data = build_wheel(extra=(("Foo-1.0.dist-info/METADATA", META),))
        reason = self.error(data)
        assert reason == (
            "several .dist-info directories: Foo-1.0.dist-info, foo-1.0.dist-info"
        )

    @pytest.mark.parametrize(
        "dist_info", ["foo-1.1.dist-info", "bar-1.0.dist-info", "foo-1.0.info"]
    )
    def test_no_dist_info_for_this_wheel(self, dist_info: str) -> None:
        assert "no .dist-info/METADATA" in self.error(build_wheel(dist_info=dist_info))

    def test_nested_dist_info_does_not_count(self) -> None:
        data = build_zip([("foo/foo-1.0.dist-info/METADATA", META)])
        assert "no .dist-info/METADATA" in self.error(data)

    def test_missing_metadata(self) -> None:
        reason = self.error(build_wheel(meta=None))
        assert reason == "foo-1.0.dist-info/METADATA is missing"

    def test_corrupted_crc(self) -> None:
        data = edit_central(build_wheel(), "foo-1.0.dist-info/METADATA", 7, 12345)
        assert "CRC-32" in self.error(data)

    def test_corrupted_stored_data(self) -> None:
        data = build_wheel(compression=zipfile.ZIP_STORED)
        at = data.index(b"Requires-Dist: bar")
        data = data[:at] + b"r" + data[at + 1 :]
        assert "CRC-32" in self.error(data)

    def test_size_disagreeing_with_the_central_directory(self) -> None:
        data = edit_central(build_wheel(), "foo-1.0.dist-info/METADATA", 9, 5)
        assert "the central directory says 5" in self.error(data)

    def test_unsupported_method_is_named_and_not_fetched(self) -> None:
        data = build_wheel(compression=zipfile.ZIP_BZIP2)
        reader = Reader(data)
        with pytest.raises(MetadataError, match="compression method 12"):
            read_wheel_metadata(reader, len(data), WHEEL)
        assert len(reader.reads) == 2

    def test_oversized_metadata(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(wheel_zip, "MAX_METADATA_SIZE", 20)
        assert "too large" in self.error(build_wheel())

    @pytest.mark.parametrize("data", [b"", b"PK", b"not a zip file\n" * 100])
    def test_not_a_zip(self, data: bytes) -> None:
        assert "not a zip archive" in self.error(data)

    def test_every_truncation_is_a_metadata_error(self) -> None:
        data = build_wheel(compression=zipfile.ZIP_STORED)
        for cut in range(len(data)):
            with pytest.raises(MetadataError):
                read_wheel_metadata(Reader(data[:cut]), cut, WHEEL)

    def test_size_larger_than_the_data_is_a_short_read(self) -> None:
        data = build_wheel()
        with pytest.raises(MetadataError, match="short read"):
            read_wheel_metadata(Reader(data), len(data) + 10, WHEEL)

    def test_bad_wheel_file_name(self) -> None:
        assert "not a wheel file name" in self.error(build_wheel(), "foo.whl")

    def test_zip64_end_record_without_locator(self) -> None:
        data = build_wheel()
        saturated = EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, U32, U32, 0)
        assert "locator is missing" in self.error(data[:-22] + saturated)

    def test_any_single_corrupt_byte_is_handled(self) -> None:
        # Structural damage anywhere must end in bytes or MetadataError, never in
        # IndexError / struct.error / zlib.error.
        data = build_wheel(extra=(("foo/ünï.txt", b"u"),))
        outcomes: set[bool | str] = set()
        for at in range(len(data)):
            for byte in (0x00, 0xFF):
                broken = data[:at] + bytes([byte]) + data[at + 1 :]
                try:
                    outcomes.add(read(broken)[0] == META)
                except MetadataError:
                    outcomes.add("error")
        assert outcomes == {True, "error"}


class TestParseCoreMetadata:
    def test_fields(self) -> None:
        core = parse_core_metadata(META, WHEEL, MetadataSource.RANGE)
        assert core.name == "foo"
        assert core.version == Version("1.0")
        assert core.requires_dist == (Requirement("bar>=1"),)
        assert core.requires_python == SpecifierSet(">=3.9")
        assert core.source is MetadataSource.RANGE
        assert core.sha256 == hashlib.sha256(META).hexdigest()
        assert core.filename == WHEEL

    def test_optional_fields_absent_and_unknown_fields_tolerated(self) -> None:
        data = metadata("foo", "1.0", "X-Custom: 1", "Provides-Extra: fast")
        core = parse_core_metadata(data, WHEEL, MetadataSource.PEP658)
        assert core.requires_dist == ()
        assert core.requires_python is None

    def test_requirement_markers_are_kept(self) -> None:
        data = metadata("foo", "1.0", 'Requires-Dist: baz[x]<2; extra == "fast"')
        (req,) = parse_core_metadata(data, WHEEL, MetadataSource.RANGE).requires_dist
        assert req.name == "baz"
        assert req.extras == {"x"}
        assert str(req.marker) == 'extra == "fast"'

    @pytest.mark.parametrize(
        ("name", "version", "filename"),
        [
            ("Foo.Bar", "1.0", "foo_bar-1.0-py3-none-any.whl"),
            ("foo_bar", "1.0.0", "Foo.Bar-1.0-py3-none-any.whl"),
            ("foo-bar", "1.0", "foo_bar-1.0.tar.gz"),
        ],
    )
    def test_name_and_version_compared_normalised(
        self, name: str, version: str, filename: str
    ) -> None:
        core = parse_core_metadata(
            metadata(name, version), filename, MetadataSource.RANGE
        )
        assert core.name == "foo-bar"
        assert core.version == Version("1.0")

    def test_version_mismatch(self) -> None:
        with pytest.raises(MetadataError) as info:
            parse_core_metadata(metadata("foo", "1.1"), WHEEL, MetadataSource.RANGE)
        assert str(info.value) == (
            f"{WHEEL}: METADATA says foo 1.1 but the file name says foo 1.0"
        )

    def test_name_mismatch_in_an_sdist(self) -> None:
        with pytest.raises(MetadataError, match=r"PKG-INFO says bar 1\.0 .* foo 1\.0"):
            parse_core_metadata(metadata("bar", "1.0"), SDIST, MetadataSource.SDIST)

    def test_bad_requires_dist_names_the_line(self) -> None:
        data = metadata("foo", "1.0", "Requires-Dist: bar >= = 1")
        with pytest.raises(MetadataError, match=r"Requires-Dist 'bar >= = 1'"):
            parse_core_metadata(data, WHEEL, MetadataSource.RANGE)

    def test_bad_requires_python(self) -> None:
        data = metadata("foo", "1.0", "Requires-Python: >=3.x")
        with pytest.raises(MetadataError, match=r"invalid Requires-Python '>=3.x'"):
            parse_core_metadata(data, WHEEL, MetadataSource.RANGE)

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (b"Metadata-Version: 2.1\nVersion: 1.0\n", "no Name field"),
            (b"Metadata-Version: 2.1\nName: foo\n", "no Version field"),
            (metadata("foo", "one"), "invalid Version 'one'"),
            (metadata("foo", "1.0", "Name: foo"), "unreadable Name field"),
            (
                metadata("foo", "1.0", "Requires-Python: >=3", "Requires-Python: <4"),
                "unreadable Requires-Python field",
            ),
            (
                b"Name: foo\nVersion: 1.0\nRequires-Dist: b\xffr\n",
                "unreadable Requires-Dist field",
            ),
        ],
    )
    def test_unusable_metadata(self, data: bytes, reason: str) -> None:
        with pytest.raises(MetadataError, match=reason):
            parse_core_metadata(data, WHEEL, MetadataSource.RANGE)

    def test_file_name_that_is_neither_wheel_nor_sdist(self) -> None:
        with pytest.raises(MetadataError, match="not a wheel or sdist file name"):
            parse_core_metadata(META, "foo-1.0.egg", MetadataSource.WHOLE_FILE)

    # Found by the property tests: folded headers and packaging's caret drawing
    # made multi-line errors.
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (
                b"Name: foo\n folded\nVersion: 1.0\n",
                (
                    f"{WHEEL}: METADATA says 'foo\\n folded' 1.0 but the file name "
                    "says foo 1.0"
                ),
            ),
            (
                b"Name: foo\nVersion: 1.0\nRequires-Dist: a>=1\n folded\n",
                (
                    f"{WHEEL}: invalid Requires-Dist 'a>=1\\n folded': Expected comma "
                    "(within version specifier), semicolon (after version specifier) "
                    "or end"
                ),
            ),
        ],
    )
    def test_errors_are_one_line(self, data: bytes, message: str) -> None:
        with pytest.raises(MetadataError) as info:
            parse_core_metadata(data, WHEEL, MetadataSource.RANGE)
        assert str(info.value) == message


def build_tar_gz(members: list[tuple[str, bytes]]) -> bytes:
    """A gzipped tar holding regular files ``members``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


NESTED = [
    ("foo-1.0/src/foo.egg-info/PKG-INFO", b"nested"),
    ("foo-1.0/pyproject.toml", b""),
]
SDIST_MEMBERS = [*NESTED, ("foo-1.0/PKG-INFO", META)]


class TestReadSdistMetadata:
    def test_tar_gz_top_level_pkg_info(self) -> None:
        data = build_tar_gz(SDIST_MEMBERS)
        assert read_sdist_metadata(io.BytesIO(data), SDIST) == META

    def test_zip_top_level_pkg_info(self) -> None:
        data = build_zip(SDIST_MEMBERS)
        assert read_sdist_metadata(io.BytesIO(data), "foo-1.0.zip") == META

    @pytest.mark.parametrize("kind", ["tar.gz", "zip"])
    def test_nested_pkg_info_alone_is_not_enough(self, kind: str) -> None:
        data = build_tar_gz(NESTED) if kind == "tar.gz" else build_zip(NESTED)
        with pytest.raises(MetadataError, match=r"foo-1.0/PKG-INFO is missing"):
            read_sdist_metadata(io.BytesIO(data), f"foo-1.0.{kind}")

    def test_several_top_level_entries(self) -> None:
        data = build_tar_gz([*SDIST_MEMBERS, ("setup.py", b"")])
        with pytest.raises(MetadataError, match=r"found: foo-1.0, setup.py"):
            read_sdist_metadata(io.BytesIO(data), SDIST)

    def test_pkg_info_symlink_is_refused(self) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            link = tarfile.TarInfo("foo-1.0/PKG-INFO")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)
        with pytest.raises(MetadataError, match="PKG-INFO is missing"):
            read_sdist_metadata(io.BytesIO(buf.getvalue()), SDIST)

    def test_oversized_pkg_info(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(wheel_metadata, "MAX_METADATA_SIZE", 10)
        data = build_tar_gz(SDIST_MEMBERS)
        with pytest.raises(MetadataError, match="too large"):
            read_sdist_metadata(io.BytesIO(data), SDIST)

    @pytest.mark.parametrize("filename", [SDIST, "foo-1.0.zip"])
    def test_corrupt_archive(self, filename: str) -> None:
        data = build_tar_gz(SDIST_MEMBERS)[:40]
        with pytest.raises(MetadataError, match="cannot read the sdist"):
            read_sdist_metadata(io.BytesIO(data), filename)

    def test_other_extensions(self) -> None:
        with pytest.raises(MetadataError, match="not an sdist"):
            read_sdist_metadata(io.BytesIO(b""), "foo-1.0.tar.bz2")


class TestDynamicReason:
    @pytest.mark.parametrize(
        "data",
        [
            metadata("foo", "1.0", mv="2.2"),
            metadata("foo", "1.0", "Dynamic: Description", mv="2.4"),
        ],
    )
    def test_static(self, data: bytes) -> None:
        assert dynamic_reason(data, SDIST) is None

    def test_old_metadata_version_is_dynamic(self) -> None:
        reason = dynamic_reason(metadata(mv="2.1"), SDIST)
        assert reason == "its metadata is dynamic (Metadata-Version 2.1)"

    def test_a_folded_metadata_version_stays_on_one_line(self) -> None:
        # Found by the property tests.
        data = b"Metadata-Version: 2.1\n x\nName: foo\nVersion: 1.0\n"
        assert dynamic_reason(data, SDIST) == (
            "its metadata is dynamic (Metadata-Version '2.1\\n x')"
        )

    @pytest.mark.parametrize(
        "field", ["Requires-Dist", "requires-python", " REQUIRES-DIST"]
    )
    def test_dynamic_dependencies(self, field: str) -> None:
        data = metadata("foo", "1.0", f"Dynamic: {field}", mv="2.2")
        assert "Metadata-Version 2.2" in (dynamic_reason(data, SDIST) or "")

    @pytest.mark.parametrize("data", [b"Name: foo\nVersion: 1.0\n", metadata(mv="x")])
    def test_missing_or_invalid_metadata_version(self, data: bytes) -> None:
        assert "dynamic" in (dynamic_reason(data, SDIST) or "")
