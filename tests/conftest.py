"""Fixtures shared by the whole suite: hermetic environment, index servers, CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lockgen.cli.main import main
from tests.support.index_server import IndexServer
from tests.support.wheels import Dist


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the machine's pip configuration (files or ``PIP_*`` settings), a
    configured index, a shared cache, its ~/.netrc, proxies or CA settings: each test
    starts with its own empty cache directory and an empty home. A failed request is
    retried at once (lockgen's internal ``_LOCKGEN_RETRY_BACKOFF``): the retries are
    what tests count, the sleeps between them only cost time."""
    monkeypatch.setenv("_LOCKGEN_RETRY_BACKOFF", "0")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in _MACHINE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


_MACHINE_SETTINGS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "NETRC",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "REQUEST_METHOD",
)


ServerFactory = Callable[..., IndexServer]


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    """Start index servers on 127.0.0.1 (fresh per test), stopped at teardown."""
    servers: list[IndexServer] = []

    def factory(
        dists: list[Dist] | tuple[Dist, ...] = (), **options: Any
    ) -> IndexServer:
        server = IndexServer(dists, **options).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def lockgen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in ``tmp_path`` (the current directory) and return click's Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run
