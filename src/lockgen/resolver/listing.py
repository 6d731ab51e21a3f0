"""A project's versions, from its file names alone, over its lazily read files.

A popular project lists tens of thousands of files over hundreds of versions, and
the resolver looks at a few of those versions. The page is cut into groups by the
version text of each file name (:class:`lockgen.core.file_groups.FileGroups`); here
those texts become :class:`~packaging.version.Version` objects (each distinct text
once), and only the groups of the versions the resolver asks about are read, parsed
and ranked (:class:`lockgen.resolver.selection.Selector`).

Texts that spell one version two ways (``1.0`` and ``1.0.0``) are one version, as
packaging compares them; a group may still hold files whose full parse fails (a bad
project name, bad tags): those are dropped when the group is parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from lockgen.core.file_groups import FileGroups
    from lockgen.core.models import DistFile

__all__ = ["Listing"]


class Listing:
    """The versions of one project's files, each version's files read on demand."""

    def __init__(self, groups: FileGroups) -> None:
        self._groups = groups
        self.texts_by_version: dict[Version, list[str]] = {}
        for text in groups.texts:
            version = _version(text)
            if version is not None:
                self.texts_by_version.setdefault(version, []).append(text)

    def files_of(self, version: Version) -> list[DistFile]:
        """The files whose names say ``version`` (not yet checked otherwise)."""
        return [
            dist
            for text in self.texts_by_version.get(version, ())
            for dist in self._groups.group(text)
        ]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None
