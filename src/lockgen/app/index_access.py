"""The indexes as one run reads them: one HTTP client holding the indexes'
credentials, and the cached :class:`~lockgen.net.index.IndexClient` over it in the
run's cache mode (``--offline``, ``--refresh`` or normal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgen.app.builds import Builds
from lockgen.net.index import CacheMode, IndexClient

if TYPE_CHECKING:
    from lockgen.app.inputs import Inputs
    from lockgen.app.lock import LockOptions, Progress
    from lockgen.app.services import Services
    from lockgen.net.transport import HttpClient

__all__ = ["open_index"]


def open_index(
    options: LockOptions, inputs: Inputs, progress: Progress, services: Services
) -> tuple[HttpClient, IndexClient, Builds]:
    """One connection pool (with the indexes' credentials), the cached index, and
    the builds it may run for sdists' metadata."""
    client = services.open_client(
        maxsize=options.jobs + 1, indexes=inputs.given_indexes
    )
    mode = CacheMode.NORMAL
    if options.offline:
        mode = CacheMode.OFFLINE
    elif options.refresh:
        mode = CacheMode.REFRESH
    builds = Builds(
        no_build=options.no_build,
        no_build_packages=options.no_build_packages,
        timeout=options.build_timeout,
        cache=services.cache,
        target=inputs.target,
        on_event=progress.detail,
    )
    repository = IndexClient(
        client,
        inputs.indexes,
        cache=services.cache,
        mode=mode,
        on_event=progress.detail,
        find_links=inputs.find_links,
        builds=builds,
    )
    builds.attach(repository)
    return client, repository, builds
