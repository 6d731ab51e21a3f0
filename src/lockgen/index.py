"""The Repository that talks to real indexes: project pages, metadata, missing hashes.

Metadata is fetched as cheaply as the index allows, in a fixed order: the PEP 658
``.metadata`` file when advertised (verified against its advertised hash); otherwise a
suffix range on the wheel (see :mod:`lockgen.range_reader`); otherwise, or when the
server mishandles ranges, the whole file, streamed once and hashed on the way. A host
that fails a range request is remembered, so its later wheels skip straight to the
whole download. Several indexes are searched in order and a project's files come from
the first index that has it, so a public index can never shadow a private project.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.errors import (
    HashMismatchError,
    MetadataError,
    NetworkError,
    ProjectNotFoundError,
    RangeUnsupportedError,
)
from lockgen.models import DistKind, MetadataSource, parse_filename
from lockgen.range_reader import REFUSED, RangeSupport, open_tail, tail_headers
from lockgen.simple_api import ACCEPT, parse_project_page
from lockgen.singleflight import SingleFlight
from lockgen.wheel_metadata import (
    check_static_sdist_metadata,
    parse_core_metadata,
    read_sdist_metadata,
)
from lockgen.wheel_zip import read_wheel_metadata, read_wheel_metadata_from_file

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from packaging.utils import NormalizedName

    from lockgen.models import CoreMetadata, DistFile
    from lockgen.transport import HttpClient, Response

__all__ = ["IndexClient"]

_SPOOL_MAX = 32 * 1024 * 1024
_PAGE_HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}


class IndexClient:
    """Implements :class:`lockgen.repository.Repository` over HTTP(S) and file:// indexes."""

    def __init__(
        self,
        client: HttpClient,
        indexes: Sequence[str],
        *,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self.indexes = tuple(url if url.endswith("/") else url + "/" for url in indexes)
        self.ranges = RangeSupport()
        self._on_event = on_event
        self._pages: SingleFlight[str, tuple[DistFile, ...]] = SingleFlight()
        self._metadata: SingleFlight[str, CoreMetadata] = SingleFlight()
        self._hashes: dict[str, tuple[str, int]] = {}
        self._downloads: SingleFlight[str, tuple[str, int]] = SingleFlight()
        self._lock = threading.Lock()

    # -- project pages -------------------------------------------------------------
    def list_files(self, name: NormalizedName) -> tuple[DistFile, ...]:
        """Files of ``name`` from the first index that has the project (fetched once)."""
        return self._pages.get(name, lambda: self._fetch_page(name))

    def _fetch_page(self, name: NormalizedName) -> tuple[DistFile, ...]:
        for index in self.indexes:
            response = self._client.get(f"{index}{name}/", _PAGE_HEADERS)
            if response.status == 404:
                continue
            response.raise_for_status()
            content_type = response.headers.get("content-type", "")
            files = parse_project_page(
                response.read(), content_type, response.url, index_url=index
            )
            return tuple(files)
        raise ProjectNotFoundError(name, self.indexes)

    # -- metadata ------------------------------------------------------------------
    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        """Core metadata of a wheel or sdist (fetched once per file URL)."""
        return self._metadata.get(dist.url, lambda: self._fetch_metadata(dist))

    def _fetch_metadata(self, dist: DistFile) -> CoreMetadata:
        parsed = parse_filename(dist.filename)
        if parsed is None:
            raise MetadataError(dist.filename, "not a wheel or sdist file name")
        if parsed.kind is DistKind.SDIST:
            return self._sdist_metadata(dist)
        if dist.core_metadata is not None:
            metadata = self._pep658_metadata(dist)
            if metadata is not None:
                return metadata
        host = urlsplit(dist.url).netloc
        if self.ranges.works(host):
            return self._range_metadata(dist, host)
        return self._whole_wheel_metadata(dist, None)

    def _pep658_metadata(self, dist: DistFile) -> CoreMetadata | None:
        response = self._client.get(dist.url + ".metadata")
        if response.status == 404:
            self._event(f"{dist.filename}: advertised .metadata is missing")
            return None
        response.raise_for_status()
        data = response.read()
        if dist.core_metadata:
            actual = hashlib.sha256(data).hexdigest()
            if actual != dist.core_metadata:
                raise HashMismatchError(
                    dist.filename + ".metadata",
                    expected=dist.core_metadata,
                    actual=actual,
                )
        self._event(f"{dist.filename}: metadata from PEP 658 file")
        return parse_core_metadata(data, dist.filename, MetadataSource.PEP658)

    def _range_metadata(self, dist: DistFile, host: str) -> CoreMetadata:
        with self._client.stream(dist.url, tail_headers()) as response:
            if response.status == 200:
                self._no_ranges(
                    host, dist, "answered a range request with the whole file"
                )
                return self._whole_wheel_metadata(dist, response)
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
                    return parse_core_metadata(
                        data, dist.filename, MetadataSource.RANGE
                    )
        return self._whole_wheel_metadata(dist, None)

    def _no_ranges(self, host: str, dist: DistFile, why: str) -> None:
        self.ranges.mark_unsupported(host)
        self._event(
            f"{dist.filename}: server {why}; downloading whole files from {host}"
        )

    def _whole_wheel_metadata(
        self, dist: DistFile, response: Response | None
    ) -> CoreMetadata:
        with self._download(dist, response) as fh:
            data = read_wheel_metadata_from_file(fh, dist.filename)
        self._event(f"{dist.filename}: metadata from the whole wheel")
        return parse_core_metadata(data, dist.filename, MetadataSource.WHOLE_FILE)

    def _sdist_metadata(self, dist: DistFile) -> CoreMetadata:
        with self._download(dist, None) as fh:
            fh.seek(0)
            data = read_sdist_metadata(fh, dist.filename)
        check_static_sdist_metadata(data, dist.filename)
        self._event(f"{dist.filename}: metadata from the sdist's PKG-INFO")
        return parse_core_metadata(data, dist.filename, MetadataSource.SDIST)

    # -- whole files ---------------------------------------------------------------
    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        """The sha256 and size of ``dist``, downloading it once if nobody has yet."""
        with self._lock:
            known = self._hashes.get(dist.url)
        if known is not None:
            return known
        return self._downloads.get(dist.url, lambda: self._hash_by_download(dist))

    def _hash_by_download(self, dist: DistFile) -> tuple[str, int]:
        with self._download(dist, None):
            pass
        with self._lock:
            return self._hashes[dist.url]

    @contextmanager
    def _download(
        self, dist: DistFile, response: Response | None
    ) -> Iterator[IO[bytes]]:
        """Stream ``dist`` into a spooled temp file, hashing it; verify what is known."""
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX) as fh:
            if response is None:
                with self._client.stream(
                    dist.url, {"Accept-Encoding": "identity"}
                ) as own:
                    own.raise_for_status()
                    digest, size = _copy_hashing(own, fh)
            else:
                digest, size = _copy_hashing(response, fh)
            _verify(dist, digest, size)
            with self._lock:
                self._hashes[dist.url] = (digest, size)
            yield fh

    def _event(self, message: str) -> None:
        if self._on_event is not None:
            self._on_event(message)


def _copy_hashing(response: Response, fh: IO[bytes]) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    for chunk in response.iter_bytes():
        sha.update(chunk)
        fh.write(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def _verify(dist: DistFile, digest: str, size: int) -> None:
    if dist.size is not None and dist.size != size:
        raise HashMismatchError(
            dist.filename, expected=f"{dist.size} bytes", actual=f"{size} bytes"
        )
    if dist.sha256 is not None and dist.sha256 != digest:
        raise HashMismatchError(dist.filename, expected=dist.sha256, actual=digest)
