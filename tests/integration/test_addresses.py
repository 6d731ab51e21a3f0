"""Each host is looked up once for all of a client's connections, however many open
at once (:mod:`lockgen.net.http_addresses`): the lookup is injected, the server and
the connections are real (127.0.0.1)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3

from lockgen.net.access import Network
from lockgen.net.http_addresses import Addresses, AddressInfo
from lockgen.net.http_pools import Pools, failure_reason
from tests.conftest import ServerFactory
from tests.support.wheels import make_wheel


class _Resolver:
    """A slow resolver that answers from the system's, counting what it is asked
    (or fails the first ``failures`` times, as a dropped query does)."""

    def __init__(self, failures: int = 0) -> None:
        self.asked: list[tuple[str, int]] = []
        self._failures = failures
        self._lock = threading.Lock()

    def __call__(
        self, host: str, port: int, family: int, kind: int
    ) -> Sequence[AddressInfo]:
        with self._lock:
            self.asked.append((host, port))
            failing = len(self.asked) <= self._failures
        time.sleep(0.05)  # long enough for every connection to be waiting on it
        if failing:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in resolution")
        return socket.getaddrinfo(host, port, family, kind)


def _pools(addresses: Addresses) -> Pools:
    return Pools(
        Network(), maxsize=16, retry=urllib3.Retry(0), timeout=5.0, addresses=addresses
    )


def _get(pools: Pools, url: str) -> int:
    response = pools.for_url(url).request("GET", url)
    return response.status


def test_connections_opening_at_once_share_one_lookup(
    make_server: ServerFactory,
) -> None:
    server = make_server([make_wheel("solo", "1.0")])
    port = int(server.url.rsplit(":", 1)[1])
    url = f"http://localhost:{port}/simple/solo/"
    resolver = _Resolver()
    pools = _pools(Addresses(resolver))
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda _: _get(pools, url), range(12)))
    assert statuses == [200] * 12
    assert resolver.asked == [("localhost", port)]
    assert _get(pools, url) == 200  # a later connection reuses it too
    assert resolver.asked == [("localhost", port)]


def test_a_failed_lookup_is_met_by_all_waiting_then_tried_again() -> None:
    resolver = _Resolver(failures=1)
    addresses = Addresses(resolver)
    errors: list[BaseException] = []
    together = threading.Barrier(8)  # all ask within the lookup's 50 ms

    def look() -> None:
        together.wait()
        try:
            addresses.of("localhost", 80)
        except socket.gaierror as exc:
            errors.append(exc)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 8 and len(resolver.asked) == 1  # one lookup, one failure
    assert addresses.of("localhost", 80)  # forgotten: looked up again, and found
    assert len(resolver.asked) == 2


def test_a_failed_lookup_reads_as_urllib3_says_it() -> None:
    pools = _pools(Addresses(_Resolver(failures=99)))
    url = "http://nowhere.invalid/simple/"
    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        _get(pools, url)
    reason = failure_reason(pools.for_url(url), caught.value)
    assert reason.endswith(
        "Failed to resolve 'nowhere.invalid' ([Errno -3] Temporary failure in "
        "resolution)"
    )


def test_an_address_that_fails_is_followed_by_the_next(
    make_server: ServerFactory,
) -> None:
    server = make_server([make_wheel("solo", "1.0")])
    port = int(server.url.rsplit(":", 1)[1])
    with socket.socket() as closed:  # a port nobody listens on once closed
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()[1]
    tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")

    unusable = (socket.AF_INET, socket.SOCK_STREAM, 9999, "")  # no such protocol

    def lookup(host: str, port_: int, family: int, kind: int) -> list[AddressInfo]:
        return [
            (*unusable, ("127.0.0.1", port)),  # no socket can be made for it
            (*tcp, ("127.0.0.1", refused)),
            (*tcp, ("127.0.0.1", port)),
        ]

    pools = _pools(Addresses(lookup))
    assert _get(pools, f"http://somewhere.invalid:{port}/simple/solo/") == 200
