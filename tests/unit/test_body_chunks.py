"""How a body is read off the socket (:func:`lockgen.net.http_response.body_chunks`):
the size asked of each ``read1`` follows what the connection brings, because Python
allocates the whole size asked for before it reads."""

from __future__ import annotations

from typing import Any, cast

from lockgen.net.http_response import CHUNK, body_chunks

KiB = 1024


class _Wire:
    """A response body arriving at most ``per_read`` bytes a read (a TLS record is
    16 KiB; loopback brings whatever was asked), recording each size asked for."""

    def __init__(self, body: bytes, per_read: int) -> None:
        self._body = body
        self._per_read = per_read
        self.asked: list[int] = []

    def read1(self, amt: int, decode_content: bool = True) -> bytes:
        assert decode_content is False
        self.asked.append(amt)
        chunk = self._body[: min(amt, self._per_read)]
        self._body = self._body[len(chunk) :]
        return chunk


def _read(body: bytes, per_read: int) -> tuple[bytes, list[int]]:
    wire = _Wire(body, per_read)
    received = b"".join(body_chunks(cast("Any", wire)))
    return received, wire.asked


def test_tls_records_are_read_without_asking_for_a_mebibyte_each() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    received, asked = _read(body, per_read=16 * KiB)
    assert received == body
    assert set(asked) == {64 * KiB}


def test_a_fast_connection_grows_to_big_reads() -> None:
    body = b"x" * (8 * CHUNK)
    received, asked = _read(body, per_read=len(body))
    assert received == body
    assert asked[:5] == [64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, CHUNK]
    assert max(asked) == CHUNK
    assert len(asked) < 16  # not 128 reads of 64 KiB


def test_an_empty_body_is_one_read() -> None:
    assert _read(b"", per_read=16 * KiB) == (b"", [64 * KiB])
