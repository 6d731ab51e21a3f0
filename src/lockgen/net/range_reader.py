"""Random access to a remote file through HTTP byte ranges, validated at every step.

The first request is a suffix range (``bytes=-N``) that returns the file's length and,
for a wheel, usually its whole central directory and METADATA entry, so metadata costs
one GET. Later reads that fall outside what was fetched cost one ranged GET each (one
reaching back from the tail brings more before it, see :data:`READ_BEHIND`). Every
206 is checked against what was asked (servers that misread ``-N`` as ``0-N`` exist);
anything else raises :class:`RangeUnsupportedError`, which callers answer with a whole
download. A 200 to the first request is the whole file and is handed back as such, so
it is never requested twice.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from lockgen.core.errors import BodyTooLargeError, RangeUnsupportedError

if TYPE_CHECKING:
    from lockgen.net.transport import HttpClient, Response

__all__ = ["TAIL_SIZE", "RangeFile", "RangeSupport", "open_tail", "parse_content_range"]

#: Bytes asked for by the first request: enough for the central directory and METADATA
#: of nearly every wheel (dist-info is written last), small enough to be cheap.
TAIL_SIZE = 32 * 1024
#: Bytes fetched before a read that reaches back from what was fetched (see
#: :meth:`RangeFile.read_at`): the METADATA of the wheels of a 105-package lock here
#: whose central directories (42 to 125 KiB) outgrew the tail lay 20 to 70 KiB
#: before them.
READ_BEHIND = 128 * 1024
_IDENTITY = {"Accept-Encoding": "identity"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)$")
#: Statuses that mean "this server will not do ranges", as opposed to a broken request.
REFUSED = frozenset({405, 416, 501})


def parse_content_range(value: str | None) -> tuple[int, int, int] | None:
    """``bytes a-b/N`` as ``(a, b, N)``; ``None`` if absent or not of that form."""
    if value is None:
        return None
    match = _CONTENT_RANGE.match(value.strip())
    if match is None:
        return None
    start, end, total = (int(g) for g in match.groups())
    return (start, end, total) if start <= end < total else None


class RangeSupport:
    """Per-host memory of servers that failed a range request (thread-safe)."""

    def __init__(self) -> None:
        self._without: set[str] = set()
        self._lock = threading.Lock()

    def works(self, host: str) -> bool:
        """Whether range requests are still worth trying on ``host``."""
        with self._lock:
            return host not in self._without

    def mark_unsupported(self, host: str) -> None:
        """Remember that ``host`` does not do ranges: its next files go straight to GET."""
        with self._lock:
            self._without.add(host)


class RangeFile:
    """A remote file of known size, read at offsets; fetched parts are kept in memory."""

    def __init__(
        self, client: HttpClient, url: str, size: int, start: int, tail: bytes
    ):
        self._client = client
        self._url = url
        self.size = size
        self._parts: list[tuple[int, bytes]] = [(start, tail)]

    def read_at(self, start: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``start`` (one ranged GET unless already fetched).

        A read that ends inside a fetched part, reaching back before it, fetches
        only what lies before that part, and up to :data:`READ_BEHIND` bytes more
        before it. Such a read is a wheel's central directory that outgrew the tail,
        and the next read is its METADATA, written just before the directory: it
        then costs no third request.
        """
        end = start + length
        if start < 0 or length < 0 or end > self.size:
            raise RangeUnsupportedError(f"read outside the file: {start}+{length}")
        if length == 0:
            return b""  # no byte to ask for (``bytes=a-(a-1)`` is no range)
        for part_start, data in self._parts:
            if part_start <= start and end <= part_start + len(data):
                return data[start - part_start : end - part_start]
        for i, (part_start, data) in enumerate(self._parts):
            if start < part_start <= end <= part_start + len(data):
                first = max(0, start - READ_BEHIND)
                joined = self._fetch(first, part_start - 1) + data
                self._parts[i] = (first, joined)
                return joined[start - first : end - first]
        data = self._fetch(start, end - 1)
        self._parts.append((start, data))
        return data

    def _fetch(self, first: int, last: int) -> bytes:
        headers = {"Range": f"bytes={first}-{last}", **_IDENTITY}
        with self._client.stream(self._url, headers) as response:
            _check_partial(response, first, last, self.size)
            data = _body(response, last + 1 - first)
        if len(data) != last + 1 - first:
            raise RangeUnsupportedError(f"short range body from {self._url}")
        return data


def open_tail(client: HttpClient, url: str, response: Response) -> RangeFile:
    """Validate the answer to a ``bytes=-TAIL_SIZE`` request and wrap it as a RangeFile.

    ``response`` must be a 206; raises RangeUnsupportedError when its range is not the
    tail that was asked for (or its body is not that long).
    """
    parsed = parse_content_range(response.headers.get("content-range"))
    if parsed is None:
        raise RangeUnsupportedError("206 without a valid Content-Range")
    start, end, total = parsed
    if end != total - 1 or start != max(0, total - TAIL_SIZE):
        raise RangeUnsupportedError(
            f"asked for the last {TAIL_SIZE} bytes, got {start}-{end}"
        )
    data = _body(response, end + 1 - start)
    if len(data) != end + 1 - start:
        raise RangeUnsupportedError("range body length differs from Content-Range")
    return RangeFile(client, url, total, start, data)


def tail_headers() -> dict[str, str]:
    """Headers of the first request: the suffix range, and no content coding."""
    return {"Range": f"bytes=-{TAIL_SIZE}", **_IDENTITY}


def _body(response: Response, length: int) -> bytes:
    """The body of a 206 of ``length`` bytes; a longer one is not the range asked
    for (a server that cannot count ranges is answered with a whole download)."""
    try:
        return response.read(length, "the range asked for")
    except BodyTooLargeError:
        raise RangeUnsupportedError(
            f"sent more than the {length} bytes of the range asked for"
        ) from None


def _check_partial(response: Response, first: int, last: int, size: int) -> None:
    if response.status != 206:
        raise RangeUnsupportedError(f"HTTP {response.status} to a range request")
    parsed = parse_content_range(response.headers.get("content-range"))
    if parsed != (first, last, size):
        raise RangeUnsupportedError(
            f"asked for bytes {first}-{last}/{size}, got "
            f"{response.headers.get('content-range')!r}"
        )
