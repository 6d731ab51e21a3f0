"""The wheel/sdist factory: every integration test trusts these bytes to be valid and stable."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import struct
import tarfile
import urllib.parse
import urllib.request
import zipfile
from email.parser import BytesParser
from typing import TYPE_CHECKING

import pytest
from packaging.metadata import Metadata
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from tests.support.wheels import (
    DEFAULT_UPLOAD_TIME,
    Dist,
    make_sdist,
    make_wheel,
    write_static_index,
)

if TYPE_CHECKING:
    from pathlib import Path


def _zip(dist: Dist) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(dist.data))


def _headers(raw: bytes) -> list[tuple[str, str]]:
    return list(BytesParser().parsebytes(raw).items())


def _tar(dist: Dist) -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(dist.data), mode="r:gz")


class TestDeterminism:
    def test_same_arguments_give_same_bytes(self) -> None:
        def build() -> Dist:
            return make_wheel(
                "demo-a",
                "1.0",
                requires_dist=["b>=1"],
                extras={"x": ["c"]},
                padding=3000,
            )

        assert build().data == build().data

    def test_zip64_and_sdists_are_deterministic_too(self) -> None:
        assert (
            make_wheel("a", "1", zip64=True).data
            == make_wheel("a", "1", zip64=True).data
        )
        assert make_sdist("a", "1").data == make_sdist("a", "1").data
        assert (
            make_sdist("a", "1", fmt="zip").data == make_sdist("a", "1", fmt="zip").data
        )

    def test_different_arguments_give_different_bytes(self) -> None:
        assert make_wheel("a", "1.0").sha256 != make_wheel("a", "1.1").sha256
        padded = make_wheel("a", "1.0", padding=100).sha256
        assert padded != make_wheel("b", "1.0", padding=100).sha256

    def test_members_carry_fixed_dates_and_modes(self) -> None:
        for info in _zip(make_wheel("a", "1.0", padding=10)).infolist():
            assert info.date_time == (2020, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644


class TestWheelNaming:
    def test_filename_and_dist_info_use_the_escaped_name(self) -> None:
        dist = make_wheel("Demo.Pkg_x", "2.0", tag="py2.py3-none-any")
        assert dist.filename == "demo_pkg_x-2.0-py2.py3-none-any.whl"
        assert dist.project == "demo-pkg-x"
        name, version, _, tags = parse_wheel_filename(dist.filename)
        assert (name, str(version), len(tags)) == ("demo-pkg-x", "2.0", 2)
        assert "demo_pkg_x-2.0.dist-info/METADATA" in _zip(dist).namelist()

    def test_wheel_file_expands_compressed_tags(self) -> None:
        dist = make_wheel("a", "1", tag="cp311.cp312-abi3-manylinux_2_17_x86_64")
        wheel = _headers(_zip(dist).read("a-1.dist-info/WHEEL"))
        assert ("Root-Is-Purelib", "false") in wheel
        assert [v for k, v in wheel if k == "Tag"] == [
            "cp311-abi3-manylinux_2_17_x86_64",
            "cp312-abi3-manylinux_2_17_x86_64",
        ]

    def test_dist_properties(self) -> None:
        dist = make_wheel("a", "1")
        assert dist.size == len(dist.data)
        assert dist.sha256 == hashlib.sha256(dist.data).hexdigest()
        assert dist.metadata_sha256 == hashlib.sha256(dist.metadata).hexdigest()
        assert dist.upload_time == DEFAULT_UPLOAD_TIME
        assert dist.is_wheel
        assert not make_sdist("a", "1").is_wheel


class TestMetadata:
    def test_metadata_is_the_archived_file_and_parses(self) -> None:
        dist = make_wheel(
            "Demo_A", "1.0", requires_dist=["idna>=3", "six"], requires_python=">=3.8"
        )
        assert _zip(dist).read("demo_a-1.0.dist-info/METADATA") == dist.metadata
        meta = Metadata.from_email(dist.metadata)
        assert (meta.name, str(meta.version)) == ("Demo_A", "1.0")
        assert str(meta.requires_python) == ">=3.8"
        assert [str(r) for r in meta.requires_dist or []] == ["idna>=3", "six"]
        assert dist.requires_python == ">=3.8"

    def test_extras_add_provides_extra_and_guarded_requirements(self) -> None:
        dist = make_wheel(
            "a",
            "1",
            requires_dist=["base"],
            extras={"socks": ["pysocks>=1"], "win": ["colorama ; os_name == 'nt'"]},
        )
        fields = _headers(dist.metadata)
        assert [v for k, v in fields if k == "Provides-Extra"] == ["socks", "win"]
        assert [v for k, v in fields if k == "Requires-Dist"] == [
            "base",
            'pysocks>=1 ; extra == "socks"',
            "colorama ; (os_name == 'nt') and extra == \"win\"",
        ]
        meta = Metadata.from_email(dist.metadata)
        colorama = (meta.requires_dist or [])[2]
        assert colorama.marker is not None
        assert colorama.marker.evaluate({"os_name": "nt", "extra": "win"})
        assert not colorama.marker.evaluate({"os_name": "posix", "extra": "win"})

    def test_metadata_name_and_version_can_lie(self) -> None:
        dist = make_wheel("a", "1.0", metadata_name="b", metadata_version="2.0")
        assert dist.filename == "a-1.0-py3-none-any.whl"
        assert ("Name", "b") in _headers(dist.metadata)
        assert ("Version", "2.0") in _headers(dist.metadata)
        assert (dist.project, dist.version) == ("a", "1.0")


class TestArchiveLayout:
    def test_dist_info_is_last_with_record_at_the_end(self) -> None:
        names = _zip(
            make_wheel("a", "1", files={"a/z.py": b"", "a/b.py": b""})
        ).namelist()
        assert names == [
            "a/__init__.py",
            "a/b.py",
            "a/z.py",
            "a-1.dist-info/METADATA",
            "a-1.dist-info/WHEEL",
            "a-1.dist-info/RECORD",
        ]

    def test_metadata_first_puts_metadata_at_offset_zero(self) -> None:
        dist = make_wheel("a", "1", metadata_first=True, padding=10)
        infos = _zip(dist).infolist()
        assert infos[0].filename == "a-1.dist-info/METADATA"
        assert infos[0].header_offset == 0
        assert infos[-1].filename == "a-1.dist-info/RECORD"

    def test_record_lists_every_member_with_a_valid_hash(self) -> None:
        archive = _zip(make_wheel("a", "1", files={"a/data.txt": b"x" * 10}, padding=5))
        lines = archive.read("a-1.dist-info/RECORD").decode().splitlines()
        assert lines[-1] == "a-1.dist-info/RECORD,,"
        assert len(lines) == len(archive.namelist())
        for line in lines[:-1]:
            path, digest, size = line.split(",")
            content = archive.read(path)
            raw = hashlib.sha256(content).digest()
            expected = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(content))

    def test_compression_applies_to_metadata(self) -> None:
        stored = _zip(make_wheel("a", "1", compression="stored"))
        deflated = _zip(make_wheel("a", "1"))
        member = "a-1.dist-info/METADATA"
        assert stored.getinfo(member).compress_type == zipfile.ZIP_STORED
        assert deflated.getinfo(member).compress_type == zipfile.ZIP_DEFLATED

    def test_padding_is_stored_incompressible_bytes_of_the_given_size(self) -> None:
        dist = make_wheel("a", "1", padding=200_000)
        info = _zip(dist).getinfo("a/_padding.bin")
        assert info.file_size == info.compress_size == 200_000
        assert info.compress_type == zipfile.ZIP_STORED
        assert 200_000 < dist.size < 202_000
        assert "a/_padding.bin" not in _zip(make_wheel("a", "1")).namelist()


class TestZip64:
    def test_stdlib_reads_the_same_members_and_metadata(self) -> None:
        plain = make_wheel("demo", "1.0", requires_dist=["x"], padding=1000)
        wide = make_wheel("demo", "1.0", requires_dist=["x"], padding=1000, zip64=True)
        archive = _zip(wide)
        assert archive.testzip() is None
        assert archive.read("demo-1.0.dist-info/METADATA") == wide.metadata
        assert wide.metadata == plain.metadata
        offsets = [i.header_offset for i in _zip(plain).infolist()]
        assert [i.header_offset for i in archive.infolist()] == offsets

    def test_end_records_are_really_zip64(self) -> None:
        data = make_wheel("demo", "1.0", zip64=True).data
        eocd = struct.unpack("<4s4H2LH", data[-22:])
        assert eocd == (b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        sig, _, record_offset, disks = struct.unpack("<4sLQL", data[-42:-22])
        assert (sig, disks, record_offset) == (b"PK\x06\x07", 1, len(data) - 42 - 56)
        record = struct.unpack("<4sQ2H2L4Q", data[record_offset : record_offset + 56])
        sig, size, _, _, _, _, here, total, cd_size, cd_offset = record
        assert (sig, size, here, total) == (b"PK\x06\x06", 44, 4, 4)
        assert cd_offset + cd_size == record_offset
        assert data[cd_offset : cd_offset + 4] == b"PK\x01\x02"

    def test_every_central_entry_moves_its_offset_to_the_extra_field(self) -> None:
        data = make_wheel("demo", "1.0", zip64=True).data
        cd_offset = struct.unpack("<Q", data[-42 - 56 + 48 : -42 - 56 + 56])[0]
        pos, seen = cd_offset, 0
        while data[pos : pos + 4] == b"PK\x01\x02":
            n, m, k = struct.unpack("<3H", data[pos + 28 : pos + 34])
            (offset,) = struct.unpack("<L", data[pos + 42 : pos + 46])
            extra_id, extra_len, real = struct.unpack(
                "<HHQ", data[pos + 46 + n : pos + 58 + n]
            )
            assert (offset, extra_id, extra_len) == (0xFFFFFFFF, 1, 8)
            assert data[real : real + 4] == b"PK\x03\x04"
            pos, seen = pos + 46 + n + m + k, seen + 1
        assert seen == 4


class TestSdist:
    def test_tar_gz_layout_and_pkg_info(self) -> None:
        dist = make_sdist(
            "Demo.A",
            "1.0",
            requires_dist=["idna"],
            requires_python=">=3.9",
            dynamic=["Requires-Dist", "Summary"],
        )
        assert dist.filename == "demo_a-1.0.tar.gz"
        assert parse_sdist_filename(dist.filename)[0] == "demo-a"
        members = _tar(dist).getmembers()
        assert [m.name for m in members] == [
            "demo_a-1.0",
            "demo_a-1.0/PKG-INFO",
            "demo_a-1.0/pyproject.toml",
            "demo_a-1.0/setup.py",
        ]
        assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {
            (1577836800, 0, 0, "")
        }
        pkg_info = _tar(dist).extractfile("demo_a-1.0/PKG-INFO")
        assert pkg_info is not None
        assert pkg_info.read() == dist.metadata
        fields = _headers(dist.metadata)
        assert fields[:3] == [
            ("Metadata-Version", "2.2"),
            ("Name", "Demo.A"),
            ("Version", "1.0"),
        ]
        assert [v for k, v in fields if k == "Dynamic"] == ["Requires-Dist", "Summary"]
        assert ("Requires-Python", ">=3.9") in fields
        assert ("Requires-Dist", "idna") in fields

    def test_gzip_header_has_no_timestamp(self) -> None:
        data = make_sdist("a", "1").data
        assert data[:2] == b"\x1f\x8b"
        assert data[4:8] == b"\x00\x00\x00\x00"
        assert gzip.decompress(data)

    def test_old_metadata_version_is_written_as_given(self) -> None:
        dist = make_sdist("a", "1", metadata_version="2.1")
        assert ("Metadata-Version", "2.1") in _headers(dist.metadata)
        assert not [k for k, _ in _headers(dist.metadata) if k == "Dynamic"]

    def test_zip_sdist(self) -> None:
        dist = make_sdist("a", "1", fmt="zip", yanked="broken")
        assert dist.filename == "a-1.zip"
        assert dist.yanked == "broken"
        archive = _zip(dist)
        assert archive.read("a-1/PKG-INFO") == dist.metadata
        assert b"[build-system]" in archive.read("a-1/pyproject.toml")


class TestStaticIndex:
    @pytest.fixture
    def root(self, tmp_path: Path) -> Path:
        dists = [
            make_wheel("Demo-A", "1.0", requires_python=">=3.8"),
            make_sdist("Demo-A", "1.0"),
            make_wheel("b", "2.0", yanked="bad build"),
        ]
        write_static_index(dists, tmp_path)
        return tmp_path

    def test_layout(self, root: Path) -> None:
        assert sorted(p.name for p in (root / "simple").iterdir()) == [
            "b",
            "demo-a",
            "index.html",
        ]
        assert sorted(p.name for p in (root / "files").iterdir()) == [
            "b-2.0-py3-none-any.whl",
            "b-2.0-py3-none-any.whl.metadata",
            "demo_a-1.0-py3-none-any.whl",
            "demo_a-1.0-py3-none-any.whl.metadata",
            "demo_a-1.0.tar.gz",
        ]
        index = (root / "simple" / "index.html").read_text()
        assert '<a href="b/">b</a>' in index
        assert '<a href="demo-a/">demo-a</a>' in index

    def test_relative_links_reach_the_files_with_their_hashes(self, root: Path) -> None:
        page_path = root / "simple" / "demo-a" / "index.html"
        page = page_path.read_text()
        assert 'data-requires-python="&gt;=3.8"' in page
        wheel = make_wheel("Demo-A", "1.0", requires_python=">=3.8")
        href = f"../../files/{wheel.filename}#sha256={wheel.sha256}"
        assert f'<a href="{href}"' in page
        assert f'data-core-metadata="sha256={wheel.metadata_sha256}"' in page
        target = urllib.parse.urljoin(page_path.as_uri(), href)
        with urllib.request.urlopen(target) as response:
            assert response.read() == wheel.data

    def test_yanked_reason_and_no_metadata_without_pep658(self, tmp_path: Path) -> None:
        write_static_index(
            [make_wheel("b", "2.0", yanked="bad build")], tmp_path, pep658=False
        )
        page = (tmp_path / "simple" / "b" / "index.html").read_text()
        assert 'data-yanked="bad build"' in page
        assert "data-core-metadata" not in page
        assert not (tmp_path / "files" / "b-2.0-py3-none-any.whl.metadata").exists()
