"""Fetch one locked artifact into a directory: streamed, verified, resumable, atomic.

The bytes go to ``NAME.part`` while their sha256 and size are computed in the same
pass; only a file whose size and sha256 both match the lock is renamed to ``NAME``.
So a final name only ever holds a verified file, whatever happens (mismatch, dropped
connection, Ctrl-C, kill). A ``.part`` left by an interrupted run or a dropped
connection is resumed with a Range request (its bytes are hashed once to seed the
digest) and restarted when the server will not resume. A mismatch is final: the file
is deleted and the failure reported; lockgen never tries another file. Offline, a
file that is neither in the directory, in the cache nor a local one is an
:class:`~lockgen.core.errors.OfflineError`, the error ``lock`` raises for the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.errors import (
    BodyTooLargeError,
    HashMismatchError,
    LockgenError,
    NetworkError,
    OfflineError,
    TooSlowError,
)
from lockgen.core.hashing import check_digest, hash_file
from lockgen.core.urls import is_local
from lockgen.net.part import PartSink, copy_local, link_from_cache
from lockgen.net.range_reader import parse_content_range

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from lockgen.core.models import Artifact
    from lockgen.net.transport import HttpClient, Response
    from lockgen.store.cache import Cache

__all__ = ["Fetched", "fetch"]

_ATTEMPTS = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class Fetched:
    """A verified file in the destination directory, and where it came from.

    ``status``: ``cached`` (already in the directory), ``from-cache`` (linked or
    copied from the cache) or ``fetched`` (downloaded, or copied from a local path);
    hydrate's report uses these words as they are.
    """

    artifact: Artifact
    path: Path
    status: str
    transferred: int


def fetch(
    client: HttpClient,
    artifact: Artifact,
    dest: Path,
    *,
    on_bytes: Callable[[int], None],
    cancelled: threading.Event,
    cache: Cache | None = None,
    offline: bool = False,
) -> Fetched:
    """Make ``dest/artifact.filename`` hold the verified artifact; see the module doc.

    With a cache, a file already kept there is linked (or copied) instead of
    downloaded, and a downloaded one is kept for next time (a local one is not: it is
    on disk already).
    """
    final = dest / artifact.filename
    part = dest / f"{artifact.filename}.part"
    try:
        return _fetch(
            client, artifact, final, part, on_bytes, cancelled, cache, offline
        )
    except OSError as exc:  # a full or read-only DEST, a directory in the way
        with contextlib.suppress(OSError):
            if not part.is_dir():
                part.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        where = exc.filename or part  # a failed write (a full disk) names no file
        raise LockgenError(f"{artifact.filename}: {reason} ({where})") from None


def _fetch(
    client: HttpClient,
    artifact: Artifact,
    final: Path,
    part: Path,
    on_bytes: Callable[[int], None],
    cancelled: threading.Event,
    cache: Cache | None,
    offline: bool,
) -> Fetched:
    for path in (final, part):
        if path.is_symlink():  # planted: removed as a link, never followed
            path.unlink()
        elif path.exists() and not path.is_file():
            raise LockgenError(f"{path} is in the way and is not a regular file")
    if final.is_file() and _matches(final, artifact):
        return Fetched(artifact=artifact, path=final, status="cached", transferred=0)
    if cache is not None and link_from_cache(cache, artifact, part):
        part.replace(final)
        return Fetched(
            artifact=artifact, path=final, status="from-cache", transferred=0
        )
    if offline and not _is_local(artifact):
        raise OfflineError(f"{artifact.filename}: offline, and it is not cached")
    transferred = _fetch_into(client, artifact, part, on_bytes, cancelled)
    part.replace(final)
    if cache is not None and not _is_local(artifact):
        with contextlib.suppress(OSError, ValueError):
            cache.add_artifact(final, artifact.sha256)
    return Fetched(
        artifact=artifact, path=final, status="fetched", transferred=transferred
    )


def _is_local(artifact: Artifact) -> bool:
    """A lock ``path`` or ``file://`` URL: already on disk, so not worth caching."""
    return artifact.path is not None or is_local(artifact.url or "")


