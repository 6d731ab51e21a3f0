"""The environment a lock is made for, so markers and wheel tags judge a foreign target."""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging import tags as _tags
from packaging.markers import default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from lockgen.core.errors import InvalidTargetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from collections.abc import Set as AbstractSet

    from packaging.tags import Tag

__all__ = ["Target", "current_target", "make_target"]

# Keys of the lock's `environments` entry, in the order they are written.
_ENVIRONMENT_KEYS = (
    "python_version",
    "sys_platform",
    "platform_machine",
    "implementation_name",
)
_LINUX_ARCHS = ("x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l")
_MAC_ARCHS = ("x86_64", "arm64", "universal2")
_WINDOWS_MACHINES = {"win_amd64": "AMD64", "win32": "x86", "win_arm64": "ARM64"}
_LEGACY_MANYLINUX = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
_LEGACY_BY_MINOR = {minor: name for name, minor in _LEGACY_MANYLINUX.items()}
# platform.system() -> (sys.platform, os.name)
_SYSTEMS = {
    "Linux": ("linux", "posix"),
    "Darwin": ("darwin", "posix"),
    "Windows": ("win32", "nt"),
}
# uv reads a bare `linux_<arch>` as manylinux_2_28, so lockgen does too.
_LINUX_DEFAULT_GLIBC_MINOR = 28
_ACCEPTED_PLATFORMS = (
    "linux_<arch>, manylinux_2_<minor>_<arch>, manylinux2014_<arch>, "
    "musllinux_1_<minor>_<arch>, macosx_<major>_<minor>_<arch>, "
    "win_amd64, win32 or win_arm64"
)
_PYTHON_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """One interpreter and platform: the marker environment plus its wheel tags.

    ``markers`` is a sorted tuple of items so a Target stays hashable; ``tags`` is
    ordered most preferred first, the way ``packaging.tags.sys_tags`` orders them.
    """

    python_version: Version
    markers: tuple[tuple[str, str], ...]
    tags: tuple[Tag, ...]
    _environment: dict[str, str] = field(init=False, repr=False, compare=False)
    _ranks: dict[Tag, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the lookups once, since the resolver asks them for every file."""
        ranks: dict[Tag, int] = {}
        for index, tag in enumerate(self.tags):
            ranks.setdefault(tag, index)
        object.__setattr__(self, "_environment", dict(self.markers))
        object.__setattr__(self, "_ranks", ranks)

    @classmethod
    def current(cls) -> Target:
        """The running interpreter, exactly as packaging sees it."""
        return current_target()

    @classmethod
    def from_spec(
        cls, *, python_version: str | None = None, platform: str | None = None
    ) -> Target:
        """CPython ``X.Y[.Z]`` on a ``--platform`` spelling (``manylinux_2_17_x86_64``,
        ``win_amd64``...); either left out is the running one's. Raises
        :class:`~lockgen.core.errors.InvalidTargetError`."""
        return make_target(python_version, platform)

    def environment(self) -> dict[str, str]:
        """The marker environment for ``Marker.evaluate``; shared, so copy to change it."""
        return self._environment

    def supports_python(self, spec: SpecifierSet | str | None) -> bool:
        """Whether a ``Requires-Python`` admits this interpreter; unreadable ones do not."""
        if spec is None:
            return True
        if isinstance(spec, str):
            try:
                spec = SpecifierSet(spec)
            except InvalidSpecifier:
                return False
        return spec.contains(self.python_version, prereleases=True)

    def wheel_rank(self, tags: AbstractSet[Tag]) -> int | None:
        """Rank of a wheel's best tag (lower is better), or ``None`` if none fits."""
        ranks = [self._ranks[tag] for tag in tags if tag in self._ranks]
        return min(ranks, default=None)

    def environment_marker(self) -> str:
        """The marker the lock's ``environments`` records for this target."""
        env = self._environment
        pairs = ((key, env.get(key, "")) for key in _ENVIRONMENT_KEYS)
        return " and ".join(f"{key} == {_quote(value)}" for key, value in pairs)

    def requires_python(self) -> str:
        """The lock's ``requires-python``: this interpreter's minor release series."""
        return f"=={self.python_version.major}.{self.python_version.minor}.*"


@dataclass(frozen=True, slots=True)
class _Platform:
    """What a ``--platform`` spelling stands for: wheel platforms and machine markers."""

    platforms: tuple[str, ...]
    markers: dict[str, str]


def _quote(value: str) -> str:
    """Quote a marker value with whichever quote it does not contain."""
    return f'"{value}"' if "'" in value else f"'{value}'"


@functools.cache
def current_target() -> Target:
    """The running interpreter, exactly as packaging sees it."""
    env = _running_markers()
    version = Version(".".join(map(str, sys.version_info[:3])))
    return Target(
        python_version=version,
        markers=tuple(sorted(env.items())),
        tags=tuple(_tags.sys_tags()),
    )


def make_target(
    python_version: str | None = None, platform: str | None = None
) -> Target:
    """The target for ``--python-version``/``--platform``; the running one if neither."""
    if python_version is None and platform is None:
        return current_target()
    version = (
        _running_python() if python_version is None else _parse_python(python_version)
    )
    python = _python_markers(version)
    if platform is None:
        machine = {k: v for k, v in _running_markers().items() if k not in python}
        parsed = _Platform(tuple(_tags.platform_tags()), machine)
    else:
        parsed = _parse_platform(platform)
    markers = {**parsed.markers, **python}
    return Target(
        python_version=Version(".".join(map(str, version))),
        markers=tuple(sorted(markers.items())),
        tags=_cpython_tags(version, parsed.platforms),
    )


def _running_markers() -> dict[str, str]:
    """The running interpreter's marker environment as a plain str -> str dict."""
    return {key: str(value) for key, value in default_environment().items()}


def _running_python() -> tuple[int, int, int]:
    """The running interpreter's X.Y.Z, the default python of a cross-platform target."""
    major, minor, micro = sys.version_info[:3]
    return major, minor, micro


def _parse_python(text: str) -> tuple[int, int, int]:
    """Read ``X.Y`` or ``X.Y.Z``; a bare ``X.Y`` means its first release ``X.Y.0``."""
    match = _PYTHON_RE.fullmatch(text.strip())
    if match is None:
        msg = f"invalid python version {text!r}: expected X.Y or X.Y.Z, e.g. 3.12"
        raise InvalidTargetError(msg)
    major, minor, micro = (int(part or 0) for part in match.groups())
    if major != 3:
        msg = (
            f"unsupported python version {text!r}: only CPython 3 targets are supported"
        )
        raise InvalidTargetError(msg)
    return major, minor, micro


def _python_markers(version: tuple[int, int, int]) -> dict[str, str]:
    """The interpreter half of the marker environment, for a CPython of that version."""
    full = ".".join(map(str, version))
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "python_full_version": full,
        "python_version": f"{version[0]}.{version[1]}",
    }


