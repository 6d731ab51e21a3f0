"""The on-disk cache shared by ``lock`` and ``hydrate``, so no byte is fetched twice.

Layout (the ``v1`` directory is the format version; a new format gets a new name)::

    ROOT/v1/pages/<sha256 of url>            index pages, with ETag / Last-Modified (a
                                             big one without its body: its listing)
    ROOT/v1/metadata/<kind>-<hex>            METADATA (kind: file, pep658 or url)
    ROOT/v1/artifacts/<sha256>               whole files, named by their own sha256
    ROOT/v1/hashes/<sha256 of url>           sha256 and size of an unhashed file lockgen
                                             downloaded (http(s) URLs only)
    ROOT/v1/listings/<key>                   index pages in their compact form, by the
                                             digest of the page (store/listings.py)
    ROOT/v1/resolutions/<key>                locks with the pages they were resolved
                                             from, for replay (store/resolutions.py)
    ROOT/v1/inputs/<key>                     inputs digests with what they came from
                                             (app/input_memo.py)
    ROOT/v1/settled/<key>                    up-to-date verdicts by command line
                                             (app/settled.py)
    ROOT/v1/build-envs/<key>/                sdist build environments, by what they
                                             hold (build/environment.py)
    ROOT/v1/build-logs/<sdist>-<random>.log  the output of builds that failed
    ROOT/v1/tmp/<random>.tmp                 files being written

Each kind is one flat directory. Entries used to be spread over 256 subdirectories
each (``pages/ab/<key>``); on ext4, making those directories cost a cold lock of 105
packages about 0.2 s of its 3 s (the kernel looks for a free inode for each), and a
flat directory of a hundred thousand entries is still fast to look up (ext4, APFS and
NTFS index directory names). Entries from that layout are not read;
``lockgen cache clean`` removes them.

Where each part's guarantees live:

- :mod:`lockgen.store.entry`: a page, metadata or hashes entry's format (one file,
  checked on every read, deleted when bad, bounded by :mod:`lockgen.core.limits`) and
  how its header may evolve;
- :mod:`lockgen.store.files`: every write goes through ``tmp`` and :func:`os.replace`,
  so no reader sees a half-written file or a mix of two writers;
- :mod:`lockgen.store.artifacts`: whole files, named by their sha256;
- :mod:`lockgen.store.maintenance`: ``cache info`` and ``cache clean``;
- :mod:`lockgen.store.location`: the default cache directory.

This module is the :class:`Cache` callers use, and what its keys mean.

A metadata entry's key names what vouches for it: ``file-`` the sha256 of the whole
file it was read from, ``pep658-`` its own sha256 (checked on every read), ``url-``
only the server it was read from by range requests (with the sha256 that index
listed). So one index cannot make its metadata stand for another index's file by
claiming that file's sha256.

A ``hashes`` entry is how an index that lists no sha256 (a plain HTML folder, a
find-links page) still gets a warm lock without downloads, and an ``--offline`` one:
it records what a URL's bytes hashed to when lockgen downloaded them. It is kept only
for ``http(s)`` URLs without credentials: a ``file://`` file can change under the same
name, and a secret must not reach disk.

The cache is best effort. ``put_page``, ``put_metadata`` and ``put_url_hash`` swallow
:class:`OSError` (a read-only or full disk must not fail a lock); the ``get_*`` methods
never raise for a bad or unreadable entry. The artifact methods do raise
:class:`OSError` for real disk problems (see :mod:`lockgen.store.artifacts`). Nothing
is created on disk until the first write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lockgen.core.hashing import is_sha256
from lockgen.core.limits import METADATA_LIMIT, PAGE_LIMIT
from lockgen.core.urls import has_userinfo, is_plain_http
from lockgen.store import maintenance
from lockgen.store.artifacts import ArtifactStore
from lockgen.store.entry import (
    BadEntryError,
    digest,
    get_optional_str,
    get_str,
    load,
    store,
)
from lockgen.store.listings import ListingStore
from lockgen.store.location import default_cache_dir
from lockgen.store.resolutions import ResolutionStore

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "CachedMetadata",
    "CachedPage",
    "Cache",
    "default_cache_dir",
    "page_fingerprint",
]

_VERSION = "v1"
_METADATA_KEY = re.compile(r"(file|pep658|url|vcs)-([0-9a-f]{64})")


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
    #: The body's sha256 (hex) when known already (an entry read back, whose body
    #: was just checked against it); not part of what the page says.
    sha256: str | None = field(default=None, compare=False)
    #: The body was not kept (``body`` is empty): the page is big, and what it says
    #: is in its compact form, the listing named by ``sha256``
    #: (:mod:`lockgen.store.listings`).
    compact: bool = False


def page_fingerprint(page: CachedPage | None, body_digest: str | None = None) -> str:
    """What a page said, in one digest: its final URL (links resolve against it), its
    content type (how it is read) and its body, or that the project was missing
    (``page`` is ``None`` or a negative entry). Validators are left out: a page
    revalidated or fetched again with the same bytes says the same. ``body_digest``
    is the body's sha256 when the caller has it already."""
    if page is None or page.missing:
        return "missing"
    body = body_digest or page.sha256 or digest(page.body)
    return digest(f"{page.final_url}\n{page.content_type}\n{body}".encode())


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedMetadata:
    """An artifact's METADATA, how it was read, and the artifact's size if that read
    learnt it (a range read's Content-Range, a whole download; ``None`` otherwise)."""

    data: bytes
    source: str
    artifact_size: int | None = None


