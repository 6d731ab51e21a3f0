"""A real simple index on 127.0.0.1, so integration tests exercise HTTP(S) as servers misbehave."""

from __future__ import annotations

import base64
import contextlib
import email.utils
import functools
import hashlib
import json
import os
import re
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal, Self

from packaging.version import InvalidVersion, Version

from tests.support.wheels import (
    file_href,
    normalize,
    render_index_html,
    render_project_html,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from types import TracebackType

    from tests.support.wheels import Dist

__all__ = [
    "HTML",
    "JSON",
    "Hostile",
    "TEXT_HTML",
    "IndexServer",
    "RangeMode",
    "RequestRecord",
    "Validators",
    "negotiate",
]

#: ``whole-if-short``: a suffix range at least as long as the file gets a 200 with the
#: whole file (RFC 9110 allows it; some servers do it), anything else is honoured.
#: ``long``: a 206 names the range asked for but its body (and Content-Length) runs
#: 100 bytes past it.
RangeMode = Literal[
    "honour", "ignore", "refuse", "refuse-suffix", "wrong", "whole-if-short", "long"
]
#: Cache validators: ``sha`` (the default) gives pages an ETag of their body's sha256
#: and answers If-None-Match; ``nginx`` gives pages and files nginx's
#: ``"<hex mtime>-<hex size>"`` ETag plus Last-Modified and answers If-None-Match and
#: If-Modified-Since; ``none`` sends no validator and ignores conditional headers, as
#: the public index does.
Validators = Literal["sha", "nginx", "none"]
#: Attacks a server can answer one path with (``IndexServer.hostile``):
#: ``gzip-bomb``: the real body padded with NUL bytes to :data:`BOMB_SIZE`, gzipped, sent
#: with ``Content-Encoding: gzip`` whatever was asked; ``endless``: the real answer (a
#: 206 keeps its Content-Range) followed by NUL bytes until the client leaves, with no
#: Content-Length (also how a file grows past its listed size, or a 1 GiB ``.metadata``
#: looks); ``trickle``: the real answer one byte every :data:`TRICKLE_PAUSE` seconds;
#: ``silent``: headers never come; ``redirect-loop``: a 302 back to the same path;
#: ``not-modified``: a 304 to a request that sent no validator; ``retry-after``: a 503
#: asking the client to come back in an hour.
Hostile = Literal[
    "gzip-bomb",
    "endless",
    "trickle",
    "silent",
    "redirect-loop",
    "not-modified",
    "retry-after",
]
BOMB_SIZE = 256 * 1024 * 1024
TRICKLE_PAUSE = 0.05
_BODILESS: dict[str, tuple[int, dict[str, str]]] = {
    "redirect-loop": (302, {"Location": "{path}"}),
    "not-modified": (304, {}),
    "retry-after": (503, {"Retry-After": "3600"}),
}
#: An endless body stops here if the client never leaves (so a broken test ends).
_ENDLESS_MAX = 4 * 1024 * 1024 * 1024
#: The mtime an ``nginx`` server reports for every page and file (2025-01-02T03:04:05Z).
NGINX_MTIME = 1735787045

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
_CHUNK = 16 * 1024
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")
_STOP_TIMEOUT = 2.0


@dataclass(frozen=True)
class RequestRecord:
    """One answered request, so tests can assert on the wire cost of an operation."""

    method: str
    path: str
    range: str | None
    accept: str | None
    status: int
    bytes_sent: int
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Response:
    """What to send; ``name`` is the served file name the misbehaviour switches key on."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True)
class _Slice:
    status: int
    start: int = 0
    end: int = -1  # inclusive


# --- content negotiation -------------------------------------------------------------


def _parse_accept(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        media, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower().replace(".latest+", ".v1+")
        if media:
            ranges.append((media, quality))
    return ranges


def _specificity(media: str, offered: str) -> int:
    if media == offered:
        return 2
    if media.endswith("/*") and offered.startswith(media[:-1]):
        return 1
    return 0 if media == "*/*" else -1


def _quality(offered: str, ranges: list[tuple[str, float]]) -> float:
    """q of the most specific media range matching ``offered`` (RFC 9110 12.5.1)."""
    best, best_specificity = 0.0, -1
    for media, quality in ranges:
        specificity = _specificity(media, offered)
        if specificity > best_specificity:
            best, best_specificity = quality, specificity
    return best


def negotiate(accept: str | None, formats: Collection[str]) -> str | None:
    """Pick the Content-Type for a simple page, or None for 406.

    JSON wins ties, as PEP 691 clients list it first; a request without Accept is a
    legacy PEP 503 client and gets ``text/html``.
    """
    ranges = _parse_accept(accept if accept is not None else TEXT_HTML)
    html_ok = "html" in formats
    q_json = _quality(JSON, ranges) if "json" in formats else 0.0
    q_html = _quality(HTML, ranges) if html_ok else 0.0
    q_text = _quality(TEXT_HTML, ranges) if html_ok else 0.0
    if q_json > 0 and q_json >= max(q_html, q_text):
        return JSON
    if max(q_html, q_text) <= 0:
        return None
    return HTML if q_html >= q_text else TEXT_HTML


# --- byte ranges ---------------------------------------------------------------------


def _parse_range(header: str) -> tuple[int | None, int | None] | None:
    """One ``bytes=`` range, or None when the header is malformed (then it is ignored)."""
    match = _RANGE_RE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    start = int(match[1]) if match[1] else None
    end = int(match[2]) if match[2] else None
    if start is not None and end is not None and end < start:
        return None
    return start, end


def _suffix_slice(mode: RangeMode, length: int, size: int) -> _Slice:
    if mode == "refuse-suffix" or length == 0 or size == 0:
        return _Slice(416)
    if mode == "whole-if-short" and length >= size:
        return _Slice(200, 0, size - 1)
    length = min(length, size)
    if mode == "wrong":
        return _Slice(206, 0, length - 1)
    return _Slice(206, size - length, size - 1)


def _resolve_range(mode: RangeMode, header: str | None, size: int) -> _Slice:
    """Decide the status and byte span of a file GET under the server's range mode."""
    full = _Slice(200, 0, size - 1)
    if header is None:
        return full
    if mode == "refuse":
        return _Slice(501)
    spec = _parse_range(header)
    if mode == "ignore" or spec is None:
        return full
    start, end = spec
    if start is None:
        assert end is not None
        return _suffix_slice(mode, end, size)
    if start >= size:
        return _Slice(416)
    return _Slice(206, start, size - 1 if end is None else min(end, size - 1))


def _flip_middle_byte(data: bytes) -> bytes:
    if not data:
        return data
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


# --- listings ------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class _Listing:
    """The pages' flags, kept apart from the HTTP plumbing."""

    def __init__(self, *, pep658: bool, hashes: bool, sizes: bool) -> None:
        self.pep658 = pep658
        self.hashes = hashes
        self.sizes = sizes

    def core_metadata(self, dist: Dist) -> dict[str, str] | bool:
        if not (self.pep658 and dist.is_wheel):
            return False
        return {"sha256": dist.metadata_sha256} if self.hashes else True

    def json_file(self, dist: Dist) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": dist.filename,
            "url": file_href(dist),
            "hashes": {"sha256": dist.sha256} if self.hashes else {},
            "requires-python": dist.requires_python,
            "yanked": dist.yanked,
            "core-metadata": self.core_metadata(dist),
            "dist-info-metadata": self.core_metadata(dist),
        }
        if self.sizes:
            entry["size"] = dist.size
        if dist.upload_time is not None:
            entry["upload-time"] = dist.upload_time
        return entry

    def project_json(self, project: str, dists: list[Dist]) -> bytes:
        versions = sorted({d.version for d in dists}, key=_version_key)
        page = {
            "meta": {"api-version": "1.1"},
            "name": project,
            "versions": versions,
            "files": [self.json_file(d) for d in dists],
        }
        return json.dumps(page, indent=1).encode()

    def project_html(self, project: str, dists: list[Dist]) -> bytes:
        text = render_project_html(
            project, dists, pep658=self.pep658, hashes=self.hashes
        )
        return text.encode()


