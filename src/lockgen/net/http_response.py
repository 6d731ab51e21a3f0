"""The response every request returns, HTTP or ``file://``: a lazily read body with
its caps (a size limit, refused before the excess is handed over), its deadlines (a
minimum average rate, a whole-page deadline), safe decoding of the codings lockgen
asked for, and a release that never leaves unread bytes on a pooled connection."""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from lockgen.core.errors import BodyTooLargeError, NetworkError, TooSlowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

__all__ = [
    "CHUNK",
    "MIN_RATE",
    "Buffered",
    "Response",
    "TransferStats",
    "body_chunks",
    "release",
]

#: Read size for bodies: large reads keep big downloads near the link's speed
#: (measured: 64 KiB reads cost about 40% on a 50 MB file over loopback).
CHUNK = 1024 * 1024
#: The first socket read's size (see :func:`body_chunks`).
_FIRST_READ = 64 * 1024
_EXPLAINED = {
    401: "HTTP 401 Unauthorized: no accepted credentials (give them in the index "
    "URL, in ~/.netrc, or with --keyring-provider subprocess)",
    407: "HTTP 407 Proxy Authentication Required: check the user and password in "
    "the proxy URL (http_proxy)",
}
#: An unread body up to this long is read and dropped to keep its connection alive.
_DRAIN_MAX = 64 * 1024
#: Content codings lockgen can undo, and only when it asked for them (pages).
_CODINGS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
#: A streamed body slower than this on average, once the timeout's grace has passed,
#: is reported: a server trickling bytes cannot hold a download open for hours.
MIN_RATE = 16 * 1024


@dataclass
class TransferStats:
    """Counts of requests made and body bytes received, shared by all threads."""

    requests: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, requests: int = 0, nbytes: int = 0) -> None:
        """Add to the counters (thread-safe)."""
        with self._lock:
            self.requests += requests
            self.bytes += nbytes


