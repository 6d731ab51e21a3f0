"""Whole files an index names: streamed once, hashed on the way, verified, kept.

A download is checked against the size and sha256 the index gave and (with a
:class:`~lockgen.store.cache.Cache`) kept under its sha256 for ``hydrate``, unless
the caller reads it once and drops it (an sdist read for its PKG-INFO). A file the
index lists no sha256 for is downloaded to hash it once: the cache then recalls its
hash by URL (http(s) only), so warm and ``--offline`` runs need no download. Every
download returns what it learnt (sha256, size), and that answer is remembered per
URL, so a file downloaded for its metadata is never downloaded again for its hash.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, NamedTuple

from lockgen.core.hashing import check_digest, copy_hashing
from lockgen.core.singleflight import SingleFlight
from lockgen.core.urls import is_local, local_file
from lockgen.net.cache_mode import CacheMode, OfflineError
from lockgen.net.findlinks import local_sha256
from lockgen.net.spill import Spill

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from lockgen.core.models import DistFile
    from lockgen.net.transport import HttpClient, Response
    from lockgen.store.cache import Cache

__all__ = ["Downloads", "Learnt"]


class Learnt(NamedTuple):
    """What a download learnt about a file: the sha256 and size it was verified by."""

    sha256: str
    size: int


class Downloads:
    """Whole-file downloads of one run, and the hashes they learnt, per URL."""

    def __init__(
        self, client: HttpClient, *, cache: Cache | None, mode: CacheMode
    ) -> None:
        self._client = client
        self._cache = cache
        self._mode = mode
        self._learnt: SingleFlight[str, Learnt] = SingleFlight()

    def sha256(self, dist: DistFile) -> Learnt:
        """The sha256 and size of ``dist``, downloading it once if nobody has yet
        (reading its metadata may have: then that download's answer is reused).

        A local find-links file is hashed in place (not copied into the cache).
        """
        local = local_file(dist)
        if local is not None:
            return self._learnt.get(
                dist.url, lambda: Learnt(*local_sha256(local, dist))
            )
        return self._learnt.get(dist.url, lambda: self._hash(dist))

    @contextmanager
    def open(
        self, dist: DistFile, response: Response | None = None, *, keep: bool = True
    ) -> Iterator[tuple[IO[bytes], Learnt]]:
        """``dist``'s bytes as an open file, with what they were verified by: from
        the cache, or streamed (from ``response`` if one is already open).

        Once the caller has read the file without error, its sha256 and size are
        remembered for :meth:`sha256`.
        """
        cached = self._cached_artifact(dist)
        if cached is not None:
            path, sha256 = cached
            with path.open("rb") as fh:
                learnt = Learnt(sha256, os.fstat(fh.fileno()).st_size)
                yield fh, learnt
        else:
            with Spill(dist.filename, self._cache) as sink:
                learnt = self._download(dist, response, sink, keep=keep)
                with sink.reader() as reader:
                    yield reader, learnt
        self._learnt.seed(dist.url, learnt)

    def _hash(self, dist: DistFile) -> Learnt:
        """What an earlier download of this URL hashed to, else a download's."""
        learnt = self._recalled(dist)
        if learnt is not None:
            return learnt
        cached = self._cached_artifact(dist)
        if cached is not None:
            path, sha256 = cached
            return Learnt(sha256, path.stat().st_size)
        with Spill(dist.filename, self._cache) as sink:
            return self._download(dist, None, sink, keep=True)

    def _download(
        self, dist: DistFile, response: Response | None, sink: Spill, *, keep: bool
    ) -> Learnt:
        """Stream ``dist`` into ``sink``, hashing it; verify it against the index;
        keep it (unless not ``keep``) and, when the index lists no sha256, record
        the URL's hash (see :meth:`Cache.put_url_hash`) for warm and offline runs."""
        if self._mode is CacheMode.OFFLINE and not is_local(dist.url):
            raise OfflineError(f"offline, and {dist.filename} is not cached")
        if response is None:
            headers = {"Accept-Encoding": "identity"}
            with self._client.stream(dist.url, headers) as own:
                own.raise_for_status()
                digest, size = _copy_listed(own, sink, dist)
        else:
            digest, size = _copy_listed(response, sink, dist)
        check_digest(
            dist.filename,
            expected_sha256=dist.sha256,
            expected_size=dist.size,
            sha256=digest,
            size=size,
        )
        if keep:
            self._keep(sink.kept, digest)
        if self._cache is not None and dist.sha256 is None:
            self._cache.put_url_hash(dist.url, digest, size)
        return Learnt(digest, size)

    def _recalled(self, dist: DistFile) -> Learnt | None:
        """The cache's record of what ``dist``'s URL hashed to when lockgen downloaded
        it, if the index lists no sha256 (``--refresh`` downloads again; a record
        contradicting a listed size is stale)."""
        cache = self._cache
        if cache is None or dist.sha256 is not None or self._mode is CacheMode.REFRESH:
            return None
        learnt = cache.get_url_hash(dist.url)
        if learnt is None or dist.size not in (None, learnt[1]):
            return None
        return Learnt(*learnt)

    def _cached_artifact(self, dist: DistFile) -> tuple[Path, str] | None:
        """The cached copy of ``dist`` and its sha256, if its bytes still hash to the
        index's sha256 (or, when it lists none, to the one a download learnt)."""
        if self._cache is None:
            return None
        learnt = self._recalled(dist)
        sha256 = dist.sha256 if learnt is None else learnt.sha256
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


def _copy_listed(response: Response, sink: Spill, dist: DistFile) -> tuple[str, int]:
    """Copy the body into ``sink``, never past the size the index listed."""
    what = f"{dist.filename} (its listed size)"
    return copy_hashing(response.iter_bytes(limit=dist.size, what=what), sink.write)
