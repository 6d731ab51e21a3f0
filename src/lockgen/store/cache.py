"""The on-disk cache shared by ``lock`` and ``hydrate``, so no byte is fetched twice.

Layout (the ``v1`` directory is the format version; a new format gets a new name)::

    ROOT/v1/pages/ab/<sha256 of url>         index pages, with ETag / Last-Modified
    ROOT/v1/metadata/ab/<kind>-<hex>         METADATA (kind: file, pep658 or url)
    ROOT/v1/artifacts/ab/<sha256>            whole files, named by their own sha256
    ROOT/v1/hashes/ab/<sha256 of url>        sha256 and size of an unhashed file lockgen
                                             downloaded (http(s) URLs only)
    ROOT/v1/tmp/<random>.tmp                 files being written

``ab`` is the first two hex characters of the key's digest, so no directory grows
huge.

A metadata entry's key names what vouches for it: ``file-`` the sha256 of the whole
file it was read from, ``pep658-`` its own sha256 (checked on every read), ``url-``
only the server it was read from by range requests (with the sha256 that index
listed). So one index cannot make its metadata stand for another index's file by
claiming that file's sha256.

A page, metadata or hashes entry is one file: a magic line, one JSON header line (the
fields, plus the payload's ``length`` and ``sha256``), then the payload. It is written
to ``tmp`` and moved into place with :func:`os.replace`, so a reader in any thread or
process sees either no entry or one complete entry, never a mix of two writers. An
entry that does not check out (bad magic, bad JSON, wrong length, wrong hash, a header
naming another key) is deleted and reported as absent: the cache is never trusted,
only used. An entry longer than the response it stands for could be
(:mod:`lockgen.core.limits`) is deleted before its payload is read. Artifacts carry no
header: their name is their sha256 and callers hash them while reading them.

A ``hashes`` entry is how an index that lists no sha256 (a plain HTML folder, a
find-links page) still gets a warm lock without downloads, and an ``--offline`` one:
it records what a URL's bytes hashed to when lockgen downloaded them. It is kept only
for ``http(s)`` URLs without credentials: a ``file://`` file can change under the same
name, and a secret must not reach disk.

Header fields only ever get added, never change meaning, and every field added after
the first release is optional: an older lockgen ignores what it does not know, and a
newer one reads a missing field as "not known" (so a metadata entry written before
``artifact_size`` existed is one whose artifact's size was not learnt). A change that
old readers would misread gets a new magic line and directory name instead.

The cache is best effort. ``put_page``, ``put_metadata`` and ``put_url_hash`` swallow
:class:`OSError` (a read-only or full disk must not fail a lock); the ``get_*`` methods never raise
for a bad or unreadable entry. The artifact methods do raise :class:`OSError` for real
disk problems, because their callers hold the only copy of the bytes and decide what
to do then. Nothing is created on disk until the first write.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from lockgen.core.hashing import hash_file, is_sha256
from lockgen.core.limits import METADATA_LIMIT, PAGE_LIMIT
from lockgen.core.urls import has_userinfo, is_plain_http

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["CachedMetadata", "CachedPage", "Cache", "default_cache_dir"]

_T = TypeVar("_T")

_VERSION = "v1"
_MAGIC = b"lockgen-cache v1\n"
_KINDS = ("pages", "metadata", "artifacts", "hashes")
_METADATA_KEY = re.compile(r"(file|pep658|url)-([0-9a-f]{64})")
_STALE_TEMP_SECONDS = 3600
#: An entry's header line (URLs, validators) is never longer than this; ``_store``
#: writes no entry whose header would be.
_HEADER_LIMIT = 64 * 1024
_TEMP_ATTEMPTS = 100
_O_BINARY: int = getattr(os, "O_BINARY", 0)

_Stamp = tuple[int, int, int, int]


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedPage:
    """An index page as the server sent it, with what is needed to revalidate it."""

    url: str
    final_url: str
    content_type: str
    etag: str | None
    last_modified: str | None
    body: bytes
    #: The index answered 404: it does not have the project (a negative entry).
    missing: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedMetadata:
    """An artifact's METADATA, how it was read, and the artifact's size if that read
    learnt it (a range read's Content-Range, a whole download; ``None`` otherwise)."""

    data: bytes
    source: str
    artifact_size: int | None = None


class _BadEntryError(Exception):
    """An entry that failed a check; it is discarded, never shown to callers."""


class Cache:
    """The cache directory ``root``; see the module docstring for layout and guarantees."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = root / _VERSION

    # -- index pages -----------------------------------------------------------------
    def get_page(self, url: str) -> CachedPage | None:
        """The stored page for ``url``, or ``None`` if absent or bad (then deleted)."""
        if has_userinfo(url):
            return None

        def build(header: dict[str, object], body: bytes) -> CachedPage:
            if _get_str(header, "url") != url:
                raise _BadEntryError("entry is for another URL")
            return CachedPage(
                url=url,
                final_url=_get_str(header, "final_url"),
                content_type=_get_str(header, "content_type"),
                etag=_get_optional_str(header, "etag"),
                last_modified=_get_optional_str(header, "last_modified"),
                body=body,
                # older lockgens wrote a missing project as this fake content type
                missing=header.get("missing") is True
                or header.get("content_type") == "application/x-lockgen-not-found",
            )

        return _load(self._page_path(url), build, PAGE_LIMIT)

    def put_page(self, page: CachedPage) -> None:
        """Store ``page`` (best effort: disk errors are ignored).

        A page whose URLs carry credentials is not stored, so no secret reaches disk.
        """
        if has_userinfo(page.url) or has_userinfo(page.final_url):
            return
        header: dict[str, object] = {
            "url": page.url,
            "final_url": page.final_url,
            "content_type": page.content_type,
            "etag": page.etag,
            "last_modified": page.last_modified,
            "missing": page.missing,
        }
        self._store(self._page_path(page.url), header, page.body)

    # -- metadata --------------------------------------------------------------------
    # A key says what vouches for its entry, so metadata one index served never stands
    # for another's file that merely claims the same sha256 (issue 8: cache poisoning).
    @staticmethod
    def file_metadata_key(sha256: str) -> str | None:
        """``file-<hex>``: metadata read from bytes that hashed to ``sha256`` (a whole,
        verified download), true for every index listing that hash; ``None`` for a
        value that is not a sha256."""
        hex_ = sha256.lower()
        return f"file-{hex_}" if is_sha256(hex_) else None

    @staticmethod
    def pep658_metadata_key(sha256: str) -> str | None:
        """``pep658-<hex>``: a PEP 658 file whose bytes hash to ``sha256``, checked again
        on every read; ``None`` for a value that is not a sha256."""
        hex_ = sha256.lower()
        return f"pep658-{hex_}" if is_sha256(hex_) else None

    @staticmethod
    def url_metadata_key(url: str, sha256: str | None) -> str:
        """``url-<digest>``: metadata only the server at ``url`` vouches for (range
        reads, an unhashed PEP 658 file), bound to that URL and to the sha256 the
        index listed for it, so a replaced file is read again."""
        return "url-" + _digest(f"{sha256 or ''}\n{url}".encode())

    def get_metadata(self, key: str) -> CachedMetadata | None:
        """The entry for ``key``, or ``None`` if absent or bad."""
        path = self._metadata_path(key)
        if path is None:
            return None

        def build(header: dict[str, object], data: bytes) -> CachedMetadata:
            if _get_str(header, "key") != key:
                raise _BadEntryError("entry is for another key")
            if key.startswith("pep658-") and _digest(data) != key[7:]:
                raise _BadEntryError("PEP 658 entry does not hash to its key")
            size = header.get("artifact_size")  # absent in entries of older lockgens
            if size is not None and (type(size) is not int or size < 0):
                raise _BadEntryError("artifact_size is not a size")
            source = _get_str(header, "source")
            return CachedMetadata(data=data, source=source, artifact_size=size)

        return _load(path, build, METADATA_LIMIT)

    def put_metadata(
        self, key: str, data: bytes, source: str, artifact_size: int | None = None
    ) -> None:
        """Store METADATA under ``key`` (best effort: disk errors are ignored).

        Raises :class:`ValueError` for a key no ``*_metadata_key`` method made, or a
        ``pep658-`` key that ``data`` does not hash to.
        """
        path = self._metadata_path(key)
        if path is None:
            raise ValueError(f"not a metadata cache key: {key!r}")
        if key.startswith("pep658-") and _digest(data) != key[7:]:
            raise ValueError(f"metadata does not hash to {key}")
        header: dict[str, object] = {
            "key": key,
            "source": source,
            "artifact_size": artifact_size,
        }
        self._store(path, header, data)

    # -- hashes of unhashed files --------------------------------------------------------
    def get_url_hash(self, url: str) -> tuple[str, int] | None:
        """The ``(sha256, size)`` recorded for ``url``, or ``None`` if absent or bad."""
        if not is_plain_http(url):
            return None

        def build(header: dict[str, object], payload: bytes) -> tuple[str, int]:
            if _get_str(header, "url") != url:
                raise _BadEntryError("entry is for another URL")
            sha256 = _get_str(header, "artifact_sha256")
            size = header.get("artifact_size")
            if not is_sha256(sha256):
                raise _BadEntryError("artifact_sha256 is not a sha256")
            if type(size) is not int or size < 0:
                raise _BadEntryError("artifact_size is not a size")
            if payload:
                raise _BadEntryError("unexpected payload")
            return sha256, size

        return _load(self._hash_path(url), build, 0)

    def put_url_hash(self, url: str, sha256: str, size: int) -> None:
        """Record that ``url``'s bytes hashed to ``sha256`` (best effort).

        Nothing is stored for a URL that is not ``http(s)`` or carries credentials.
        """
        if not is_plain_http(url) or not is_sha256(sha256) or size < 0:
            return
        header: dict[str, object] = {
            "url": url,
            "artifact_sha256": sha256,
            "artifact_size": size,
        }
        self._store(self._hash_path(url), header, b"")

    # -- artifacts -------------------------------------------------------------------
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
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._link_into(source, final)
        except OSError:
            self._copy_into(source, final)

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
            _unlink_quietly(self._artifact_file(sha256))

    def temp_file(self) -> tuple[IO[bytes], Path]:
        """A new binary file in ``tmp`` to stream a download into; raises OSError.

        It is on the artifacts' filesystem, so :meth:`add_artifact_from_temp` is a
        rename. The caller closes it, and deletes it if it does not add it.
        """
        fd, path = self._new_temp()
        try:
            return os.fdopen(fd, "wb"), path
        except BaseException:
            os.close(fd)
            _unlink_quietly(path)
            raise

    def add_artifact_from_temp(self, temp: Path, sha256: str) -> Path:
        """Move the closed, caller-verified ``temp`` into place; returns its new path.

        Raises :class:`OSError` (then ``temp`` is left where it was, for the caller).
        """
        final = self._artifact_file(_checked_hex(sha256))
        final.parent.mkdir(parents=True, exist_ok=True)
        temp.replace(final)
        return final

    # -- maintenance -----------------------------------------------------------------
    def info(self) -> dict[str, tuple[int, int]]:
        """``kind -> (entries, bytes on disk)`` for pages, metadata and artifacts."""
        return {kind: _tally(self._base / kind) for kind in _KINDS}

    def clean(self) -> int:
        """Remove every entry and stale temp file; returns the bytes freed.

        Temp files younger than an hour are kept: another lockgen may be writing them.
        Artifacts still hard-linked elsewhere free nothing and are not counted.
        ``root`` itself, and anything in it beside ``v1``, is left alone.
        """
        try:
            children = list(os.scandir(self._base))
        except OSError:
            return 0
        cutoff = time.time() - _STALE_TEMP_SECONDS
        freed = 0
        for child in children:
            if child.name == "tmp" and child.is_dir(follow_symlinks=False):
                freed += _remove_stale(Path(child.path), cutoff)
            else:
                freed += _remove_any(Path(child.path))
        _remove_dir(self._base / "tmp")
        _remove_dir(self._base)
        return freed

    # -- internals -------------------------------------------------------------------
    def _page_path(self, url: str) -> Path:
        digest = _digest(url.encode())
        return self._base / "pages" / digest[:2] / digest

    def _hash_path(self, url: str) -> Path:
        digest = _digest(url.encode())
        return self._base / "hashes" / digest[:2] / digest

    def _metadata_path(self, key: str) -> Path | None:
        match = _METADATA_KEY.fullmatch(key)
        if match is None:
            return None
        return self._base / "metadata" / match.group(2)[:2] / key

    def _artifact_file(self, sha256: str) -> Path:
        return self._base / "artifacts" / sha256[:2] / sha256

    def _store(self, path: Path, header: dict[str, object], payload: bytes) -> None:
        """Write one entry atomically; disk errors are swallowed (best effort)."""
        head = {**header, "length": len(payload), "sha256": _digest(payload)}
        line = json.dumps(head, sort_keys=True).encode() + b"\n"
        if len(line) > _HEADER_LIMIT:
            return
        with suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomic(path, (_MAGIC, line, payload))

    def _write_atomic(self, path: Path, chunks: tuple[bytes, ...]) -> None:
        fd, temp = self._new_temp()
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            temp.replace(path)
        finally:
            _unlink_quietly(temp)  # only still there if something failed

    def _new_temp(self) -> tuple[int, Path]:
        """Create and open a fresh file in ``tmp`` (mode 0666 minus the umask)."""
        tmp = self._base / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
        for _ in range(_TEMP_ATTEMPTS):
            path = tmp / f"{secrets.token_hex(8)}.tmp"
            with suppress(FileExistsError):
                return os.open(path, flags, 0o666), path
        raise FileExistsError(f"no free temp file name in {tmp}")

    def _link_into(self, source: Path, final: Path) -> None:
        """Hard-link ``source`` to ``final`` via a fresh name in ``tmp``."""
        tmp = self._base / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        link = tmp / f"{secrets.token_hex(8)}.tmp"
        link.hardlink_to(source)
        try:
            link.replace(final)
        finally:
            # still there if the replace failed, or was a no-op because ``final``
            # already was this very inode (POSIX rename of two links to one file)
            _unlink_quietly(link)

    def _copy_into(self, source: Path, final: Path) -> None:
        """Copy ``source`` to ``final`` via a temp file, for when linking fails."""
        fd, temp = self._new_temp()
        os.close(fd)
        try:
            shutil.copyfile(source, temp)
            temp.replace(final)
        finally:
            _unlink_quietly(temp)


def default_cache_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where the cache lives unless the user says otherwise: the platform's convention.

    ``LOCKGEN_CACHE_DIR`` wins. Then Windows uses ``%LOCALAPPDATA%\\lockgen\\Cache``,
    macOS ``~/Library/Caches/lockgen``, and everything else ``$XDG_CACHE_HOME/lockgen``
    (a relative value is ignored, as the XDG spec asks) or ``~/.cache/lockgen``.
    """
    if explicit := environ.get("LOCKGEN_CACHE_DIR"):
        return Path(explicit)
    if platform == "win32":
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else _home(environ, platform) / "AppData" / "Local"
        return base / "lockgen" / "Cache"
    if platform == "darwin":
        return _home(environ, platform) / "Library" / "Caches" / "lockgen"
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "lockgen"
    return _home(environ, platform) / ".cache" / "lockgen"


def _home(environ: Mapping[str, str], platform: str) -> Path:
    names = ("USERPROFILE", "HOME") if platform == "win32" else ("HOME",)
    home = next((environ[n] for n in names if environ.get(n)), None)
    return Path(home) if home else Path.home()


# -- reading entries -------------------------------------------------------------------
def _load(
    path: Path, build: Callable[[dict[str, object], bytes], _T], limit: int
) -> _T | None:
    """Read, check and build one entry whose payload may be at most ``limit`` bytes
    (what the network layer would have accepted); a bad entry is deleted and gives
    ``None``. A file of the wrong length is refused before its payload is read."""
    try:
        with path.open("rb") as fh:
            stamp = _stamp(os.fstat(fh.fileno()))
            try:
                header, payload = _read_entry(fh, stamp[2], limit)
                return build(header, payload)
            except _BadEntryError:
                pass
    except OSError:
        return None
    _discard(path, stamp)
    return None


def _read_entry(
    fh: IO[bytes], size: int, limit: int
) -> tuple[dict[str, object], bytes]:
    """The header and payload of an open entry of ``size`` bytes; the payload is read
    only once its declared length fits the limit and the file."""
    if fh.read(len(_MAGIC)) != _MAGIC:
        raise _BadEntryError("no magic line")
    line = fh.readline(_HEADER_LIMIT + 1)
    if not line.endswith(b"\n"):
        raise _BadEntryError("no header line, or an overlong one")
    try:
        header = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise _BadEntryError("header is not JSON") from exc
    if not isinstance(header, dict):
        raise _BadEntryError("header is not an object")
    length = header.get("length")
    if type(length) is not int or not 0 <= length <= limit:
        raise _BadEntryError("payload length missing or over the limit")
    if len(_MAGIC) + len(line) + length != size:
        raise _BadEntryError("truncated or overlong payload")
    payload = fh.read(length)
    if len(payload) != length or header.get("sha256") != _digest(payload):
        raise _BadEntryError("payload changed or hash mismatch")
    return header, payload


def _get_str(header: dict[str, object], name: str) -> str:
    value = header.get(name)
    if not isinstance(value, str):
        raise _BadEntryError(f"{name} is not a string")
    return value


def _get_optional_str(header: dict[str, object], name: str) -> str | None:
    value = header.get(name)
    if value is not None and not isinstance(value, str):
        raise _BadEntryError(f"{name} is neither a string nor null")
    return value


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _discard(path: Path, stamp: _Stamp) -> None:
    """Delete the bad file at ``path`` unless a writer has replaced it meanwhile."""
    with suppress(OSError):
        if _stamp(path.stat()) == stamp:
            path.unlink()


# -- small filesystem helpers ----------------------------------------------------------
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked_hex(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    return sha256


def _unlink_quietly(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


def _tally(top: Path) -> tuple[int, int]:
    entries = size = 0
    for parent, _dirs, files in os.walk(top):
        for name in files:
            try:
                info = Path(parent, name).lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                entries += 1
                size += info.st_size
    return entries, size


def _remove_stale(tmp: Path, cutoff: float) -> int:
    freed = 0
    with suppress(OSError):
        for entry in os.scandir(tmp):
            with suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    freed += _remove_any(Path(entry.path))
    return freed


def _remove_any(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return _remove_tree(path)
    return _remove_file(path)


def _remove_tree(top: Path) -> int:
    freed = 0
    for parent, dirs, files in os.walk(top, topdown=False):
        for name in files:
            freed += _remove_file(Path(parent, name))
        for name in dirs:
            _remove_dir(Path(parent, name))
    _remove_dir(top)
    return freed


def _remove_file(path: Path) -> int:
    """Unlink ``path``; returns the bytes that frees (0 if other links remain)."""
    try:
        info = path.lstat()
        path.unlink()
    except OSError:
        return 0
    freed = stat.S_ISREG(info.st_mode) and info.st_nlink <= 1
    return info.st_size if freed else 0


def _remove_dir(path: Path) -> None:
    with suppress(OSError):
        if path.is_symlink():
            path.unlink()
        else:
            path.rmdir()
