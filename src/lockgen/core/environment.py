"""The environment a lock is made for, so markers and wheel tags judge a foreign target.

This module builds a :class:`Target` (the interpreter's half: Python version,
markers, CPython tags); what a ``--platform`` spelling stands for is
:mod:`lockgen.core.platforms`'.
"""

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
from lockgen.core.platforms import Platform, parse_platform

if TYPE_CHECKING:
    from collections.abc import Iterable
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
        parsed = Platform(tuple(_tags.platform_tags()), machine)
    else:
        parsed = parse_platform(platform)
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
