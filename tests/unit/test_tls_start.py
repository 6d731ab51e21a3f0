"""The TLS context built ahead of time (issue 10) behaves as the one built on demand:
same context, same one-line error for a bad CA bundle, raised at the first request."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from lockgen.app.services import Services
from lockgen.core.errors import LockgenError
from lockgen.net.access import Network
from lockgen.net.http_pools import start_tls
from lockgen.net.transport import HttpClient

URL = "https://127.0.0.1:9/simple/app/"  # never reached: the context fails first


def _first_request_error(client: HttpClient) -> str:
    with pytest.raises(LockgenError) as raised:
        client.get(URL, {}, limit=1, what="a page")
    return str(raised.value)


def test_a_bad_bundle_fails_in_the_same_words_early_or_late(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate\n")
    network = Network(ca_bundle=str(bundle))
    late = _first_request_error(HttpClient(network=network))
    early = _first_request_error(HttpClient(network=network, tls=start_tls(network)))
    assert early == late
    assert early.startswith(f"CA bundle {bundle}: not usable")


def test_the_services_start_one_context_and_hand_it_to_the_client() -> None:
    services = Services()
    services.start_tls()
    services.start_tls()  # once is enough
    (future,) = services._tls
    assert isinstance(future.result(timeout=30), ssl.SSLContext)
    client = services.open_client(maxsize=2, indexes=[])
    assert client._tls is future
