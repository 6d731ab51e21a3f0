"""plan(): which files a lock selects, and refusing an untrusted lock before a fetch."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import (
    Package,
    PackageSdist,
    PackageWheel,
    Pylock,
    PylockValidationError,
)
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockgen.core.environment import make_target
from lockgen.core.errors import LockFileError
from lockgen.core.models import Artifact, DistKind, MetadataRecord
from lockgen.lockfile.plan import plan as plan_all

LINUX = make_target("3.11", "linux_x86_64")
WINDOWS = make_target("3.11", "win_amd64")
# URL-only locks never touch the file system, so any absolute path will do.
LOCK_PATH = Path("/nonexistent/project/pylock.toml")
FILES = "https://files.example.org/packages"
UPLOADED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

MANYLINUX = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
WIN = "cp311-cp311-win_amd64"


def plan(*args: Any, **kwargs: Any) -> list[Artifact]:
    """The files ``plan_all`` selects (what most of these tests look at)."""
    return plan_all(*args, **kwargs).artifacts


def _sha(seed: str) -> str:
    """A distinct, well-formed sha256 per file, so mix-ups show in assertions."""
    return hashlib.sha256(seed.encode()).hexdigest()


def _file(
    filename: str,
    *,
    url: str | None = None,
    path: str | None = None,
    hashes: dict[str, str] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """A wheel or sdist table as tomli reads it (upload-time is a datetime)."""
    entry: dict[str, Any] = {
        "upload-time": UPLOADED,
        "size": 1234,
        "hashes": hashes if hashes is not None else {"sha256": _sha(filename)},
    }
    if path is not None:
        entry["path"] = path
    else:
        entry["url"] = url or f"{FILES}/{filename}"
    if name is not None:
        entry["name"] = name
    return entry


def _wheel(project: str, version: str, tag: str = "py3-none-any", **kw: Any) -> Any:
    return _file(f"{project}-{version}-{tag}.whl", **kw)


def _sdist(project: str, version: str, **kw: Any) -> Any:
    return _file(f"{project}-{version}.tar.gz", **kw)


def _package(
    name: str,
    version: str | None = "1.0",
    *,
    wheels: list[dict[str, Any]] | None = None,
    sdist: Mapping[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    package: dict[str, Any] = {"name": name, **fields}
    if version is not None:
        package["version"] = version
    if wheels is not None:
        package["wheels"] = wheels
    if sdist is not None:
        package["sdist"] = sdist
    return package


def _requires_python(spec: str) -> dict[str, Any]:
    """A package's ``requires-python`` field, as ``_package(**...)`` takes it (the key
    is no identifier)."""
    return {"requires-python": spec}


def _lock(*packages: dict[str, Any], **fields: Any) -> Pylock:
    return Pylock.from_dict(
        {"lock-version": "1.0", "created-by": "tests", **fields, "packages": packages}
    )


def _names(artifacts: list[Artifact]) -> list[str]:
    return [a.filename for a in artifacts]


def _refused(lock: Pylock, lock_path: Path = LOCK_PATH, **kw: Any) -> str:
    """The one-line LockFileError plan raises (naming the lock file)."""
    kw.setdefault("target", LINUX)
    with pytest.raises(LockFileError) as caught:
        plan(lock, lock_path, **kw)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{lock_path}: ")
    return message


def _platform_package() -> dict[str, Any]:
    return _package(
        "plat",
        wheels=[
            _wheel("plat", "1.0", WIN),
            _wheel("plat", "1.0", MANYLINUX),
            _wheel("plat", "1.0", "py3-none-any"),
        ],
        sdist=_sdist("plat", "1.0"),
    )


class TestWheelSelection:
    def test_linux_target_gets_the_manylinux_wheel(self) -> None:
        artifacts = plan(_lock(_platform_package()), LOCK_PATH, target=LINUX)
        assert _names(artifacts) == [f"plat-1.0-{MANYLINUX}.whl"]

    def test_windows_target_gets_the_windows_wheel(self) -> None:
        artifacts = plan(_lock(_platform_package()), LOCK_PATH, target=WINDOWS)
        assert _names(artifacts) == [f"plat-1.0-{WIN}.whl"]

    def test_pure_wheel_when_no_platform_wheel_fits(self) -> None:
        lock = _lock(
            _package(
                "plat",
                wheels=[_wheel("plat", "1.0", WIN), _wheel("plat", "1.0")],
            )
        )
        assert _names(plan(lock, LOCK_PATH, target=LINUX)) == [
            "plat-1.0-py3-none-any.whl"
        ]

    def test_sdist_when_no_wheel_fits(self) -> None:
        lock = _lock(
            _package(
                "plat",
                wheels=[_wheel("plat", "1.0", WIN)],
                sdist=_sdist("plat", "1.0"),
            )
        )
        assert _names(plan(lock, LOCK_PATH, target=LINUX)) == ["plat-1.0.tar.gz"]
        assert _names(plan(lock, LOCK_PATH, target=WINDOWS)) == [f"plat-1.0-{WIN}.whl"]

    def test_sdist_only_package(self) -> None:
        lock = _lock(_package("src", sdist=_sdist("src", "1.0")))
        [artifact] = plan(lock, LOCK_PATH, target=WINDOWS)
        assert artifact.kind is DistKind.SDIST
        assert artifact.metadata is None

    def test_artifact_fields_come_from_the_chosen_entry(self) -> None:
        [artifact] = plan(_lock(_platform_package()), LOCK_PATH, target=WINDOWS)
        filename = f"plat-1.0-{WIN}.whl"
        assert artifact == Artifact(
            package=canonicalize_name("plat"),
            filename=filename,
            kind=DistKind.WHEEL,
            url=f"{FILES}/{filename}",
            path=None,
            size=1234,
            sha256=_sha(filename),
            metadata=None,
        )


class TestAllFiles:
    def test_target_none_returns_every_wheel_and_sdist(self) -> None:
        lock = _lock(
            _platform_package(),
            _package("pure", "2.0", wheels=[_wheel("pure", "2.0")]),
            _package("src", sdist=_sdist("src", "1.0")),
        )
        assert _names(plan(lock, LOCK_PATH, target=None)) == [
            f"plat-1.0-{MANYLINUX}.whl",
            f"plat-1.0-{WIN}.whl",
            "plat-1.0-py3-none-any.whl",
            "plat-1.0.tar.gz",
            "pure-2.0-py3-none-any.whl",
            "src-1.0.tar.gz",
        ]

    def test_target_none_ignores_markers_and_requires_python(self) -> None:
        lock = _lock(
            _package(
                "winonly",
                wheels=[_wheel("winonly", "1.0", WIN)],
                marker='sys_platform == "win32"',
                **_requires_python(">=3.99"),
            ),
            **{"requires-python": ">=3.99"},
        )
        assert _names(plan(lock, LOCK_PATH, target=None)) == [f"winonly-1.0-{WIN}.whl"]

    def test_output_is_sorted_by_file_name(self) -> None:
        lock = _lock(
            _package("zeta", wheels=[_wheel("zeta", "1.0")]),
            _package("mid", sdist=_sdist("mid", "1.0")),
            _package("alpha", wheels=[_wheel("alpha", "1.0")]),
        )
        expected = [
            "alpha-1.0-py3-none-any.whl",
            "mid-1.0.tar.gz",
            "zeta-1.0-py3-none-any.whl",
        ]
        assert _names(plan(lock, LOCK_PATH, target=LINUX)) == expected
        assert _names(plan(lock, LOCK_PATH, target=None)) == expected


class TestExtrasAndGroups:
    @staticmethod
    def _lock(default_groups: list[str]) -> Pylock:
        return _lock(
            _package("base", wheels=[_wheel("base", "1.0")]),
            _package(
                "pytest",
                wheels=[_wheel("pytest", "1.0")],
                marker="'dev' in dependency_groups",
            ),
            _package(
                "torch",
                wheels=[_wheel("torch", "1.0")],
                marker="'cpu' in extras",
            ),
            extras=["cpu"],
            **{"dependency-groups": ["dev"], "default-groups": default_groups},
        )

    def test_nothing_optional_by_default(self) -> None:
        artifacts = plan(self._lock([]), LOCK_PATH, target=LINUX)
        assert _names(artifacts) == ["base-1.0-py3-none-any.whl"]

    def test_extra_selects_its_package(self) -> None:
        artifacts = plan(self._lock([]), LOCK_PATH, target=LINUX, extras=["cpu"])
        assert [a.package for a in artifacts] == ["base", "torch"]

    def test_group_selects_its_package(self) -> None:
        artifacts = plan(self._lock([]), LOCK_PATH, target=LINUX, groups=["dev"])
        assert [a.package for a in artifacts] == ["base", "pytest"]

    def test_default_groups_apply_when_groups_is_none(self) -> None:
        artifacts = plan(self._lock(["dev"]), LOCK_PATH, target=LINUX, groups=None)
        assert [a.package for a in artifacts] == ["base", "pytest"]

    def test_empty_groups_overrides_default_groups(self) -> None:
        artifacts = plan(self._lock(["dev"]), LOCK_PATH, target=LINUX, groups=())
        assert [a.package for a in artifacts] == ["base"]

    def test_extras_and_groups_together(self) -> None:
        artifacts = plan(
            self._lock([]), LOCK_PATH, target=LINUX, extras=["cpu"], groups=["dev"]
        )
        assert [a.package for a in artifacts] == ["base", "pytest", "torch"]

    def test_marker_on_the_environment(self) -> None:
        lock = _lock(
            _package("a", wheels=[_wheel("a", "1.0")], marker='os_name == "nt"'),
            _package("b", wheels=[_wheel("b", "1.0")], marker='os_name == "posix"'),
        )
        assert [a.package for a in plan(lock, LOCK_PATH, target=WINDOWS)] == ["a"]
        assert [a.package for a in plan(lock, LOCK_PATH, target=LINUX)] == ["b"]


class TestSelectionErrors:
    def test_lock_requires_python_not_met(self) -> None:
        lock = _lock(
            _package("a", wheels=[_wheel("a", "1.0")]),
            **{"requires-python": ">=3.12"},
        )
        message = _refused(lock)
        assert "cannot select files for this target" in message
        assert ">=3.12" in message

    def test_package_requires_python_not_met_names_the_package(self) -> None:
        lock = _lock(
            _package(
                "newpy",
                wheels=[_wheel("newpy", "1.0")],
                **_requires_python(">=3.13"),
            )
        )
        message = _refused(lock)
        assert "'newpy'" in message
        assert ">=3.13" in message

    def test_environments_not_matching(self) -> None:
        lock = _lock(
            _package("a", wheels=[_wheel("a", "1.0")]),
            environments=['sys_platform == "win32"'],
        )
        assert "environments" in _refused(lock, target=LINUX)
        assert _names(plan(lock, LOCK_PATH, target=WINDOWS)) == [
            "a-1.0-py3-none-any.whl"
        ]

    def test_no_compatible_wheel_and_no_sdist_names_the_package(self) -> None:
        lock = _lock(_package("winonly", wheels=[_wheel("winonly", "1.0", WIN)]))
        message = _refused(lock, target=LINUX)
        assert "'winonly'" in message
        assert "no sdist" in message

    def test_two_selected_entries_of_one_package(self) -> None:
        lock = _lock(
            _package("dup", wheels=[_wheel("dup", "1.0")]),
            _package("dup", "2.0", wheels=[_wheel("dup", "2.0")]),
        )
        assert "'dup'" in _refused(lock)

    def test_an_archive_that_is_no_wheel_or_sdist(self) -> None:
        archive = {"url": f"{FILES}/thing.exe", "hashes": {"sha256": _sha("t")}}
        message = _refused(_lock(_package("thing", archive=archive)))
        assert "package thing: 'thing.exe' is not a wheel or sdist file name" in message

    @staticmethod
    def _marked(fields: dict[str, Any]) -> Pylock:
        package = _package("a", wheels=[_wheel("a", "1.0")])
        if "marker" in fields:
            package["marker"] = fields["marker"]
        # the lock declares what the selection asks for: packaging >= 26.4 refuses
        # undeclared extras and groups before it evaluates any marker
        declared = {"extras": ["cpu"], "dependency-groups": ["dev"]}
        rest = {k: v for k, v in fields.items() if k != "marker"}
        return _lock(package, **declared, **rest)

    @pytest.mark.parametrize(
        ("fields", "name"),
        [
            ({"marker": 'extra == "cpu"'}, "'extra'"),
            ({"environments": ["'cpu' in extras"]}, "'extras'"),
            ({"environments": ["'dev' in dependency_groups"]}, "'dependency_groups'"),
        ],
        ids=["package-marker-extra", "environments-extras", "environments-groups"],
    )
    def test_marker_with_an_undefined_variable(
        self, fields: dict[str, Any], name: str
    ) -> None:
        message = _refused(self._marked(fields), extras=["cpu"], groups=["dev"])
        assert "cannot be evaluated for this target" in message
        assert name in message

    @pytest.mark.parametrize(
        "fields",
        [
            {"marker": "python_version ~= '3'"},
            {"environments": ["python_version ~= '3'"]},
            {"marker": "extras == 'cpu'"},
            {"marker": "dependency_groups == 'dev'"},
        ],
        ids=["marker-compatible", "environments-compatible", "extras-eq", "groups-eq"],
    )
    def test_marker_that_cannot_be_compared(self, fields: dict[str, Any]) -> None:
        message = _refused(self._marked(fields), extras=["cpu"], groups=["dev"])
        assert "cannot be evaluated for this target" in message


class TestHashes:
    @pytest.mark.parametrize(
        "hashes",
        [
            {"md5": "0" * 32},
            {"sha512": "0" * 128},
            {"sha256": "0" * 63},
            {"sha256": "0" * 65},
            {"sha256": "g" * 64},
            {"sha256": ""},
            {"sha256": " " + "0" * 63},
        ],
        ids=["md5-only", "sha512-only", "short", "long", "not-hex", "empty", "space"],
    )
    def test_missing_or_malformed_sha256_is_refused(
        self, hashes: dict[str, str]
    ) -> None:
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", hashes=hashes)]))
        message = _refused(lock)
        assert "package a: a-1.0-py3-none-any.whl has no valid sha256" in message

    def test_refused_under_all_too(self) -> None:
        lock = _lock(_package("a", sdist=_sdist("a", "1.0", hashes={"md5": "0" * 32})))
        assert "has no valid sha256" in _refused(lock, target=None)

    def test_extra_algorithms_are_fine_beside_sha256(self) -> None:
        sha = _sha("x")
        entry = _wheel("a", "1.0", hashes={"md5": "0" * 32, "sha256": sha})
        [artifact] = plan(_lock(_package("a", wheels=[entry])), LOCK_PATH, target=None)
        assert artifact.sha256 == sha

    def test_one_bad_entry_refuses_the_whole_lock(self) -> None:
        lock = _lock(
            _package("good", wheels=[_wheel("good", "1.0")]),
            _package("bad", wheels=[_wheel("bad", "1.0", hashes={"md5": "0" * 32})]),
        )
        assert "package bad" in _refused(lock)


def _unvalidated(*, wheel: str | None = None, sdist: str | None = None) -> Pylock:
    """A lock built in code, skipping packaging's validation, to reach plan's checks."""
    url = f"{FILES}/download"
    hashes = {"sha256": _sha("x")}
    wheels = [PackageWheel(name=wheel, url=url, hashes=hashes)] if wheel else None
    package = Package(
        name=canonicalize_name("foo"),
        version=Version("1.0"),
        wheels=wheels,
        sdist=PackageSdist(name=sdist, url=url, hashes=hashes) if sdist else None,
    )
    return Pylock(lock_version=Version("1.0"), created_by="tests", packages=[package])


_UNSAFE_WHEEL_NAMES = {
    "slash": "sub/foo-1.0-py3-none-any.whl",
    "backslash": "sub\\foo-1.0-py3-none-any.whl",
    "dotdot-slash": "../foo-1.0-py3-none-any.whl",
    "dotdot-backslash": "..\\foo-1.0-py3-none-any.whl",
    "dotdot": "..",
    "leading-dot": ".foo-1.0-py3-none-any.whl",
    "nul": "foo-1.0-py3-none-any\0.whl",
    "other-package": "bar-1.0-py3-none-any.whl",
    "other-version": "foo-2.0-py3-none-any.whl",
    "sdist-name": "foo-1.0.tar.gz",
    "junk": "foo.exe",
}
_UNSAFE_SDIST_NAMES = {
    "slash": "sub/foo-1.0.tar.gz",
    "dotdot-slash": "../foo-1.0.tar.gz",
    "backslash": "..\\foo-1.0.tar.gz",
    "leading-dot": ".foo-1.0.tar.gz",
    "other-package": "bar-1.0.tar.gz",
    "other-version": "foo-2.0.tar.gz",
    "wheel-name": "foo-1.0-py3-none-any.whl",
}


class TestFileNames:
    """Packaging's validation refuses these first; plan refuses them regardless."""

    @pytest.mark.parametrize(
        "filename", _UNSAFE_WHEEL_NAMES.values(), ids=_UNSAFE_WHEEL_NAMES.keys()
    )
    def test_unsafe_wheel_name(self, filename: str) -> None:
        message = _refused(_unvalidated(wheel=filename), target=None)
        assert message.startswith(f"{LOCK_PATH}: package foo: ")
        assert repr(filename) in message

    @pytest.mark.parametrize(
        "filename", _UNSAFE_SDIST_NAMES.values(), ids=_UNSAFE_SDIST_NAMES.keys()
    )
    def test_unsafe_sdist_name(self, filename: str) -> None:
        message = _refused(_unvalidated(sdist=filename), target=None)
        assert message.startswith(f"{LOCK_PATH}: package foo: ")
        assert repr(filename) in message

    @pytest.mark.parametrize(
        "filename",
        [
            n
            for n in _UNSAFE_WHEEL_NAMES.values()
            if n.endswith(".whl") and "\0" not in n
        ],
    )
    def test_packaging_refuses_them_on_read(self, filename: str) -> None:
        entry = _file(filename, url=f"{FILES}/download", name=filename)
        with pytest.raises(PylockValidationError):
            _lock(_package("foo", wheels=[entry]))

    def test_nul_passes_packaging_but_not_plan(self) -> None:
        filename = "foo-1.0-py3-none-any\0.whl"
        entry = _file(filename, url=f"{FILES}/download", name=filename)
        lock = _lock(_package("foo", wheels=[entry]))
        assert "unsafe file name" in _refused(lock, target=None)

    def test_percent_encoded_separators_in_url(self) -> None:
        entry = _file("x", url=f"{FILES}/..%2Ffoo-1.0-py3-none-any.whl")
        with pytest.raises(PylockValidationError):
            _lock(_package("foo", wheels=[entry]))

    def test_messages_mention_what_is_wrong(self) -> None:
        assert "unsafe file name" in _refused(
            _unvalidated(wheel="../x.whl"), target=None
        )
        assert "does not belong to foo 1.0" in _refused(
            _unvalidated(wheel="bar-1.0-py3-none-any.whl"), target=None
        )
        assert "is not a sdist file name" in _refused(
            _unvalidated(sdist="foo-1.0-py3-none-any.whl"), target=None
        )
        assert "is not a wheel file name" in _refused(
            _unvalidated(wheel="foo-1.0.tar.gz"), target=None
        )

    def test_name_field_overrides_the_url_name(self) -> None:
        entry = _wheel("foo", "1.0", url=f"{FILES}/download?id=7")
        entry["name"] = "foo-1.0-py3-none-any.whl"
        [artifact] = plan(
            _lock(_package("foo", wheels=[entry])), LOCK_PATH, target=LINUX
        )
        assert artifact.filename == "foo-1.0-py3-none-any.whl"
        assert artifact.url == f"{FILES}/download?id=7"

    def test_non_normalised_spelling_of_the_package_is_accepted(self) -> None:
        lock = _lock(
            _package("foo-bar", wheels=[_file("Foo_Bar-1.0-py3-none-any.whl")])
        )
        assert _names(plan(lock, LOCK_PATH, target=LINUX)) == [
            "Foo_Bar-1.0-py3-none-any.whl"
        ]

    @pytest.mark.parametrize(
        "filename",
        [
            "foo-1.0-py3-none-a:b.whl",
            "foo-1.0-py3-none-any\n.whl",
            "foo-1.0-py3-none-\x1b[2Jany.whl",
            "foo-1.0-py3-none-any .whl",
            "foo-1.0-py3-none-a%2fb.whl",
        ],
        ids=["colon", "newline", "escape", "space", "percent"],
    )
    def test_characters_a_file_name_may_not_hold(self, filename: str) -> None:
        """Packaging reads these as wheel tags; as file names they are unsafe."""
        entry = _file(filename, url=f"{FILES}/download", name=filename)
        lock = _lock(_package("foo", wheels=[entry]))
        assert f"unsafe file name {filename!r}" in _refused(lock, target=None)

    @pytest.mark.parametrize(
        ("version", "filename"),
        [
            ("1.0+local.7", "foo-1.0+local.7-py3-none-any.whl"),
            ("1!2.0", "foo-1!2.0-py3-none-any.whl"),
            ("1.0", "foo-1.0-1build-cp311-cp311-manylinux_2_17_x86_64.whl"),
            ("1.0", "foo-1.0.zip"),
        ],
        ids=["local-version", "epoch", "build-tag", "zip-sdist"],
    )
    def test_unusual_but_valid_names_are_accepted(
        self, version: str, filename: str
    ) -> None:
        entry = _file(filename)
        if filename.endswith(".zip"):
            lock = _lock(_package("foo", version, sdist=entry))
        else:
            lock = _lock(_package("foo", version, wheels=[entry]))
        assert _names(plan(lock, LOCK_PATH, target=None)) == [filename]


