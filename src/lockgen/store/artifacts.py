"""Whole files kept by their sha256 (``ROOT/v1/artifacts/<sha256>``), for ``hydrate``
and for a warm ``lock`` that needs a file's METADATA again.

Artifacts carry no header: their name is their sha256, and callers hash them while
reading them (:meth:`ArtifactStore.verified_artifact` does so for them). Unlike the
entries, the artifact methods raise :class:`OSError` for real disk problems, because
their callers hold the only copy of the bytes and decide what to do then. A file goes
in through ``tmp`` and :func:`os.replace` (:mod:`lockgen.store.files`), so a concurrent
reader or writer of the same hash sees one complete file.
"""

from __future__ import annotations

import os
import stat
from typing import IO, TYPE_CHECKING

from lockgen.core.hashing import hash_file, is_sha256
from lockgen.store.files import (
    copy_into,
    ensure_dir,
    forget,
    link_into,
    new_temp,
    unlink_quietly,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ArtifactStore"]


class ArtifactStore:
    """The artifacts and temp files under ``base`` (``ROOT/v1``)."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._tmp = base / "tmp"

    def artifact_path(self, sha256: str) -> Path | None:
        """The stored file named ``sha256`` if it is there and not empty.

        Its content is not checked here: callers hash it while reading it and call
        :meth:`discard_artifact` if the hash differs.
        """
        if not is_sha256(sha256):
            return None
        path = self._artifact_file(sha256)
        try:
            info = path.stat()
        except OSError:
            return None
        return path if stat.S_ISREG(info.st_mode) and info.st_size > 0 else None

    def add_artifact(self, source: Path, sha256: str) -> None:
        """Store ``source`` (already verified to hash to ``sha256``).

        A hard link when ``source`` is on the cache's filesystem, else a copy; either
        way it goes through ``tmp`` and :func:`os.replace`, so a concurrent reader or
        writer of the same hash sees one complete file. Raises :class:`OSError`.
        """
        final = self._artifact_file(_checked_hex(sha256))
        try:
            self._link_or_copy(source, final)
        except FileNotFoundError:  # a directory was removed since this process saw it
            forget(self._tmp, final.parent)
            self._link_or_copy(source, final)

    def _link_or_copy(self, source: Path, final: Path) -> None:
        ensure_dir(final.parent)
        try:
            link_into(self._tmp, source, final)
        except FileNotFoundError:
            raise  # a directory is gone: made again by the caller's retry, then linked
        except OSError:  # another filesystem, or one without hard links
            copy_into(self._tmp, source, final)

    def verified_artifact(self, sha256: str) -> Path | None:
        """The stored file for ``sha256`` if its bytes still hash to it.

        One full read; a file that no longer matches is discarded, so a corrupt entry
        is refetched by the caller and never trusted.
        """
        path = self.artifact_path(sha256)
        if path is None:
            return None
        try:
            digest, _ = hash_file(path)
        except OSError:
            return None
        if digest == sha256:
            return path
        self.discard_artifact(sha256)
        return None

    def discard_artifact(self, sha256: str) -> None:
        """Forget a stored file a reader found corrupt (missing is fine)."""
        if is_sha256(sha256):
            unlink_quietly(self._artifact_file(sha256))

    def temp_file(self) -> tuple[IO[bytes], Path]:
        """A new binary file in ``tmp`` to stream a download into; raises OSError.

        It is on the artifacts' filesystem, so :meth:`add_artifact` links it rather
        than copying it. The caller closes it, and deletes it once done with it.
        """
        fd, path = new_temp(self._tmp)
        try:
            return os.fdopen(fd, "wb"), path
        except BaseException:
            os.close(fd)
            unlink_quietly(path)
            raise

    def _artifact_file(self, sha256: str) -> Path:
        return self._base / "artifacts" / sha256


def _checked_hex(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    return sha256
