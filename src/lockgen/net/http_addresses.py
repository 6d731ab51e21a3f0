"""One address lookup per host for all of a client's connections, however many
open at once.

A cold lock opens up to ``-j + 1`` connections to its index at the same moment, and
urllib3 looks the host up again for each. A network that drops simultaneous DNS
queries (a known race in Linux NAT, which containers meet) makes some of those
lookups wait out the resolver's 5 s timeout. On this project's test machine, 98 of
320 lookups made 16 at a time took over 1 s, and 2 of 5 cold prefect locks at
``-j 32`` stalled for 5 s. So the first connection to a host looks it up, the
connections opening meanwhile wait for that answer, and later ones reuse it, for as
long as the client lives (one run). A failed lookup is met by those waiting for it
and then forgotten, so a retry looks up again.

:func:`connect` is what urllib3's own ``HTTPConnection._new_conn`` does, with the
lookup going through :class:`Addresses`; it raises the same urllib3 errors for the
same failures, so every message built from them is unchanged.
"""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util.connection import allowed_gai_family

from lockgen.core.singleflight import SingleFlight

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import urllib3.connection

__all__ = ["Addresses", "connect"]

#: One ``socket.getaddrinfo`` result: family, type, protocol, canonical name, address.
AddressInfo: TypeAlias = tuple[int, int, int, str, Any]
#: ``socket.getaddrinfo(host, port, family, type)``.
Lookup: TypeAlias = "Callable[[str, int, int, int], Sequence[AddressInfo]]"


class Addresses:
    """The addresses of each (host, port), looked up once (thread-safe)."""

    def __init__(self, lookup: Lookup = socket.getaddrinfo) -> None:
        self._lookup = lookup
        self._found: SingleFlight[tuple[str, int, int], Sequence[AddressInfo]] = (
            SingleFlight()
        )

    def of(self, host: str, port: int) -> Sequence[AddressInfo]:
        """The stream addresses of ``host`` (IPv6 ones too when the system has
        IPv6, as urllib3 asks), looked up now, awaited, or remembered."""
        key = (host, port, allowed_gai_family())
        try:
            return self._found.get(
                key, lambda: self._lookup(host, port, key[2], socket.SOCK_STREAM)
            )
        except OSError:
            self._found.forget_failure(key)
            raise


def connect(
    connection: urllib3.connection.HTTPConnection, addresses: Addresses
) -> socket.socket:
    """A socket connected to ``connection``'s host (or its proxy), trying each of
    its addresses in turn, with the connection's timeout and socket options."""
    host = connection._dns_host  # what urllib3 itself looks up
    if host.startswith("["):
        host = host.strip("[]")
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None
    try:
        sock = _open(connection, addresses.of(host, connection.port))
    except socket.gaierror as exc:
        raise NameResolutionError(connection.host, connection, exc) from exc
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            connection,
            f"Connection to {connection.host} timed out. "
            f"(connect timeout={connection.timeout})",
        ) from exc
    except OSError as exc:
        raise NewConnectionError(
            connection, f"Failed to establish a new connection: {exc}"
        ) from exc
    sys.audit("http.client.connect", connection, connection.host, connection.port)
    return sock


def _open(
    connection: urllib3.connection.HTTPConnection, found: Sequence[AddressInfo]
) -> socket.socket:
    """The first of ``found`` that accepts a connection; the last error if none."""
    error: OSError = OSError("getaddrinfo returns an empty list")
    for family, kind, protocol, _name, address in found:
        sock = None
        try:
            sock = socket.socket(family, kind, protocol)
            for option in connection.socket_options or ():
                sock.setsockopt(*option)
            timeout = connection.timeout
            if timeout is None or isinstance(timeout, (int, float)):
                sock.settimeout(timeout)  # else urllib3's "socket default" sentinel
            if connection.source_address:
                sock.bind(connection.source_address)
            sock.connect(address)
        except OSError as exc:  # this address will not do: the next may
            if sock is not None:
                sock.close()
            error = exc
        else:
            return sock
    raise error
