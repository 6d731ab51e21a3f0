"""Project pages in their compact form (``ROOT/v1/listings/<key>``), by the
digest of the page they were made from (:mod:`lockgen.core.compact_page`).

An index without ``ETag``/``Last-Modified`` makes every warm lock fetch every page
again; keyed by what the page *said* (its content type and body), the work of
reading it is still done once: an unchanged page costs a fetch and a hash. The key
holds no URL, so two indexes serving the same bytes share the entry, which is safe:
a compact page holds the page's own words, not records checked for one index (each
row is checked, and its link resolved against the page that was fetched, when read).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lockgen.core.limits import LISTING_LIMIT
from lockgen.store.entry import BadEntryError, digest, get_str, load, store

if TYPE_CHECKING:
    from pathlib import Path

    from lockgen.core.compact_page import CompactPage

__all__ = ["ListingStore", "listing_key"]


#: The compact form's format, part of every key: a lockgen that writes another
#: format never reads this one's entries (nor they its), whatever they share.
_FORMAT = b"entries-1"


def listing_key(content_type: str, body_digest: str) -> str:
    """The key of the compact form of a page with this content type and a body of
    this sha256 (hex)."""
    return digest(b"\0".join((_FORMAT, content_type.encode(), body_digest.encode())))


class ListingStore:
    """The compact pages under ``base`` (``ROOT/v1``); best effort like every entry."""

    def __init__(self, base: Path) -> None:
        self._listings = base / "listings"
        self._listings_tmp = base / "tmp"

    def get_listing(self, key: str) -> CompactPage | None:
        """The compact page stored under ``key``, or ``None`` if absent or bad."""
        # imported on use: an up-to-date re-lock opens the cache and reads no page
        from lockgen.core.compact_page import CompactPage

        def build(header: dict[str, object], payload: bytes) -> CompactPage:
            if get_str(header, "key") != key:
                raise BadEntryError("entry is for another key")
            line, newline, blob = payload.partition(b"\n")
            try:
                spans = json.loads(line) if newline else None
            except (ValueError, RecursionError):
                spans = None
            compact = CompactPage.checked(spans, blob)
            if compact is None:
                raise BadEntryError("no spans, or spans outside the rows")
            return compact

        return load(self._listing_path(key), build, LISTING_LIMIT)

    def put_listing(self, key: str, compact: CompactPage) -> None:
        """Store ``compact`` under ``key`` (best effort: disk errors are ignored).

        The payload is the spans as one JSON line, then the rows: a project with
        thousands of versions has more spans than an entry's header may hold.
        """
        line = json.dumps(compact.span_list(), separators=(",", ":")).encode()
        payload = (line + b"\n", compact.blob)  # the rows are not copied to join them
        if len(payload[0]) + len(compact.blob) <= LISTING_LIMIT:
            store(self._listings_tmp, self._listing_path(key), {"key": key}, payload)

    def _listing_path(self, key: str) -> Path:
        return self._listings / key