def _index_json(projects: Iterable[str]) -> bytes:
    page = {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": p} for p in sorted(projects)],
    }
    return json.dumps(page, indent=1).encode()


# --- the server ----------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    #: socketserver's default backlog is 5: a burst of parallel connections (a
    #: client fetching 16 pages at once) overflowed it and the kernel dropped SYNs,
    #: each retried a second later. Real servers listen with hundreds (nginx: 511).
    request_queue_size = 128

    def __init__(self, owner: IndexServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        """Skip ``socket.getfqdn``, which can stall for seconds on a bad resolver."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        """With TLS, wrap each connection; its handshake runs in the handler thread
        (on first read), so a client that fails it never stalls the accept loop."""
        connection, address = super().get_request()
        if self.owner.tls is not None:
            connection = self.owner.tls.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self.connections_lock:
            self.connections.discard(request)
            self.connections_lock.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep stderr quiet; keep unexpected handler crashes for tests to inspect."""
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError):
            self.owner.tls_errors.append(error)
        elif error is not None and not isinstance(
            error, ConnectionError | TimeoutError
        ):
            self.owner.errors.append(error)

    def close_connections(self) -> None:
        """End keep-alive connections so their handler threads exit with the server."""
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self.connections_lock.wait_for(
                lambda: not self.connections, timeout=_STOP_TIMEOUT
            )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, each costs 40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to ``IndexServer.requests``, not stderr."""

    def _serve(self) -> None:
        owner = self.server.owner
        if owner.delay:
            time.sleep(owner.delay)
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = owner._respond(self.command, self.path, headers)
        path = urllib.parse.urlsplit(self.path).path
        attack = owner.hostile.get(path)
        if attack is None:
            self._send(response, headers)
            return
        owner._log(
            RequestRecord(
                self.command,
                self.path,
                headers.get("range"),
                headers.get("accept"),
                response.status,
                0,
                headers,
            )
        )
        self._attack(attack, response)

    def _attack(self, attack: Hostile, response: _Response) -> None:
        """Answer as :data:`Hostile` says; the connection is closed afterwards."""
        self.close_connection = True
        if attack == "silent":
            self.server.owner.stopping.wait(60)
            return
        if attack in _BODILESS:
            status, extra = _BODILESS[attack]
            self.send_response(status)
            self.send_header("Connection", "close")
            for key, value in extra.items():
                self.send_header(key, value.replace("{path}", self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        self.send_header("Connection", "close")
        for key, value in response.headers.items():
            self.send_header(key, value)
        body = response.body
        if attack == "gzip-bomb":
            body = _gzip_bomb(body)
            self.send_header("Content-Encoding", "gzip")
        if attack != "endless":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            if attack == "trickle":
                self._trickle(body)
            else:
                self.wfile.write(body)
            if attack == "endless":
                self._endless()

    def _trickle(self, body: bytes) -> None:
        for offset in range(len(body)):
            self.wfile.write(body[offset : offset + 1])
            if self.server.owner.stopping.wait(TRICKLE_PAUSE):
                return

    def _endless(self) -> None:
        zeros = bytes(_CHUNK * 16)
        for _ in range(_ENDLESS_MAX // len(zeros)):
            if self.server.owner.stopping.is_set():
                return
            self.wfile.write(zeros)

    def _send(self, response: _Response, headers: dict[str, str]) -> None:
        owner = self.server.owner
        body = b"" if self.command == "HEAD" else response.body
        mode = owner._delivery(response.name)
        planned = len(body) // 2 if mode in ("truncate", "reset") else len(body)
        record = RequestRecord(
            method=self.command,
            path=self.path,
            range=headers.get("range"),
            accept=headers.get("accept"),
            status=response.status,
            bytes_sent=planned,
            headers=headers,
        )
        owner._log(record)
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.body and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        sent = self._write_body(body[:planned], owner.slow.get(response.name or ""))
        if sent != planned:
            owner._amend(record, sent)
        if mode == "reset":
            self._reset()
        elif mode == "truncate" or sent != planned:
            self.close_connection = True

    def _write_body(self, body: bytes, pause: float | None) -> int:
        """Send in chunks (pausing before each if slow); return the bytes that went out."""
        sent = 0
        try:
            for start in range(0, len(body), _CHUNK):
                if pause:
                    time.sleep(pause)
                chunk = body[start : start + _CHUNK]
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        return sent

    def _reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), not the FIN an ordinary close sends."""
        self.close_connection = True
        linger = struct.pack("ii", 1, 0)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            return
        os.close(self.connection.detach())


