"""Tests for lockgen.core.urls: the one place that says what a URL's credentials are,
whether it is local, and whether a cache may key on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.core.urls import (
    has_userinfo,
    is_local,
    is_plain_http,
    local_path,
    strip_credentials,
)


class TestStripCredentials:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://h/x", ("https://h/x", None)),
            ("https://u:p@h/x", ("https://h/x", ("u", "p"))),
            ("https://token@h/x", ("https://h/x", ("token", ""))),
            ("https://u:p%40ss%3Aw@h/x", ("https://h/x", ("u", "p@ss:w"))),
            (
                "https://us%20er:p@h:8443/x?q=1#f",
                ("https://h:8443/x?q=1#f", ("us er", "p")),
            ),
            ("https://u:p@w@h/x", ("https://h/x", ("u", "p@w"))),
            ("https://u:p@[::1]:8080/", ("https://[::1]:8080/", ("u", "p"))),
            ("https://h/a%2Fb/x@y", ("https://h/a%2Fb/x@y", None)),
            ("/relative/path", ("/relative/path", None)),
        ],
    )
    def test_cases(
        self, url: str, expected: tuple[str, tuple[str, str] | None]
    ) -> None:
        assert strip_credentials(url) == expected

    def test_rest_of_url_is_untouched(self) -> None:
        url = "HTTPS://u:p@Host.Example/a%2fb?x=%20#"
        assert strip_credentials(url)[0] == "HTTPS://Host.Example/a%2fb?x=%20#"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/x", False),
        ("https://u:p@h/x", True),
        ("https://token@h/x", True),
        ("https://h/a@b", False),
        ("http://[::1", True),  # unparsable: treated as carrying a secret
    ],
)
def test_has_userinfo(url: str, expected: bool) -> None:
    assert has_userinfo(url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/x", True),
        ("HTTP://h/x", True),
        ("https://u:p@h/x", False),
        ("file:///tmp/x.whl", False),
        ("ftp://h/x", False),
        ("http://[::1", False),
    ],
)
def test_is_plain_http(url: str, expected: bool) -> None:
    assert is_plain_http(url) is expected


def test_local_urls_are_read_from_their_decoded_path(tmp_path: Path) -> None:
    url = (tmp_path / "a b.whl").as_uri()
    assert is_local(url)
    assert not is_local("https://h/a%20b.whl")
    assert local_path(url) == tmp_path / "a b.whl"