def _cpython_tags(
    version: tuple[int, int, int], platforms: Iterable[str]
) -> tuple[Tag, ...]:
    """CPython's tags for a version, in sys_tags order, without the running build's flags.

    The ABI is given explicitly: packaging would otherwise copy the *running*
    interpreter's debug or free-threading flags onto a foreign version.
    """
    nodot = f"{version[0]}{version[1]}"
    abi = f"cp{nodot}m" if version[:2] < (3, 8) else f"cp{nodot}"
    short = (version[0], version[1])
    plats = list(platforms)
    cpython = _tags.cpython_tags(python_version=short, abis=[abi], platforms=plats)
    compatible = _tags.compatible_tags(
        python_version=short, interpreter=f"cp{nodot}", platforms=plats
    )
    return (*cpython, *compatible)


def _parse_platform(text: str) -> _Platform:
    """Turn a pip/uv ``--platform`` spelling into platform tags and machine markers."""
    name = re.sub(r"[.-]", "_", text.strip().lower())
    if name in _WINDOWS_MACHINES:
        return _windows(name)
    for pattern, build in _PLATFORM_FORMS:
        match = pattern.fullmatch(name)
        if match is not None:
            return build(text, match)
    msg = f"unknown platform {text!r}: expected {_ACCEPTED_PLATFORMS}"
    raise InvalidTargetError(msg)


