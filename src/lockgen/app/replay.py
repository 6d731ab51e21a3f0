"""Replay: a lock resolved before from the same inputs is the answer again when every
index page its resolution read says the same today.

What a resolution gives is decided by the inputs (the digest the up-to-date check
uses: requirements, constraints, options, target, indexes), by the previous lock's
pins (preferred), and by what the indexes say: the project pages read, and the
metadata of files those pages name, which lockgen reads once per file and keeps. So
once a lock is resolved, its text is recorded in the cache
(:mod:`lockgen.store.resolutions`) with the fingerprint of every page read
(:func:`~lockgen.store.cache.page_fingerprint`). A later run with the same key reads
those pages again, all at once rather than as the resolver discovers them (or from
the cache with ``--offline``), and if every one is unchanged the recorded lock is the
result: nothing is resolved, no metadata read, nothing rendered. An ``--offline``
lock, or a warm lock into a new output (a CI checkout with a restored cache), then
costs little more than its pages. When a page did change, the pages just fetched are
handed to the resolver, so none is fetched twice.

Not replayed, nor recorded: ``--check`` (it exists to resolve again), ``--refresh``,
``--upgrade`` and ``-P`` (they ask for a new resolution), find-links locations (a
local folder's listing is no page with a fingerprint), and a run without a cache.

The record is cache content, untrusted: its lock is used only if it is sealed for
this run's inputs, as an up-to-date lock must be, and its pages are the ones read
again. Forging one takes write access to the cache, which could forge the pages too.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.app.lock import LockResult
from lockgen.core.errors import LockgenError
from lockgen.core.urls import is_local
from lockgen.lockfile.read import read_lock
from lockgen.store.cache import page_fingerprint
from lockgen.store.entry import digest
from lockgen.store.resolutions import Recorded

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.app.builds import Builds
    from lockgen.app.inputs import Inputs
    from lockgen.app.lock import LockOptions, Progress
    from lockgen.app.services import Services
    from lockgen.core.models import DistFile
    from lockgen.net.index import IndexClient
    from lockgen.net.transport import HttpClient, TransferStats
    from lockgen.store.cache import Cache, CachedPage

__all__ = ["Replay", "replay", "replayed_offline"]

#: Part of every key: a lockgen that records differently never reads these records.
_FORMAT = "replay-1"


@dataclass(frozen=True)
class Replay:
    """What a run that was not replayed takes on to its resolution: the key to record
    it under (``None``: not recorded) and the index opened to read the recorded pages
    (online), with those pages handed to it, for the resolver to go on with."""

    key: str | None = None
    opened: tuple[HttpClient, IndexClient, Builds] | None = None

    def record(
        self,
        result: LockResult,
        repository: IndexClient,
        cache: Cache,
        files: Iterable[DistFile],
    ) -> None:
        """Record ``result``, resolved by reading ``repository``'s pages, unless one
        of its locked ``files`` is a local file listed without a sha256: lockgen
        hashes those again on every run (they can change under their name), which
        no page fingerprint would see."""
        if any(d.sha256 is None and is_local(d.url) for d in files):
            return
        if self.key is not None:
            recorded = Recorded(
                text=result.text,
                packages=result.packages,
                warnings=result.warnings,
                pages=tuple(repository.pages_read()),
            )
            cache.put_resolution(self.key, recorded)


def replay(
    options: LockOptions,
    inputs: Inputs,
    preferences: Mapping[NormalizedName, Version],
    known: Mapping[str, tuple[str, int | None]],
    *,
    name: str,
    progress: Progress,
    services: Services,
) -> tuple[LockResult | None, Replay]:
    """The recorded lock for this run if its pages are unchanged, else ``None`` and
    how the resolution goes on. ``preferences`` and ``known`` are the previous lock's
    pins and hashes, which a resolution takes too. A page that cannot be read now
    counts as changed: its error is the resolver's, met only if it still reads it."""
    cache = services.cache
    replayable = cache is not None and not (
        options.resolves_anyway or inputs.find_links
    )
    key = _key(inputs.digest, preferences, known) if replayable else None
    opened = None
    if cache is not None and key is not None:
        recorded = cache.get_resolution(key)
        if recorded is not None:
            replayed, opened = _replayed(
                recorded, cache, options, inputs, name, progress, services
            )
            if replayed is not None:
                return replayed, Replay(key)
    return None, Replay(key, opened)


