"""Core metadata parsed once and checked against file names; sdists' PKG-INFO.

Pure: bytes in, :class:`~lockgen.core.models.CoreMetadata` out. Wheels' METADATA bytes come
from :mod:`lockgen.core.wheel_zip`; sdists are read from a file object without extracting
anything, and only trusted when their metadata is static (PEP 643).
"""

from __future__ import annotations

import hashlib
import zlib
from typing import TYPE_CHECKING

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    canonicalize_name,
)
from packaging.version import InvalidVersion, Version

from lockgen.core.errors import MetadataError, first_line
from lockgen.core.limits import SDIST_MEMBERS
from lockgen.core.models import CoreMetadata, MetadataSource, parse_filename
from lockgen.core.wheel_zip import MAX_METADATA_SIZE

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import IO

    from packaging.metadata import RawMetadata
    from packaging.utils import NormalizedName


__all__ = [
    "dynamic_reason",
    "parse_core_metadata",
    "read_sdist_metadata",
]

_KEY_FIELDS = (
    "Metadata-Version",
    "Name",
    "Version",
    "Requires-Dist",
    "Requires-Python",
    "Dynamic",
)
_DYNAMIC_DEPENDENCY_FIELDS = frozenset({"requires-dist", "requires-python"})
#: The most Requires-Dist lines one METADATA may have: several times what real
#: packages declare (meta-packages with many extras list a few hundred), few enough
#: that a hostile file cannot send the resolver after tens of thousands of projects.
MAX_REQUIREMENTS = 4096


def read_sdist_metadata(fileobj: IO[bytes], filename: str) -> bytes:
    """PKG-INFO of an sdist: ``<top>/PKG-INFO`` of its single top-level directory.

    Nested PKG-INFO files (``*.egg-info/PKG-INFO``) are ignored because only the top one
    is the sdist's own metadata (PEP 643). Nothing is extracted to disk.
    """
    import tarfile  # imported on use: most locks read no sdist (~10 ms with zipfile)
    import zipfile

    try:
        if filename.endswith(".tar.gz"):
            return _read_tar_pkg_info(fileobj, filename)
        if filename.endswith(".zip"):
            return _read_zip_pkg_info(fileobj, filename)
    except MetadataError:
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        zlib.error,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise MetadataError(filename, f"cannot read the sdist: {exc}") from exc
    raise MetadataError(filename, "not an sdist file name (.tar.gz or .zip)")


def _read_tar_pkg_info(fileobj: IO[bytes], filename: str) -> bytes:
    """PKG-INFO from a gzipped tar, read into memory only."""
    import tarfile

    with tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
        members: list[tarfile.TarInfo] = []
        for member in tar:  # counted as read: a flood of headers stops early
            if len(members) >= SDIST_MEMBERS:
                raise MetadataError(
                    filename, f"the sdist has more than {SDIST_MEMBERS} members"
                )
            members.append(member)
        wanted = f"{_single_top((m.name for m in members), filename)}/PKG-INFO"
        found = [m for m in members if m.name == wanted]
        if not found or not found[-1].isfile():
            raise MetadataError(filename, f"{wanted} is missing")
        _check_size(found[-1].size, filename)
        stream = tar.extractfile(found[-1])
        if stream is None:
            raise MetadataError(filename, f"{wanted} is not a regular file")
        return _bounded_read(stream, filename)


def _read_zip_pkg_info(fileobj: IO[bytes], filename: str) -> bytes:
    """PKG-INFO from a zip sdist (legacy, still read)."""
    import zipfile

    with zipfile.ZipFile(fileobj) as archive:
        wanted = f"{_single_top(archive.namelist(), filename)}/PKG-INFO"
        try:
            info = archive.getinfo(wanted)
        except KeyError:
            raise MetadataError(filename, f"{wanted} is missing") from None
        _check_size(info.file_size, filename)
        with archive.open(info) as stream:
            return _bounded_read(stream, filename)


def _single_top(names: Iterable[str], filename: str) -> str:
    """The one top-level directory every member of an sdist lives in."""
    tops = sorted({name.split("/", 1)[0] for name in names})
    if len(tops) != 1:
        shown = ", ".join(tops[:5]) + (", ..." if len(tops) > 5 else "")
        raise MetadataError(
            filename, f"expected one top-level directory, found: {shown or 'none'}"
        )
    return tops[0]


def _check_size(size: int, filename: str) -> None:
    """Refuse metadata files too large to be real."""
    if size > MAX_METADATA_SIZE:
        raise MetadataError(filename, f"PKG-INFO is too large ({size} bytes)")


def _bounded_read(stream: IO[bytes], filename: str) -> bytes:
    """Read at most the size limit, whatever the header claimed."""
    data = stream.read(MAX_METADATA_SIZE + 1)
    _check_size(len(data), filename)
    return data


