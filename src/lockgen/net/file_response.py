"""``file://`` URLs answered from disk with the shape of an HTTP response (status,
headers, body chunks, byte ranges as seeks), so a static folder laid out as a simple
index goes through exactly the code an HTTP index does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgen.core.urls import local_path
from lockgen.net.http_response import CHUNK, Response

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from lockgen.net.http_response import TransferStats

__all__ = ["file_response"]


def file_response(
    url: str, headers: Mapping[str, str], stats: TransferStats
) -> Response:
    """Answer a GET on a file:// URL as an HTTP server that honours Range would."""
    path = local_path(url)
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
            chunk = fh.read(min(CHUNK, remaining))
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
