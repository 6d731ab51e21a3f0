"""What ``hydrate`` fetches: the lock's selection for a target, checked as untrusted input.

A lock file arrives from a repository, maybe from a stranger's pull request, so before
anything is downloaded every chosen artifact must prove it is safe to fetch and to
write: a sha256, a plain file name that belongs to its package (no separators, no
``..``), no two artifacts with one name, a URL scheme we allow, and a ``path`` or
``file:`` URL that stays inside the lock's directory. A ``file:`` URL elsewhere (locks
from a find-links directory or a ``file://`` index hold them) needs
``allow_file_urls``: otherwise a stranger's lock could copy any file this user can
read into the wheelhouse, or learn its hash from a mismatch report. Selection itself
is PEP 751's installer algorithm as ``packaging.pylock.Pylock.select`` implements it;
this module never picks a file by what happens to be available.

Direct sources: an ``archive`` is a file like any other (its name from its URL or
path, checked the same way); a ``vcs`` entry becomes a checkout of its full commit
id, from a plain ``scheme://`` URL allowed as a file's would be, except that a local
(``file:``) repository always needs ``allow_file_urls``: git follows what a
repository folder points at (its alternates, symlinks), so a folder inside the lock's
directory can still read objects elsewhere; a ``directory`` is only reported, as a
local folder no download can make.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast
from urllib.parse import SplitResult, unquote, urlsplit

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import (
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    PylockSelectError,
)

from lockgen.core.errors import LockFileError
from lockgen.core.hashing import is_sha256
from lockgen.core.models import Artifact, DistKind, parse_filename
from lockgen.core.urls import local_path
from lockgen.lockfile.read import metadata_record

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from packaging.markers import Environment
    from packaging.pylock import Package, Pylock
    from packaging.utils import NormalizedName

    from lockgen.core.environment import Target

__all__ = ["Checkout", "LocalTree", "Plan", "plan"]

#: What a wheel or sdist file name may contain: no separators, no control characters,
#: no ``:`` (an NTFS stream), and no leading dot (no hidden files, no ``..``).
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+!-]*")
_COMMIT = re.compile(r"[0-9a-f]{40}")
#: A URL git may be given: a plain scheme, then ``//`` (not git's ``helper::url``),
#: no query or fragment (git would read them as part of the path), no space.
_GIT_URL = re.compile(r"(https|http|ssh|git|file)://[^\s?#\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_Entry = PackageWheel | PackageSdist | PackageArchive | PackageVcs | PackageDirectory


@dataclass(frozen=True, kw_only=True, slots=True)
class Checkout:
    """A git repository to check out at a commit (a lock's ``vcs`` table) into the
    folder ``filename``."""

    package: NormalizedName
    url: str
    commit: str
    subdirectory: str | None
    size: None = None
    sha256: None = None

    @property
    def filename(self) -> str:
        """The folder it is checked out into: ``name-<12 hex digits>``."""
        return f"{self.package}-{self.commit[:12]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class LocalTree:
    """A local folder the lock names (its ``directory`` table): not downloadable."""

    package: NormalizedName
    filename: str
    editable: bool
    size: None = None
    sha256: None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """What hydrate does: files to fetch, repositories to check out, and the
    local folders it can only report."""

    artifacts: list[Artifact]
    checkouts: list[Checkout]
    local: list[LocalTree]


def plan(
    lock: Pylock,
    lock_path: Path,
    *,
    target: Target | None,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    allow_http: bool = False,
    allow_file_urls: bool = False,
) -> Plan:
    """The artifacts to fetch, sorted by file name, and the direct sources;
    ``target=None`` means all of them.

    Raises LockFileError (one line, naming the package) for a selection error or an
    unsafe entry; nothing has been fetched at that point.
    """
    try:
        pairs = list(
            _all(lock) if target is None else _select(lock, target, extras, groups)
        )
        lock_dir = lock_path.parent
        allow = _Allow(http=allow_http, file_urls=allow_file_urls)
        artifacts = [
            _artifact(p, a, lock_dir, allow)
            for p, a in pairs
            if isinstance(a, PackageWheel | PackageSdist | PackageArchive)
        ]
        checkouts = [
            _checkout(p, a, lock_dir, allow)
            for p, a in pairs
            if isinstance(a, PackageVcs)
        ]
        local = [_local(p, a) for p, a in pairs if isinstance(a, PackageDirectory)]
        # case-insensitively: one file on Windows and macOS file systems
        fetched: list[Artifact | Checkout] = [*artifacts, *checkouts]
        names = Counter(a.filename.lower() for a in fetched)
        for item in fetched:
            if names[item.filename.lower()] > 1:
                raise _UnsafeEntryError(
                    item.package, f"{item.filename!r} is listed twice"
                )
    except _UnsafeEntryError as exc:
        raise LockFileError(str(lock_path), str(exc)) from None
    return Plan(
        artifacts=sorted(artifacts, key=lambda a: a.filename),
        checkouts=sorted(checkouts, key=lambda c: c.filename),
        local=sorted(local, key=lambda t: t.package),
    )


def _all(lock: Pylock) -> Iterator[tuple[Package, _Entry]]:
    for package in lock.packages:
        for wheel in package.wheels or ():
            yield package, wheel
        for entry in (package.sdist, package.vcs, package.directory, package.archive):
            if entry is not None:
                yield package, entry


def _select(
    lock: Pylock,
    target: Target,
    extras: Collection[str],
    groups: Collection[str] | None,
) -> Iterator[tuple[Package, _Entry]]:
    environment = cast("Environment", target.environment())
    try:
        yield from lock.select(
            environment=environment,
            tags=target.tags,
            extras=extras,
            dependency_groups=groups,
        )
    except (UndefinedEnvironmentName, UndefinedComparison) as exc:
        raise _UnsafeEntryError(
            None, f"a marker in the lock cannot be evaluated for this target: {exc}"
        ) from exc
    except PylockSelectError as exc:
        raise _UnsafeEntryError(
            None, f"cannot select files for this target: {exc}"
        ) from exc


def _checkout(
    package: Package, entry: PackageVcs, lock_dir: Path, allow: _Allow
) -> Checkout:
    """A git entry with a full commit id and a URL allowed as a file's is."""
    if entry.type != "git":
        raise _UnsafeEntryError(package.name, f"vcs type {entry.type!r} is not git")
    if entry.url is None:
        raise _UnsafeEntryError(package.name, "a vcs entry without a url")
    if not _COMMIT.fullmatch(entry.commit_id):
        raise _UnsafeEntryError(package.name, "commit-id is not a full git commit id")
    url = entry.url
    if not _GIT_URL.fullmatch(url):
        raise _UnsafeEntryError(
            package.name,
            "a vcs url must be https://, ssh://, http://, git:// or file:// with no "
            "query, fragment or space",
        )
    scheme = url.partition(":")[0]
    if scheme == "ssh":
        if ":" in (_split(package.name, url).netloc.rpartition("@")[0]):
            raise _UnsafeEntryError(package.name, "URL carries credentials")
    elif scheme == "git":  # plain text, as http:// is: checked as one
        _checked_url(package.name, "http" + url[3:], lock_dir, allow)
    elif scheme == "file" and not allow.file_urls:
        raise _UnsafeEntryError(
            package.name,
            "a local git repository is checked out only with --allow-file-urls",
        )
    else:
        _checked_url(package.name, url, lock_dir, allow)
    return Checkout(
        package=package.name,
        url=url,
        commit=entry.commit_id,
        subdirectory=entry.subdirectory,
    )


def _local(package: Package, entry: PackageDirectory) -> LocalTree:
    """A folder to report, its path printable on one line."""
    if _CONTROL.search(entry.path):
        raise _UnsafeEntryError(package.name, "directory path holds control characters")
    return LocalTree(
        package=package.name, filename=entry.path, editable=bool(entry.editable)
    )


def _split(name: NormalizedName, url: str) -> SplitResult:
    """``urlsplit(url)``; a URL it cannot read (``https://[::1``) is refused."""
    try:
        return urlsplit(url)
    except ValueError:
        raise _UnsafeEntryError(name, "invalid URL") from None


def _artifact(
    package: Package,
    entry: PackageWheel | PackageSdist | PackageArchive,
    lock_dir: Path,
    allow: _Allow,
) -> Artifact:
    filename = _checked_filename(package, entry)
    sha256 = entry.hashes.get("sha256")
    if sha256 is None or not is_sha256(sha256):
        raise _UnsafeEntryError(package.name, f"{filename} has no valid sha256 hash")
    path = (
        _checked_path(package.name, entry.path, lock_dir, allow) if entry.path else None
    )
    url = None
    if path is None:
        assert entry.url is not None  # Pylock validation: url or path
        url = _checked_url(package.name, entry.url, lock_dir, allow)
    parsed = parse_filename(filename)
    assert parsed is not None  # _checked_filename parsed it
    return Artifact(
        package=package.name,
        filename=filename,
        kind=parsed.kind,
        url=url,
        path=path,
        size=entry.size,
        sha256=sha256,
        metadata=metadata_record(package) if parsed.kind is DistKind.WHEEL else None,
    )


def _checked_filename(
    package: Package, entry: PackageWheel | PackageSdist | PackageArchive
) -> str:
    if isinstance(entry, PackageArchive):
        where = entry.path or _split(package.name, entry.url or "").path
        filename = unquote(where.replace("\\", "/").rpartition("/")[2])
    else:
        try:
            filename = entry.filename
        except ValueError:  # packaging splits the URL for it
            raise _UnsafeEntryError(package.name, "invalid URL") from None
    if not _SAFE_NAME.fullmatch(filename):
        raise _UnsafeEntryError(package.name, f"unsafe file name {filename!r}")
    parsed = parse_filename(filename)
    if isinstance(entry, PackageArchive):
        if parsed is None:
            raise _UnsafeEntryError(
                package.name, f"{filename!r} is not a wheel or sdist file name"
            )
        wanted = parsed.kind
    else:
        wanted = DistKind.WHEEL if isinstance(entry, PackageWheel) else DistKind.SDIST
    if parsed is None or parsed.kind is not wanted:
        raise _UnsafeEntryError(
            package.name, f"{filename!r} is not a {wanted.value} file name"
        )
    if parsed.name != package.name or (
        package.version is not None and parsed.version != package.version
    ):
        raise _UnsafeEntryError(
            package.name,
            f"{filename!r} does not belong to {package.name} {package.version}",
        )
    return filename


def _checked_path(
    name: NormalizedName, path: str, lock_dir: Path, allow: _Allow
) -> Path:
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() and not allow.file_urls:
        raise _UnsafeEntryError(name, f"absolute path {path!r}")
    resolved = _resolved(name, lock_dir / posix, f"path {path!r}")
    if not resolved.is_relative_to(lock_dir.resolve()) and not allow.file_urls:
        raise _UnsafeEntryError(
            name,
            f"path {path!r} leaves the lock file's directory "
            "(allowed with --allow-file-urls)",
        )
    return resolved


def _checked_url(name: NormalizedName, url: str, lock_dir: Path, allow: _Allow) -> str:
    parts = _split(name, url)
    if parts.username or parts.password:
        raise _UnsafeEntryError(name, "URL carries credentials")
    if parts.scheme == "https":
        return url
    if parts.scheme == "file":
        return _checked_file_url(name, url, lock_dir, allow)
    if parts.scheme == "http" and (allow.http or _is_loopback(parts.hostname)):
        return url
    scheme = parts.scheme or "no scheme"
    raise _UnsafeEntryError(
        name,
        f"URL scheme {scheme!r} is not allowed (https or file; http with --allow-http)",
    )


def _checked_file_url(
    name: NormalizedName, url: str, lock_dir: Path, allow: _Allow
) -> str:
    """A ``file:`` URL on this machine, inside the lock's directory unless allowed."""
    parts = _split(name, url)
    if parts.netloc not in ("", "localhost"):
        raise _UnsafeEntryError(name, "file: URL names another host")
    if allow.file_urls:
        return url
    # local_path unquotes once, as the transport does when it opens the file
    path = _resolved(name, local_path(url), "file: URL")
    if not path.is_relative_to(lock_dir.resolve()):
        raise _UnsafeEntryError(
            name,
            "file: URL outside the lock file's directory "
            "(allowed with --allow-file-urls)",
        )
    return url


def _resolved(name: NormalizedName, path: Path, what: str) -> Path:
    """``path`` made absolute; a NUL byte or a lone surrogate names no file at all."""
    try:
        return path.resolve()
    except ValueError:
        raise _UnsafeEntryError(name, f"{what} names no possible file") from None


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Allow:
    """What the user let through: plain http, ``file:`` URLs outside the lock's dir."""

    http: bool
    file_urls: bool


class _UnsafeEntryError(Exception):
    """A problem with one entry; ``plan`` re-raises it naming the lock file."""

    def __init__(self, name: str | None, reason: str) -> None:
        super().__init__(f"package {name}: {reason}" if name else reason)
