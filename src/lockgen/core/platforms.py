"""``--platform`` spellings (pip's and uv's) as wheel platform tags and machine markers.

Split from :mod:`lockgen.core.environment`, which builds a whole target: this module
only knows what a platform name stands for (``manylinux_2_28_aarch64``,
``macosx_11_0_arm64``, ``win_amd64``...), mirroring how ``packaging.tags`` orders
each family's tags, and refuses what lockgen could not describe with markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging import tags as _tags

from lockgen.core.errors import InvalidTargetError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Platform", "parse_platform"]

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


@dataclass(frozen=True, slots=True)
class Platform:
    """What a ``--platform`` spelling stands for: wheel platforms and machine markers."""

    platforms: tuple[str, ...]
    markers: dict[str, str]


def parse_platform(text: str) -> Platform:
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


def _linux(arch: str, platforms: list[str]) -> Platform:
    """A Linux target: the given wheel platforms, then the bare ``linux_<arch>`` last."""
    return Platform((*platforms, f"linux_{arch}"), _machine_markers("Linux", arch))


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


def _glibc_linux(text: str, match: re.Match[str]) -> Platform:
    """``linux_*`` (as glibc 2.28), ``manylinux_2_*`` and the legacy manylinux names."""
    if match["minor"]:
        minor = int(match["minor"])
    elif match["legacy"]:
        minor = _LEGACY_MANYLINUX[match["legacy"]]
    else:
        minor = _LINUX_DEFAULT_GLIBC_MINOR
    arch = match["arch"]
    return _linux(arch, _manylinux_platforms(text, arch, minor))


def _musllinux(text: str, match: re.Match[str]) -> Platform:
    """musllinux_X_Y down to musllinux_X_0, as ``packaging._musllinux`` orders them."""
    arch, major, minor = match["arch"], int(match["major"]), int(match["minor"])
    _check_arch(text, arch, _LINUX_ARCHS)
    platforms = [f"musllinux_{major}_{m}_{arch}" for m in range(minor, -1, -1)]
    return _linux(arch, platforms)


def _macos(text: str, match: re.Match[str]) -> Platform:
    """macOS tags straight from ``packaging.tags.mac_platforms``."""
    arch = match["arch"]
    _check_arch(text, arch, _MAC_ARCHS)
    version = (int(match["major"]), int(match["minor"]))
    platforms = tuple(_tags.mac_platforms(version, arch))
    if version < (10, 0) or not platforms:
        msg = f"unsupported macOS version in platform {text!r}"
        raise InvalidTargetError(msg)
    machine = "arm64" if arch == "arm64" else "x86_64"
    return Platform(platforms, _machine_markers("Darwin", machine))


def _windows(name: str) -> Platform:
    """Windows is one fixed platform tag per architecture."""
    return Platform((name,), _machine_markers("Windows", _WINDOWS_MACHINES[name]))


_ARCH = r"(?P<arch>[a-z0-9_]+)"
_PLATFORM_FORMS: tuple[
    tuple[re.Pattern[str], Callable[[str, re.Match[str]], Platform]], ...
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