def _check_arch(text: str, arch: str, accepted: tuple[str, ...]) -> None:
    """Refuse an architecture lockgen cannot describe with markers."""
    if arch not in accepted:
        msg = (
            f"unsupported architecture {arch!r} in platform {text!r}: "
            f"expected one of {', '.join(accepted)}"
        )
        raise InvalidTargetError(msg)


def _machine_markers(system: str, machine: str) -> dict[str, str]:
    """The machine half of the marker environment; release and version are unknown."""
    sys_platform, os_name = _SYSTEMS[system]
    return {
        "os_name": os_name,
        "platform_machine": machine,
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "sys_platform": sys_platform,
    }


def _linux(arch: str, platforms: list[str]) -> _Platform:
    """A Linux target: the given wheel platforms, then the bare ``linux_<arch>`` last."""
    return _Platform((*platforms, f"linux_{arch}"), _machine_markers("Linux", arch))


def _manylinux_platforms(text: str, arch: str, glibc_minor: int) -> list[str]:
    """manylinux tags from glibc 2.<minor> down to the oldest for the arch.

    Mirrors ``packaging._manylinux.platform_tags``: the floor is glibc 2.5 on x86 and
    2.17 elsewhere, and each legacy alias follows its ``manylinux_2_*`` twin.
    """
    _check_arch(text, arch, _LINUX_ARCHS)
    oldest = 5 if arch in {"x86_64", "i686"} else 17
    if glibc_minor < oldest:
        msg = (
            f"platform {text!r} is older than the oldest glibc for {arch} (2.{oldest})"
        )
        raise InvalidTargetError(msg)
    platforms: list[str] = []
    for minor in range(glibc_minor, oldest - 1, -1):
        platforms.append(f"manylinux_2_{minor}_{arch}")
        if legacy := _LEGACY_BY_MINOR.get(minor):
            platforms.append(f"{legacy}_{arch}")
    return platforms


def _glibc_linux(text: str, match: re.Match[str]) -> _Platform:
    """``linux_*`` (as glibc 2.28), ``manylinux_2_*`` and the legacy manylinux names."""
    if match["minor"]:
        minor = int(match["minor"])
    elif match["legacy"]:
        minor = _LEGACY_MANYLINUX[match["legacy"]]
    else:
        minor = _LINUX_DEFAULT_GLIBC_MINOR
    arch = match["arch"]
    return _linux(arch, _manylinux_platforms(text, arch, minor))


def _musllinux(text: str, match: re.Match[str]) -> _Platform:
    """musllinux_X_Y down to musllinux_X_0, as ``packaging._musllinux`` orders them."""
    arch, major, minor = match["arch"], int(match["major"]), int(match["minor"])
    _check_arch(text, arch, _LINUX_ARCHS)
    platforms = [f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1)]
    return _linux(arch, platforms)


def _macos(text: str, match: re.Match[str]) -> _Platform:
    """macOS tags straight from ``packaging.tags.mac_platforms``."""
    arch = match["arch"]
    _check_arch(text, arch, _MAC_ARCHS)
    version = (int(match["major"]), int(match["minor"]))
    platforms = tuple(_tags.mac_platforms(version, arch))
    if version < (10, 0) or not platforms:
        msg = f"unsupported macOS version in platform {text!r}"
        raise InvalidTargetError(msg)
    machine = "arm64" if arch == "arm64" else "x86_64"
    return _Platform(platforms, _machine_markers("Darwin", machine))


def _windows(name: str) -> _Platform:
    """Windows is one fixed platform tag per architecture."""
    return _Platform((name,), _machine_markers("Windows", _WINDOWS_MACHINES[name]))


_ARCH = r"(?P<arch>[a-z0-9_]+)"
_PLATFORM_FORMS: tuple[
    tuple[re.Pattern[str], Callable[[str, re.Match[str]], _Platform]], ...
] = (
    (
        re.compile(
            rf"(?:manylinux_2_(?P<minor>\d+)|(?P<legacy>manylinux(?:2014|2010|1))"
            rf"|linux)_{_ARCH}"
        ),
        _glibc_linux,
    ),
    (re.compile(rf"musllinux_(?P<major>\d+)_(?P<minor>\d+)_{_ARCH}"), _musllinux),
    (re.compile(rf"macosx_(?P<major>\d+)_(?P<minor>\d+)_{_ARCH}"), _macos),
)
