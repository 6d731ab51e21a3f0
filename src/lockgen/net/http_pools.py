"""Where requests go out: one urllib3 pool manager for direct requests and one per
proxy, sharing one TLS context (the chosen CA bundle and client certificate), and
the translation of what urllib3 and ssl raise into a reason a user can act on.

A :class:`~lockgen.net.access.Network` says which proxy each URL goes through; a
proxy's credentials are sent as ``Proxy-Authorization`` and never put in a URL
urllib3 could print.
"""

from __future__ import annotations

import ssl
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError

from lockgen.core.errors import LockgenError
from lockgen.net.access import Network, proxy_for, split_proxy
from lockgen.net.http_addresses import Addresses, connect

if TYPE_CHECKING:
    import socket

__all__ = ["Pools", "failure_reason", "start_tls"]

#: OpenSSL's verify codes meaning "signed by a CA you do not trust" (self-signed
#: certificate or chain, unknown issuer): the cases a company CA bundle fixes.
_UNKNOWN_ISSUER = frozenset({2, 18, 19, 20, 21})
#: OpenSSL's reasons when the server refused a handshake without a client certificate.
_NO_CLIENT_CERT = frozenset(
    {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE"}
)


class Pools:
    """The pool managers of one client: built once, shared by every thread."""

    def __init__(
        self,
        network: Network,
        *,
        maxsize: int,
        retry: urllib3.Retry,
        timeout: float,
        tls: Future[ssl.SSLContext] | None = None,
        addresses: Addresses | None = None,
    ) -> None:
        """``addresses``: where each host's addresses are looked up once (see
        :mod:`lockgen.net.http_addresses`); a new one by default."""
        self._network = network
        self._classes = _pool_classes(addresses or Addresses())
        self._options: dict[str, Any] = {
            "num_pools": 20,
            "maxsize": maxsize,
            "block": False,
            "retries": retry,
            "timeout": urllib3.Timeout(connect=min(timeout, 15.0), read=timeout),
            "ssl_context": _ssl_context(network) if tls is None else tls.result(),
        }
        self._direct = urllib3.PoolManager(**self._options)
        self._direct.pool_classes_by_scheme = self._classes
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the one pool of the proxy ``url`` must go through."""
        proxy = proxy_for(url, self._network.proxies)
        if proxy is None:
            return self._direct
        with self._lock:
            manager = self._proxied.get(proxy)
            if manager is None:
                manager = self._proxy_manager(proxy)
                self._proxied[proxy] = manager
        return manager

    def _proxy_manager(self, proxy: str) -> urllib3.ProxyManager:
        clean, secret = split_proxy(proxy)
        auth = {} if secret is None else {"Proxy-Authorization": secret.header()}
        try:
            manager = urllib3.ProxyManager(
                clean,
                proxy_headers=auth,
                proxy_ssl_context=self._options["ssl_context"],
                **self._options,
            )
        except (Urllib3Error, ValueError) as exc:  # unknown scheme, bad port
            raise LockgenError(f"proxy {clean}: {exc}") from None
        manager.pool_classes_by_scheme = self._classes
        return manager


def _pool_classes(addresses: Addresses) -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """urllib3's pools for each scheme, whose connections look their host up
    through ``addresses`` (once per host, see :mod:`lockgen.net.http_addresses`)."""

    class Connection(urllib3.connection.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self, addresses)

    class TLSConnection(urllib3.connection.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self, addresses)

    class Pool(urllib3.HTTPConnectionPool):
        ConnectionCls = Connection

    class TLSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = TLSConnection

    return {"http": Pool, "https": TLSPool}


def failure_reason(pool: urllib3.PoolManager, exc: BaseException) -> str:
    """Why a request through ``pool`` failed: the proxy's fault when it was one."""
    reason = _reason(exc)
    if isinstance(pool, urllib3.ProxyManager) and pool.proxy is not None:
        reason = _proxy_reason(pool.proxy.url, exc) or reason
    return reason


def _proxy_reason(proxy: str, exc: BaseException) -> str | None:
    """What went wrong with the proxy (named without its credentials), if it did."""
    error = getattr(exc, "reason", None) or exc
    if not isinstance(error, urllib3.exceptions.ProxyError):
        return None
    inner = error.original_error
    cause = inner.__cause__ if isinstance(inner, NewConnectionError) else None
    return f"proxy {proxy} failed: {cause or inner}"


def start_tls(network: Network) -> Future[ssl.SSLContext]:
    """Build the TLS context for ``network`` in the background.

    Reading the CA bundle takes 30-60 ms, and OpenSSL does it without the GIL: a run
    that will make https requests starts it before importing the resolver, so the two
    overlap. A bad bundle or client certificate is the future's error, raised where
    the pools are made (the first request), in the same words.
    """
    future: Future[ssl.SSLContext] = Future()

    def build() -> None:
        try:
            future.set_result(_ssl_context(network))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(exc)

    threading.Thread(target=build, name="tls", daemon=True).start()
    return future


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


def _reason(exc: BaseException) -> str:
    """The innermost cause of a urllib3 error, which names what really went wrong.

    An untrusted server certificate says so, and how to trust the company CA; a
    server that wants a client certificate says so too.
    """
    reason = getattr(exc, "reason", None)  # urllib3's wrapped error; ssl's is a str
    if not isinstance(reason, BaseException):
        reason = exc
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
