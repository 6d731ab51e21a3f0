"""How much untrusted input of each kind lockgen reads before it refuses the rest.

One place for the bounds several layers share: the network layer stops reading a
response at them, and the cache refuses an entry longer than the response it could
have stored, so a planted entry costs no more memory than a hostile server could.
"""

from __future__ import annotations

__all__ = [
    "LISTING_LIMIT",
    "METADATA_LIMIT",
    "PAGE_LIMIT",
    "RESOLUTION_LIMIT",
    "SDIST_MEMBERS",
]

#: The largest index page lockgen reads (decoded): the biggest real JSON pages, of
#: projects with thousands of files, are a few MiB.
PAGE_LIMIT = 64 * 1024 * 1024
#: Larger METADATA / PKG-INFO / ``.metadata`` files are refused rather than read into
#: memory: real ones are a few KiB, the largest seen under 1 MiB.
METADATA_LIMIT = 16 * 1024 * 1024
#: A page in its compact form (:mod:`lockgen.core.compact_page`) is smaller than the
#: page for JSON, and for HTML at most its links made absolute: twice a page's limit.
LISTING_LIMIT = 2 * PAGE_LIMIT
#: A recorded resolution (:mod:`lockgen.store.resolutions`): a lock's text and a line
#: per page it read. The largest real locks are under 1 MiB.
RESOLUTION_LIMIT = 32 * 1024 * 1024
#: The most members an sdist may hold (counted as they are read, so a million empty
#: tar headers cost what a hundred thousand do): real ones have a few thousand.
SDIST_MEMBERS = 100_000
