"""The pure rules of reaching a private index: netrc, proxies, CA precedence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockgen.app.network import ca_bundle, resolve_network
from lockgen.core.errors import LockgenError
from lockgen.net.access import (
    Network,
    Origin,
    Secret,
    environ_proxies,
    netrc_path,
    proxy_for,
    read_netrc,
    split_proxy,
)
from tests.support.fake_keyring import FakeKeyring


class TestOrigin:
    @pytest.mark.parametrize(
        ("url", "origin"),
        [
            (
                "https://Host.Example.invalid/simple/",
                ("https", "host.example.invalid", 443),
            ),
            ("http://h.invalid/x", ("http", "h.invalid", 80)),
            ("https://u:p@h.invalid:8443/x", ("https", "h.invalid", 8443)),
            ("http://[::1]:8080/", ("http", "::1", 8080)),
        ],
    )
    def test_scheme_host_and_port(self, url: str, origin: tuple[str, str, int]) -> None:
        assert Origin.of(url) == origin

    def test_secret_repr_hides_the_password(self) -> None:
        secret = Secret("alice", "s3cret")
        assert "s3cret" not in repr(secret)
        assert "s3cret" not in repr(Network())
        assert secret.header() == "Basic YWxpY2U6czNjcmV0"


class TestNetrc:
    def test_home_netrc_then_underscore(self, tmp_path: Path) -> None:
        env = {"HOME": str(tmp_path)}
        assert netrc_path(env) is None
        (tmp_path / "_netrc").write_text("machine a login u password p\n")
        assert netrc_path(env) == tmp_path / "_netrc"
        (tmp_path / ".netrc").write_text("machine a login u password p\n")
        assert netrc_path(env) == tmp_path / ".netrc"

    def test_netrc_variable_replaces_home(self, tmp_path: Path) -> None:
        (tmp_path / ".netrc").write_text("machine a login u password p\n")
        other = tmp_path / "elsewhere"
        env = {"HOME": str(tmp_path), "NETRC": str(other)}
        assert netrc_path(env) is None  # as requests: NETRC alone is looked at
        other.write_text("machine a login u password p\n")
        assert netrc_path(env) == other

    def test_lookup_by_host_with_default_and_account(self, tmp_path: Path) -> None:
        path = tmp_path / "netrc"
        path.write_text(
            "machine Repo.Example.invalid login alice password one\n"
            "machine acct.invalid account bob password two\n"
            "default login anon password three\n"
        )
        parsed = read_netrc(path)
        assert parsed.lookup("repo.example.invalid") == Secret("alice", "one")
        assert parsed.lookup("acct.invalid") == Secret("bob", "two")
        assert parsed.lookup("other.invalid") == Secret("anon", "three")

    def test_malformed_file_names_the_line_not_the_secret(self, tmp_path: Path) -> None:
        path = tmp_path / "netrc"
        path.write_text("machine a login u password p\nmachine b lgn x\n")
        with pytest.raises(LockgenError) as caught:
            read_netrc(path)
        assert str(caught.value) == f"{path}: malformed netrc (line 2)"

    def test_malformed_netrc_is_a_warning(self, tmp_path: Path) -> None:
        (tmp_path / ".netrc").write_text("machine h login u passwrd hunter2 x\n")
        warnings: list[str] = []
        network = resolve_network(
            cert=None,
            client_cert=None,
            keyring_provider="disabled",
            environ={"HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull},
            warn=warnings.append,
        )
        assert network.netrc.lookup("h") is None
        assert len(warnings) == 1 and "malformed netrc" in warnings[0]
        assert "hunter2" not in warnings[0]


class TestProxies:
    def test_lowercase_wins_and_empty_lowercase_unsets(self) -> None:
        env = {
            "HTTPS_PROXY": "http://upper.invalid:1",
            "https_proxy": "http://lower.invalid:2",
            "HTTP_PROXY": "http://upper.invalid:3",
            "http_proxy": "",
            "NO_PROXY": "a.invalid",
        }
        assert environ_proxies(env) == {
            "https": "http://lower.invalid:2",
            "no": "a.invalid",
        }

    def test_cgi_ignores_uppercase_http_proxy(self) -> None:
        env = {"HTTP_PROXY": "http://p.invalid:1", "REQUEST_METHOD": "GET"}
        assert environ_proxies(env) == {}

    def test_scheme_then_all_and_default_scheme(self) -> None:
        proxies = {"https": "p.invalid:3128", "all": "http://all.invalid:1"}
        assert proxy_for("https://h.invalid/", proxies) == "http://p.invalid:3128"
        assert proxy_for("http://h.invalid/", proxies) == "http://all.invalid:1"
        assert proxy_for("file:///tmp/x", proxies) is None
        assert proxy_for("https://h.invalid/", {}) is None

    @pytest.mark.parametrize(
        ("url", "no_proxy", "bypassed"),
        [
            ("https://repo.corp.invalid/", "corp.invalid", True),
            ("https://repo.corp.invalid/", ".corp.invalid", True),
            ("https://corp.invalid/", "corp.invalid", True),
            ("https://notcorp.invalid/", "corp.invalid", False),
            ("https://h.invalid:8443/", "h.invalid:8443", True),
            ("https://h.invalid:8443/", "h.invalid:9999", False),
            ("https://H.INVALID/", " other.invalid , h.invalid ", True),
            ("https://10.1.2.3/", "10.0.0.0/8", True),
            ("https://11.1.2.3/", "10.0.0.0/8", False),
            ("http://127.0.0.1:8080/", "127.0.0.1", True),
            ("https://anything.invalid/", "*", True),
            ("https://h.invalid/", "", False),
        ],
    )
    def test_no_proxy(self, url: str, no_proxy: str, bypassed: bool) -> None:
        proxies = {"https": "http://p.invalid:1", "http": "http://p.invalid:1"}
        proxies["no"] = no_proxy
        assert (proxy_for(url, proxies) is None) is bypassed

    def test_split_proxy_keeps_credentials_out_of_the_url(self) -> None:
        clean, secret = split_proxy("http://user:p%40ss@p.invalid:3128")
        assert clean == "http://p.invalid:3128"
        assert secret == Secret("user", "p@ss")


class TestCertificates:
    @pytest.fixture
    def files(self, tmp_path: Path) -> dict[str, str]:
        names = ("flag", "pip-env", "pip-conf", "requests", "curl", "ssl")
        paths = {name: tmp_path / f"{name}.pem" for name in names}
        for path in paths.values():
            path.write_text("")
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\ncert = {paths['pip-conf']}\n")
        return {"conf": str(conf), **{k: str(v) for k, v in paths.items()}}

    def test_precedence(self, files: dict[str, str]) -> None:
        env = {
            "PIP_CONFIG_FILE": files["conf"],
            "PIP_CERT": files["pip-env"],
            "REQUESTS_CA_BUNDLE": files["requests"],
            "CURL_CA_BUNDLE": files["curl"],
            "SSL_CERT_FILE": files["ssl"],
        }
        assert ca_bundle(files["flag"], env) == files["flag"]
        order = ["pip-env", "pip-conf", "requests", "curl", "ssl"]
        variables = [
            "PIP_CERT",
            "PIP_CONFIG_FILE",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "SSL_CERT_FILE",
        ]
        for expected, variable in zip(order, variables, strict=True):
            assert ca_bundle(None, env) == files[expected]
            env[variable] = os.devnull if variable == "PIP_CONFIG_FILE" else ""
        assert ca_bundle(None, env) is None

    def test_missing_file_names_its_source(self, tmp_path: Path) -> None:
        missing = str(tmp_path / "nope.pem")
        with pytest.raises(LockgenError, match=r"nope.pem \(from --cert\) does not"):
            ca_bundle(missing, {})
        with pytest.raises(LockgenError, match=r"\(from SSL_CERT_FILE\)"):
            ca_bundle(None, {"SSL_CERT_FILE": missing, "PIP_CONFIG_FILE": os.devnull})

    def test_client_cert_from_flag_then_pip(self, files: dict[str, str]) -> None:
        env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CLIENT_CERT": files["pip-env"]}

        def client(flag: str | None) -> str | None:
            return resolve_network(
                cert=None,
                client_cert=flag,
                keyring_provider="disabled",
                environ=env,
                warn=pytest.fail,
            ).client_cert

        assert client(files["flag"]) == files["flag"]
        assert client(None) == files["pip-env"]


class TestKeyringProvider:
    def test_found_on_path_or_warned(self, tmp_path: Path) -> None:
        warnings: list[str] = []
        env = {"PATH": str(tmp_path / "bin"), "PIP_CONFIG_FILE": os.devnull}

        def keyring() -> str | None:
            return resolve_network(
                cert=None,
                client_cert=None,
                keyring_provider="subprocess",
                environ=env,
                warn=warnings.append,
            ).keyring

        assert keyring() is None
        assert warnings == [
            "--keyring-provider subprocess: no keyring command on PATH; ignored"
        ]
        fake = FakeKeyring(tmp_path / "bin")
        assert keyring() == str(fake.path)