def _fetch_into(
    client: HttpClient,
    artifact: Artifact,
    part: Path,
    on_bytes: Callable[[int], None],
    cancelled: threading.Event,
) -> int:
    """Download (or copy from a local path) into ``part`` and verify it there."""
    if artifact.path is not None:
        sink, transferred = copy_local(artifact, part, on_bytes, cancelled)
        _verify(sink, part, artifact)
    else:
        stale = part.exists()  # left by an earlier run: its bytes may not be a prefix
        sink, transferred = _download(client, artifact, part, on_bytes, cancelled)
        try:
            _verify(sink, part, artifact)
        except HashMismatchError:
            if not stale:
                raise
            sink, again = _download(client, artifact, part, on_bytes, cancelled)
            transferred += again
            _verify(sink, part, artifact)
    return transferred


def _matches(path: Path, artifact: Artifact) -> bool:
    if artifact.size is not None and path.stat().st_size != artifact.size:
        return False
    return hash_file(path)[0] == artifact.sha256


def _verify(sink: PartSink, part: Path, artifact: Artifact) -> None:
    """Check what the sink saw; a mismatching ``.part`` is deleted, never kept."""
    try:
        check_digest(
            artifact.filename,
            expected_sha256=artifact.sha256,
            expected_size=artifact.size,
            sha256=sink.hashed.sha256,
            size=sink.hashed.size,
        )
    except HashMismatchError:
        part.unlink()
        raise


def _download(
    client: HttpClient,
    artifact: Artifact,
    part: Path,
    on_bytes: Callable[[int], None],
    cancelled: threading.Event,
) -> tuple[PartSink, int]:
    """Stream the URL into ``part``, resuming after dropped connections.

    HTTP error statuses were already retried (with backoff) by the transport, so they
    are final here; what is retried is a connection that failed mid-body.
    """
    assert artifact.url is not None
    transferred = 0
    for attempt in range(_ATTEMPTS):
        offset = _resumable_offset(part, artifact)
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            with client.stream(artifact.url, headers) as response:
                resume = _accepts_resume(response, part, offset)
                sink = PartSink(
                    part, resume=resume, on_bytes=on_bytes, cancelled=cancelled
                )
                promised = None if artifact.size is None else artifact.size - offset
                chunks = response.iter_bytes(
                    limit=promised if resume else artifact.size,
                    what=f"{artifact.filename} (its locked size)",
                )
                transferred += sink.take(chunks)
            return sink, transferred
        except BodyTooLargeError:
            part.unlink(missing_ok=True)
            raise
        except TooSlowError:
            raise  # the .part stays: a later run resumes it
        except NetworkError as exc:
            if exc.status is not None or attempt == _ATTEMPTS - 1:
                raise
            client.pause(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _resumable_offset(part: Path, artifact: Artifact) -> int:
    """Bytes already in ``part`` worth keeping (none if too long to be a prefix)."""
    if not part.exists():
        return 0
    size = part.stat().st_size
    if artifact.size is not None and size >= artifact.size:
        part.unlink()
        return 0
    return size


def _accepts_resume(response: Response, part: Path, offset: int) -> bool:
    """Whether the response continues ``part`` (206 at ``offset``) or replaces it."""
    if response.status == 416 and offset:
        part.unlink()  # our prefix is no prefix of theirs: start again
        raise NetworkError(response.url, "range not satisfiable; restarting")
    response.raise_for_status()
    if response.status != 206:
        return False
    parsed = parse_content_range(response.headers.get("content-range"))
    if offset and parsed is not None and parsed[0] == offset:
        return True
    part.unlink(missing_ok=True)
    raise NetworkError(response.url, "server sent an unexpected range; restarting")