class TestDuplicates:
    def test_same_file_name_in_two_package_entries_under_all(self) -> None:
        lock = _lock(
            _package("foo", wheels=[_wheel("foo", "1.0")], marker='os_name == "nt"'),
            _package(
                "foo",
                wheels=[
                    _wheel(
                        "foo",
                        "1.0",
                        url=f"{FILES}/elsewhere/foo.whl",
                        name="foo-1.0-py3-none-any.whl",
                    )
                ],
                marker='os_name == "posix"',
            ),
        )
        message = _refused(lock, target=None)
        assert "package foo: 'foo-1.0-py3-none-any.whl' is listed twice" in message

    def test_the_same_lock_is_fine_when_markers_pick_one(self) -> None:
        lock = _lock(
            _package("foo", wheels=[_wheel("foo", "1.0")], marker='os_name == "nt"'),
            _package(
                "foo",
                wheels=[
                    _wheel(
                        "foo",
                        "1.0",
                        url=f"{FILES}/elsewhere/foo.whl",
                        name="foo-1.0-py3-none-any.whl",
                    )
                ],
                marker='os_name == "posix"',
            ),
        )
        [artifact] = plan(lock, LOCK_PATH, target=LINUX)
        assert artifact.url == f"{FILES}/elsewhere/foo.whl"

    def test_same_file_name_twice_in_one_package(self) -> None:
        lock = _lock(
            _package(
                "foo",
                wheels=[
                    _wheel("foo", "1.0"),
                    _wheel(
                        "foo",
                        "1.0",
                        url=f"{FILES}/mirror/x.whl",
                        name="foo-1.0-py3-none-any.whl",
                    ),
                ],
            )
        )
        assert "is listed twice" in _refused(lock, target=None)

    def test_names_differing_only_in_case_are_duplicates(self) -> None:
        """One file on Windows and macOS, so two downloads would race on it."""
        lock = _lock(
            _package(
                "foo",
                wheels=[
                    _file("foo-1.0-py3-none-any.whl"),
                    _file("Foo-1.0-py3-none-any.whl"),
                ],
            )
        )
        assert "is listed twice" in _refused(lock, target=None)


