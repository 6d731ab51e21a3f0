"""HTTP(S) and file:// requests: the client every other module sends GETs through.

One :class:`~lockgen.net.http_pools.Pools` serves every request of a run, so
connections are reused across index pages, metadata files and range reads, and a
bounded number of threads can share it. ``file://`` URLs are answered from disk with
the same response shape (:mod:`lockgen.net.file_response`). The pieces live beside
this module: the retry policy and its injectable backoff
(:mod:`lockgen.net.http_retry`), the response with its caps and deadlines
(:mod:`lockgen.net.http_response`), pools, proxies, TLS and error reasons
(:mod:`lockgen.net.http_pools`).

Credentials never travel inside URLs past this point: a
:class:`~lockgen.net.credentials.Credentials` decides each request's ``Authorization``
(and the one retry a 401 may earn), and every URL this module reports is
credential-free.
"""

from __future__ import annotations

import platform
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from urllib3.exceptions import HTTPError as Urllib3Error

from lockgen import __version__
from lockgen.core.errors import NetworkError
from lockgen.core.urls import is_local, strip_credentials
from lockgen.net.access import Network, Origin
from lockgen.net.credentials import Credentials
from lockgen.net.file_response import file_response
from lockgen.net.http_pools import Pools, failure_reason
from lockgen.net.http_response import (
    Buffered,
    Response,
    TransferStats,
    body_chunks,
    release,
)
from lockgen.net.http_retry import DEFAULT_BACKOFF, Backoff, pause, retry_policy

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterator, Mapping
    from concurrent.futures import Future

    import urllib3

__all__ = ["USER_AGENT", "HttpClient", "Response", "TransferStats"]

USER_AGENT = f"lockgen/{__version__} CPython/{platform.python_version()}"


class HttpClient:
    """Sends GET requests over shared pools, with retries, timeouts, proxies and auth.

    ``backoff`` is how retries wait (see :data:`lockgen.net.http_retry.Backoff`): a
    factor for urllib3's exponential backoff, or a callable handed each wait instead
    of sleeping (``lambda seconds: None`` turns waiting off). ``tls`` is the TLS
    context being built already (:func:`lockgen.net.http_pools.start_tls`); without
    it the pools build their own on the first http(s) request.
    """

    def __init__(
        self,
        *,
        maxsize: int = 10,
        retries: int = 3,
        backoff: Backoff = DEFAULT_BACKOFF,
        timeout: float = 30.0,
        network: Network | None = None,
        credentials: Credentials | None = None,
        tls: Future[ssl.SSLContext] | None = None,
    ) -> None:
        self._network = network or Network()
        self._tls = tls
        self._pool_options = (maxsize, retries)
        self._made_pools: Pools | None = None
        self._pools_lock = threading.Lock()
        self._credentials = credentials or Credentials(self._network)
        self.stats = TransferStats()
        self._timeout = timeout
        self._backoff = backoff

    def _pools(self) -> Pools:
        """The pools, made on the first http(s) request: building the TLS context
        reads the CA bundle (30-50 ms), which a run answered from the cache and
        local files (``--offline``, an up-to-date lock) never needs."""
        made = self._made_pools
        if made is not None:  # every request after the first: no lock to contend
            return made
        with self._pools_lock:
            if self._made_pools is None:
                maxsize, retries = self._pool_options
                retry = retry_policy(
                    retries=retries, backoff=self._backoff, timeout=self._timeout
                )
                self._made_pools = Pools(
                    self._network,
                    maxsize=maxsize,
                    retry=retry,
                    timeout=self._timeout,
                    tls=self._tls,
                )
            return self._made_pools

    def pause(self, attempt: int) -> None:
        """Wait before the caller's own retry ``attempt + 1``, as this client's
        retries wait (so an injected backoff covers those too)."""
        pause(self._backoff, attempt)

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
        return Buffered(response, body)

    def _open(self, url: str, headers: dict[str, str]) -> Response:
        if is_local(url):
            response = file_response(url, headers, self.stats)
            self.stats.add(requests=1)
        else:
            response = self._http_response(url, headers)
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
            chunks=body_chunks(raw),
            close=lambda refused: release(raw, refused=refused),
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
        pool = self._pools().for_url(url)
        try:
            raw = pool.request(
                "GET", url, headers=headers, preload_content=False, decode_content=False
            )
        except (Urllib3Error, OSError) as exc:
            self.stats.add(requests=1)
            reason = failure_reason(pool, exc)
            raise NetworkError(url, f"request failed: {reason}") from exc
        history = raw.retries.history if raw.retries is not None else ()
        self.stats.add(requests=1 + len(history))
        final = url
        for step in history:
            if step.redirect_location:
                final = urljoin(final, step.redirect_location)
        return raw, strip_credentials(final)[0]  # a Location may carry userinfo
