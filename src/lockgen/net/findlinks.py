"""Find-links locations (pip's ``-f``): flat collections of files of many projects.

A location is a local directory of distributions (the wheels and sdists directly in
it), a local or remote HTML page of links (parsed like a PEP 503 page, but listing
files of any project), one local distribution file, or a ``file://`` URL of any of
those. Each location is listed once per run. Local ones are never cached: a
directory's contents are read fresh by every resolving run. Remote pages go through
the index client's page cache and are revalidated like index pages. A file's project
is the one its name says.

Files found this way carry ``index=""`` (no simple index listed them). Local ones have
``file://`` URLs; they are hashed and their metadata read in place, never copied into
the cache, because they are already on disk and may change between runs.
"""

from __future__ import annotations

import mimetypes
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.core.errors import LockgenError
from lockgen.core.hashing import hash_file
from lockgen.core.link_scope import confine
from lockgen.core.models import DistFile, DistKind, MetadataSource, parse_filename
from lockgen.core.simple_api import parse_project_page
from lockgen.core.urls import local_path, strip_credentials
from lockgen.core.wheel_metadata import read_sdist_metadata
from lockgen.core.wheel_zip import read_wheel_metadata_from_file

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging.utils import NormalizedName

    from lockgen.store.cache import CachedPage

__all__ = [
    "FindLinks",
    "FindLinksError",
    "local_metadata",
    "local_sha256",
]

_REMOTE = ("http://", "https://")


class FindLinksError(LockgenError):
    """A find-links location that does not exist or cannot be read."""


class FindLinks:
    """Lists the files of a project across the find-links locations, in their order.

    ``fetch_page`` fetches a remote page as the index client does (cached, offline
    aware); it returns ``None`` for a 404. ``on_skip`` hears of each link a page may
    not name (see :mod:`lockgen.core.link_scope`).
    """

    def __init__(
        self,
        locations: Sequence[str],
        fetch_page: Callable[[str], CachedPage | None],
        *,
        on_skip: Callable[[str], None] | None = None,
    ) -> None:
        self.locations = tuple(locations)
        self._fetch_page = fetch_page
        self._on_skip = on_skip
        self._listings: dict[str, dict[str, tuple[DistFile, ...]]] = {}
        self._lock = threading.Lock()

    def files(self, name: NormalizedName) -> list[DistFile]:
        """Every file of ``name`` in every location; a file name appears once (first)."""
        seen: set[str] = set()
        found: list[DistFile] = []
        for location in self.locations:
            for dist in self._listing(location).get(name, ()):
                if dist.filename not in seen:
                    seen.add(dist.filename)
                    found.append(dist)
        return found

    def _listing(self, location: str) -> dict[str, tuple[DistFile, ...]]:
        """A location's files by project, read once per run (under a lock: cheap)."""
        with self._lock:
            listing = self._listings.get(location)
            if listing is None:
                listing = _by_project(self._read(location))
                self._listings[location] = listing
            return listing

    def _read(self, location: str) -> list[DistFile]:
        if location.startswith(_REMOTE):
            return self._remote_page(location)
        if location.startswith("file:"):
            path = local_path(location)
        elif "://" in location:
            raise FindLinksError(
                f"find-links location {location}: only a path, a file:// URL or an "
                "http(s) URL can be used"
            )
        else:
            path = Path(location).expanduser()
        return confine(
            _local(path, location), location, any_local=True, on_skip=self._on_skip
        )

    def _remote_page(self, url: str) -> list[DistFile]:
        page = self._fetch_page(url)
        label = strip_credentials(url)[0]
        if page is None:
            raise FindLinksError(f"find-links page {label} was not found (HTTP 404)")
        files = parse_project_page(
            page.body, page.content_type, page.final_url, index_url=""
        )
        # A remote page may not point lockgen at files on this machine.
        return confine(files, url, on_skip=self._on_skip)


def _local(path: Path, location: str) -> list[DistFile]:
    """A directory's distributions, an HTML page's links, or one distribution file."""
    try:
        if path.is_dir():
            return _directory(path)
        if not path.is_file():
            raise FindLinksError(f"find-links location {location} does not exist")
        if mimetypes.guess_type(path.name)[0] == "text/html":
            page_url = path.absolute().as_uri()
            return parse_project_page(
                path.read_bytes(), "text/html", page_url, index_url=""
            )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise FindLinksError(f"find-links location {location}: {reason}") from exc
    if parse_filename(path.name) is None:
        raise FindLinksError(
            f"find-links location {location} is not a directory, an HTML page or "
            "a wheel or sdist"
        )
    return [_local_dist(path.absolute())]


def _directory(path: Path) -> list[DistFile]:
    """The distributions directly inside ``path`` (not in subdirectories), by name."""
    with os.scandir(path) as entries:
        names = sorted(e.name for e in entries if e.is_file())
    return [_local_dist(path.absolute() / n) for n in names if parse_filename(n)]


def _local_dist(path: Path) -> DistFile:
    return DistFile(filename=path.name, url=path.as_uri(), index="")


def _by_project(files: list[DistFile]) -> dict[str, tuple[DistFile, ...]]:
    grouped: dict[str, list[DistFile]] = {}
    for dist in files:
        parsed = parse_filename(dist.filename)
        if parsed is not None:
            grouped.setdefault(parsed.name, []).append(dist)
    return {name: tuple(group) for name, group in grouped.items()}


def local_sha256(path: Path, dist: DistFile) -> tuple[str, int]:
    """The sha256 and size of a local find-links file, read in place."""
    try:
        return hash_file(path)
    except OSError as exc:
        raise _unreadable(path, dist, exc) from exc


def local_metadata(path: Path, dist: DistFile) -> tuple[bytes, MetadataSource]:
    """The core metadata of a local find-links file, read in place."""
    parsed = parse_filename(dist.filename)
    assert parsed is not None  # listings keep only wheel and sdist names
    try:
        with path.open("rb") as fh:
            if parsed.kind is DistKind.WHEEL:
                data = read_wheel_metadata_from_file(fh, dist.filename)
                return data, MetadataSource.WHOLE_FILE
            data = read_sdist_metadata(fh, dist.filename)
    except OSError as exc:
        raise _unreadable(path, dist, exc) from exc
    return data, MetadataSource.SDIST


def _unreadable(path: Path, dist: DistFile, exc: OSError) -> FindLinksError:
    reason = exc.strerror or str(exc)
    return FindLinksError(f"{dist.filename}: cannot read {path}: {reason}")
