"""Private indexes as companies run them: TLS with a company CA, client certificates,
proxies, netrc and keyring, through the CLI against real servers on loopback.

The CA and certificates are made per test session with trustme (a real CA, real
certificates for 127.0.0.1, no network); the keyring is a real executable on PATH.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.fake_keyring import FakeKeyring
from tests.support.index_server import IndexServer
from tests.support.lockcheck import check_lock
from tests.support.pki import Pki, make_pki
from tests.support.proxy import Proxy
from tests.support.wheels import Dist, make_wheel

Run = Callable[..., Result]
SECRET = "s3cr3t-token"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _dists() -> list[Dist]:
    return [
        make_wheel("demo-a", "1.0", requires_dist=["demo-b"]),
        make_wheel("demo-b", "1.0"),
    ]


def _lock(lockgen: Run, tmp_path: Path, index: str, *args: str) -> Result:
    (tmp_path / "r.in").write_text("demo-a\n")
    return lockgen("lock", "r.in", "-i", index, *args)


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _no_secret_on_disk(folder: Path, secret: str) -> None:
    """Nothing under ``folder`` (lock, cache, wheelhouse) holds ``secret``."""
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in (".netrc", "store.json"):
            assert secret.encode() not in path.read_bytes(), path


def _locked_ok(result: Result, tmp_path: Path) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return check_lock(tmp_path / "pylock.toml")


class TestCertificates:
    @pytest.fixture
    def server(self, make_server: ServerFactory, pki: Pki) -> IndexServer:
        return make_server(_dists(), tls=pki.server_context())

    def test_untrusted_ca_is_one_clear_line(
        self, server: IndexServer, lockgen: Run, tmp_path: Path
    ) -> None:
        line = _one_error_line(_lock(lockgen, tmp_path, server.index_url))
        assert "TLS certificate not trusted" in line and "--cert" in line
        assert server.index_url in line
        assert not (tmp_path / "pylock.toml").exists()

    def test_cert_flag(
        self, server: IndexServer, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
        lock = _locked_ok(result, tmp_path)
        assert {p["index"] for p in lock["packages"]} == {server.index_url}

    @pytest.mark.parametrize(
        "variable",
        ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT"],
    )
    def test_environment_variables(
        self,
        server: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
        variable: str,
    ) -> None:
        monkeypatch.setenv(variable, pki.bundle)
        _locked_ok(_lock(lockgen, tmp_path, server.index_url), tmp_path)

    def test_pip_config_cert(
        self,
        server: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\ncert = {pki.bundle}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
        _locked_ok(_lock(lockgen, tmp_path, server.index_url), tmp_path)

    def test_flag_beats_environment(
        self,
        server: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.other_bundle)
        monkeypatch.setenv("SSL_CERT_FILE", pki.other_bundle)
        assert _lock(lockgen, tmp_path, server.index_url).exit_code == 1
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
        _locked_ok(result, tmp_path)

    def test_certificate_for_another_host_is_refused(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        pki.ca.issue_cert("other.example.invalid").configure_cert(context)
        server = make_server(_dists(), tls=context)
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
        line = _one_error_line(result)
        assert "TLS certificate rejected (IP address mismatch" in line

    def test_missing_bundle_is_one_line(
        self, server: IndexServer, lockgen: Run, tmp_path: Path
    ) -> None:
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", "nope.pem")
        assert _one_error_line(result) == "error: nope.pem (from --cert) does not exist"

    def test_required_client_certificate(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        server = make_server(_dists(), tls=pki.server_context(require_client_cert=True))
        without = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
        assert "--client-cert PATH" in _one_error_line(without)
        assert server.tls_errors  # the server refused the handshake
        result = _lock(
            lockgen,
            tmp_path,
            server.index_url,
            "--cert",
            pki.bundle,
            "--client-cert",
            pki.client_pem,
        )
        _locked_ok(result, tmp_path)

    def test_client_cert_without_key_is_one_line(
        self, server: IndexServer, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        result = _lock(lockgen, tmp_path, server.index_url, "--client-cert", pki.bundle)
        line = _one_error_line(result)
        assert line.startswith(f"error: client certificate {pki.bundle}: not a PEM")

    def test_a_cert_file_with_no_certificate_is_one_line(
        self, server: IndexServer, lockgen: Run, tmp_path: Path
    ) -> None:
        """Not a PEM bundle at all: ssl's error carries its reason as a string,
        which used to end in a traceback."""
        bundle = tmp_path / "bundle.pem"
        bundle.write_text("not a certificate\n")
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", str(bundle))
        line = _one_error_line(result)
        assert line.startswith(f"error: CA bundle {bundle}: not usable")

    def test_hydrate_with_cert(
        self, server: IndexServer, lockgen: Run, tmp_path: Path, pki: Pki
    ) -> None:
        _locked_ok(
            _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle), tmp_path
        )
        failed = lockgen("hydrate", "-d", "wh")
        assert failed.exit_code == 1 and "TLS certificate not trusted" in failed.stderr
        result = lockgen("hydrate", "-d", "wh", "--cert", pki.bundle)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == [
            "demo_a-1.0-py3-none-any.whl",
            "demo_b-1.0-py3-none-any.whl",
        ]


class TestProxies:
    def test_https_index_through_a_connect_proxy(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_dists(), tls=pki.server_context())
        host = server.url.removeprefix("https://")
        with Proxy() as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            result = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
            _locked_ok(result, tmp_path)
            assert proxy.seen and {(s.method, s.target) for s in proxy.seen} == {
                ("CONNECT", host)
            }
        assert server.requests

    def test_hydrate_through_the_proxy(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_dists(), tls=pki.server_context())
        result = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
        _locked_ok(result, tmp_path)
        with Proxy() as proxy:
            monkeypatch.setenv("https_proxy", proxy.url)
            hydrated = lockgen(
                "hydrate", "-d", "wh", "--no-cache", "--cert", pki.bundle
            )
            assert hydrated.exit_code == 0, hydrated.output
            assert proxy.seen
        assert len(list((tmp_path / "wh").iterdir())) == 2

    def test_http_index_through_a_forwarding_proxy(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_dists())
        with Proxy() as proxy:
            monkeypatch.setenv("http_proxy", proxy.url)
            _locked_ok(_lock(lockgen, tmp_path, server.index_url), tmp_path)
            assert proxy.seen
            assert all(s.target.startswith(server.url + "/") for s in proxy.seen)
        # the index saw absolute-form request targets: they came through the proxy
        assert all(r.path.startswith(server.url + "/") for r in server.requests)

    def test_no_proxy_bypasses_it(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_dists())
        with Proxy() as proxy:
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            monkeypatch.setenv("NO_PROXY", "example.invalid,127.0.0.1")
            _locked_ok(_lock(lockgen, tmp_path, server.index_url), tmp_path)
            assert proxy.seen == []
        assert all(r.path.startswith("/") for r in server.requests)

    def test_proxy_credentials_are_used_and_never_printed(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_dists(), tls=pki.server_context())
        with Proxy(auth=("builder", "proxy-pw")) as proxy:
            address = proxy.url.removeprefix("http://")
            monkeypatch.setenv("HTTPS_PROXY", f"http://builder:wrong-pw@{address}")
            failed = _lock(lockgen, tmp_path, server.index_url, "--cert", pki.bundle)
            line = _one_error_line(failed)
            assert "407" in line and "wrong-pw" not in failed.output
            monkeypatch.setenv("HTTPS_PROXY", f"http://builder:proxy-pw@{address}")
            result = _lock(
                lockgen, tmp_path, server.index_url, "--cert", pki.bundle, "-v"
            )
            _locked_ok(result, tmp_path)
            assert "proxy-pw" not in result.output
            assert proxy.seen[-1].authorization == proxy.token
        assert "proxy-pw" not in (tmp_path / "pylock.toml").read_text()
        # the index never saw the proxy's credentials
        assert all("proxy-authorization" not in r.headers for r in server.requests)


class TestNetrc:
    @pytest.fixture
    def server(self, make_server: ServerFactory) -> IndexServer:
        return make_server(_dists(), auth=("alice", SECRET))

    def test_home_netrc(
        self, server: IndexServer, lockgen: Run, tmp_path: Path
    ) -> None:
        (tmp_path / ".netrc").write_text(
            f"machine 127.0.0.1 login alice password {SECRET}\n"
        )
        result = _lock(lockgen, tmp_path, server.index_url, "-v")
        _locked_ok(result, tmp_path)
        assert all(r.status != 401 for r in server.requests)
        assert SECRET not in result.output
        assert SECRET not in (tmp_path / "pylock.toml").read_text()
        hydrated = lockgen("hydrate", "-d", "wh")
        assert hydrated.exit_code == 0, hydrated.output
        _no_secret_on_disk(tmp_path, SECRET)

    def test_netrc_variable(
        self,
        server: IndexServer,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        other = tmp_path / "conf" / "netrc"
        other.parent.mkdir()
        other.write_text(f"default login alice password {SECRET}\n")
        assert _lock(lockgen, tmp_path, server.index_url).exit_code == 1
        monkeypatch.setenv("NETRC", str(other))
        _locked_ok(_lock(lockgen, tmp_path, server.index_url), tmp_path)

    def test_malformed_netrc_warns_in_one_line(
        self, server: IndexServer, lockgen: Run, tmp_path: Path
    ) -> None:
        (tmp_path / ".netrc").write_text(f"machine 127.0.0.1 login alice pw {SECRET}\n")
        result = _lock(lockgen, tmp_path, server.index_url)
        assert result.exit_code == 1
        warning, error = result.stderr.strip().splitlines()
        assert warning == (
            f"warning: {tmp_path / '.netrc'}: malformed netrc (line 1); ignoring it"
        )
        assert error.startswith("error: HTTP 401 Unauthorized")
        assert SECRET not in result.output


class TestKeyring:
    @pytest.fixture
    def keyring(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKeyring:
        fake = FakeKeyring(tmp_path / "bin")
        monkeypatch.setenv("PATH", f"{fake.folder}{os.pathsep}{os.environ['PATH']}")
        return fake

    def test_asked_on_401_only_when_enabled(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        keyring: FakeKeyring,
    ) -> None:
        server = make_server(_dists(), auth=("kim", SECRET))
        keyring.store(server.url.removeprefix("http://"), "kim", SECRET)
        assert _lock(lockgen, tmp_path, server.index_url).exit_code == 1
        assert keyring.calls == []  # disabled by default
        result = _lock(
            lockgen, tmp_path, server.index_url, "--keyring-provider", "subprocess"
        )
        _locked_ok(result, tmp_path)
        assert keyring.calls == [
            ["--mode=creds", "--output=json", "get", server.index_url],
            [
                "--mode=creds",
                "--output=json",
                "get",
                server.url.removeprefix("http://"),
            ],
        ]
        assert SECRET not in result.output

    def test_hydrate_asks_the_keyring(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        keyring: FakeKeyring,
    ) -> None:
        server = make_server(_dists(), auth=("kim", SECRET))
        keyring.store(server.index_url, "kim", SECRET)
        url = server.index_url.replace("http://", f"http://kim:{SECRET}@")
        _locked_ok(_lock(lockgen, tmp_path, url), tmp_path)
        assert keyring.calls == []
        result = lockgen("hydrate", "-d", "wh", "--keyring-provider", "subprocess")
        assert result.exit_code == 0, result.output
        _no_secret_on_disk(tmp_path, SECRET)
        assert keyring.calls == [
            ["--mode=creds", "--output=json", "get", server.index_url]
        ]

    def test_user_in_url_is_passed_and_asked_first(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        keyring: FakeKeyring,
    ) -> None:
        server = make_server(_dists(), auth=("kim", SECRET))
        keyring.store(server.index_url, "kim", SECRET)
        url = server.index_url.replace("http://", "http://kim@")
        result = _lock(lockgen, tmp_path, url, "--keyring-provider", "subprocess")
        _locked_ok(result, tmp_path)
        assert keyring.calls == [
            ["--mode=creds", "--output=json", "get", server.index_url, "kim"]
        ]
        assert all(r.status != 401 for r in server.requests)
