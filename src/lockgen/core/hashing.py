"""sha256 the one way: while bytes are copied, of a file on disk, and checked against
what a listing or a lock promised. Every download, cache read and local file goes
through here, so chunk size, size counting and the mismatch message cannot drift."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from lockgen.core.errors import HashMismatchError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

__all__ = ["CHUNK", "Hasher", "check_digest", "copy_hashing", "hash_file", "is_sha256"]

#: How much is read at a time from a file being hashed.
CHUNK = 1 << 20
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a sha256 as lockgen writes them: 64 lowercase hex digits."""
    return _SHA256_HEX.fullmatch(value) is not None


class Hasher:
    """The sha256 and size of everything passed to :meth:`update`."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def copy_hashing(
    chunks: Iterable[bytes], write: Callable[[bytes], object]
) -> tuple[str, int]:
    """Write every chunk and return the sha256 and size of what was written."""
    hasher = Hasher()
    for chunk in chunks:
        write(chunk)
        hasher.update(chunk)
    return hasher.sha256, hasher.size


def hash_file(path: Path) -> tuple[str, int]:
    """sha256 and size of a file on disk, read in :data:`CHUNK` pieces."""
    hasher = Hasher()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
    return hasher.sha256, hasher.size


def check_digest(
    filename: str,
    *,
    expected_sha256: str | None,
    expected_size: int | None,
    sha256: str,
    size: int,
) -> None:
    """Raise HashMismatchError unless the bytes seen match what was promised.

    Size first: it is the cheaper, clearer message for a truncated body. ``None``
    means the promise did not include that part.
    """
    if expected_size is not None and size != expected_size:
        raise HashMismatchError(
            filename, expected=f"{expected_size} bytes", actual=f"{size} bytes"
        )
    if expected_sha256 is not None and sha256 != expected_sha256:
        raise HashMismatchError(filename, expected=expected_sha256, actual=sha256)
