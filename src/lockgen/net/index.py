"""The Repository that talks to real indexes: project pages, metadata, missing hashes.

:class:`IndexClient` is the front the resolver sees; each of its jobs is its own
module: the indexes' project pages and negative cache (:mod:`lockgen.net.index_pages`),
metadata read as cheaply as the index allows (:mod:`lockgen.net.index_metadata`,
with its cache keys in :mod:`lockgen.net.metadata_keys`), and whole-file downloads
with the hashes they learn (:mod:`lockgen.net.index_downloads`).

Several indexes are searched in order and a project's files come from the first
index that has it, so a public index can never shadow a private project. Files from
find-links locations (:mod:`lockgen.net.findlinks`) are merged with them, as pip and
uv merge them: find-links are local choices the user made explicitly. Every request,
page, metadata file and download is single-flight, so the prefetcher and the
resolver never fetch the same thing twice.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError, ProjectNotFoundError
from lockgen.core.file_groups import FileGroups
from lockgen.core.singleflight import SingleFlight
from lockgen.net.cache_mode import CacheMode, OfflineError
from lockgen.net.findlinks import FindLinks
from lockgen.net.index_downloads import Downloads
from lockgen.net.index_metadata import MetadataReader
from lockgen.net.index_pages import ProjectPages

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.core.models import CoreMetadata, DistFile
    from lockgen.net.index_metadata import SdistBuilds
    from lockgen.net.transport import HttpClient
    from lockgen.store.cache import Cache, CachedPage

__all__ = ["CacheMode", "IndexClient", "OfflineError"]


class IndexClient:
    """Implements :class:`lockgen.resolver.repository.Repository` over HTTP(S) and file:// indexes."""

    def __init__(
        self,
        client: HttpClient,
        indexes: Sequence[str],
        *,
        cache: Cache | None = None,
        mode: CacheMode = CacheMode.NORMAL,
        on_event: Callable[[str], None] | None = None,
        find_links: Sequence[str] = (),
        builds: SdistBuilds | None = None,
    ) -> None:
        self._on_event = on_event
        self.indexes = tuple(url if url.endswith("/") else url + "/" for url in indexes)
        self._pages = ProjectPages(
            client, self.indexes, cache=cache, mode=mode, on_event=self._event
        )
        self._downloads = Downloads(client, cache=cache, mode=mode)
        self._metadata = MetadataReader(
            client,
            self._downloads,
            cache=cache,
            mode=mode,
            on_event=self._event,
            builds=builds,
        )
        self._files: SingleFlight[str, FileGroups] = SingleFlight()
        self._find_links = FindLinks(
            find_links, partial(self._pages.page, whole=True), on_skip=self._event
        )

    def list_files(self, name: NormalizedName) -> FileGroups:
        """Files of ``name`` from the find-links locations, then from the first index
        that has the project (fetched once).

        Find-links files are merged with the index's, as pip and uv do; a file name
        found in both comes from find-links (pip tries those candidates first).
        """
        return self._files.get(name, lambda: self._merged_files(name))

    def _merged_files(self, name: NormalizedName) -> FileGroups:
        linked = self._find_links.files(name)
        try:
            indexed = self._pages.files(name)
        except ProjectNotFoundError:
            if not linked:
                locations = self._find_links.locations
                raise ProjectNotFoundError(name, self.indexes, locations) from None
            return FileGroups.of(linked)
        return FileGroups.of(linked).before(indexed) if linked else indexed

    def page(self, url: str) -> CachedPage | None:
        """The index page at ``url`` (``None``: the index does not have it),
        revalidated through the cache as :meth:`list_files` reads it."""
        return self._pages.page(url)

    def seed(self, pages: Mapping[str, CachedPage | LockgenError | None]) -> None:
        """Pages :meth:`page` fetched already (or the error it raised), for
        :meth:`list_files` to use once."""
        self._pages.seed(pages)

    def pages_read(self) -> list[tuple[str, str]]:
        """(URL, fingerprint) of every index page :meth:`list_files` read, in order."""
        return self._pages.pages_read()

    def unused_indexes(self) -> list[tuple[str, int]]:
        """Indexes that had none of the projects asked of them while another index
        had some (see :meth:`ProjectPages.unused_indexes`)."""
        return self._pages.unused_indexes()

    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        """Core metadata of a wheel or sdist (fetched once per file URL, ever)."""
        return self._metadata.get(dist)

    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        """The sha256 and size of ``dist``, downloading it once if nobody has yet
        (reading its metadata may have: then that download's answer is reused)."""
        return self._downloads.sha256(dist)

    @contextmanager
    def open_artifact(self, dist: DistFile) -> Iterator[IO[bytes]]:
        """``dist``'s bytes, verified against the index and kept in the cache (a build
        environment's wheels are read this way)."""
        with self._downloads.open(dist) as (file, _learnt):
            yield file

    def _event(self, message: str) -> None:
        if self._on_event is not None:
            self._on_event(message)
