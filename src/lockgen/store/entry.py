"""One page, metadata or hashes entry on disk: its framing, bounded reading and writing.

An entry is one file: a magic line, one JSON header line (the fields, plus the
payload's ``length`` and ``sha256``), then the payload. It is written through
:func:`lockgen.store.files.write_atomic`, so a reader sees either no entry or one
complete entry. An entry that does not check out (bad magic, bad JSON, wrong length,
wrong hash, a header naming another key) is deleted and reported as absent: the cache
is never trusted, only used. An entry longer than the response it stands for could be
(:mod:`lockgen.core.limits`) is deleted before its payload is read.

Header fields only ever get added, never change meaning, and every field added after
the first release is optional: an older lockgen ignores what it does not know, and a
newer one reads a missing field as "not known" (so a metadata entry written before
``artifact_size`` existed is one whose artifact's size was not learnt). A change that
old readers would misread gets a new magic line and directory name instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from contextlib import suppress
from typing import IO, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = [
    "BadEntryError",
    "digest",
    "get_optional_str",
    "get_str",
    "load",
    "load_keyed_json",
    "store",
]

_T = TypeVar("_T")

_MAGIC = b"lockgen-cache v1\n"
#: An entry's header line (URLs, validators) is never longer than this; :func:`store`
#: writes no entry whose header would be.
_HEADER_LIMIT = 64 * 1024

_Stamp = tuple[int, int, int, int]


class BadEntryError(Exception):
    """An entry that failed a check; it is discarded, never shown to callers."""


def digest(data: bytes) -> str:
    """The sha256 of bytes in memory (a payload, a URL), as hex."""
    return hashlib.sha256(data).hexdigest()


def store(
    tmp: Path,
    path: Path,
    header: dict[str, object],
    payload: bytes | tuple[bytes, ...],
    sha256: str | None = None,
) -> None:
    """Write one entry atomically; disk errors are swallowed (best effort).
    ``payload`` may come in parts, written one after the other (a big compact page
    is not copied into one buffer first); ``sha256`` is the payload's, when the
    caller has hashed it already."""
    from lockgen.store.files import write_atomic  # on use: an up-to-date run reads

    parts = payload if isinstance(payload, tuple) else (payload,)
    if sha256 is None:
        hasher = hashlib.sha256()
        for part in parts:
            hasher.update(part)
        sha256 = hasher.hexdigest()
    head = {**header, "length": sum(map(len, parts)), "sha256": sha256}
    line = json.dumps(head, sort_keys=True).encode() + b"\n"
    if len(line) > _HEADER_LIMIT:
        return
    with suppress(OSError):
        write_atomic(tmp, path, (_MAGIC, line, *parts))


def load(
    path: Path, build: Callable[[dict[str, object], bytes], _T], limit: int
) -> _T | None:
    """Read, check and build one entry whose payload may be at most ``limit`` bytes
    (what the network layer would have accepted); a bad entry is deleted and gives
    ``None``. A file of the wrong length is refused before its payload is read, and
    anything but a regular file (a FIFO would block, a device never end) unread."""
    try:
        # not blocking: a FIFO planted in the cache must not hang the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            stamp = _stamp(info)
            try:
                if not stat.S_ISREG(info.st_mode):  # a FIFO or a device: never read
                    raise BadEntryError("not a regular file")
                header, payload = _read_entry(fh, stamp[2], limit)
                return build(header, payload)
            except BadEntryError:
                pass
    except OSError:
        return None
    _discard(path, stamp)
    return None


def load_keyed_json(
    path: Path, key: str, build: Callable[[object], _T], limit: int
) -> _T | None:
    """:func:`load` for an entry whose header names its ``key`` and whose payload is
    JSON: ``build`` gets the decoded payload (and raises BadEntryError on a bad
    shape); an entry for another key, or not JSON, is bad like any other."""

    def keyed(header: dict[str, object], payload: bytes) -> _T:
        if get_str(header, "key") != key:
            raise BadEntryError("entry is for another key")
        try:
            fields = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise BadEntryError("payload is not JSON") from exc
        return build(fields)

    return load(path, keyed, limit)


def _read_entry(
    fh: IO[bytes], size: int, limit: int
) -> tuple[dict[str, object], bytes]:
    """The header and payload of an open entry of ``size`` bytes; the payload is read
    only once its declared length fits the limit and the file."""
    if fh.read(len(_MAGIC)) != _MAGIC:
        raise BadEntryError("no magic line")
    line = fh.readline(_HEADER_LIMIT + 1)
    if not line.endswith(b"\n"):
        raise BadEntryError("no header line, or an overlong one")
    try:
        header = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise BadEntryError("header is not JSON") from exc
    if not isinstance(header, dict):
        raise BadEntryError("header is not an object")
    length = header.get("length")
    if type(length) is not int or not 0 <= length <= limit:
        raise BadEntryError("payload length missing or over the limit")
    if len(_MAGIC) + len(line) + length != size:
        raise BadEntryError("truncated or overlong payload")
    payload = fh.read(length)
    if len(payload) != length or header.get("sha256") != digest(payload):
        raise BadEntryError("payload changed or hash mismatch")
    return header, payload


def get_str(header: dict[str, object], name: str) -> str:
    """The header field ``name``, which must be a string."""
    value = header.get(name)
    if not isinstance(value, str):
        raise BadEntryError(f"{name} is not a string")
    return value


def get_optional_str(header: dict[str, object], name: str) -> str | None:
    """The header field ``name``, which must be a string or null (or absent)."""
    value = header.get(name)
    if value is not None and not isinstance(value, str):
        raise BadEntryError(f"{name} is neither a string nor null")
    return value


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _discard(path: Path, stamp: _Stamp) -> None:
    """Delete the bad file at ``path`` unless a writer has replaced it meanwhile."""
    with suppress(OSError):
        if _stamp(path.stat()) == stamp:
            path.unlink()
