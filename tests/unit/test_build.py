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
from lockgen.core.errors import LockgenError, first_line
from lockgen.core.toml_input import parse_toml

SDIST = "demo-1.0.tar.gz"


class TestBuildSystem:
    @pytest.mark.parametrize(
        "pyproject", [None, "[project]\nname = 'demo'\n", "[build-system]\n"]
    )
    def test_the_default_is_setuptools_legacy(self, pyproject: str | None) -> None:
        system = build_system(_doc(pyproject), SDIST)
        assert (system.requires, system.backend) == (DEFAULT_REQUIRES, DEFAULT_BACKEND)
        assert DEFAULT_REQUIRES == ("setuptools>=40.8.0", "wheel")

    def test_declared(self) -> None:
        system = build_system(
            _doc(
                "[build-system]\nrequires = ['flit_core >=3.2,<4']\n"
                "build-backend = 'flit_core.buildapi'\nbackend-path = ['_build']\n"
            ),
            SDIST,
        )
        assert system.requires == ("flit_core >=3.2,<4",)
        assert system.backend == "flit_core.buildapi"
        assert system.backend_path == ("_build",)

    @pytest.mark.parametrize(
        ("pyproject", "reason"),
        [
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
            build_system(_doc(pyproject), SDIST)
        message = str(info.value)
        assert message.startswith(f"{SDIST}: cannot build it: ") and reason in message
        assert "\n" not in message


class TestStaticMetadata:
    def test_a_static_project_table_is_the_metadata(self) -> None:
        data = static_metadata(
            _doc(
                "[project]\nname = 'Demo'\nversion = '1.0'\nrequires-python = '>=3.9'\n"
                "dependencies = ['a>=1', \"b; os_name == 'nt'\"]\n"
                "[project.optional-dependencies]\n"
                "Test_Extra = [\"c[x]; python_version < '4'\"]\n"
            )
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
            # a value that would write a field of its own
            (
                "[project]\nname = 'demo'\nversion = '1'\n"
                "requires-python = '>=3\\nRequires-Dist: injected'\n"
            ),
            "[project]\nname = 'demo\\nRequires-Dist: injected'\nversion = '1'\n",
            "[project]\nname = 'demo'\nversion = 'not a version'\n",
        ],
    )
    def test_anything_else_is_left_to_the_backend(self, pyproject: str | None) -> None:
        assert static_metadata(_doc(pyproject)) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[build-system", "not TOML (Expected ']'"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "not TOML (nested too deeply)"),
    ],
)
def test_toml_that_cannot_be_read_is_one_line(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r"^not TOML") as info:
        parse_toml(text)
    assert str(info.value).startswith(reason) and "\n" not in str(info.value)


def _doc(text: str | None) -> dict[str, object] | None:
    return None if text is None else parse_toml(text)


def _tar(
    members: dict[str, bytes],
    *,
    link: tuple[str, str] | None = None,
    links: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A .tar.gz of ``members``, then ``link`` (a symlink), then ``links``
    (``(name, target, type)``: symbolic or hard links, in that order)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for name, target, kind in ((*link, tarfile.SYMTYPE),) if link else ():
            links = ((name, target, kind), *links)
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


def _pax_nul() -> bytes:
    """A member whose PAX path holds a NUL byte."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("demo-1.0/a")
        info.pax_headers = {"path": "demo-1.0/a\0b"}
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


class TestUnpack:
    def test_a_link_to_a_member_inside_is_a_copy(self, tmp_path: Path) -> None:
        data = _tar(
            {"demo-1.0/LICENSE": b"MIT"},
            links=(
                ("demo-1.0/docs/LICENSE", "../LICENSE", tarfile.SYMTYPE),
                ("demo-1.0/COPYING", "demo-1.0/LICENSE", tarfile.LNKTYPE),
            ),
        )
        source = unpack_sdist(io.BytesIO(data), SDIST, tmp_path)
        for copy in (source / "docs" / "LICENSE", source / "COPYING"):
            assert copy.read_bytes() == b"MIT" and not copy.is_symlink()

    def test_the_member_count_is_checked_as_members_are_read(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from lockgen.build import unpack

        monkeypatch.setattr(unpack, "MAX_MEMBERS", 3)
        data = _tar({f"demo-1.0/{n}": b"" for n in range(4)})
        with pytest.raises(LockgenError, match="more than 3 members"):
            unpack_sdist(io.BytesIO(data), SDIST, tmp_path)

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
            # CVE-2025-4517's shape: links chained until a path resolves outside
            _tar(
                {"demo-1.0/a": b"x"},
                links=(
                    ("demo-1.0/l1", ".", tarfile.SYMTYPE),
                    ("demo-1.0/l2", "l1/../../escaped", tarfile.SYMTYPE),
                    ("demo-1.0/h", "demo-1.0/l2", tarfile.LNKTYPE),
                ),
            ),
            _tar(
                {"demo-1.0/a": b"x"},
                links=(("demo-1.0/h", "demo-1.0/gone", tarfile.LNKTYPE),),
            ),
            _pax_nul(),
        ],
        ids=[
            "dotdot",
            "absolute",
            "link-out",
            "two-tops",
            "link-chain",
            "hardlink-missing",
            "nul",
        ],
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


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("bad\n  x >\n    ^", "bad"),
        ("", "invalid syntax"),
        ("\nlater", "invalid syntax"),
    ],
)
def test_first_line_of_an_error(message: str, expected: str) -> None:
    """packaging's caret lines are dropped; an empty message is never an IndexError."""
    assert first_line(ValueError(message)) == expected