class TestUrls:
    @pytest.mark.parametrize(
        "host", ["127.0.0.1", "127.0.0.2", "[::1]", "localhost", "LOCALHOST"]
    )
    def test_http_to_loopback_is_allowed_without_allow_http(self, host: str) -> None:
        url = f"http://{host}:8000/files/a-1.0-py3-none-any.whl"
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
        [artifact] = plan(lock, LOCK_PATH, target=LINUX)
        assert artifact.url == url

    @pytest.mark.parametrize(
        "host", ["files.example.org", "10.0.0.1", "0.0.0.0", "[::]", "localhost.evil"]
    )
    def test_http_elsewhere_needs_allow_http(self, host: str) -> None:
        url = f"http://{host}/files/a-1.0-py3-none-any.whl"
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
        message = _refused(lock)
        assert "package a: URL scheme 'http' is not allowed" in message
        [artifact] = plan(lock, LOCK_PATH, target=LINUX, allow_http=True)
        assert artifact.url == url

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://files.example.org/a-1.0-py3-none-any.whl",
            "gopher://files.example.org/a-1.0-py3-none-any.whl",
        ],
    )
    def test_other_schemes_are_refused_even_with_allow_http(self, url: str) -> None:
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
        scheme = url.split(":")[0]
        assert f"URL scheme '{scheme}' is not allowed" in _refused(
            lock, allow_http=True
        )

    @pytest.mark.parametrize(
        "url",
        [
            "https://user:s3cret@files.example.org/a-1.0-py3-none-any.whl",
            "https://tok3n@files.example.org/a-1.0-py3-none-any.whl",
            "http://user:s3cret@127.0.0.1/a-1.0-py3-none-any.whl",
        ],
    )
    def test_credentials_in_the_url_are_refused_and_not_echoed(self, url: str) -> None:
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
        message = _refused(lock, allow_http=True)
        assert "URL carries credentials" in message
        assert "s3cret" not in message
        assert "tok3n" not in message

    def test_file_urls_stay_inside_the_lock_directory(self, tmp_path: Path) -> None:
        """Like ``path``: a stranger's lock may not copy ~/.ssh/id_rsa into DEST."""
        lock_path = tmp_path / "project" / "pylock.toml"
        inside = (tmp_path / "project" / "w" / "a-1.0-py3-none-any.whl").as_uri()
        escape = f"{(tmp_path / 'project').as_uri()}/%2e%2e/a-1.0-py3-none-any.whl"
        for url, ok in (
            (inside, True),
            (escape, False),
            ("file:///etc/a-1.0-py3-none-any.whl", False),
        ):
            lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
            if ok:
                [artifact] = plan(lock, lock_path, target=LINUX)
                assert artifact.url == url
                continue
            with pytest.raises(LockFileError, match="outside the lock file's dir"):
                plan(lock, lock_path, target=LINUX)

    def test_a_file_url_on_another_host_is_refused(self) -> None:
        url = "file://evil.example.invalid/srv/a-1.0-py3-none-any.whl"
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", url=url)]))
        with pytest.raises(LockFileError, match="names another host"):
            plan(lock, LOCK_PATH, target=LINUX, allow_file_urls=True)

    def test_https_and_file_urls_are_allowed(self) -> None:
        lock = _lock(
            _package(
                "a",
                wheels=[_wheel("a", "1.0", url="file:///srv/a-1.0-py3-none-any.whl")],
            ),
            _package("b", wheels=[_wheel("b", "1.0")]),
        )
        allowed = plan(lock, LOCK_PATH, target=LINUX, allow_file_urls=True)
        assert [a.url for a in allowed] == [
            "file:///srv/a-1.0-py3-none-any.whl",
            f"{FILES}/b-1.0-py3-none-any.whl",
        ]


