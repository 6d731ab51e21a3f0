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
PKG-INFO is cached, so is a "dynamic" verdict. An sdist whose PKG-INFO is dynamic
(PEP 643) is built for its metadata (:mod:`lockgen.build`), unless the run forbids
it, and what it built to is cached under the sdist's own sha256. A local find-links
file is read in place and never cached: it may change.
"""

from __future__ import annotations

import hashlib
from typing import IO, TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from lockgen.core.errors import (
    HashMismatchError,
    MetadataError,
    NetworkError,
    RangeUnsupportedError,
    UnsupportedError,
)
from lockgen.core.models import DistKind, MetadataSource, parse_filename
from lockgen.core.singleflight import SingleFlight
from lockgen.core.urls import is_local, local_file
from lockgen.core.wheel_metadata import (
    dynamic_reason,
    parse_core_metadata,
    read_sdist_metadata,
)
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

    from packaging.utils import NormalizedName

    from lockgen.core.models import CoreMetadata, DistFile
    from lockgen.net.index_downloads import Downloads
    from lockgen.net.transport import HttpClient, Response
    from lockgen.store.cache import Cache, CachedMetadata

__all__ = ["MetadataReader", "SdistBuilds"]


class SdistBuilds(Protocol):
    """How an sdist whose PKG-INFO is dynamic gets its metadata (the application's
    choice: :mod:`lockgen.app.builds`)."""

    def refusal(self, name: NormalizedName) -> str | None:
        """What forbids building ``name``'s sdists (``--no-build``...), or ``None``."""

    def metadata(self, filename: str, sdist: IO[bytes]) -> bytes:
        """The METADATA the sdist builds to."""


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
        builds: SdistBuilds | None = None,
    ) -> None:
        self._client = client
        self._downloads = downloads
        self._cache = cache
        self._mode = mode
        self._event = on_event
        self._builds = builds
        self.ranges = RangeSupport()
        self._metadata: SingleFlight[str, CoreMetadata] = SingleFlight()

    def get(self, dist: DistFile) -> CoreMetadata:
        """Core metadata of a wheel or sdist (fetched once per file URL, ever).

        A local find-links file is read in place and never cached: it may change.
        """
        local = local_file(dist)
        if local is not None:
            return self._metadata.get(dist.url, lambda: self._local(local, dist))
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
                source = MetadataSource(hit.source)
                if source is MetadataSource.SDIST and self._to_build(dist, hit.data):
                    continue  # a dynamic verdict from a run that could not build it
                if source is MetadataSource.BUILT and self._refused(dist):
                    continue  # built by an earlier run: this one may not use builds
                size = hit.artifact_size if learns_size else None
                return self._parsed(hit.data, dist, source, size)
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
        return self._parsed(read.data, dist, read.source, size)

    def _to_build(self, dist: DistFile, pkg_info: bytes) -> bool:
        """Whether the sdist ``dist``, whose PKG-INFO this is, is to be built."""
        return (
            not self._refused(dist)
            and dynamic_reason(pkg_info, dist.filename) is not None
        )

    def _refused(self, dist: DistFile) -> bool:
        """Whether this run may not build ``dist`` (nor use what a build made: the
        answer must not depend on what the cache holds)."""
        return self._builds is None or self._builds.refusal(_project(dist)) is not None

    def _parsed(
        self,
        data: bytes,
        dist: DistFile,
        source: MetadataSource,
        artifact_size: int | None,
    ) -> CoreMetadata:
        """Parse fetched or cached metadata; an sdist's PKG-INFO must be static
        (PEP 643) when it was not built."""
        if source is MetadataSource.SDIST:
            why = dynamic_reason(data, dist.filename)
            if why is not None:
                refusal = (
                    "this reader"
                    if self._builds is None
                    else self._builds.refusal(_project(dist))
                )
                raise UnsupportedError(
                    f"{dist.filename}: {why}, and {refusal} forbids building it"
                )
        return parse_core_metadata(
            data, dist.filename, source, artifact_size=artifact_size
        )

    def _local(self, path: Path, dist: DistFile) -> CoreMetadata:
        """A local find-links file's metadata, read in place (a dynamic sdist built
        from it, every run: it may change under its name)."""
        data, source = local_metadata(path, dist)
        if source is MetadataSource.SDIST and self._to_build(dist, data):
            assert self._builds is not None
            with path.open("rb") as fh:
                data = self._builds.metadata(dist.filename, fh)
            source = MetadataSource.BUILT
        return self._parsed(data, dist, source, None)

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
                    self._no_ranges(host, dist, f"failed a range request ({exc})")
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
        """PKG-INFO from a download that is not kept (a lock selects few of the
        sdists it reads, and ``hydrate`` downloads the ones it does), or, when it
        is dynamic, what the same download builds to."""
        with self._downloads.open(dist, keep=False) as (file, learnt):
            data = read_sdist_metadata(file, dist.filename)
            if self._to_build(dist, data):
                assert self._builds is not None
                file.seek(0)
                built = self._builds.metadata(dist.filename, file)
                return Read(built, MetadataSource.BUILT, learnt.size, learnt.sha256)
        self._event(f"{dist.filename}: metadata from the sdist's PKG-INFO")
        return Read(data, MetadataSource.SDIST, learnt.size, learnt.sha256)


def _project(dist: DistFile) -> NormalizedName:
    """The project ``dist``'s file name says it belongs to."""
    parsed = parse_filename(dist.filename)
    assert parsed is not None  # listings keep only wheel and sdist names
    return parsed.name
