"""The Repository that talks to real indexes: project pages, metadata, missing hashes.

Metadata is fetched as cheaply as the index allows, in a fixed order: the PEP 658
``.metadata`` file when advertised (verified against its advertised hash); otherwise a
suffix range on the wheel (see :mod:`lockgen.net.range_reader`); otherwise, or when the
server mishandles ranges, the whole file, streamed once and hashed on the way. A host
that fails a range request is remembered, so its later wheels skip straight to the
whole download (a whole small file in answer to a suffix range longer than the file is
no failure: it is all that was asked for). A read through the artifact learns its size
for free (the range's ``Content-Range`` total, or the download), which the lock
records when the index gives none; a whole file is never fetched just for its size.
Several indexes are searched in order and a project's files come from
the first index that has it, so a public index can never shadow a private project.
A page may name only the files :mod:`lockgen.core.link_scope` allows (http(s), or files
under a ``file://`` index's root); others are skipped before anything reads them.
Files from find-links locations (:mod:`lockgen.net.findlinks`) are merged with them, as
pip and uv merge them: find-links are local choices the user made explicitly.

With a :class:`~lockgen.store.cache.Cache`, pages are revalidated (a 304 costs one small
request), metadata is read once per artifact ever (it is immutable: keyed by the
artifact's sha256), and whole downloads are kept by sha256 for ``hydrate``, except an
sdist read for its PKG-INFO only (its PKG-INFO is cached, so is a "dynamic" verdict).
A file the index lists no sha256 for is downloaded to hash it once: the cache then
recalls its hash by URL (http(s) only), so warm and ``--offline`` runs need no
download. Every request, page, metadata file and download is single-flight, so the
prefetcher and the resolver never fetch the same thing twice.
"""

from __future__ import annotations

import enum
import hashlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from lockgen.core.errors import (
    HashMismatchError,
    LockgenError,
    MetadataError,
    NetworkError,
    OfflineError,
    ProjectNotFoundError,
    RangeUnsupportedError,
)
from lockgen.core.hashing import check_digest, copy_hashing
from lockgen.core.limits import PAGE_LIMIT
from lockgen.core.link_scope import confine
from lockgen.core.models import DistKind, MetadataSource, parse_filename
from lockgen.core.simple_api import ACCEPT, parse_project_page
from lockgen.core.singleflight import SingleFlight
from lockgen.core.urls import is_local, local_file
from lockgen.core.wheel_metadata import (
    check_static_sdist_metadata,
    parse_core_metadata,
    read_sdist_metadata,
)
from lockgen.core.wheel_zip import (
    MAX_METADATA_SIZE,
    read_wheel_metadata,
    read_wheel_metadata_from_file,
)
from lockgen.net.findlinks import FindLinks, local_metadata, local_sha256
from lockgen.net.range_reader import (
    REFUSED,
    TAIL_SIZE,
    RangeSupport,
    open_tail,
    tail_headers,
)
from lockgen.net.spill import Spill
from lockgen.store.cache import Cache, CachedMetadata, CachedPage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from packaging.utils import NormalizedName

    from lockgen.core.models import CoreMetadata, DistFile
    from lockgen.net.transport import HttpClient, Response

__all__ = ["CacheMode", "IndexClient"]

_PAGE_HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
#: How many distinct projects may be missing from every index before the run stops:
#: a lock meets a few (dependencies of versions it backtracks over); hundreds mean a
#: wrong index or metadata naming projects by the thousand, each a request.
MAX_MISSING = 500
#: Content type of a cached "this index does not have the project" answer.
_NOT_FOUND = "application/x-lockgen-not-found"


class CacheMode(enum.Enum):
    """How the cache is used: normally, refetching pages, or never going online."""

    NORMAL = "normal"
    REFRESH = "refresh"
    OFFLINE = "offline"