class TestPaths:
    def test_relative_path_resolves_against_the_lock_directory(
        self, tmp_path: Path
    ) -> None:
        lock_path = tmp_path / "project" / "pylock.toml"
        lock = _lock(
            _package(
                "a", wheels=[_wheel("a", "1.0", path="wheels/a-1.0-py3-none-any.whl")]
            ),
            _package("b", sdist=_sdist("b", "1.0", path="./b-1.0.tar.gz")),
        )
        a, b = plan(lock, lock_path, target=LINUX)
        project = (tmp_path / "project").resolve()
        assert a.path == project / "wheels" / "a-1.0-py3-none-any.whl"
        assert b.path == project / "b-1.0.tar.gz"
        assert a.url is None and b.url is None
        assert a.path.is_absolute()

    def test_backslash_separators_are_read_as_directories(self, tmp_path: Path) -> None:
        lock_path = tmp_path / "pylock.toml"
        entry = _wheel("a", "1.0", path="wheels\\a-1.0-py3-none-any.whl")
        [artifact] = plan(_lock(_package("a", wheels=[entry])), lock_path, target=LINUX)
        assert artifact.filename == "a-1.0-py3-none-any.whl"
        assert artifact.path == tmp_path.resolve() / "wheels" / "a-1.0-py3-none-any.whl"

    def test_path_inside_after_dotdot_is_fine(self, tmp_path: Path) -> None:
        lock_path = tmp_path / "pylock.toml"
        entry = _wheel("a", "1.0", path="x/../a-1.0-py3-none-any.whl")
        [artifact] = plan(_lock(_package("a", wheels=[entry])), lock_path, target=LINUX)
        assert artifact.path == tmp_path.resolve() / "a-1.0-py3-none-any.whl"

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("../a-1.0-py3-none-any.whl", "leaves the lock file's directory"),
            ("..\\a-1.0-py3-none-any.whl", "leaves the lock file's directory"),
            ("sub/../../a-1.0-py3-none-any.whl", "leaves the lock file's directory"),
            ("/etc/a-1.0-py3-none-any.whl", "absolute path"),
            ("\\etc\\a-1.0-py3-none-any.whl", "absolute path"),
        ],
    )
    def test_path_outside_the_lock_directory_is_refused(
        self, tmp_path: Path, path: str, reason: str
    ) -> None:
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", path=path)]))
        lock_path = tmp_path / "project" / "pylock.toml"
        message = _refused(lock, lock_path=lock_path, target=None)
        assert "package a: " in message
        assert reason in message

    def test_symlink_out_of_the_lock_directory_is_refused(self, tmp_path: Path) -> None:
        project = tmp_path / "project"
        project.mkdir()
        (tmp_path / "outside").mkdir()
        (project / "link").symlink_to(tmp_path / "outside")
        lock = _lock(
            _package(
                "a", wheels=[_wheel("a", "1.0", path="link/a-1.0-py3-none-any.whl")]
            )
        )
        message = _refused(lock, lock_path=project / "pylock.toml")
        assert "leaves the lock file's directory" in message

    @pytest.mark.parametrize(
        ("field", "value", "what"),
        [
            ("path", "w/\x00/a-1.0-py3-none-any.whl", "path 'w/\\x00/"),
            ("url", "file:///srv/%00/a-1.0-py3-none-any.whl", "file: URL"),
        ],
    )
    def test_a_nul_byte_in_a_path_is_refused(
        self, tmp_path: Path, field: str, value: str, what: str
    ) -> None:
        # Found by the lock readers' property test: a ValueError out of resolve().
        lock = _lock(_package("a", wheels=[_wheel("a", "1.0", **{field: value})]))
        message = _refused(lock, lock_path=tmp_path / "pylock.toml")
        assert f"package a: {what}" in message
        assert message.endswith("names no possible file")


