"""The seam between resolution and I/O: what the resolver may ask of an index.

Pure code (the provider, the lock builder) types against this Protocol only; the real
implementation is :class:`lockgen.net.index.IndexClient`, and unit tests use a fake built
from scenario files. Nothing transport-shaped (pools, sessions, responses) crosses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from lockgen.core.file_groups import FileGroups
    from lockgen.core.models import CoreMetadata, DistFile

__all__ = ["Repository"]


class Repository(Protocol):
    """Where project files and their metadata come from."""

    def list_files(self, name: NormalizedName) -> FileGroups:
        """All files of a project, by version, read as asked: its find-links files,
        then the files of the first index that has it.

        Raises :class:`lockgen.core.errors.ProjectNotFoundError` when none has it.
        """
        ...

    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        """The core metadata of one wheel or sdist, fetched as cheaply as possible."""
        ...

    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        """The sha256 and size of a file the index gave no hash for (downloads it)."""
        ...
