"""HTTP(S) and file:// requests: the only module that talks to urllib3.

One ``urllib3.PoolManager`` serves every request of a run, so connections are reused
across index pages, metadata files and range reads, and a bounded number of threads can
share it. ``file://`` URLs are answered from disk with the same response shape (status,
headers, body chunks, byte ranges as seeks), so a static folder laid out as a simple
index goes through exactly the code an HTTP index does.

Credentials never travel inside URLs past this point: a
:class:`~lockgen.net.credentials.Credentials` decides each request's ``Authorization``
(and the one retry a 401 may earn), and every URL this module reports is
credential-free. A :class:`~lockgen.net.access.Network` says which proxy each URL goes
through (one ``urllib3.ProxyManager`` per proxy, its credentials sent as
``Proxy-Authorization`` and never put in a URL urllib3 could print) and which CA
bundle and client certificate the one TLS context uses.
"""

from __future__ import annotations

import platform
import ssl
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError

from lockgen import __version__
from lockgen.core.errors import (
    BodyTooLargeError,
    InsecureRedirectError,
    LockgenError,
    NetworkError,
    TooSlowError,
)
from lockgen.core.urls import is_local, strip_credentials
from lockgen.net.access import Network, Origin, proxy_for, split_proxy
from lockgen.net.credentials import Credentials

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import TracebackType

    from urllib3.connectionpool import ConnectionPool

__all__ = ["USER_AGENT", "HttpClient", "Response", "TransferStats", "is_local"]