class _Downloaded(NamedTuple):
    """A whole file as an open reader, with the sha256 and size it was verified by."""

    file: IO[bytes]
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class _Read:
    """Metadata as fetched, with what the fetch learnt about the artifact on the way:
    its size (a range read, a download), and its sha256 (a download)."""

    data: bytes
    source: MetadataSource
    artifact_size: int | None = None
    artifact_sha256: str | None = None


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
    ) -> None:
        self._client = client
        self._missing: set[NormalizedName] = set()
        self._missing_lock = threading.Lock()
        self._asked: dict[str, int] = {}  # index -> projects it did not have
        self._served: set[str] = set()  # indexes that had at least one project
        self.indexes = tuple(url if url.endswith("/") else url + "/" for url in indexes)
        self.ranges = RangeSupport()
        self._cache = cache
        self._mode = mode
        self._on_event = on_event
        self._pages: SingleFlight[str, tuple[DistFile, ...]] = SingleFlight()
        self._metadata: SingleFlight[str, CoreMetadata] = SingleFlight()
        self._downloads: SingleFlight[str, tuple[str, int]] = SingleFlight()
        self._find_links = FindLinks(find_links, self._page, on_skip=self._event)

    # -- project pages -------------------------------------------------------------
    def list_files(self, name: NormalizedName) -> tuple[DistFile, ...]:
        """Files of ``name`` from the find-links locations, then from the first index
        that has the project (fetched once).

        Find-links files are merged with the index's, as pip and uv do; a file name
        found in both comes from find-links (pip tries those candidates first).
        """
        return self._pages.get(name, lambda: self._merged_files(name))

    def _merged_files(self, name: NormalizedName) -> tuple[DistFile, ...]:
        linked = self._find_links.files(name)
        try:
            indexed = self._fetch_files(name)
        except ProjectNotFoundError:
            if not linked:
                locations = self._find_links.locations
                raise ProjectNotFoundError(name, self.indexes, locations) from None
            indexed = ()
        names = {d.filename for d in linked}
        return (*linked, *(d for d in indexed if d.filename not in names))

    def unused_indexes(self) -> list[tuple[str, int]]:
        """Indexes that had none of the projects asked of them while another index
        had some, with how many they were asked: most often a mistyped URL (a wrong
        path answers 404 to everything), which would otherwise go unnoticed as the
        projects quietly came from the other indexes."""
        with self._missing_lock:
            if not self._served:
                return []
            return [
                (index, self._asked[index])
                for index in self.indexes
                if index not in self._served and self._asked.get(index)
            ]

    def _fetch_files(self, name: NormalizedName) -> tuple[DistFile, ...]:
        for index in self.indexes:
            page = self._page(f"{index}{name}/")
            with self._missing_lock:
                if page is None:
                    self._asked[index] = self._asked.get(index, 0) + 1
                else:
                    self._served.add(index)
            if page is not None:
                files = parse_project_page(
                    page.body, page.content_type, page.final_url, index_url=index
                )
                return tuple(confine(files, index, on_skip=self._event))
        with self._missing_lock:
            self._missing.add(name)
            if len(self._missing) > MAX_MISSING:
                raise LockgenError(
                    f"more than {MAX_MISSING} projects are on no index (the last: "
                    f"{name}); check the index URLs, or what requires them"
                )
        raise ProjectNotFoundError(name, self.indexes)

    def _page(self, url: str) -> CachedPage | None:
        """The page at ``url`` (``None``: not on this index), revalidating the cache."""
        cached = self._cached_page(url)
        if self._mode is CacheMode.OFFLINE and not is_local(url):
            if cached is None:
                raise OfflineError(f"offline, and the index page {url} is not cached")
            return None if cached.content_type == _NOT_FOUND else cached
        headers = dict(_PAGE_HEADERS)
        if cached is not None and cached.content_type != _NOT_FOUND:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._client.get(url, headers, limit=PAGE_LIMIT, what="a page")
        if response.status == 304 and cached is not None:
            return cached
        if response.status == 404:
            self._store_page(url, response, _NOT_FOUND)
            return None
        response.raise_for_status()
        return self._store_page(url, response, response.headers.get("content-type", ""))

    def _cached_page(self, url: str) -> CachedPage | None:
        if self._cache is None or self._mode is CacheMode.REFRESH or is_local(url):
            return None
        return self._cache.get_page(url)

    def _store_page(
        self, url: str, response: Response, content_type: str
    ) -> CachedPage:
        page = CachedPage(
            url=url,
            final_url=response.url,
            content_type=content_type,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            body=b""
            if content_type == _NOT_FOUND
            else response.read(PAGE_LIMIT, "a page"),
        )
        if self._cache is not None and not is_local(url):
            self._cache.put_page(page)
        return page

    # -- metadata ------------------------------------------------------------------
    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        """Core metadata of a wheel or sdist (fetched once per file URL, ever).

        A local find-links file is read in place and never cached: it may change.
        """
        local = local_file(dist)
        if local is not None:
            return self._metadata.get(
                dist.url, lambda: _parse_local_metadata(local, dist)
            )
        return self._metadata.get(dist.url, lambda: self._load_metadata(dist))

    def _load_metadata(self, dist: DistFile) -> CoreMetadata:
        """From the cache, else fetched (and cached with the artifact size it learnt).

        The artifact's size is part of the answer when the index lists none and makes
        the read go through the file (no PEP 658 file): a cache entry that lacks it
        (written by an older lockgen) is refetched while online, so a warm run writes
        the bytes a cold one does.
        """
        learns_size = dist.size is None and _reads_artifact(dist)
        offline = self._mode is CacheMode.OFFLINE and not is_local(dist.url)
        for key in _metadata_keys(dist):
            hit = self._cached_metadata(key)
            if hit is not None and (
                offline or hit.artifact_size is not None or not learns_size
            ):
                size = hit.artifact_size if learns_size else None
                source = MetadataSource(hit.source)
                return _parse_metadata(hit.data, dist, source, size)
        if offline:
            raise OfflineError(
                f"offline, and the metadata of {dist.filename} is not cached"
            )
        read = self._fetch_metadata(dist)
        if read.artifact_sha256 is not None and read.artifact_size is not None:
            self._downloads.seed(dist.url, (read.artifact_sha256, read.artifact_size))
        if self._cache is not None:
            # before the checks: a warm run reaches the same verdict (a dynamic
            # sdist's, say) from the cache, without downloading the file again
            self._cache.put_metadata(
                _vouched_key(dist, read),
                read.data,
                read.source.value,
                read.artifact_size,
            )
        size = read.artifact_size if learns_size else None
        return _parse_metadata(read.data, dist, read.source, size)

    def _cached_metadata(self, key: str) -> CachedMetadata | None:
        """The cache entry for ``key`` (``--refresh`` skips those only a URL vouches
        for: the others are named by the sha256 of what they were read from)."""
        if self._cache is None:
            return None
        if self._mode is CacheMode.REFRESH and key.startswith("url-"):
            return None
        return self._cache.get_metadata(key)

    def _fetch_metadata(self, dist: DistFile) -> _Read:
        parsed = parse_filename(dist.filename)
        if parsed is None:
            raise MetadataError(dist.filename, "not a wheel or sdist file name")
        if parsed.kind is DistKind.SDIST:
            return self._sdist_metadata(dist)
        if dist.core_metadata is not None:
            data = self._pep658_metadata(dist)
            if data is not None:
                return _Read(data, MetadataSource.PEP658)
        host = urlsplit(dist.url).netloc
        if self.ranges.works(host):
            return self._range_metadata(dist, host)
        return self._whole_wheel_metadata(dist, None)

    def _pep658_metadata(self, dist: DistFile) -> bytes | None:
        response = self._client.get(
            dist.url + ".metadata",
            None,
            limit=MAX_METADATA_SIZE,
            what="a .metadata file",
        )
        if response.status == 404:
            self._event(f"{dist.filename}: advertised .metadata is missing")
            return None
        response.raise_for_status()
        data = response.read(MAX_METADATA_SIZE, "a .metadata file")
        if dist.core_metadata:
            actual = hashlib.sha256(data).hexdigest()
            if actual != dist.core_metadata:
                raise HashMismatchError(
                    dist.filename + ".metadata",
                    expected=dist.core_metadata,
                    actual=actual,
                )
        self._event(f"{dist.filename}: metadata from PEP 658 file")
        return data

    def _range_metadata(self, dist: DistFile, host: str) -> _Read:
        with self._client.stream(dist.url, tail_headers()) as response:
            if response.status == 200:
                read = self._whole_wheel_metadata(dist, response)
                if read.artifact_size is not None and read.artifact_size > TAIL_SIZE:
                    # a file no longer than the suffix asked for: 200 is a fair answer
                    self._no_ranges(
                        host, dist, "answered a range request with the whole file"
                    )
                return read
            if response.status in REFUSED:
                self._no_ranges(
                    host, dist, f"refused a range request (HTTP {response.status})"
                )
            elif response.status != 206:
                response.raise_for_status()
                raise NetworkError(dist.url, f"unexpected HTTP {response.status}")
            else:
                try:
                    remote = open_tail(self._client, dist.url, response)
                    data = read_wheel_metadata(
                        remote.read_at, remote.size, dist.filename
                    )
                except RangeUnsupportedError as exc:
                    self._no_ranges(host, dist, str(exc))
                else:
                    self._event(f"{dist.filename}: metadata by range requests")
                    return _Read(data, MetadataSource.RANGE, remote.size)
        return self._whole_wheel_metadata(dist, None)

    def _no_ranges(self, host: str, dist: DistFile, why: str) -> None:
        self.ranges.mark_unsupported(host)
        self._event(
            f"{dist.filename}: server {why}; downloading whole files from {host}"
        )

    def _whole_wheel_metadata(self, dist: DistFile, response: Response | None) -> _Read:
        with self._download(dist, response) as got:
            data = read_wheel_metadata_from_file(got.file, dist.filename)
        self._event(f"{dist.filename}: metadata from the whole wheel")
        return _Read(data, MetadataSource.WHOLE_FILE, got.size, got.sha256)

    def _sdist_metadata(self, dist: DistFile) -> _Read:
        """PKG-INFO from a download that is not kept: a lock selects few of the
        sdists it reads, and ``hydrate`` downloads the ones it does."""
        with self._download(dist, None, keep=False) as got:
            data = read_sdist_metadata(got.file, dist.filename)
        self._event(f"{dist.filename}: metadata from the sdist's PKG-INFO")
        return _Read(data, MetadataSource.SDIST, got.size, got.sha256)

    # -- whole files ---------------------------------------------------------------
    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        """The sha256 and size of ``dist``, downloading it once if nobody has yet
        (reading its metadata may have: then that download's answer is reused).

        A local find-links file is hashed in place (not copied into the cache).
        """
        local = local_file(dist)
        if local is not None:
            return self._downloads.get(dist.url, lambda: local_sha256(local, dist))
        return self._downloads.get(dist.url, lambda: self._hash_by_download(dist))

    def _hash_by_download(self, dist: DistFile) -> tuple[str, int]:
        """What an earlier download of this URL hashed to, else a download's."""
        learnt = self._learnt_hash(dist)
        if learnt is not None:
            return learnt
        with self._download(dist, None) as got:
            return got.sha256, got.size

    def _learnt_hash(self, dist: DistFile) -> tuple[str, int] | None:
        """The cache's record of what ``dist``'s URL hashed to when lockgen downloaded
        it, if the index lists no sha256 (``--refresh`` downloads again; a record
        contradicting a listed size is stale)."""
        cache = self._cache
        if cache is None or dist.sha256 is not None or self._mode is CacheMode.REFRESH:
            return None
        learnt = cache.get_url_hash(dist.url)
        if learnt is None or dist.size not in (None, learnt[1]):
            return None
        return learnt

    @contextmanager
    def _download(
        self, dist: DistFile, response: Response | None, *, keep: bool = True
    ) -> Iterator[_Downloaded]:
        """``dist``'s bytes as an open file, with the sha256 and size they were
        verified by: from the cache, or streamed.

        A download is hashed as it streams, checked against the size and sha256 the
        index gave, and (with a cache) kept under its sha256 for next time unless
        ``keep`` is false. When the index lists no sha256, the URL's hash is recorded
        (see :meth:`Cache.put_url_hash`), so a warm or ``--offline`` run finds it.
        """
        cached = self._cached_artifact(dist)
        if cached is not None:
            path, sha256 = cached
            with path.open("rb") as fh:
                yield _Downloaded(fh, sha256, os.fstat(fh.fileno()).st_size)
            return
        if self._mode is CacheMode.OFFLINE and not is_local(dist.url):
            raise OfflineError(f"offline, and {dist.filename} is not cached")
        with Spill(dist.filename, self._cache) as sink:
            if response is None:
                with self._client.stream(
                    dist.url, {"Accept-Encoding": "identity"}
                ) as own:
                    own.raise_for_status()
                    digest, size = _copy_listed(own, sink, dist)
            else:
                digest, size = _copy_listed(response, sink, dist)
            _verify(dist, digest, size)
            if keep:
                self._keep(sink.kept, digest)
            if self._cache is not None and dist.sha256 is None:
                self._cache.put_url_hash(dist.url, digest, size)
            with sink.reader() as reader:
                yield _Downloaded(reader, digest, size)

    def _cached_artifact(self, dist: DistFile) -> tuple[Path, str] | None:
        """The cached copy of ``dist`` and its sha256, if its bytes still hash to the
        index's sha256 (or, when it lists none, to the one a download learnt)."""
        if self._cache is None:
            return None
        learnt = self._learnt_hash(dist)
        sha256 = dist.sha256 if learnt is None else learnt[0]
        if sha256 is None:
            return None
        path = self._cache.verified_artifact(sha256)
        return None if path is None else (path, sha256)

    def _keep(self, temp: Path | None, digest: str) -> None:
        """Hard-link a verified download into the cache (best effort)."""
        if self._cache is None or temp is None:
            return
        try:
            self._cache.add_artifact(temp, digest)
        except (OSError, ValueError):
            return

    def _event(self, message: str) -> None:
        if self._on_event is not None:
            self._on_event(message)


