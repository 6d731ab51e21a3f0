"""Project pages of the indexes, in order, with a negative cache.

A project's files come from the first index that has it, so a public index can
never shadow a private project. A page may name only the files
:mod:`lockgen.core.link_scope` allows; others are skipped before anything reads
them. With a :class:`~lockgen.store.cache.Cache`, pages are revalidated (a 304
costs one small request), and an index's 404 is cached too, as a page marked
``missing``, so a warm or ``--offline`` run knows which index lacks a project
without asking again. A big page is cached without its body: what it says is kept
once, as its compact form (:mod:`lockgen.store.listings`), and when that is gone the
page is fetched whole again.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from lockgen.core.errors import LockgenError, ProjectNotFoundError
from lockgen.core.file_groups import FileGroups
from lockgen.core.limits import PAGE_LIMIT
from lockgen.core.link_scope import confine
from lockgen.core.simple_api import (
    ACCEPT,
    compact_project_page,
    page_origin,
    parse_project_page,
)
from lockgen.core.urls import is_local
from lockgen.net.cache_mode import CacheMode, OfflineError
from lockgen.store.cache import CachedPage, page_fingerprint
from lockgen.store.entry import digest
from lockgen.store.listings import listing_key

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.core.compact_page import CompactPage
    from lockgen.net.transport import HttpClient, Response
    from lockgen.store.cache import Cache

__all__ = ["COMPACT_FROM", "MAX_MISSING", "ProjectPages"]

_PAGE_HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
#: How many distinct projects may be missing from every index before the run stops:
#: a lock meets a few (dependencies of versions it backtracks over); hundreds mean a
#: wrong index or metadata naming projects by the thousand, each a request.
MAX_MISSING = 500
#: Pages from this size on are kept in their compact form (and cached so): below
#: it, reading the whole page costs less than writing and reading that form (a
#: page of a project with a few releases is a few KiB; the biggest are MBs).
COMPACT_FROM = 64 * 1024
#: Pages are read one at a time: reading is pure Python under the GIL, so threads
#: reading at once finish no sooner, and a big page's parsed form (tens of MB for
#: the largest) is then in memory once, not once per thread.
_READING = threading.Lock()
_UNSEEDED = CachedPage(
    url="", final_url="", content_type="", etag=None, last_modified=None, body=b""
)


class ProjectPages:
    """The indexes' project pages, fetched (and revalidated) through the cache."""

    def __init__(
        self,
        client: HttpClient,
        indexes: Sequence[str],
        *,
        cache: Cache | None,
        mode: CacheMode,
        on_event: Callable[[str], None],
    ) -> None:
        self._client = client
        self.indexes = tuple(indexes)
        self._cache = cache
        self._mode = mode
        self._event = on_event
        self._missing: set[NormalizedName] = set()
        self._lock = threading.Lock()
        self._asked: dict[str, int] = {}  # index -> projects it did not have
        self._served: set[str] = set()  # indexes that had at least one project
        self._read: dict[str, str] = {}  # page URL -> fingerprint, as read
        self._seeded: dict[str, CachedPage | LockgenError | None] = {}

    def files(self, name: NormalizedName) -> FileGroups:
        """The files of ``name`` on the first index that has it, those it may name
        (read a version at a time, as the resolver asks: see
        :mod:`lockgen.core.file_groups`)."""
        for index in self.indexes:
            url = f"{index}{name}/"
            seeded = self._seeded.pop(url, _UNSEEDED)
            if isinstance(seeded, LockgenError):
                raise seeded  # the page could not be read: this is its first use
            page = self.page(url) if seeded is _UNSEEDED else seeded
            compact = None
            if page is not None and page.compact:  # cached without its body
                compact = self._cached_listing(page)
                if compact is None:  # its compact form is gone: read the page again
                    page = self._whole_page(url)
            body_digest = None if page is None else page.sha256 or digest(page.body)
            with self._lock:
                self._read[url] = page_fingerprint(page, body_digest)
                if page is None:
                    self._asked[index] = self._asked.get(index, 0) + 1
                else:
                    self._served.add(index)
            if page is not None:
                assert body_digest is not None
                return self._files(page, index, body_digest, compact)
        with self._lock:
            self._missing.add(name)
            if len(self._missing) > MAX_MISSING:
                raise LockgenError(
                    f"more than {MAX_MISSING} projects are on no index (the last: "
                    f"{name}); check the index URLs, or what requires them"
                )
        raise ProjectNotFoundError(name, self.indexes)

    def unused_indexes(self) -> list[tuple[str, int]]:
        """Indexes that had none of the projects asked of them while another index
        had some, with how many they were asked: most often a mistyped URL (a wrong
        path answers 404 to everything), which would otherwise go unnoticed as the
        projects quietly came from the other indexes."""
        with self._lock:
            if not self._served:
                return []
            return [
                (index, self._asked[index])
                for index in self.indexes
                if index not in self._served and self._asked.get(index)
            ]

    def pages_read(self) -> list[tuple[str, str]]:
        """(URL, :func:`~lockgen.store.cache.page_fingerprint`) of every page
        :meth:`files` has read so far, in the order it read them: what a resolution
        made with these pages depends on (:mod:`lockgen.app.replay`)."""
        with self._lock:
            return list(self._read.items())

    def seed(self, pages: Mapping[str, CachedPage | LockgenError | None]) -> None:
        """Pages fetched already (``None``: missing; an error: it could not be read),
        each handed to :meth:`files` once instead of being fetched again."""
        self._seeded.update(pages)

    def page(self, url: str, *, whole: bool = False) -> CachedPage | None:
        """The page at ``url`` (``None``: not on this index), revalidating the cache.

        A big page may come back without its body (``compact``), as the cache keeps
        it: :meth:`files` reads its compact form instead. ``whole``: never so (a
        find-links page is read whole), and a big page is then cached whole.
        """
        cached = self._cached_page(url)
        if cached is not None and cached.compact and whole:
            cached = None
        if self._mode is CacheMode.OFFLINE and not is_local(url):
            if cached is None:
                raise OfflineError(f"offline, and the index page {url} is not cached")
            return None if cached.missing else cached
        headers = dict(_PAGE_HEADERS)
        if cached is not None and not cached.missing:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._client.get(url, headers, limit=PAGE_LIMIT, what="a page")
        if response.status == 304 and cached is not None:
            return cached
        if response.status == 404:
            self._store(_missing_page(url, response))
            return None
        response.raise_for_status()
        fresh = _page(url, response)
        if cached is not None and _same(fresh, cached):
            return fresh  # the same bytes again (an index without validators)
        return self._store(fresh, whole=whole)

    def _whole_page(self, url: str) -> CachedPage | None:
        """The page at ``url`` fetched again without validators (its cached entry
        kept no body, and its compact form is gone); offline, it is not cached."""
        if self._mode is CacheMode.OFFLINE and not is_local(url):
            raise OfflineError(f"offline, and the index page {url} is not cached")
        response = self._client.get(url, _PAGE_HEADERS, limit=PAGE_LIMIT, what="a page")
        if response.status == 404:
            self._store(_missing_page(url, response))
            return None
        response.raise_for_status()
        return self._store(_page(url, response))

    def _files(
        self,
        page: CachedPage,
        index: str,
        body_digest: str,
        compact: CompactPage | None,
    ) -> FileGroups:
        """The files ``page`` lists that it may name: a small page read whole at
        once, a big one a version at a time from its compact form (``compact``,
        when the cache gave it already)."""
        keep = partial(confine, source=index, on_skip=self._event)
        if compact is None and len(page.body) < COMPACT_FROM:
            files = parse_project_page(
                page.body, page.content_type, page.final_url, index_url=index
            )
            return FileGroups.of(keep(files))
        origin = page_origin(page.final_url, index_url=index)
        if compact is None:
            compact = self._compact(page, index, body_digest)
        return compact.files(origin, keep)

    def _cached_listing(self, page: CachedPage) -> CompactPage | None:
        """The compact form of a page cached without its body, if still cached."""
        if self._cache is None or page.sha256 is None:
            return None
        return self._cache.get_listing(listing_key(page.content_type, page.sha256))

    def _compact(self, page: CachedPage, index: str, body_digest: str) -> CompactPage:
        """``page`` in its compact form: from the cache when these very bytes were
        read before, else read now (one page at a time) and cached."""
        key = listing_key(page.content_type, body_digest)
        known = None if self._cache is None else self._cache.get_listing(key)
        if known is not None:
            return known
        with _READING:
            compact = compact_project_page(
                page.body, page.content_type, page.final_url, index_url=index
            )
        if self._cache is not None:
            self._cache.put_listing(key, compact)
        return compact

    def _cached_page(self, url: str) -> CachedPage | None:
        if self._cache is None or self._mode is CacheMode.REFRESH or is_local(url):
            return None
        return self._cache.get_page(url)

    def _store(self, page: CachedPage, *, whole: bool = False) -> CachedPage:
        """Cache ``page``: a big one without its body (its compact form is cached
        when :meth:`files` reads it), unless ``whole``."""
        if self._cache is not None and not is_local(page.url):
            compact = not whole and not page.missing and len(page.body) >= COMPACT_FROM
            self._cache.put_page(page, compact=compact)
        return page


def _page(url: str, response: Response) -> CachedPage:
    """The page ``response`` brings, with its validators for next time, and its
    sha256 (hashed once: the cache entry, the fingerprint and the listing key all
    need it)."""
    body = response.read(PAGE_LIMIT, "a page")
    return CachedPage(
        url=url,
        final_url=response.url,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        body=body,
        sha256=digest(body),
    )


def _same(fresh: CachedPage, cached: CachedPage) -> bool:
    """Whether ``fresh`` says what ``cached`` does, with the same validators (then
    the entry is not written again): compared by the body's sha256, as an entry
    cached without its body has only that."""
    return (
        fresh.sha256 == (cached.sha256 or digest(cached.body))
        and (fresh.final_url, fresh.content_type, fresh.missing)
        == (cached.final_url, cached.content_type, cached.missing)
        and (fresh.etag, fresh.last_modified) == (cached.etag, cached.last_modified)
    )


def _missing_page(url: str, response: Response) -> CachedPage:
    """The negative entry for a 404: the index does not have the project (a 304 to
    its validators would prove nothing, so none are kept)."""
    return CachedPage(
        url=url,
        final_url=response.url,
        content_type="",
        etag=None,
        last_modified=None,
        body=b"",
        missing=True,
    )