class Cache(ArtifactStore, ListingStore, ResolutionStore):
    """The cache directory ``root``; see the module docstring for layout and guarantees.

    The artifact methods (``artifact_path``, ``add_artifact``, ``verified_artifact``,
    ``discard_artifact``, ``temp_file``) come from :class:`ArtifactStore`, the
    compact pages (``get_listing``, ``put_listing``) from :class:`ListingStore`, the
    recorded resolutions (``get_resolution``, ``put_resolution``) from
    :class:`ResolutionStore`.
    """

    def __init__(self, root: Path) -> None:
        ArtifactStore.__init__(self, root / _VERSION)
        ListingStore.__init__(self, root / _VERSION)
        ResolutionStore.__init__(self, root / _VERSION)
        self.root = root

    # -- index pages -----------------------------------------------------------------
    def get_page(self, url: str) -> CachedPage | None:
        """The stored page for ``url``, or ``None`` if absent or bad (then deleted)."""
        if has_userinfo(url):
            return None

        def build(header: dict[str, object], body: bytes) -> CachedPage:
            if get_str(header, "url") != url:
                raise BadEntryError("entry is for another URL")
            sha256 = get_str(header, "sha256")  # load() checked it against body
            compact = header.get("compact") is True
            if compact:  # what the page said is the listing of this hash
                sha256 = get_str(header, "body_sha256")
                if body or not is_sha256(sha256):
                    raise BadEntryError("a compact page entry with a body, or no hash")
            return CachedPage(
                url=url,
                final_url=get_str(header, "final_url"),
                content_type=get_str(header, "content_type"),
                etag=get_optional_str(header, "etag"),
                last_modified=get_optional_str(header, "last_modified"),
                body=body,
                # older lockgens wrote a missing project as this fake content type
                missing=header.get("missing") is True
                or header.get("content_type") == "application/x-lockgen-not-found",
                sha256=sha256,
                compact=compact,
            )

        return load(self._page_path(url), build, PAGE_LIMIT)

    def put_page(self, page: CachedPage, *, compact: bool = False) -> None:
        """Store ``page`` (best effort: disk errors are ignored); ``compact``: without
        its body, which the caller keeps as the page's listing (a big page's bytes,
        7 MB for the biggest, are then neither written nor read and hashed again).

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
        if compact:
            header["compact"] = True
            header["body_sha256"] = page.sha256 or digest(page.body)
            store(self._tmp, self._page_path(page.url), header, b"")
            return
        store(self._tmp, self._page_path(page.url), header, page.body, page.sha256)

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
        return "url-" + digest(f"{sha256 or ''}\n{url}".encode())

    @staticmethod
    def vcs_metadata_key(url: str, commit: str, subdirectory: str | None) -> str:
        """``vcs-<digest>``: what the tree of ``commit`` (a full git commit id, which
        names its content) in ``url`` at ``subdirectory`` gave as metadata."""
        return "vcs-" + digest(f"{url}\n{commit}\n{subdirectory or ''}".encode())

    def get_metadata(self, key: str) -> CachedMetadata | None:
        """The entry for ``key``, or ``None`` if absent or bad."""
        path = self._metadata_path(key)
        if path is None:
            return None

        def build(header: dict[str, object], data: bytes) -> CachedMetadata:
            if get_str(header, "key") != key:
                raise BadEntryError("entry is for another key")
            if key.startswith("pep658-") and digest(data) != key[7:]:
                raise BadEntryError("PEP 658 entry does not hash to its key")
            size = header.get("artifact_size")  # absent in entries of older lockgens
            if size is not None and (type(size) is not int or size < 0):
                raise BadEntryError("artifact_size is not a size")
            source = get_str(header, "source")
            return CachedMetadata(data=data, source=source, artifact_size=size)

        return load(path, build, METADATA_LIMIT)

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
        if key.startswith("pep658-") and digest(data) != key[7:]:
            raise ValueError(f"metadata does not hash to {key}")
        header: dict[str, object] = {
            "key": key,
            "source": source,
            "artifact_size": artifact_size,
        }
        store(self._tmp, path, header, data)

    # -- hashes of unhashed files --------------------------------------------------------
    def get_url_hash(self, url: str) -> tuple[str, int] | None:
        """The ``(sha256, size)`` recorded for ``url``, or ``None`` if absent or bad."""
        if not is_plain_http(url):
            return None

        def build(header: dict[str, object], payload: bytes) -> tuple[str, int]:
            if get_str(header, "url") != url:
                raise BadEntryError("entry is for another URL")
            sha256 = get_str(header, "artifact_sha256")
            size = header.get("artifact_size")
            if not is_sha256(sha256):
                raise BadEntryError("artifact_sha256 is not a sha256")
            if type(size) is not int or size < 0:
                raise BadEntryError("artifact_size is not a size")
            if payload:
                raise BadEntryError("unexpected payload")
            return sha256, size

        return load(self._hash_path(url), build, 0)

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
        store(self._tmp, self._hash_path(url), header, b"")

    # -- maintenance -----------------------------------------------------------------
    def info(self) -> dict[str, tuple[int, int]]:
        """``kind -> (entries, bytes on disk)`` for each kind of entry and the artifacts."""
        return maintenance.info(self._base)

    def clean(self) -> maintenance.Cleaned:
        """Remove every entry and stale temp file; returns the bytes freed and how
        many files could not be removed.

        Temp files younger than an hour are kept: another lockgen may be writing them.
        Artifacts still hard-linked elsewhere free nothing and are not counted.
        ``root`` itself, and anything in it beside ``v1``, is left alone.
        """
        return maintenance.clean(self._base)

    # -- internals -------------------------------------------------------------------
    def _page_path(self, url: str) -> Path:
        hex_ = digest(url.encode())
        return self._base / "pages" / hex_

    def _hash_path(self, url: str) -> Path:
        hex_ = digest(url.encode())
        return self._base / "hashes" / hex_

    def _metadata_path(self, key: str) -> Path | None:
        match = _METADATA_KEY.fullmatch(key)
        if match is None:
            return None
        return self._base / "metadata" / key