def _reads_artifact(dist: DistFile) -> bool:
    """Whether this index makes reading ``dist``'s metadata go through the file itself
    (an sdist, or a wheel without an advertised PEP 658 file), learning its size."""
    parsed = parse_filename(dist.filename)
    sdist = parsed is not None and parsed.kind is DistKind.SDIST
    return sdist or dist.core_metadata is None


def _metadata_keys(dist: DistFile) -> list[str]:
    """The cache keys whose entries may stand for ``dist``'s metadata, best first:
    read from a whole file with ``dist``'s sha256, the PEP 658 file ``dist``'s index
    vouches for by hash, or what was read from ``dist``'s own URL."""
    keys = [
        Cache.file_metadata_key(dist.sha256) if dist.sha256 else None,
        Cache.pep658_metadata_key(dist.core_metadata) if dist.core_metadata else None,
        Cache.url_metadata_key(dist.url, dist.sha256),
    ]
    return [key for key in keys if key is not None]


def _vouched_key(dist: DistFile, read: _Read) -> str:
    """The key for what was just read: by what verified it (see :mod:`lockgen.store.cache`).

    A whole file hashes to ``dist.sha256`` (the download checked it) or the index
    listed no sha256, then only the URL vouches; a PEP 658 file was checked against
    its listed hash, when there was one; a range read is only as good as its server.
    """
    whole = read.source in (MetadataSource.WHOLE_FILE, MetadataSource.SDIST)
    if whole and dist.sha256 and read.artifact_sha256 == dist.sha256.lower():
        key = Cache.file_metadata_key(read.artifact_sha256)
    elif read.source is MetadataSource.PEP658 and dist.core_metadata:
        key = Cache.pep658_metadata_key(dist.core_metadata)
    else:
        key = None
    return key or Cache.url_metadata_key(dist.url, dist.sha256)


def _parse_metadata(
    data: bytes, dist: DistFile, source: MetadataSource, artifact_size: int | None
) -> CoreMetadata:
    """Parse fetched or cached metadata; an sdist's must be static (PEP 643)."""
    if source is MetadataSource.SDIST:
        check_static_sdist_metadata(data, dist.filename)
    return parse_core_metadata(data, dist.filename, source, artifact_size=artifact_size)


def _parse_local_metadata(path: Path, dist: DistFile) -> CoreMetadata:
    data, source = local_metadata(path, dist)
    return parse_core_metadata(data, dist.filename, source)


def _copy_listed(response: Response, sink: Spill, dist: DistFile) -> tuple[str, int]:
    """Copy the body into ``sink``, never past the size the index listed."""
    what = f"{dist.filename} (its listed size)"
    return copy_hashing(response.iter_bytes(limit=dist.size, what=what), sink.write)


def _verify(dist: DistFile, digest: str, size: int) -> None:
    check_digest(
        dist.filename,
        expected_sha256=dist.sha256,
        expected_size=dist.size,
        sha256=digest,
        size=size,
    )
