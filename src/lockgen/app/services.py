"""What a use case is handed instead of building it: the network settings its HTTP
client is made with, the cache, and the retry backoff.

The command line builds these from its flags and the environment (the one place the
environment is read); the public API from its arguments. A use case that built its own
would read globals, and a build tool or a test could not choose a cache or turn the
retry sleeps off. The client itself is made on demand (:meth:`Services.open_client`):
its credentials are scoped to index URLs only known once the inputs are read, and an
up-to-date lock must never load urllib3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lockgen.net.access import Network

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Sequence
    from concurrent.futures import Future

    from lockgen.net.transport import HttpClient
    from lockgen.store.cache import Cache

__all__ = ["DEFAULT_BACKOFF", "Services"]

#: Seconds before a failed request's first retry (then doubling, as urllib3 does).
DEFAULT_BACKOFF = 0.25


def _nothing() -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Services:
    """The I/O of one run: network settings, the cache (``None``: none), the
    seconds a failed request's first retry waits (0 in lockgen's tests) and the
    process settings a lock applies before resolving."""

    network: Network = field(default_factory=Network)
    cache: Cache | None = None
    backoff: float = DEFAULT_BACKOFF
    #: Called once a lock has to resolve: process-wide settings the command line
    #: applies then (:func:`lockgen.app.memory.tune_for_a_lock`); the API, running
    #: in a build tool's process, applies none.
    before_resolving: Callable[[], None] = _nothing
    #: The TLS context :meth:`start_tls` began building, for :meth:`open_client`.
    _tls: list[Future[ssl.SSLContext]] = field(
        default_factory=list, compare=False, repr=False
    )

    def start_tls(self) -> None:
        """Begin building the TLS context now, in the background (a run that will
        make https requests calls this before its heavy imports: see
        :func:`lockgen.net.http_pools.start_tls`)."""
        from lockgen.net.http_pools import start_tls

        if not self._tls:
            self._tls.append(start_tls(self.network))

    def open_client(self, *, maxsize: int, indexes: Sequence[str]) -> HttpClient:
        """One connection pool, holding the credentials of ``indexes`` (as given)."""
        from lockgen.net.credentials import Credentials
        from lockgen.net.transport import HttpClient

        return HttpClient(
            maxsize=maxsize,
            network=self.network,
            credentials=Credentials(self.network, indexes),
            backoff=self.backoff,
            tls=self._tls[0] if self._tls else None,
        )