def parse_core_metadata(
    data: bytes,
    filename: str,
    source: MetadataSource,
    *,
    artifact_size: int | None = None,
    named: bool = True,
) -> CoreMetadata:
    """The resolution-relevant fields of METADATA / PKG-INFO, checked against the name.

    A METADATA that disagrees with its file name would make the lock lie about what it
    pins, so a mismatch is an error rather than a warning. ``artifact_size`` is the
    size of ``filename`` when reading the metadata learnt it. ``named=False``: a
    source tree's (``filename`` then only labels it; no file name to agree with).
    """
    raw = _parse_fields(data, filename)
    name, version = _metadata_name_version(raw, filename)
    file_name, file_version = (
        _filename_name_version(filename)
        if named
        else (canonicalize_name(name), version)
    )
    if canonicalize_name(name) != file_name or version != file_version:
        what = {
            MetadataSource.SDIST: "PKG-INFO",
            MetadataSource.BUILT: "the METADATA it builds to",
        }.get(source, "METADATA")
        raise MetadataError(
            filename,
            f"{what} says {_shown(name)} {_shown(raw.get('version', ''))} but the "
            f"file name says {file_name} {file_version}",
        )
    return CoreMetadata(
        name=canonicalize_name(name),
        version=version,
        requires_dist=_requirements(raw.get("requires_dist", []), filename),
        requires_python=_requires_python(raw.get("requires_python"), filename),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=filename,
        artifact_size=artifact_size,
    )


def _parse_fields(data: bytes, filename: str) -> RawMetadata:
    """Email-header fields; unknown ones are tolerated, unreadable key ones are not."""
    try:
        raw, unparsed = parse_email(_headers(data))
    except (ValueError, UnicodeError) as exc:
        raise MetadataError(filename, f"unreadable metadata: {exc}") from exc
    for field in _KEY_FIELDS:
        if field.lower() in unparsed:  # unparsed keys are lower-cased header names
            raise MetadataError(
                filename, f"unreadable {field} field (repeated or not UTF-8)"
            )
    return raw


#: Each of these is an empty line wherever it stands, so the headers end at or
#: before the first one found (the email parser splits lines at CR LF, CR or LF).
_BLANK_LINES = (b"\n\n", b"\r\n\r\n", b"\r\r")


def _headers(data: bytes) -> bytes:
    """``data`` cut after the line that ends its headers, when a blank line is
    found: the body is the long description, which the email parser reads line by
    line in Python (40% of parsing a lock's METADATA files here) and nothing here
    uses. A cut at or after the true end leaves every header as it was."""
    ends = [i + len(sep) // 2 for sep in _BLANK_LINES if (i := data.find(sep)) >= 0]
    return data[: min(ends)] if ends else data


def _metadata_name_version(raw: RawMetadata, filename: str) -> tuple[str, Version]:
    """Name and Version, both required."""
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        missing = "Name" if not name else "Version"
        raise MetadataError(filename, f"metadata has no {missing} field")
    try:
        return name, Version(version)
    except InvalidVersion as exc:
        raise MetadataError(filename, f"invalid Version {version!r}") from exc


def _filename_name_version(filename: str) -> tuple[NormalizedName, Version]:
    """Project and version from a wheel or sdist file name (the memoised parse every
    other layer uses, so the rules cannot drift)."""
    parsed = parse_filename(filename)
    if parsed is None:
        raise MetadataError(filename, "not a wheel or sdist file name")
    return parsed.name, parsed.version


def _requirements(lines: list[str], filename: str) -> tuple[Requirement, ...]:
    """Each Requires-Dist as a Requirement; one bad line spoils the whole file."""
    if len(lines) > MAX_REQUIREMENTS:
        raise MetadataError(
            filename,
            f"{len(lines)} Requires-Dist lines, more than the {MAX_REQUIREMENTS} "
            "lockgen accepts",
        )
    result = []
    for line in lines:
        try:
            result.append(Requirement(line))
        except InvalidRequirement as exc:
            reason = first_line(exc)
            raise MetadataError(
                filename, f"invalid Requires-Dist {line!r}: {reason}"
            ) from exc
    return tuple(result)


def _shown(value: str) -> str:
    """A field as written, or its repr when it holds a line break or a control
    character (a folded header): an error message is one printable line."""
    return value if value.isprintable() else repr(value)


def _requires_python(value: str | None, filename: str) -> SpecifierSet | None:
    """Requires-Python as a SpecifierSet, or None when absent."""
    if value is None:
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise MetadataError(filename, f"invalid Requires-Python {value!r}") from exc


def dynamic_reason(data: bytes, filename: str) -> str | None:
    """Why an sdist's PKG-INFO cannot be trusted for its dependencies (PEP 643), or
    ``None`` when it can.

    Metadata below 2.2 counts as all-dynamic; from 2.2 on, Requires-Dist and
    Requires-Python are trustworthy unless listed in ``Dynamic``.
    """
    raw = _parse_fields(data, filename)
    metadata_version = raw.get("metadata_version")
    dynamic = {field.strip().lower() for field in raw.get("dynamic", [])}
    if _before_2_2(metadata_version) or dynamic & _DYNAMIC_DEPENDENCY_FIELDS:
        return (
            "its metadata is dynamic (Metadata-Version "
            f"{_shown(metadata_version or 'missing')})"
        )
    return None


def _before_2_2(metadata_version: str | None) -> bool:
    """Whether a Metadata-Version predates PEP 643 (or cannot be read)."""
    try:
        return metadata_version is None or Version(metadata_version) < Version("2.2")
    except InvalidVersion:
        return True