def _tool(**fields: Any) -> dict[str, Any]:
    return {"lockgen": fields}


class TestMetadataRecord:
    RECORDED = _tool(
        **{
            "metadata-source": "range",
            "metadata-file": "rec-1.0-py3-none-any.whl",
            "metadata-sha256": "b" * 64,
            "requires-dist": ["dep>=1", 'win ; sys_platform == "win32"'],
        }
    )

    def _one(self, **fields: Any) -> Artifact:
        lock = _lock(
            _package(
                "rec",
                wheels=[_wheel("rec", "1.0")],
                sdist=_sdist("rec", "1.0"),
                **fields,
            )
        )
        [wheel] = plan(lock, LOCK_PATH, target=LINUX)
        return wheel

    def test_record_is_read_from_packages_tool_lockgen(self) -> None:
        wheel = self._one(tool=self.RECORDED, **{"requires-python": ">= 3.8"})
        assert wheel.metadata == MetadataRecord(
            filename="rec-1.0-py3-none-any.whl",
            sha256="b" * 64,
            requires_dist=("dep>=1", 'win ; sys_platform == "win32"'),
            requires_python=">=3.8",
        )

    def test_no_requires_python(self) -> None:
        wheel = self._one(tool=self.RECORDED)
        assert wheel.metadata is not None
        assert wheel.metadata.requires_python is None

    def test_missing_requires_dist_means_none(self) -> None:
        fields = dict(self.RECORDED["lockgen"])
        del fields["requires-dist"]
        wheel = self._one(tool=_tool(**fields))
        assert wheel.metadata is not None
        assert wheel.metadata.requires_dist == ()

    def test_absent(self) -> None:
        assert self._one().metadata is None
        assert self._one(tool={"other-tool": {"x": 1}}).metadata is None

    @pytest.mark.parametrize(
        "tool",
        [
            {"lockgen": "not a table"},
            _tool(**{"metadata-sha256": "b" * 64, "requires-dist": []}),
            _tool(**{"metadata-file": "rec-1.0-py3-none-any.whl", "requires-dist": []}),
            _tool(**{"metadata-file": 7, "metadata-sha256": "b" * 64}),
            _tool(
                **{
                    "metadata-file": "rec-1.0-py3-none-any.whl",
                    "metadata-sha256": "b" * 64,
                    "requires-dist": "dep>=1",
                }
            ),
        ],
        ids=["not-table", "no-file", "no-sha", "file-not-str", "requires-not-list"],
    )
    def test_malformed_means_none(self, tool: dict[str, Any]) -> None:
        assert self._one(tool=tool).metadata is None

    def test_sdists_carry_no_record(self) -> None:
        lock = _lock(_package("rec", sdist=_sdist("rec", "1.0"), tool=self.RECORDED))
        [sdist] = plan(lock, LOCK_PATH, target=None)
        assert sdist.metadata is None


