"""Redirects from an https index: never down to plain http, never with credentials
to another origin; through the CLI against real HTTPS and HTTP servers on loopback.

The https server answers a 302 naming a second server; the second server's request
log shows what reached it (nothing, for a downgrade).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.pki import Pki, make_pki
from tests.support.wheels import Dist, make_wheel

Run = Callable[..., Result]
SECRET = "s3cr3t-token"
APP = "app-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _dists() -> list[Dist]:
    return [make_wheel("app", "1.0")]


@pytest.fixture
def plain(make_server: ServerFactory) -> IndexServer:
    """The http server a downgrade would reach: it must see no request."""
    return make_server(_dists())


def _lock(lockgen: Run, tmp_path: Path, index: str, pki: Pki, *args: str) -> Result:
    (tmp_path / "r.in").write_text("app\n")
    return lockgen("lock", "r.in", "-i", index, "--cert", pki.bundle, *args)


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _refusal(secure: IndexServer, plain: IndexServer, path: str) -> str:
    return f"refusing redirect from {secure.url}{path} to insecure {plain.url}{path}"


class TestNoDowngrade:
    """An https URL redirected to http is an error, whatever was being fetched."""

    @pytest.mark.parametrize(
        ("path", "options"),
        [
            ("/simple/app/", {}),
            (f"/files/{APP}.metadata", {}),
            (f"/files/{APP}", {"pep658": False}),  # the range reads of a wheel
        ],
        ids=["page", "metadata", "range-read"],
    )
    def test_lock(
        self,
        make_server: ServerFactory,
        plain: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        path: str,
        options: dict[str, bool],
    ) -> None:
        secure = make_server(_dists(), tls=pki.server_context(), **options)
        secure.redirects[path] = plain.url + path
        result = _lock(lockgen, tmp_path, secure.index_url, pki)
        assert _one_error_line(result) == "error: " + _refusal(secure, plain, path)
        assert plain.requests == []
        assert not (tmp_path / "pylock.toml").exists()

    def test_hydrate(
        self,
        make_server: ServerFactory,
        plain: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
    ) -> None:
        secure = make_server(_dists(), tls=pki.server_context())
        assert _lock(lockgen, tmp_path, secure.index_url, pki).exit_code == 0
        path = f"/files/{APP}"
        secure.redirects[path] = plain.url + path
        secure.clear_log()
        result = lockgen("hydrate", "-d", "wh", "--no-cache", "--cert", pki.bundle)
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-2:] == [
            "error: 1 of 1 files failed",
            f"  {APP}: {_refusal(secure, plain, path)}",
        ]
        assert plain.requests == []
        assert [r.path for r in secure.requests] == [path]  # final: not retried
        assert list((tmp_path / "wh").iterdir()) == []


class TestCredentialsAcrossRedirects:
    def test_not_sent_to_another_origin(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        index = make_server(_dists(), tls=pki.server_context(), auth=("al", SECRET))
        other = make_server(_dists(), tls=pki.server_context())  # another port
        path = f"/files/{APP}.metadata"
        index.redirects[path] = other.url + path
        url = index.index_url.replace("https://", f"https://al:{SECRET}@")
        result = _lock(lockgen, tmp_path, url, pki)
        assert result.exit_code == 0, result.output
        assert [r.path for r in other.requests] == [path]
        assert all("authorization" not in r.headers for r in other.requests)
        assert all("authorization" in r.headers for r in index.requests)

    def test_credentials_in_a_location_are_never_shown(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        index = make_server(_dists(), tls=pki.server_context())
        other = make_server(_dists(), tls=pki.server_context())
        path = f"/files/{APP}.metadata"
        other.fail[path] = [403]
        authority = other.url.removeprefix("https://")
        index.redirects[path] = f"https://mallory:{SECRET}@{authority}{path}"
        result = _lock(lockgen, tmp_path, index.index_url, pki)
        assert _one_error_line(result) == f"error: HTTP 403 ({other.url}{path})"
        assert SECRET not in result.output