USER_AGENT = f"lockgen/{__version__} CPython/{platform.python_version()}"
#: Read size for bodies: large reads keep big downloads near the link's speed
#: (measured: 64 KiB reads cost about 40% on a 50 MB file over loopback).
_CHUNK = 1024 * 1024
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: OpenSSL's verify codes meaning "signed by a CA you do not trust" (self-signed
#: certificate or chain, unknown issuer): the cases a company CA bundle fixes.
_UNKNOWN_ISSUER = frozenset({2, 18, 19, 20, 21})
#: OpenSSL's reasons when the server refused a handshake without a client certificate.
_NO_CLIENT_CERT = frozenset(
    {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE"}
)
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
#: The longest wait a ``Retry-After`` header can impose (or the timeout, if shorter):
#: a server asking for more is retried after this long (and, if still refusing,
#: reported) instead of stalling a run.
RETRY_AFTER_MAX = 10.0
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
        body = bytearray()
        for piece in pieces:
            body += piece
            if len(body) > limit:
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
        return bytes(body)

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


class HttpClient:
    """Sends GET requests over shared pools, with retries, timeouts, proxies and auth."""

    def __init__(
        self,
        *,
        maxsize: int = 10,
        retries: int = 3,
        backoff: float = 0.25,
        timeout: float = 30.0,
        on_request: Callable[[str, int, str | None], None] | None = None,
        network: Network | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        retry = _Retry(
            total=retries,
            redirect=5,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            backoff_factor=backoff,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        retry.after_max = min(RETRY_AFTER_MAX, timeout)
        self._network = network or Network()
        self._pool_options: dict[str, Any] = {
            "num_pools": 20,
            "maxsize": maxsize,
            "block": False,
            "retries": retry,
            "timeout": urllib3.Timeout(connect=min(timeout, 15.0), read=timeout),
            "ssl_context": _ssl_context(self._network),
        }
        self._pool = urllib3.PoolManager(**self._pool_options)
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._proxied_lock = threading.Lock()
        self._credentials = credentials or Credentials(self._network)
        self.stats = TransferStats()
        self._on_request = on_request
        self._timeout = timeout

    @contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> Iterator[Response]:
        """GET ``url``; the body is read by the caller, inside the ``with`` block."""
        response = self._open(url, dict(headers or {}))
        try:
            yield response
        finally:
            response.close()

    def get(
        self, url: str, headers: Mapping[str, str] | None, *, limit: int, what: str
    ) -> Response:
        """GET ``url`` and read the whole body, at most ``limit`` bytes (for pages
        and small files); see :meth:`Response.read`."""
        with self.stream(url, headers) as response:
            body = b"" if 300 <= response.status < 400 else response.read(limit, what)
        return _Buffered(response, body)

    def _open(self, url: str, headers: dict[str, str]) -> Response:
        if is_local(url):
            response = _file_response(url, headers, self.stats)
            self.stats.add(requests=1)
        else:
            response = self._http_response(url, headers)
        if self._on_request is not None:
            self._on_request(url, response.status, headers.get("Range"))
        return response

    def _http_response(self, url: str, headers: dict[str, str]) -> Response:
        headers = {"User-Agent": USER_AGENT, **headers}  # per-request headers replace
        sent = self._credentials.header(url)  # the client's own, never the caller's
        raw, final = self._send(url, headers, sent)
        if raw.status == 401:
            same = Origin.of(final) == Origin.of(url)
            retry = self._credentials.after_401(final, sent if same else None)
            if retry is not None:
                raw.drain_conn()
                raw.release_conn()
                raw, final = self._send(final, headers, retry)
        return Response(
            url=final,
            status=raw.status,
            headers=dict(raw.headers),
            chunks=_chunks(raw),
            close=lambda refused: _release(raw, refused=refused),
            stats=self.stats,
            accepted=headers,
            timeout=self._timeout,
        )

    def _send(
        self, url: str, headers: dict[str, str], auth: str | None
    ) -> tuple[urllib3.BaseHTTPResponse, str]:
        """One GET (redirects followed by urllib3); the response and its final URL."""
        if auth is not None:
            headers = {**headers, "Authorization": auth}
        pool = self._pool_for(url)
        try:
            raw = pool.request(
                "GET", url, headers=headers, preload_content=False, decode_content=False
            )
        except (Urllib3Error, OSError) as exc:
            self.stats.add(requests=1)
            reason = _reason(exc)
            if isinstance(pool, urllib3.ProxyManager) and pool.proxy is not None:
                reason = _proxy_reason(pool.proxy.url, exc) or reason
            raise NetworkError(url, f"request failed: {reason}") from exc
        history = raw.retries.history if raw.retries is not None else ()
        self.stats.add(requests=1 + len(history))
        final = url
        for step in history:
            if step.redirect_location:
                final = urljoin(final, step.redirect_location)
        return raw, strip_credentials(final)[0]  # a Location may carry userinfo

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the one pool of the proxy ``url`` must go through."""
        proxy = proxy_for(url, self._network.proxies)
        if proxy is None:
            return self._pool
        with self._proxied_lock:
            manager = self._proxied.get(proxy)
            if manager is None:
                clean, secret = split_proxy(proxy)
                auth = (
                    {} if secret is None else {"Proxy-Authorization": secret.header()}
                )
                try:
                    manager = urllib3.ProxyManager(
                        clean,
                        proxy_headers=auth,
                        proxy_ssl_context=self._pool_options["ssl_context"],
                        **self._pool_options,
                    )
                except (Urllib3Error, ValueError) as exc:  # unknown scheme, bad port
                    raise LockgenError(f"proxy {clean}: {exc}") from None
                self._proxied[proxy] = manager
        return manager


def _proxy_reason(proxy: str, exc: BaseException) -> str | None:
    """What went wrong with the proxy (named without its credentials), if it did."""
    error = getattr(exc, "reason", None) or exc
    if not isinstance(error, urllib3.exceptions.ProxyError):
        return None
    inner = error.original_error
    cause = inner.__cause__ if isinstance(inner, NewConnectionError) else None
    return f"proxy {proxy} failed: {cause or inner}"


def _ssl_context(network: Network) -> ssl.SSLContext:
    """One TLS context for every pool: the chosen CA bundle (else the system's trust
    store) and the client certificate, checked now so a bad file fails in one line."""
    context = urllib3.util.create_urllib3_context()
    bundle = network.ca_bundle
    try:
        if bundle is None:
            context.load_default_certs()
        elif Path(bundle).is_dir():
            context.load_verify_locations(capath=bundle)
        else:
            context.load_verify_locations(cafile=bundle)
    except (ssl.SSLError, OSError) as exc:
        raise LockgenError(f"CA bundle {bundle}: not usable ({_reason(exc)})") from None
    if network.client_cert is not None:
        try:
            context.load_cert_chain(network.client_cert)
        except (ssl.SSLError, OSError) as exc:
            raise LockgenError(
                f"client certificate {network.client_cert}: not a PEM file with "
                f"its private key ({_reason(exc)})"
            ) from None
    return context


class _Retry(urllib3.Retry):
    """urllib3's retries, except that a TLS failure or a silent server is final, and
    an https to http redirect is never followed.

    An untrusted or mismatched certificate, or a refused client certificate, is no
    better a moment later: the error comes at once instead of after the backoff. A
    server that sent nothing for the whole read timeout is reported after that one
    timeout, not after four of them. urllib3 asks this class before following each
    redirect, so a downgrade is refused here, before any request leaves over plain
    http. (``Authorization`` is not carried to another scheme, host or port:
    urllib3 drops the default :attr:`remove_headers_on_redirect` headers there.)
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: urllib3.BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        final = (urllib3.exceptions.SSLError, urllib3.exceptions.ReadTimeoutError)
        if isinstance(error, final) and _pool is not None:
            raise urllib3.exceptions.MaxRetryError(_pool, url or "", error) from error
        if response is not None and url is not None:
            _refuse_downgrade(url, response)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    #: The longest ``Retry-After`` wait honoured (set per client, kept by copies).
    after_max = RETRY_AFTER_MAX

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.after_max = self.after_max
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        """The server's ``Retry-After``, but never more than ``after_max``."""
        return min(super().parse_retry_after(retry_after), self.after_max)


def _refuse_downgrade(url: str, response: urllib3.BaseHTTPResponse) -> None:
    """Raise InsecureRedirectError if ``response`` redirects https ``url`` to http.

    The redirect's connection is closed, not drained: its body is the server's to
    make endless. Both URLs are named without credentials.
    """
    location = response.get_redirect_location()
    if not location or urlsplit(url).scheme.lower() != "https":
        return
    target = urljoin(url, location)
    if urlsplit(target).scheme.lower() != "http":
        return
    _release(response, refused=True)
    raise InsecureRedirectError(
        strip_credentials(url)[0],
        strip_credentials(target)[0],
        status=response.status,
    )


class _Buffered(Response):
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


def _chunks(raw: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """The body as it arrives: up to ``_CHUNK`` bytes a read, never waiting to fill one.

    ``read1`` hands over whatever one socket read brought, so a dropped connection
    loses nothing already received (hydrate resumes from it) and a cancel is seen
    promptly, while big reads keep large downloads near the link's speed.
    """
    while chunk := raw.read1(_CHUNK, decode_content=False):
        yield chunk


def _accepted_codings(headers: Mapping[str, str]) -> frozenset[str]:
    """The content codings a request's ``Accept-Encoding`` asked for (of those
    lockgen can undo)."""
    value = next((v for k, v in headers.items() if k.lower() == "accept-encoding"), "")
    names = (part.split(";")[0].strip().lower() for part in value.split(","))
    return frozenset(name for name in names if name in _CODINGS)


def _decoded(url: str, chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """``chunks`` decompressed at most ``_CHUNK`` bytes at a time, so the caller can
    stop a bomb at its limit before it is inflated further."""
    inflater = zlib.decompressobj(_CODINGS[coding])
    try:
        for chunk in chunks:
            data = chunk
            while data:
                yield inflater.decompress(data, _CHUNK)
                data = inflater.unconsumed_tail
        while not inflater.eof and (rest := inflater.decompress(b"", _CHUNK)):
            yield rest
    except zlib.error as exc:
        raise NetworkError(url, f"corrupt {coding} body: {exc}") from None


def _release(raw: urllib3.BaseHTTPResponse, *, refused: bool = False) -> None:
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


def _reason(exc: BaseException) -> str:
    """The innermost cause of a urllib3 error, which names what really went wrong.

    An untrusted server certificate says so, and how to trust the company CA; a
    server that wants a client certificate says so too.
    """
    reason = getattr(exc, "reason", None) or exc
    cause: BaseException | None = reason
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            message = str(cause.verify_message).rstrip(".")
            if cause.verify_code not in _UNKNOWN_ISSUER:
                return f"TLS certificate rejected ({message})"
            return (
                f"TLS certificate not trusted ({message}); give the CA bundle "
                "with --cert PATH or SSL_CERT_FILE"
            )
        if isinstance(cause, ssl.SSLError) and cause.reason in _NO_CLIENT_CERT:
            return (
                "the server requires a client certificate; give it with "
                "--client-cert PATH"
            )
        if isinstance(cause, ssl.SSLEOFError):  # how TLS 1.3 often shows the same
            return (
                f"TLS connection closed by the server ({cause.strerror}); if it "
                "requires a client certificate, give it with --client-cert PATH"
            )
        cause = next((a for a in cause.args if isinstance(a, BaseException)), None)
    return str(reason)


def _file_response(
    url: str, headers: Mapping[str, str], stats: TransferStats
) -> Response:
    """Answer a GET on a file:// URL as an HTTP server that honours Range would."""
    path = Path(url2pathname(urlsplit(url).path))  # url2pathname unquotes, once
    if url.endswith("/"):
        path = path / "index.html"
    if not path.is_file():
        return _static(url, 404, {}, b"", stats)
    size = path.stat().st_size
    content_type = (
        "text/html" if path.name == "index.html" else "application/octet-stream"
    )
    head = {"Content-Type": content_type, "Accept-Ranges": "bytes"}
    byte_range = _parse_range(headers.get("Range"), size)
    if byte_range is None:
        return _file_body(url, path, 0, size, 200, head, stats)
    if byte_range == (-1, -1):
        return _static(url, 416, {"Content-Range": f"bytes */{size}"}, b"", stats)
    start, end = byte_range
    head["Content-Range"] = f"bytes {start}-{end}/{size}"
    return _file_body(url, path, start, end + 1 - start, 206, head, stats)


def _file_body(
    url: str,
    path: Path,
    start: int,
    length: int,
    status: int,
    headers: dict[str, str],
    stats: TransferStats,
) -> Response:
    fh = path.open("rb")
    fh.seek(start)

    def chunks() -> Iterator[bytes]:
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    headers["Content-Length"] = str(length)
    return Response(
        url=url,
        status=status,
        headers=headers,
        chunks=chunks(),
        close=lambda _: fh.close(),
        stats=stats,
    )


def _static(
    url: str, status: int, headers: dict[str, str], body: bytes, stats: TransferStats
) -> Response:
    return Response(
        url=url,
        status=status,
        headers=headers,
        chunks=iter((body,)),
        close=lambda _: None,
        stats=stats,
    )


def _parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as inclusive offsets; ``(-1, -1)`` when unsatisfiable."""
    if not value or not value.startswith("bytes="):
        return None
    first, _, last = value[len("bytes=") :].partition("-")
    if not first:
        length = int(last)
        if length <= 0 or size == 0:
            return (-1, -1)
        return (max(0, size - length), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return (-1, -1)
    return (start, end)
