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
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import PackageSdist, PackageWheel, PylockSelectError

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

__all__ = ["plan"]

#: What a wheel or sdist file name may contain: no separators, no control characters,
#: no ``:`` (an NTFS stream), and no leading dot (no hidden files, no ``..``).
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+!-]*")


def plan(
    lock: Pylock,
    lock_path: Path,
    *,
    target: Target | None,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    allow_http: bool = False,
    allow_file_urls: bool = False,
) -> list[Artifact]:
    """The artifacts to fetch, sorted by file name; ``target=None`` means all of them.

    Raises LockFileError (one line, naming the package) for a selection error or an
    unsafe entry; nothing has been fetched at that point.
    """
    try:
        pairs = list(
            _all(lock) if target is None else _select(lock, target, extras, groups)
        )
        lock_dir = lock_path.parent
        allow = _Allow(http=allow_http, file_urls=allow_file_urls)
        artifacts = [_artifact(p, a, lock_dir, allow) for p, a in pairs]
        # case-insensitively: one file on Windows and macOS file systems
        names = Counter(a.filename.lower() for a in artifacts)
        for artifact in artifacts:
            if names[artifact.filename.lower()] > 1:
                raise _UnsafeEntryError(
                    artifact.package, f"{artifact.filename!r} is listed twice"
                )
    except _UnsafeEntryError as exc:
        raise LockFileError(str(lock_path), str(exc)) from None
    return sorted(artifacts, key=lambda a: a.filename)


def _all(lock: Pylock) -> Iterator[tuple[Package, PackageWheel | PackageSdist]]:
    for package in lock.packages:
        for wheel in package.wheels or ():
            yield package, wheel
        if package.sdist is not None:
            yield package, package.sdist
        if package.is_direct:
            raise _UnsafeEntryError(
                package.name,
                "direct (vcs/directory/archive) sources are not supported yet",
            )


def _select(
    lock: Pylock,
    target: Target,
    extras: Collection[str],
    groups: Collection[str] | None,
) -> Iterator[tuple[Package, PackageWheel | PackageSdist]]:
    environment = cast("Environment", target.environment())
    try:
        for package, artifact in lock.select(
            environment=environment,
            tags=target.tags,
            extras=extras,
            dependency_groups=groups,
        ):
            if not isinstance(artifact, PackageWheel | PackageSdist):
                raise _UnsafeEntryError(
                    package.name,
                    "direct (vcs/directory/archive) sources are not supported yet",
                )
            yield package, artifact
    except (UndefinedEnvironmentName, UndefinedComparison) as exc:
        raise _UnsafeEntryError(
            None, f"a marker in the lock cannot be evaluated for this target: {exc}"
        ) from exc
    except PylockSelectError as exc:
        raise _UnsafeEntryError(
            None, f"cannot select files for this target: {exc}"
        ) from exc


def _artifact(
    package: Package,
    entry: PackageWheel | PackageSdist,
    lock_dir: Path,
    allow: _Allow,
) -> Artifact:
    filename = _checked_filename(package, entry)
    sha256 = entry.hashes.get("sha256")
    if sha256 is None or not is_sha256(sha256):
        raise _UnsafeEntryError(package.name, f"{filename} has no valid sha256 hash")
    path = _checked_path(package.name, entry.path, lock_dir) if entry.path else None
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


def _checked_filename(package: Package, entry: PackageWheel | PackageSdist) -> str:
    filename = entry.filename
    if not _SAFE_NAME.fullmatch(filename):
        raise _UnsafeEntryError(package.name, f"unsafe file name {filename!r}")
    parsed = parse_filename(filename)
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


def _checked_path(name: NormalizedName, path: str, lock_dir: Path) -> Path:
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        raise _UnsafeEntryError(name, f"absolute path {path!r}")
    resolved = _resolved(name, lock_dir / posix, f"path {path!r}")
    if not resolved.is_relative_to(lock_dir.resolve()):
        raise _UnsafeEntryError(name, f"path {path!r} leaves the lock file's directory")
    return resolved


def _checked_url(name: NormalizedName, url: str, lock_dir: Path, allow: _Allow) -> str:
    parts = urlsplit(url)
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
    parts = urlsplit(url)
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