def _replayed(
    recorded: Recorded,
    cache: Cache,
    options: LockOptions,
    inputs: Inputs,
    name: str,
    progress: Progress,
    services: Services,
) -> tuple[LockResult | None, tuple[HttpClient, IndexClient, Builds] | None]:
    """``recorded``'s lock if its pages are unchanged; else ``None``, and the index
    opened to read them (online), the pages handed to it."""
    urls = [url for url, _ in recorded.pages]
    opened = None
    pages: Mapping[str, CachedPage | LockgenError | None] | None
    if options.offline and not any(is_local(url) for url in urls):
        pages = _cached_pages(cache, urls)
    else:
        from lockgen.app.index_access import open_index

        opened = open_index(options, inputs, progress, services)
        pages = _fetched_pages(opened[1], urls, options.jobs)
    if pages is None:
        return None, opened
    if not _unchanged(recorded, pages, inputs.digest, name):
        if opened is not None:
            opened[1].seed(pages)
        return None, opened
    stats = None if opened is None else opened[0].stats
    return _replayed_result(recorded, name, inputs.digest, progress, stats), opened


def replayed_offline(
    inputs_digest: str,
    options: LockOptions,
    *,
    progress: Progress,
    services: Services,
) -> LockResult | None:
    """The recorded lock (not written) for inputs of this digest and no previous
    lock, if the cache still holds every page it read as it was: an ``--offline``
    run whose inputs digest is remembered (:mod:`lockgen.app.input_memo`) needs
    neither its inputs parsed nor an index opened. A record is only ever made
    without find-links locations (its key holds the digest, which holds them)."""
    cache = services.cache
    if cache is None or not options.offline or options.resolves_anyway:
        return None
    name = options.output
    recorded = cache.get_resolution(_key(inputs_digest, {}, {}))
    if recorded is None:
        return None
    urls = [url for url, _ in recorded.pages]
    if any(is_local(url) for url in urls):
        return None  # local pages are read live, through an index
    pages = _cached_pages(cache, urls)
    if pages is None or not _unchanged(recorded, pages, inputs_digest, name):
        return None
    return _replayed_result(recorded, name, inputs_digest, progress, None)


def _replayed_result(
    recorded: Recorded,
    name: str,
    digest: str,
    progress: Progress,
    stats: TransferStats | None,
) -> LockResult:
    """``recorded`` as this run's result, with the requests its check made."""
    progress.detail(
        f"replayed the resolution recorded for these inputs: the {len(recorded.pages)}"
        " index pages it read are unchanged"
    )
    return LockResult(
        text=recorded.text,
        output=name,
        packages=recorded.packages,
        requests=0 if stats is None else stats.requests,
        bytes=0 if stats is None else stats.bytes,
        warnings=recorded.warnings,
        digest=digest,
    )


def _key(
    inputs_digest: str,
    preferences: Mapping[NormalizedName, Version],
    known: Mapping[str, tuple[str, int | None]],
) -> str:
    fields = {
        "format": _FORMAT,
        "inputs": inputs_digest,
        "preferences": sorted([str(n), str(v)] for n, v in preferences.items()),
        "known": sorted([url, sha256, size] for url, (sha256, size) in known.items()),
    }
    return digest(json.dumps(fields, sort_keys=True).encode())


def _cached_pages(cache: Cache, urls: list[str]) -> dict[str, CachedPage | None] | None:
    """The pages as the cache holds them (``--offline``); ``None`` if one is gone."""
    pages: dict[str, CachedPage | None] = {}
    for url in urls:
        page = cache.get_page(url)
        if page is None:
            return None
        pages[url] = None if page.missing else page
    return pages


def _fetched_pages(
    repository: IndexClient, urls: list[str], jobs: int
) -> dict[str, CachedPage | LockgenError | None]:
    """The pages as the indexes give them now, fetched in parallel (a page that
    could not be read: its error)."""

    def page(url: str) -> CachedPage | LockgenError | None:
        try:
            return repository.page(url)
        except LockgenError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(urls)))) as pool:
        return dict(zip(urls, pool.map(page, urls), strict=True))


def _unchanged(
    recorded: Recorded,
    pages: Mapping[str, CachedPage | LockgenError | None],
    inputs_digest: str,
    name: str,
) -> bool:
    """Every page says what it said, and the recorded lock is one lockgen sealed for
    these inputs."""
    for url, fingerprint in recorded.pages:
        page = pages[url]
        if isinstance(page, LockgenError) or page_fingerprint(page) != fingerprint:
            return False
    try:
        document = read_lock(recorded.text, name)
    except LockgenError:
        return False
    return document.inputs == inputs_digest and document.sealed
