"""Fetch ahead of the resolver: index pages of newly named projects, and the metadata
of the candidate the resolver will most likely pick, on a bounded thread pool.

resolvelib asks one question at a time; without this, a cold lock would cost one
round trip per page and per metadata file, back to back. The prefetcher hears every
requirement as soon as the provider knows it, fetches that project's page, picks the
likely file with the provider's own selection policy and fetches its metadata; when
the resolver backtracks over a project, it also hears the next few candidates and
fetches their metadata together rather than one round trip at a time. It
never decides anything: the resolver still asks the index client, which is
single-flight, so it gets the prefetched answer (or waits for the request in flight)
and the result is identical to a serial run. Failures are left for the resolver to
meet, exactly where a serial run would.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from lockgen.resolver.values import PYTHON, UNUSABLE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.utils import NormalizedName

    from lockgen.core.models import DistFile
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.selection import Selector
    from lockgen.resolver.values import Req

__all__ = ["Prefetcher"]


class Prefetcher:
    """Speculative fetches for the resolver; call :meth:`close` when resolution ends."""

    def __init__(
        self,
        repository: Repository,
        selector: Selector,
        jobs: int,
        skip: frozenset[NormalizedName] = frozenset(),
    ) -> None:
        """``skip``: projects no index is asked about (the user's direct references)."""
        self._repository = repository
        self._skip = skip
        self._selector = selector
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="prefetch")
        self._seen: set[tuple[NormalizedName, str, frozenset[NormalizedName]]] = set()
        self._files: set[str] = set()
        self._lock = threading.Lock()

    def requirements(self, reqs: Sequence[Req]) -> None:
        """Requirements just learnt (from the resolver, or from a prefetched file)."""
        for req in reqs:
            key = (req.name, str(req.specifier), req.extras)
            with self._lock:
                skipped = req.name in (PYTHON, UNUSABLE) or req.name in self._skip
                if skipped or key in self._seen:
                    continue
                self._seen.add(key)
            try:
                self._pool.submit(self._fetch, req)
            except RuntimeError:  # closed: resolution is over
                return

    def _fetch(self, req: Req) -> None:
        """Page, likely file's metadata, then the same for its own dependencies.

        Following dependencies down the graph is what keeps many requests in flight:
        the resolver reaches a package only after its parent, one round trip each.
        """
        try:
            dist = self._selector.likely_file(req, self._repository)
            if dist is None:
                return
            metadata = self._repository.get_metadata(dist)
            deps = self._selector.requires(metadata, frozenset())
            if req.extras:
                deps += self._selector.requires(metadata, req.extras)
        except Exception:  # noqa: BLE001 - memoised; the resolver meets it if it matters
            return
        self.requirements(deps)

    def candidates(self, files: Sequence[DistFile]) -> None:
        """Metadata of candidates the resolver is about to try while backtracking."""
        for dist in files:
            with self._lock:
                if dist.url in self._files:
                    continue
                self._files.add(dist.url)
            try:
                self._pool.submit(self._fetch_metadata, dist)
            except RuntimeError:  # closed: resolution is over
                return

    def _fetch_metadata(self, dist: DistFile) -> None:
        try:
            metadata = self._repository.get_metadata(dist)
        except Exception:  # noqa: BLE001 - memoised; the resolver meets it if it matters
            return
        self.requirements(self._selector.requires(metadata, frozenset()))

    def close(self) -> None:
        """Drop speculative work not started yet and wait for what is running."""
        self._pool.shutdown(wait=True, cancel_futures=True)
