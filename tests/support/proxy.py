"""A small HTTP proxy on 127.0.0.1: CONNECT tunnels for https, forwarding for http.

Enough of a real proxy for lockgen's tests: it reads one request head per client
connection, checks ``Proxy-Authorization`` when ``auth`` is set (407 otherwise), then
either answers a ``CONNECT host:port`` with 200 and pipes bytes both ways, or opens
the absolute-form URL's host and forwards the head (without the proxy's credentials)
and then everything else both ways. Every connection is recorded in ``seen``.
One upstream per client connection is all the tests need (urllib3 keeps one per
target host).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import socketserver
import threading
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlsplit

__all__ = ["Proxy", "Seen"]


@dataclass(frozen=True)
class Seen:
    """One client connection: its method, target, and Proxy-Authorization header."""

    method: str
    target: str
    authorization: str | None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: Proxy) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    rbufsize = 0  # unbuffered: no byte after the head is left behind in a buffer

    def handle(self) -> None:
        head = self._read_head()
        if not head:
            return
        method, target, _ = head[0].split(" ", 2)
        fields = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in head[1:])
        }
        owner = self.server.owner
        owner.record(Seen(method, target, fields.get("proxy-authorization")))
        if owner.auth is not None and fields.get("proxy-authorization") != owner.token:
            self.wfile.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n'
            )
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            first = b""
        else:
            parts = urlsplit(target)
            upstream = socket.create_connection((parts.hostname, parts.port or 80))
            kept = [line for line in head[1:] if not line.lower().startswith("proxy-")]
            first = "\r\n".join([head[0], *kept, "", ""]).encode("latin-1")
        with upstream:
            owner.track(self.connection, upstream)
            upstream.sendall(first)
            _pipe(self.connection, upstream)

    def _read_head(self) -> list[str]:
        lines = []
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            lines.append(line.decode("latin-1").rstrip("\r\n"))
        return lines


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy both ways until both sides are done."""

    def copy(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=copy, args=(upstream, client), daemon=True)
    other.start()
    copy(client, upstream)
    other.join()


class Proxy:
    """Start with ``with Proxy() as proxy:``; ``proxy.url`` goes in HTTPS_PROXY."""

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self.token = (
            None
            if auth is None
            else "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        )
        self._seen: list[Seen] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def track(self, *connections: socket.socket) -> None:
        with self._lock:
            self._open.extend(connections)

    @property
    def seen(self) -> list[Seen]:
        """The connections so far, in order."""
        with self._lock:
            return list(self._seen)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._server = _Server(self)
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
