"""A project's files grouped by version from the file name alone.

A popular project lists tens of thousands of files over hundreds of versions, and
the resolver looks at a few of those versions. Parsing every name fully (wheel tags
into Tag objects) and ranking every file cost most of an ``--offline`` lock; the
version part of a name is a split away, so files are grouped by it first and only
the groups of versions the resolver asks about are parsed and ranked
(:class:`lockgen.resolver.selection.Selector`).

The version text is cut out exactly where :mod:`packaging.utils` cuts it, so a file
whose name parses lands in the group of its parsed version; a group may still hold
files whose full parse fails (a bad project name, bad tags): those are dropped when
the group is parsed, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lockgen.core.models import DistFile

__all__ = ["Listing"]


class Listing:
    """The files of one project's listing by version, in page order."""

    def __init__(self, files: Iterable[DistFile]) -> None:
        versions: dict[str, Version | None] = {}
        self.by_version: dict[Version, list[DistFile]] = {}
        for dist in files:
            text = _version_text(dist.filename)
            if text is None:
                continue
            if text not in versions:
                versions[text] = _version(text)
            version = versions[text]
            if version is not None:
                self.by_version.setdefault(version, []).append(dist)

    def files_of(self, version: Version) -> list[DistFile]:
        """The files whose names say ``version`` (not yet checked otherwise)."""
        return self.by_version.get(version, [])


def _version_text(filename: str) -> str | None:
    """The version part of a wheel or sdist name, cut as packaging cuts it; ``None``
    when packaging would refuse the name's shape anyway."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return parts[1] if len(parts) in (5, 6) else None
    if filename.endswith(".tar.gz"):
        stem = filename[: -len(".tar.gz")]
    elif filename.endswith(".zip"):
        stem = filename[: -len(".zip")]
    else:
        return None
    name, dash, version = stem.rpartition("-")
    return version if dash and name else None


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
