"""Where a download lives while ``lock`` reads it: the cache's disk while it has room.

A download that may be kept is streamed into a temp file in the cache, so keeping it
is a hard link, not a second copy. The cache is best effort (see :mod:`lockgen.store.cache`):
when its disk refuses a write (full, over quota, a file size limit), the bytes written
so far move to a spool (memory, then a file in TMPDIR, as without a cache) and the
download goes on there, so a full cache costs the keeping, never the lock. Writes to
the temp file are unbuffered, so when one fails the file holds exactly the bytes
written before it: nothing is lost or doubled in the move.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Self

from lockgen.core.errors import LockgenError
from lockgen.core.hashing import CHUNK

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import TracebackType

    from lockgen.store.cache import Cache

__all__ = ["Spill"]

#: Downloads larger than this go from memory to a file in TMPDIR (8 may run at once).
_SPOOL_MAX = 4 * 1024 * 1024


class Spill:
    """One download's bytes, in a cache temp file (:attr:`kept`) or else a spool.

    A context manager: leaving it closes both and removes the temp file (a download
    worth keeping is linked into the cache before then).
    """

    def __init__(self, filename: str, cache: Cache | None) -> None:
        self._filename = filename
        self._temp: tuple[IO[bytes], Path] | None = None
        self._spool: IO[bytes] | None = None
        if cache is not None:
            with suppress(OSError):  # no temp file (a read-only cache): the spool
                self._temp = cache.temp_file()

    @property
    def kept(self) -> Path | None:
        """The cache temp file, if it holds every byte written (none spilled)."""
        return None if self._temp is None else self._temp[1]

    def write(self, data: bytes) -> None:
        """Append ``data``; raises :class:`LockgenError` if not even the spool can."""
        rest = memoryview(data)
        if self._temp is not None:
            rest = self._to_temp(self._temp[0], rest)
        if rest:
            self._to_spool(rest)

    @contextmanager
    def reader(self) -> Iterator[IO[bytes]]:
        """Everything written, read from the start (the temp file is write-only)."""
        if self._temp is not None:
            with self._temp[1].open("rb") as fh:
                yield fh
            return
        spool = self._spool_file()
        spool.seek(0)
        yield spool

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._drop_temp()
        if self._spool is not None:
            self._spool.close()

    def _to_temp(self, fh: IO[bytes], view: memoryview) -> memoryview:
        """Write ``view`` to the temp file; returns what its disk refused (if it did,
        what it took moves to the spool, and so will the rest)."""
        try:
            while view:
                view = view[os.write(fh.fileno(), view) :]
        except OSError:
            self._spill()
        return view

    def _spill(self) -> None:
        """Move the temp file's bytes to the spool and drop the temp file."""
        assert self._temp is not None
        try:
            with self._temp[1].open("rb") as written:
                while chunk := written.read(CHUNK):
                    self._to_spool(chunk)
        finally:
            self._drop_temp()

    def _to_spool(self, data: bytes | memoryview) -> None:
        try:
            self._spool_file().write(data)
        except OSError as exc:  # memory was not enough and TMPDIR is full too
            where = tempfile.gettempdir()
            raise LockgenError(
                f"{self._filename}: no room to hold the download: "
                f"{exc.strerror or exc} ({where})"
            ) from None

    def _spool_file(self) -> IO[bytes]:
        if self._spool is None:
            self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - see __exit__
                max_size=_SPOOL_MAX
            )
        return self._spool

    def _drop_temp(self) -> None:
        if self._temp is None:
            return
        fh, path = self._temp
        self._temp = None
        fh.close()
        with suppress(OSError):
            path.unlink()
