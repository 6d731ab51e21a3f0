"""Core metadata of an index's files, fetched as cheaply as the index allows.

The order is fixed: the PEP 658 ``.metadata`` file when advertised (verified against
its advertised hash); otherwise a suffix range on the wheel (see
:mod:`lockgen.net.range_reader`); otherwise, or when the server mishandles ranges,
the whole file, streamed once and hashed on the way (:mod:`lockgen.net.index_downloads`).
A host that fails a range request is remembered, so its later wheels skip straight
to the whole download (a whole small file in answer to a suffix range longer than
the file is no failure: it is all that was asked for). A read through the artifact
learns its size for free (the range's ``Content-Range`` total, or the download),
which the lock records when the index gives none; a whole file is never fetched just
for its size.

With a :class:`~lockgen.store.cache.Cache`, metadata is read once per artifact ever,
under a key naming what vouches for it (:mod:`lockgen.net.metadata_keys`); an sdist's
PKG-INFO is cached, so is a "dynamic" verdict. A local find-links file is read in
place and never cached: it may change.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.core.errors import (
    HashMismatchError,
    MetadataError,
    NetworkError,
    RangeUnsupportedError,
)
from lockgen.core.models import DistKind, MetadataSource, parse_filename
from lockgen.core.singleflight import SingleFlight
from lockgen.core.urls import is_local, local_file
from lockgen.core.wheel_metadata import parse_core_metadata, read_sdist_metadata
from lockgen.core.wheel_zip import (
    MAX_METADATA_SIZE,
    read_wheel_metadata,
    read_wheel_metadata_from_file,
)
from lockgen.net.cache_mode import CacheMode, OfflineError
from lockgen.net.findlinks import local_metadata
from lockgen.net.metadata_keys import (
    Read,
    metadata_keys,
    parse_metadata,
    reads_artifact,
    vouched_key,
)
from lockgen.net.range_reader import (
    REFUSED,
    TAIL_SIZE,
    RangeSupport,
    open_tail,
    tail_headers,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from lockgen.core.models import CoreMetadata, DistFile
    from lockgen.net.index_downloads import Downloads
    from lockgen.net.transport import HttpClient, Response
    from lockgen.store.cache import Cache, CachedMetadata

__all__ = ["MetadataReader"]


class MetadataReader:
    """Reads each file's core metadata once per run (and, cached, once ever)."""

    def __init__(
        self,
        client: HttpClient,
        downloads: Downloads,
        *,
        cache: Cache | None,
        mode: CacheMode,
        on_event: Callable[[str], None],
    ) -> None:
        self._client = client
        self._downloads = downloads
        self._cache = cache
        self._mode = mode
        self._event = on_event
        self.ranges = RangeSupport()
        self._metadata: SingleFlight[str, CoreMetadata] = SingleFlight()

    def get(self, dist: DistFile) -> CoreMetadata:
        """Core metadata of a wheel or sdist (fetched once per file URL, ever).

        A local find-links file is read in place and never cached: it may change.
        """
        local = local_file(dist)
        if local is not None:
            return self._metadata.get(
                dist.url, lambda: _parse_local_metadata(local, dist)
            )
        return self._metadata.get(dist.url, lambda: self._load(dist))

    def _load(self, dist: DistFile) -> CoreMetadata:
        """From the cache, else fetched (and cached with the artifact size it learnt).

        The artifact's size is part of the answer when the index lists none and makes
        the read go through the file (no PEP 658 file): a cache entry that lacks it
        (written by an older lockgen) is refetched while online, so a warm run writes
        the bytes a cold one does.
        """
        learns_size = dist.size is None and reads_artifact(dist)
        offline = self._mode is CacheMode.OFFLINE and not is_local(dist.url)
        # a local index's file listed without a sha256 can change under its name:
        # nothing but its own URL would vouch for a cached entry, so it is read anew
        by_url = not (is_local(dist.url) and dist.sha256 is None)
        for key in metadata_keys(dist, by_url=by_url):
            hit = self._cached(key)
            if hit is not None and (
                offline or hit.artifact_size is not None or not learns_size
            ):
                size = hit.artifact_size if learns_size else None
                return parse_metadata(hit.data, dist, MetadataSource(hit.source), size)
        if offline:
            raise OfflineError(
                f"offline, and the metadata of {dist.filename} is not cached"
            )
        read = self._fetch(dist)
        key = vouched_key(dist, read)
        if self._cache is not None and (by_url or not key.startswith("url-")):
            # before the checks: a warm run reaches the same verdict (a dynamic
            # sdist's, say) from the cache, without downloading the file again
            self._cache.put_metadata(
                key,
                read.data,
                read.source.value,
                read.artifact_size,
            )
        size = read.artifact_size if learns_size else None
        return parse_metadata(read.data, dist, read.source, size)

    def _cached(self, key: str) -> CachedMetadata | None:
        """The cache entry for ``key`` (``--refresh`` skips those only a URL vouches
        for: the others are named by the sha256 of what they were read from)."""
        if self._cache is None:
            return None
        if self._mode is CacheMode.REFRESH and key.startswith("url-"):
            return None
        return self._cache.get_metadata(key)

    def _fetch(self, dist: DistFile) -> Read:
        parsed = parse_filename(dist.filename)
        if parsed is None:
            raise MetadataError(dist.filename, "not a wheel or sdist file name")
        if parsed.kind is DistKind.SDIST:
            return self._sdist(dist)
        if dist.core_metadata is not None:
            data = self._pep658(dist)
            if data is not None:
                return Read(data, MetadataSource.PEP658)
        host = urlsplit(dist.url).netloc
        if self.ranges.works(host):
            return self._by_range(dist, host)
        return self._whole_wheel(dist, None)

    def _pep658(self, dist: DistFile) -> bytes | None:
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

    def _by_range(self, dist: DistFile, host: str) -> Read:
        with self._client.stream(dist.url, tail_headers()) as response:
            if response.status == 200:
                read = self._whole_wheel(dist, response)
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
                    return Read(data, MetadataSource.RANGE, remote.size)
        return self._whole_wheel(dist, None)

    def _no_ranges(self, host: str, dist: DistFile, why: str) -> None:
        self.ranges.mark_unsupported(host)
        self._event(
            f"{dist.filename}: server {why}; downloading whole files from {host}"
        )

    def _whole_wheel(self, dist: DistFile, response: Response | None) -> Read:
        with self._downloads.open(dist, response) as (file, learnt):
            data = read_wheel_metadata_from_file(file, dist.filename)
        self._event(f"{dist.filename}: metadata from the whole wheel")
        return Read(data, MetadataSource.WHOLE_FILE, learnt.size, learnt.sha256)

    def _sdist(self, dist: DistFile) -> Read:
        """PKG-INFO from a download that is not kept: a lock selects few of the
        sdists it reads, and ``hydrate`` downloads the ones it does."""
        with self._downloads.open(dist, keep=False) as (file, learnt):
            data = read_sdist_metadata(file, dist.filename)
        self._event(f"{dist.filename}: metadata from the sdist's PKG-INFO")
        return Read(data, MetadataSource.SDIST, learnt.size, learnt.sha256)


def _parse_local_metadata(path: Path, dist: DistFile) -> CoreMetadata:
    data, source = local_metadata(path, dist)
    return parse_core_metadata(data, dist.filename, source)
