"""Credential scoping and the keyring command, as pip calls it (a real subprocess)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockgen.core.errors import LockgenError
from lockgen.net.access import Netrc, Network, Secret
from lockgen.net.credentials import Credentials, keyring_credential
from tests.support.fake_keyring import FakeKeyring

ALICE = Secret("alice", "s3cret").header()
NETRC = Netrc(hosts={"repo.invalid": Secret("nina", "from-netrc")})
NINA = Secret("nina", "from-netrc").header()


class TestScoping:
    def test_url_credentials_stay_on_their_origin(self) -> None:
        creds = Credentials(Network(), ["https://alice:s3cret@repo.invalid/simple/"])
        assert creds.header("https://repo.invalid/files/x.whl") == ALICE
        assert creds.header("https://repo.invalid:8443/simple/") is None
        assert creds.header("http://repo.invalid/simple/") is None
        assert creds.header("https://other.invalid/simple/") is None

    def test_two_repositories_on_one_origin_keep_their_own(self) -> None:
        creds = Credentials(
            Network(),
            [
                "https://alice:s3cret@repo.invalid/api/team-a/simple/",
                "https://bob:other@repo.invalid/api/team-b/simple",
            ],
        )
        bob = Secret("bob", "other").header()
        assert creds.header("https://repo.invalid/api/team-a/simple/x/") == ALICE
        assert creds.header("https://repo.invalid/api/team-b/simple/x/") == bob
        assert creds.header("https://repo.invalid/api/team-b/files/x.whl") == bob
        assert creds.header("https://repo.invalid/cdn/x.whl") == ALICE  # tie: first

    def test_http_index_url_credentials_go_to_that_http_origin(self) -> None:
        creds = Credentials(Network(), ["http://alice:s3cret@repo.invalid:8080/"])
        assert creds.header("http://repo.invalid:8080/simple/x/") == ALICE
        assert creds.header("http://repo.invalid/simple/x/") is None

    def test_netrc_over_https_for_any_port(self) -> None:
        creds = Credentials(Network(netrc=NETRC))
        assert creds.header("https://repo.invalid/simple/") == NINA
        assert creds.header("https://repo.invalid:8443/simple/") == NINA
        assert creds.header("https://other.invalid/simple/") is None

    def test_netrc_never_over_plain_http_unless_an_index_is_there(self) -> None:
        creds = Credentials(Network(netrc=NETRC), ["https://repo.invalid/simple/"])
        assert creds.header("http://repo.invalid/files/x.whl") is None
        http_index = Credentials(Network(netrc=NETRC), ["http://repo.invalid/simple/"])
        assert http_index.header("http://repo.invalid/files/x.whl") == NINA
        assert http_index.header("http://repo.invalid:81/files/x.whl") is None

    def test_url_credentials_win_over_netrc(self) -> None:
        creds = Credentials(
            Network(netrc=NETRC), ["https://alice:s3cret@repo.invalid/simple/"]
        )
        assert creds.header("https://repo.invalid/simple/") == ALICE

    def test_user_without_password_takes_netrc_only_for_that_user(self) -> None:
        creds = Credentials(Network(netrc=NETRC), ["https://nina@repo.invalid/s/"])
        assert creds.header("https://repo.invalid/s/x/") == NINA
        other = Credentials(Network(netrc=NETRC), ["https://bob@repo.invalid/s/"])
        assert other.header("https://repo.invalid/s/x/") == Secret("bob", "").header()

    def test_redirected_401_is_retried_with_that_origins_credentials(self) -> None:
        creds = Credentials(Network(netrc=NETRC), ["https://mirror.invalid/simple/"])
        url = "https://repo.invalid/files/x.whl"  # reached by a redirect: nothing sent
        assert creds.after_401(url, None) == NINA
        assert creds.after_401(url, NINA) is None

    def test_no_keyring_means_no_retry(self) -> None:
        creds = Credentials(Network(), ["https://repo.invalid/simple/"])
        assert creds.after_401("https://repo.invalid/simple/x/", None) is None


class TestKeyring:
    @pytest.fixture
    def fake(self, tmp_path: Path) -> FakeKeyring:
        return FakeKeyring(tmp_path / "bin")

    def test_calling_convention_is_pips(self, fake: FakeKeyring) -> None:
        fake.store("https://repo.invalid/simple/", "kim", "from-keyring")
        found = keyring_credential(
            str(fake.path), "https://repo.invalid/simple/", None, os.environ
        )
        assert found == Secret("kim", "from-keyring")
        assert (
            keyring_credential(str(fake.path), "repo.invalid", "kim", os.environ)
            is None
        )
        assert fake.calls == [
            ["--mode=creds", "--output=json", "get", "https://repo.invalid/simple/"],
            ["--mode=creds", "--output=json", "get", "repo.invalid", "kim"],
        ]

    def test_asked_after_401_for_index_url_then_host_port(
        self, fake: FakeKeyring
    ) -> None:
        fake.store("repo.invalid:8443", "kim", "from-keyring")
        network = Network(keyring=str(fake.path), keyring_environ=os.environ)
        creds = Credentials(network, ["https://repo.invalid:8443/a/simple/"])
        url = "https://repo.invalid:8443/a/simple/demo/"
        assert creds.header(url) is None
        assert fake.calls == []  # nothing asked before a 401 when no user is known
        retry = creds.after_401(url, None)
        assert retry == Secret("kim", "from-keyring").header()
        assert [call[3:] for call in fake.calls] == [
            ["https://repo.invalid:8443/a/simple/"],
            ["repo.invalid:8443"],
        ]
        assert creds.header("https://repo.invalid:8443/files/x.whl") == retry
        assert creds.after_401(url, retry) is None  # asked once per origin
        assert len(fake.calls) == 2

    def test_known_user_asks_before_the_first_request(self, fake: FakeKeyring) -> None:
        fake.store("https://repo.invalid/simple/", "kim", "from-keyring")
        network = Network(keyring=str(fake.path), keyring_environ=os.environ)
        creds = Credentials(network, ["https://kim@repo.invalid/simple/"])
        header = creds.header("https://repo.invalid/simple/demo/")
        assert header == Secret("kim", "from-keyring").header()
        assert fake.calls == [
            [
                "--mode=creds",
                "--output=json",
                "get",
                "https://repo.invalid/simple/",
                "kim",
            ]
        ]

    def test_url_credentials_are_final(self, fake: FakeKeyring) -> None:
        network = Network(keyring=str(fake.path), keyring_environ=os.environ)
        creds = Credentials(network, ["https://alice:s3cret@repo.invalid/simple/"])
        assert creds.after_401("https://repo.invalid/simple/x/", ALICE) is None
        assert fake.calls == []

    def test_keyring_never_answers_for_plain_http_elsewhere(
        self, fake: FakeKeyring
    ) -> None:
        fake.store("repo.invalid", "kim", "from-keyring")
        creds = Credentials(
            Network(keyring=str(fake.path), keyring_environ=os.environ),
            ["https://repo.invalid/"],
        )
        assert creds.after_401("http://repo.invalid/x", None) is None
        assert fake.calls == []

    def test_old_keyring_is_one_clear_error(self, tmp_path: Path) -> None:
        old = FakeKeyring(tmp_path / "old", old=True)
        with pytest.raises(LockgenError, match=r"keyring 25\.2\.1 or newer"):
            keyring_credential(str(old.path), "repo.invalid", None, os.environ)
