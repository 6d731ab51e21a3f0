"""The pure parts of building an sdist: its build system, static [project] metadata,
and safe unpacking."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.metadata import parse_email

from lockgen.build.static import static_metadata
from lockgen.build.system import DEFAULT_BACKEND, DEFAULT_REQUIRES, build_system
from lockgen.build.unpack import unpack_sdist
from lockgen.core.errors import LockgenError

SDIST = "demo-1.0.tar.gz"


class TestBuildSystem:
    @pytest.mark.parametrize(
        "pyproject", [None, "[project]\nname = 'demo'\n", "[build-system]\n"]
    )
    def test_the_default_is_setuptools_legacy(self, pyproject: str | None) -> None:
        system = build_system(pyproject, SDIST)
        assert (system.requires, system.backend) == (DEFAULT_REQUIRES, DEFAULT_BACKEND)
        assert DEFAULT_REQUIRES == ("setuptools>=40.8.0", "wheel")

    def test_declared(self) -> None:
        system = build_system(
            "[build-system]\nrequires = ['flit_core >=3.2,<4']\n"
            "build-backend = 'flit_core.buildapi'\nbackend-path = ['_build']\n",
            SDIST,
        )
        assert system.requires == ("flit_core >=3.2,<4",)
        assert system.backend == "flit_core.buildapi"
        assert system.backend_path == ("_build",)

    @pytest.mark.parametrize(
        ("pyproject", "reason"),
        [
            ("[build-system", "is not TOML"),
            ("build-system = 1", "[build-system] is not a table"),
            ("[build-system]\nrequires = 'x'", "requires is not a list of strings"),
            ("[build-system]\nrequires = ['x >']", "invalid build requirement 'x >'"),
            ("[build-system]\nbuild-backend = ''", "build-backend is not a name"),
            ("[build-system]\nbackend-path = ['../up']", "backend-path must be"),
            ("[build-system]\nbackend-path = ['/abs']", "backend-path must be"),
        ],
    )
    def test_a_bad_table_is_one_line(self, pyproject: str, reason: str) -> None:
        with pytest.raises(LockgenError) as info:
            build_system(pyproject, SDIST)
        message = str(info.value)
        assert message.startswith(f"{SDIST}: cannot build it: ") and reason in message
        assert "\n" not in message


class TestStaticMetadata:
    def test_a_static_project_table_is_the_metadata(self) -> None:
        data = static_metadata(
            "[project]\nname = 'Demo'\nversion = '1.0'\nrequires-python = '>=3.9'\n"
            "dependencies = ['a>=1', \"b; os_name == 'nt'\"]\n"
            "[project.optional-dependencies]\nTest_Extra = [\"c[x]; python_version < '4'\"]\n"
        )
        assert data is not None
        raw, unparsed = parse_email(data)
        assert unparsed == {}
        assert (raw["name"], raw["version"]) == ("Demo", "1.0")
        assert raw["requires_python"] == ">=3.9"
        assert raw["provides_extra"] == ["test-extra"]
        assert raw["requires_dist"] == [
            "a>=1",
            'b; os_name == "nt"',
            'c[x]; (python_version < "4") and extra == "test-extra"',
        ]

    @pytest.mark.parametrize(
        "pyproject",
        [
            None,
            "[build-system]\nrequires = []\n",  # no [project]
            "[project]\nname = 'demo'\nversion = '1'\ndynamic = ['dependencies']\n",
            "[project]\nname = 'demo'\nversion = '1'\ndynamic = ['optional-dependencies']\n",
            "[project]\nname = 'demo'\nversion = '1'\ndynamic = ['requires-python']\n",
            "[project]\nname = 'demo'\ndynamic = ['version']\n",
            "[project]\nname = 'demo'\nversion = '1'\ndependencies = 'a'\n",
            "[project]\nname = 'demo'\nversion = '1'\ndependencies = ['a >']\n",
            "[project]\nname = 'demo'\nversion = 1\n",
            "[project\n",
        ],
    )
    def test_anything_else_is_left_to_the_backend(self, pyproject: str | None) -> None:
        assert static_metadata(pyproject) is None


def _tar(members: dict[str, bytes], *, link: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        if link is not None:
            info = tarfile.TarInfo(link[0])
            info.type = tarfile.SYMTYPE
            info.linkname = link[1]
            tar.addfile(info)
    return buffer.getvalue()


class TestUnpack:
    def test_the_source_tree_is_the_top_folder(self, tmp_path: Path) -> None:
        data = _tar({"demo-1.0/PKG-INFO": b"x", "demo-1.0/src/a.py": b"y"})
        source = unpack_sdist(io.BytesIO(data), SDIST, tmp_path)
        assert source == tmp_path / "demo-1.0"
        assert (source / "src" / "a.py").read_bytes() == b"y"

    @pytest.mark.parametrize(
        "data",
        [
            _tar({"demo-1.0/../../escaped": b"x"}),
            _tar({"/abs/escaped": b"x"}),
            _tar({"demo-1.0/a": b"x"}, link=("demo-1.0/l", "/etc/passwd")),
            _tar({"demo-1.0/a": b"x", "other/b": b"y"}),
        ],
        ids=["dotdot", "absolute", "link-out", "two-tops"],
    )
    def test_a_hostile_tar_is_refused(self, tmp_path: Path, data: bytes) -> None:
        into = tmp_path / "into"
        into.mkdir()
        with pytest.raises(LockgenError, match=f"^{SDIST}: cannot build it: "):
            unpack_sdist(io.BytesIO(data), SDIST, into)
        assert not (tmp_path / "escaped").exists()

    @pytest.mark.parametrize("name", ["demo-1.0/../escaped", "/escaped"])
    def test_a_hostile_zip_is_refused(self, tmp_path: Path, name: str) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("demo-1.0/PKG-INFO", b"x")
            archive.writestr(name, b"x")
        into = tmp_path / "into"
        into.mkdir()
        with pytest.raises(LockgenError, match=r"would leave its folder|one top-level"):
            unpack_sdist(io.BytesIO(buffer.getvalue()), "demo-1.0.zip", into)
        assert not (tmp_path / "escaped").exists()