class IndexServer:
    """PEP 503/691 index plus ``/files/``, with switches for every server fault lockgen handles.

    ``validators`` picks the cache validators pages (and, for ``nginx``, files) carry;
    see :data:`Validators`. HTML pages never list sizes (PEP 700 sizes are JSON only).

    ``pages`` maps other paths to ``(content type, body)`` served as they are (a
    find-links page, say). ``redirects`` maps a request path to the ``Location`` of
    a 302 answered instead (an absolute URL, perhaps another server's; after the auth
    check). ``fail`` maps a request path to statuses answered (in
    order, once each) before serving normally; ``corrupt``, ``truncate``, ``reset`` and
    ``slow`` are keyed by the
    served file name (``x.whl`` or ``x.whl.metadata``). All are plain attributes a test
    may change while the server runs.

    ``tls`` (a server-side ``ssl.SSLContext``) serves HTTPS instead; failed
    handshakes are kept in ``tls_errors``.
    """

    def __init__(
        self,
        dists: Iterable[Dist] = (),
        *,
        pep658: bool = True,
        formats: Collection[str] = ("json", "html"),
        ranges: RangeMode = "honour",
        hashes: bool = True,
        sizes: bool = True,
        auth: tuple[str, str] | None = None,
        delay: float = 0.0,
        tls: ssl.SSLContext | None = None,
        validators: Validators = "sha",
    ) -> None:
        self.formats = frozenset(formats)
        self.validators: Validators = validators
        self.ranges: RangeMode = ranges
        self.auth = auth
        self.delay = delay
        self.listing = _Listing(pep658=pep658, hashes=hashes, sizes=sizes)
        self.fail: dict[str, list[int]] = {}
        self.corrupt: set[str] = set()
        self.truncate: set[str] = set()
        self.reset: set[str] = set()
        self.reset_once: set[str] = (
            set()
        )  # like reset/truncate, for the next response only
        self.truncate_once: set[str] = set()
        self.slow: dict[str, float] = {}
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.redirects: dict[str, str] = {}
        self.hostile: dict[str, Hostile] = {}
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.tls = tls
        self.tls_errors: list[ssl.SSLError] = []
        self._lock = threading.Lock()
        self._projects: dict[str, dict[str, Dist]] = {}
        self._files: dict[str, Dist] = {}
        self._requests: list[RequestRecord] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        for dist in dists:
            self.add(dist)

    # lifecycle

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._httpd is None:
            self._httpd = _HTTPServer(self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"IndexServer:{self._httpd.server_port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close open connections and release the port."""
        self.stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with TLS); only known once started."""
        if self._httpd is None:
            raise RuntimeError("IndexServer is not running; call start() first")
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self._httpd.server_port}"

    @property
    def index_url(self) -> str:
        return self.url + "/simple/"

    # content and log

    def add(self, dist: Dist) -> None:
        """Publish a file (replacing one of the same name); safe while running."""
        with self._lock:
            self._projects.setdefault(dist.project, {})[dist.filename] = dist
            self._files[dist.filename] = dist

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the log; a record is in it before its response body is sent."""
        with self._lock:
            return list(self._requests)

    def clear_log(self) -> None:
        with self._lock:
            self._requests.clear()

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _amend(self, record: RequestRecord, bytes_sent: int) -> None:
        """Correct a record whose body was cut short by the client going away."""
        with self._lock:
            for index, logged in enumerate(self._requests):
                if logged is record:
                    self._requests[index] = replace(record, bytes_sent=bytes_sent)

    def _delivery(self, name: str | None) -> str:
        with self._lock:
            for once, mode in (
                (self.reset_once, "reset"),
                (self.truncate_once, "truncate"),
            ):
                if name in once:
                    once.discard(name)
                    return mode
        if name in self.reset:
            return "reset"
        return "truncate" if name in self.truncate else "full"

    # routing (no sockets below this line, only values)

    def _respond(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> _Response:
        """Answer one request: auth, injected failures, then the route."""
        if self.auth is not None and not self._authorized(headers):
            return _Response(
                401,
                b"authentication required\n",
                {"WWW-Authenticate": 'Basic realm="lockgen-tests"'},
            )
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
        if path in self.redirects:
            return _Response(302, b"", {"Location": self.redirects[path]})
        injected = self._injected_failure(path)
        if injected is not None:
            return _Response(injected, f"injected {injected}\n".encode())
        if path == "/simple" or path.startswith("/simple/"):
            page = self._simple(path, headers.get("accept"))
            if self.validators == "sha":
                return _revalidated(page, headers)
            return self._validated(page, headers)
        if path.startswith("/files/"):
            response = self._file(method, path.removeprefix("/files/"), headers)
            return self._validated(response, headers)
        if path in self.pages:  # served like the index's own pages, validators too
            content_type, body = self.pages[path]
            page = _Response(200, body, {"Content-Type": content_type})
            if self.validators == "sha":
                return _revalidated(page, headers)
            return self._validated(page, headers)
        return _Response(404, b"not found\n")

    def _validated(self, response: _Response, headers: Mapping[str, str]) -> _Response:
        """nginx's validators on a 200 or 206 (its 304s), or none at all."""
        if self.validators != "nginx" or response.status not in (200, 206):
            return response
        size = len(response.body)
        if response.status == 206:
            size = int(response.headers["Content-Range"].rpartition("/")[2])
        validators = {
            "ETag": f'"{NGINX_MTIME:x}-{size:x}"',
            "Last-Modified": email.utils.formatdate(NGINX_MTIME, usegmt=True),
        }
        if _not_modified(headers, validators["ETag"]):
            kept = {k: v for k, v in response.headers.items() if k == "Vary"}
            return _Response(304, b"", {**kept, **validators}, name=response.name)
        response.headers.update(validators)
        return response

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        assert self.auth is not None
        token = base64.b64encode(":".join(self.auth).encode()).decode()
        return headers.get("authorization") == f"Basic {token}"

    def _injected_failure(self, path: str) -> int | None:
        with self._lock:
            statuses = self.fail.get(path)
            return statuses.pop(0) if statuses else None

    def _simple(self, path: str, accept: str | None) -> _Response:
        """Redirect to the one PEP 503 URL of a page, then negotiate its format."""
        name, _, rest = path.removeprefix("/simple").removeprefix("/").partition("/")
        if rest:
            return _Response(404, b"not found\n")
        canonical = f"/simple/{normalize(name)}/" if name else "/simple/"
        if path != canonical:
            return _Response(301, b"", {"Location": urllib.parse.quote(canonical)})
        content_type = negotiate(accept, self.formats)
        if content_type is None:
            return _Response(406, b"not acceptable\n")
        return self._simple_page(normalize(name), content_type)

    def _simple_page(self, project: str, content_type: str) -> _Response:
        with self._lock:
            projects = list(self._projects)
            dists = list(self._projects.get(project, {}).values())
        if not project:
            body = (
                _index_json(projects)
                if content_type == JSON
                else render_index_html(projects).encode()
            )
        elif not dists:
            return _Response(404, b"not found\n")
        elif content_type == JSON:
            body = self.listing.project_json(project, dists)
        else:
            body = self.listing.project_html(project, dists)
        return _Response(200, body, {"Content-Type": content_type, "Vary": "Accept"})

    def _file_bytes(self, name: str) -> bytes | None:
        with self._lock:
            dist = self._files.get(name)
            if dist is None and name.endswith(".metadata"):
                dist = self._files.get(name.removesuffix(".metadata"))
                if dist is not None and self.listing.core_metadata(dist) is not False:
                    return dist.metadata
                return None
        return None if dist is None else dist.data

    def _file(self, method: str, name: str, headers: Mapping[str, str]) -> _Response:
        data = self._file_bytes(name)
        if data is None:
            return _Response(404, b"not found\n")
        if name in self.corrupt:
            data = _flip_middle_byte(data)
        requested = headers.get("range")
        if method == "HEAD" and self.ranges != "refuse":
            requested = None
        span = _resolve_range(self.ranges, requested, len(data))
        response = _Response(span.status, name=name)
        if self.ranges != "refuse":
            response.headers["Accept-Ranges"] = "bytes"
        if span.status == 416:
            response.headers["Content-Range"] = f"bytes */{len(data)}"
        elif span.status == 501:
            response.body = b"range requests are not supported\n"
        else:
            response.body = data[span.start : span.end + 1]
            response.headers["Content-Type"] = "application/octet-stream"
        if span.status == 206:
            response.headers["Content-Range"] = (
                f"bytes {span.start}-{span.end}/{len(data)}"
            )
            if self.ranges == "long":
                response.body += b"\0" * 100
        return response


@functools.cache
def _gzip_bomb(body: bytes) -> bytes:
    """``body`` padded with NUL bytes to :data:`BOMB_SIZE`, gzipped (about 1000:1)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out = [packer.compress(body)]
    zeros = bytes(1024 * 1024)
    for _ in range((BOMB_SIZE - len(body)) // len(zeros)):
        out.append(packer.compress(zeros))
    out.append(packer.flush())
    return b"".join(out)


def _not_modified(headers: Mapping[str, str], etag: str) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return when.timestamp() >= NGINX_MTIME


def _revalidated(response: _Response, headers: Mapping[str, str]) -> _Response:
    """Give a 200 page an ETag (its body's sha256) and answer If-None-Match with 304."""
    if response.status != 200:
        return response
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    if headers.get("if-none-match") == etag:
        return _Response(304, b"", {"ETag": etag, "Vary": "Accept"})
    return _Response(response.status, response.body, {**response.headers, "ETag": etag})
