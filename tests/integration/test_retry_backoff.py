"""Retry waits are injectable: ``HttpClient(backoff=...)`` takes a factor or a
callable handed each wait, so tests and build tools can turn waiting off.

Waits are observed through a recording callable, never by the clock.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lockgen.net.download import fetch
from lockgen.net.transport import HttpClient
from tests.conftest import ServerFactory
from tests.support.wheels import artifact_of, make_wheel

_MiB = 1024 * 1024


def test_backoff_waits_go_through_the_callable(make_server: ServerFactory) -> None:
    """Three 503s then the page: the default schedule (none, 0.5 s, 1 s), handed to
    the callable instead of slept."""
    server = make_server([make_wheel("app", "1.0")])
    server.fail["/simple/app/"] = [503, 503, 503]
    waits: list[float] = []
    client = HttpClient(backoff=waits.append)
    response = client.get(f"{server.index_url}app/", None, limit=_MiB, what="a page")
    assert response.status == 200
    assert [r.status for r in server.requests] == [503, 503, 503, 200]
    assert waits == [0.5, 1.0]


def test_retry_after_goes_through_the_callable(make_server: ServerFactory) -> None:
    """A server's Retry-After (an hour, capped to the timeout) is waited the same way."""
    server = make_server([make_wheel("app", "1.0")])
    server.hostile["/simple/app/"] = "retry-after"
    waits: list[float] = []
    client = HttpClient(timeout=5.0, retries=2, backoff=waits.append)
    response = client.get(f"{server.index_url}app/", None, limit=_MiB, what="a page")
    assert response.status == 503
    assert len(server.requests) == 3
    assert waits == [5.0, 5.0]


def test_a_resumed_download_waits_through_the_same_callable(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """hydrate's own retry (a connection dropped mid-body, resumed by Range) waits
    as the client's retries do, so a zero or recording backoff covers it too."""
    dist = make_wheel("cut", "1.0", padding=400_000)
    server = make_server([dist])
    server.reset_once.add(dist.filename)
    artifact = artifact_of(dist, f"{server.url}/files/{dist.filename}")
    waits: list[float] = []
    fetched = fetch(
        HttpClient(backoff=waits.append),
        artifact,
        tmp_path,
        on_bytes=lambda _: None,
        cancelled=threading.Event(),
    )
    assert fetched.status == "fetched"
    assert [r.status for r in server.requests] == [200, 206]
    assert waits == [0.25]