class Response:
    """A response whose body is read lazily, as chunks, then closed."""

    def __init__(
        self,
        *,
        url: str,
        status: int,
        headers: Mapping[str, str],
        chunks: Iterator[bytes],
        close: Callable[[bool], None],
        stats: TransferStats,
        accepted: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self._chunks = chunks
        self._close = close
        self._stats = stats
        self._accepted = _accepted_codings(accepted or {})
        self._timeout = timeout
        self._started = time.monotonic()
        self._refused = False  # a body cut short by lockgen is not drained

    def iter_bytes(
        self, *, limit: int | None = None, what: str = "a download"
    ) -> Iterator[bytes]:
        """Yield the body as it arrives, exactly as sent (never decoded).

        Past ``limit`` bytes the body is refused before the excess is handed over
        (BodyTooLargeError); once the timeout's grace has passed, a body arriving
        slower than :data:`MIN_RATE` on average is reported; transport failures
        become NetworkError.
        """
        received = 0
        try:
            for chunk in self._chunks:
                self._stats.add(nbytes=len(chunk))
                received += len(chunk)
                if limit is not None and received > limit:
                    self._refused = True
                    raise BodyTooLargeError(self.url, limit, what)
                self._check_pace(received)
                yield chunk
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            self._refused = True
            raise TooSlowError(
                self.url, f"the server went silent mid-body ({received} bytes in)"
            ) from exc
        except (Urllib3Error, OSError) as exc:
            raise NetworkError(self.url, f"connection failed mid-body: {exc}") from exc

    def read(self, limit: int, what: str) -> bytes:
        """The whole (remaining) body, at most ``limit`` bytes once decoded, within
        twice the timeout.

        A gzip or deflate body is decoded only if the request asked for that coding,
        and piecewise, so a compression bomb costs at most ``limit`` bytes of memory;
        any other body is returned as sent.
        """
        raw = self.iter_bytes(limit=limit, what=what)
        coding = self.headers.get("content-encoding", "").strip().lower()
        pieces = _decoded(self.url, raw, coding) if coding in self._accepted else raw
        parts: list[bytes] = []  # joined once: a growing buffer copies as it grows
        size = 0
        for piece in pieces:
            parts.append(piece)
            size += len(piece)
            if size > limit:
                self._refused = True
                raise BodyTooLargeError(self.url, limit, what)
            if self._timeout is not None:
                elapsed = time.monotonic() - self._started
                if elapsed > 2 * self._timeout:
                    self._refused = True
                    raise TooSlowError(
                        self.url,
                        f"no complete response within {2 * self._timeout:g} s",
                    )
        return b"".join(parts)

    def _check_pace(self, received: int) -> None:
        if self._timeout is None:
            return
        elapsed = time.monotonic() - self._started
        if elapsed > self._timeout and received < (elapsed - self._timeout) * MIN_RATE:
            self._refused = True
            raise TooSlowError(
                self.url,
                f"the server is sending too slowly ({received} bytes in "
                f"{elapsed:.0f} s)",
            )

    def close(self) -> None:
        """Release the connection back to the pool (or close the file); a body
        refused as too long or too slow is not drained: its connection is closed."""
        self._close(self._refused)

    def raise_for_status(self) -> None:
        """Turn an error status, or a redirect that was not followed, into NetworkError.

        Redirects are followed by the transport up to its limit, so a 3xx here is
        either a loop (or a chain too long) or an answer nobody asked for (a 304
        without a validator): never a page.
        """
        if self.status in _EXPLAINED:
            raise NetworkError(self.url, _EXPLAINED[self.status], status=self.status)
        if self.status >= 400:
            raise NetworkError(self.url, f"HTTP {self.status}", status=self.status)
        if 300 <= self.status < 400:
            reason = (
                "too many redirects"
                if "location" in self.headers and self.status != 304
                else f"unexpected HTTP {self.status}"
            )
            raise NetworkError(self.url, reason, status=self.status)


class Buffered(Response):
    """A response whose body has already been read into memory."""

    def __init__(self, response: Response, body: bytes) -> None:
        self.url = response.url
        self.status = response.status
        self.headers = response.headers
        self.body = body

    def iter_bytes(
        self, *, limit: int | None = None, what: str = "a download"
    ) -> Iterator[bytes]:
        yield self.body

    def read(self, limit: int, what: str) -> bytes:
        return self.body

    def close(self) -> None:
        return None


def body_chunks(raw: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """The body as it arrives: up to ``CHUNK`` bytes a read, never waiting to fill one.

    ``read1`` hands over whatever one socket read brought, so a dropped connection
    loses nothing already received (hydrate resumes from it) and a cancel is seen
    promptly, while big reads keep large downloads near the link's speed.

    Each read asks for twice what the last one brought, from 64 KiB up to ``CHUNK``:
    Python's ``read1`` allocates the whole size it is asked for before reading, then
    shrinks it, and over TLS a read brings one 16 KiB record. Asking for 1 MiB each
    time cost an ``mmap`` and ``munmap`` per record once big buffers stay out of the
    heap (:mod:`lockgen.app.memory`): 34 ms of system time per 6.9 MB page, against
    6 ms. A connection that brings more per read (a plain-HTTP mirror, loopback)
    reaches 1 MiB reads after a few.
    """
    size = _FIRST_READ
    while chunk := raw.read1(size, decode_content=False):
        yield chunk
        size = min(CHUNK, max(_FIRST_READ, 2 * len(chunk)))


def _accepted_codings(headers: Mapping[str, str]) -> frozenset[str]:
    """The content codings a request's ``Accept-Encoding`` asked for (of those
    lockgen can undo)."""
    value = next((v for k, v in headers.items() if k.lower() == "accept-encoding"), "")
    names = (part.split(";")[0].strip().lower() for part in value.split(","))
    return frozenset(name for name in names if name in _CODINGS)


def _decoded(url: str, chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """``chunks`` decompressed at most ``CHUNK`` bytes at a time, so the caller can
    stop a bomb at its limit before it is inflated further."""
    inflater = zlib.decompressobj(_CODINGS[coding])
    try:
        for chunk in chunks:
            data = chunk
            while data:
                yield inflater.decompress(data, CHUNK)
                data = inflater.unconsumed_tail
        while not inflater.eof and (rest := inflater.decompress(b"", CHUNK)):
            yield rest
    except zlib.error as exc:
        raise NetworkError(url, f"corrupt {coding} body: {exc}") from None


def release(raw: urllib3.BaseHTTPResponse, *, refused: bool = False) -> None:
    """Give the connection back to the pool, never with unread body bytes on it.

    A caller may stop reading early (an error body, a range answer it rejects). The
    pool only notices leftover bytes that have already arrived; the rest would be
    read as the next request's response, which fails and is sent again. So a short
    rest is drained, and a connection with a long or unknown rest, or whose body was
    ``refused`` (too long, or too slow to be worth waiting for), is closed.
    """
    if not raw.closed:
        remaining = raw.length_remaining
        if not refused and remaining is not None and remaining <= _DRAIN_MAX:
            raw.drain_conn()
        else:
            raw.close()
    raw.release_conn()
