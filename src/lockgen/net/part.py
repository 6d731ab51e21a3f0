"""The ``NAME.part`` file an artifact is written to before it may take its final name.

Every byte that reaches ``.part`` (from the network, a local path or the cache) is
written through here: a :class:`PartSink` hashes and counts it in the same pass, so
verifying needs no second read, and stops at the next chunk once the run is cancelled.
``.part`` is opened without following a symbolic link, so a link planted at that
name can never make lockgen write elsewhere.
"""

from __future__ import annotations

import os
import shutil
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError
from lockgen.core.hashing import CHUNK, Hasher

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from lockgen.core.models import Artifact
    from lockgen.store.cache import Cache

__all__ = ["CancelledError", "PartSink", "copy_local", "link_from_cache"]

#: Opening NAME.part does not follow a symlink (where the platform can say so).
_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)


class CancelledError(LockgenError):
    """The run was interrupted; the ``.part`` file is kept for the next run."""


class PartSink:
    """Appends to the ``.part`` file while hashing and counting what it holds."""

    def __init__(
        self,
        part: Path,
        *,
        resume: bool,
        on_bytes: Callable[[int], None],
        cancelled: threading.Event,
    ) -> None:
        self.hashed = Hasher()
        if resume:
            with os.fdopen(os.open(part, os.O_RDONLY | _NOFOLLOW), "rb") as fh:
                while chunk := fh.read(CHUNK):
                    self.hashed.update(chunk)
        # never through a link planted at NAME.part: it would write elsewhere
        flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW
        flags |= os.O_APPEND if resume else os.O_TRUNC
        self._fh: IO[bytes] = os.fdopen(os.open(part, flags, 0o666), "wb")
        self._on_bytes = on_bytes
        self._cancelled = cancelled

    def take(self, chunks: Iterable[bytes]) -> int:
        """Write ``chunks``; returns how many bytes arrived."""
        arrived = 0
        try:
            for chunk in chunks:
                if self._cancelled.is_set():
                    raise CancelledError("interrupted")
                self._fh.write(chunk)
                self.hashed.update(chunk)
                arrived += len(chunk)
                self._on_bytes(len(chunk))
        finally:
            self._fh.close()
        return arrived


def copy_local(
    artifact: Artifact,
    part: Path,
    on_bytes: Callable[[int], None],
    cancelled: threading.Event,
) -> tuple[PartSink, int]:
    """Copy a lock's local ``path`` into ``part``; returns the sink and bytes copied."""
    assert artifact.path is not None
    if not artifact.path.is_file():
        raise LockgenError(f"{artifact.filename}: {artifact.path} does not exist")
    sink = PartSink(part, resume=False, on_bytes=on_bytes, cancelled=cancelled)
    with artifact.path.open("rb") as src:
        return sink, sink.take(iter(lambda: src.read(CHUNK), b""))


def link_from_cache(cache: Cache, artifact: Artifact, part: Path) -> bool:
    """Link (or copy) the cache's verified copy into ``part``; ``False`` if none."""
    source = cache.verified_artifact(artifact.sha256)
    if source is None:
        return False
    part.unlink(missing_ok=True)
    try:
        os.link(source, part)
    except OSError:
        try:
            shutil.copyfile(source, part)
        except OSError:
            return False
    return True