COMMIT = "0123456789abcdef0123456789abcdef01234567"


class TestDirectSources:
    """PEP 751's archive, vcs and directory tables: fetched, checked out, reported."""

    @pytest.mark.parametrize("target", [LINUX, None], ids=["target", "all"])
    def test_an_archive_is_a_file_named_by_its_url(self, target: Any) -> None:
        archive = {
            "url": f"{FILES}/thing-1.0-py3-none-any.whl",
            "size": 10,
            "hashes": {"sha256": _sha("t")},
        }
        tool = {"lockgen": {"metadata-file": "x", "metadata-sha256": _sha("m")}}
        lock = _lock(_package("thing", archive=archive, tool=tool))
        [artifact] = plan(lock, LOCK_PATH, target=target)
        assert artifact.filename == "thing-1.0-py3-none-any.whl"
        assert artifact.kind is DistKind.WHEEL
        assert (artifact.url, artifact.size) == (archive["url"], 10)
        assert artifact.sha256 == _sha("t")

    def test_an_archive_of_another_project_is_refused(self) -> None:
        archive = {"url": f"{FILES}/other-1.0.tar.gz", "hashes": {"sha256": _sha("t")}}
        assert "does not belong to thing" in _refused(
            _lock(_package("thing", archive=archive))
        )

    def test_an_archive_path_leaving_the_folder_needs_allow_file_urls(
        self, tmp_path: Path
    ) -> None:
        archive = {"path": "../dist/thing-1.0.tar.gz", "hashes": {"sha256": _sha("t")}}
        lock = _lock(_package("thing", archive=archive))
        lock_path = tmp_path / "project" / "pylock.toml"
        assert "leaves the lock file's directory" in _refused(lock, lock_path)
        [artifact] = plan(lock, lock_path, target=LINUX, allow_file_urls=True)
        assert artifact.path == (tmp_path / "dist" / "thing-1.0.tar.gz").resolve()

    @pytest.mark.parametrize("target", [LINUX, None], ids=["target", "all"])
    def test_vcs_and_directory(self, target: Any) -> None:
        vcs = {
            "type": "git",
            "url": "https://git.example.org/app.git",
            "commit-id": COMMIT,
            "subdirectory": "lib",
        }
        lock = _lock(
            _package("app", None, vcs=vcs),
            _package("mine", None, directory={"path": "libs/mine", "editable": True}),
        )
        selected = plan_all(lock, LOCK_PATH, target=target)
        assert selected.artifacts == []
        [checkout] = selected.checkouts
        assert (checkout.package, checkout.url, checkout.commit) == (
            "app",
            vcs["url"],
            COMMIT,
        )
        assert checkout.filename == "app-0123456789ab"
        assert checkout.subdirectory == "lib"
        [local] = selected.local
        assert (local.package, local.filename, local.editable) == (
            "mine",
            "libs/mine",
            True,
        )

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            ({"commit-id": "main"}, "not a full git commit id"),
            ({"type": "hg"}, "is not git"),
            ({"url": "http://git.example.org/app.git"}, "URL scheme 'http'"),
            ({"url": "git://git.example.org/app.git"}, "URL scheme 'http'"),
            ({"url": "https://u:p@git.example.org/app.git"}, "credentials"),
            ({"url": "ssh://u:p@git.example.org/app.git"}, "credentials"),
            ({"url": "file:///srv/app.git"}, "only with --allow-file-urls"),
            ({"url": "https::http://h.example/app.git"}, "a vcs url must be"),
            ({"url": "https://h.example/app.git?x=1"}, "a vcs url must be"),
            ({"url": "https://h.example/app.git#x"}, "a vcs url must be"),
            ({"url": "HTTPS://h.example/app.git"}, "a vcs url must be"),
            ({"url": "https://[::1/app.git"}, "invalid URL"),
        ],
    )
    def test_unsafe_vcs_entries(self, fields: dict[str, str], reason: str) -> None:
        vcs = {"type": "git", "url": "https://git.example.org/app.git"}
        vcs |= {"commit-id": COMMIT, **fields}
        message = _refused(_lock(_package("app", None, vcs=vcs)))
        assert reason in message

    def test_a_local_repository_needs_allow_file_urls(self, tmp_path: Path) -> None:
        """Even inside the lock's folder: git follows a repository's alternates."""
        vcs = {"type": "git", "url": (tmp_path / "repo").as_uri(), "commit-id": COMMIT}
        lock = _lock(_package("app", None, vcs=vcs))
        lock_path = tmp_path / "pylock.toml"
        assert "only with --allow-file-urls" in _refused(lock, lock_path)
        selected = plan_all(lock, lock_path, target=LINUX, allow_file_urls=True)
        assert [c.url for c in selected.checkouts] == [vcs["url"]]

    def test_one_checkout_folder_twice_is_refused(self) -> None:
        vcs = {"type": "git", "url": "https://h.example/app.git", "commit-id": COMMIT}
        lock = _lock(
            _package("app", None, vcs=vcs, marker="sys_platform == 'linux'"),
            _package("app", None, vcs=vcs, marker="sys_platform == 'win32'"),
        )
        assert "'app-0123456789ab' is listed twice" in _refused(lock, target=None)

    def test_a_directory_path_must_print_on_one_line(self) -> None:
        lock = _lock(_package("app", None, directory={"path": "a\nerror: forged"}))
        assert "control characters" in _refused(lock)

    def test_an_archive_url_packaging_cannot_split_is_refused(self) -> None:
        archive = {
            "url": "https://[::1/app-1.0.tar.gz",
            "hashes": {"sha256": _sha("a")},
        }
        assert "invalid URL" in _refused(_lock(_package("app", archive=archive)))

    def test_ssh_with_a_user_is_allowed(self) -> None:
        vcs = {"type": "git", "url": "ssh://git@git.example.org/app.git"}
        lock = _lock(_package("app", None, vcs=vcs | {"commit-id": COMMIT}))
        [checkout] = plan_all(lock, LOCK_PATH, target=LINUX).checkouts
        assert checkout.url == vcs["url"]
