"""Value objects shared by the index client, the resolver and the lock writer.

They are frozen, keyword-only and hashable so they can be memoised and put in sets, and
they never carry credentials: every URL here has had its userinfo removed.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.tags import Tag
    from packaging.utils import NormalizedName
    from packaging.version import Version

__all__ = [
    "Artifact",
    "CoreMetadata",
    "DirectSource",
    "DistFile",
    "DistKind",
    "MetadataRecord",
    "MetadataSource",
    "ParsedFilename",
    "is_wheel",
    "normalize",
    "parse_filename",
]


class DistKind(enum.Enum):
    """What kind of artifact a file is, judged from its name."""

    WHEEL = "wheel"
    SDIST = "sdist"


class MetadataSource(enum.Enum):
    """How the core metadata the resolver used was obtained (recorded in the lock)."""

    PEP658 = "pep658"
    RANGE = "range"
    WHOLE_FILE = "whole-file"
    SDIST = "sdist"
    #: An sdist built by its backend (PEP 517): its PKG-INFO was dynamic.
    BUILT = "built"


@dataclass(frozen=True, kw_only=True, slots=True)
class DistFile:
    """One file a simple index lists for a project.

    ``url`` is absolute and credential-free; ``index`` is the base URL of the index page
    that listed it (ending in ``/``), or ``""`` for a file found through find-links. ``sha256`` is ``None`` when the index gave no
    sha256. ``core_metadata`` is ``None`` when no PEP 658 file is advertised, ``""``
    when one is advertised without a hash, else its sha256.
    """

    filename: str
    url: str
    index: str
    sha256: str | None = None
    size: int | None = None
    upload_time: datetime | None = None
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectSource:
    """Where a direct reference's distribution is, as the lock records it (PEP 751's
    ``archive``, ``vcs`` or ``directory`` table). ``url`` is credential-free: a
    remote archive's, or a repository's; ``path`` is absolute (a local archive or
    folder), made relative to the lock's folder when written."""

    kind: str
    url: str | None = None
    path: Path | None = None
    sha256: str | None = None
    size: int | None = None
    #: VCS: the revision asked for (``None``: the default branch) and the commit
    #: it resolved to; the subdirectory holding the project.
    revision: str | None = None
    commit: str | None = None
    subdirectory: str | None = None
    editable: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedFilename:
    """What a distribution's file name says: project, version, kind and wheel tags."""

    name: NormalizedName
    version: Version
    kind: DistKind
    tags: frozenset[Tag] = field(default_factory=frozenset)
    build: tuple[int, str] | tuple[()] = ()


@functools.lru_cache(maxsize=65536)
def parse_filename(filename: str) -> ParsedFilename | None:
    """Parse a wheel or sdist file name; ``None`` for anything else (eggs, .exe, junk).

    Memoised: a popular project lists thousands of files, and the resolver and the
    lock writer look at each of them more than once.
    """
    if filename.endswith(".whl"):
        try:
            name, version, build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, ValueError):
            return None
        return ParsedFilename(
            name=name, version=version, kind=DistKind.WHEEL, tags=tags, build=build
        )
    if filename.endswith((".tar.gz", ".zip")):
        try:
            name, version = parse_sdist_filename(filename)
        except (InvalidSdistFilename, ValueError):
            return None
        return ParsedFilename(name=name, version=version, kind=DistKind.SDIST)
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class CoreMetadata:
    """The parts of a distribution's METADATA / PKG-INFO that resolution needs.

    ``sha256`` is the digest of the exact METADATA bytes read, recorded in the lock so
    ``hydrate`` can check the downloaded wheel against what the resolver saw.
    ``artifact_size`` is the size of the file ``filename`` when the index lists none
    and reading its metadata learnt it for free (a range read's Content-Range total,
    a whole download); the lock records it. ``None`` otherwise, and always when the
    index advertises a PEP 658 file (which says nothing about the artifact's size),
    so the lock does not depend on which way the metadata happened to be read.
    """

    name: NormalizedName
    version: Version
    requires_dist: tuple[Requirement, ...]
    requires_python: SpecifierSet | None
    source: MetadataSource
    sha256: str
    filename: str
    artifact_size: int | None = None


def normalize(name: str) -> NormalizedName:
    """PEP 503 normalisation, re-exported so callers need not reach into packaging."""
    return canonicalize_name(name)


@dataclass(frozen=True, kw_only=True, slots=True)
class MetadataRecord:
    """What the locker recorded about the METADATA its resolver used."""

    filename: str
    sha256: str
    requires_dist: tuple[str, ...]
    requires_python: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Artifact:
    """One file to fetch: where from, under which name, and what it must hash to.

    Exactly one of ``url`` and ``path`` is set; ``path`` is absolute (already resolved
    against the lock's directory and checked to stay inside it).
    """

    package: NormalizedName
    filename: str
    kind: DistKind
    url: str | None
    path: Path | None
    size: int | None
    sha256: str
    metadata: MetadataRecord | None


def is_wheel(dist: DistFile) -> bool:
    """Whether ``dist`` is a wheel (judged by parsing its name, not its suffix)."""
    parsed = parse_filename(dist.filename)
    return parsed is not None and parsed.kind is DistKind.WHEEL
