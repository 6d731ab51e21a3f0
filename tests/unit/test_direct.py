"""Direct references parsed: what a line names, credential-free, refused when unsafe."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from lockgen.core.direct import (
    DirectError,
    DirectKind,
    direct_from_requirement,
    parse_direct,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _parse(text: str, cwd: Path = Path("/nonexistent"), **kw: bool) -> object:
    return parse_direct(text, editable=kw.get("editable", False), cwd=cwd)


class TestUrls:
    def test_plain_requirements_are_not_direct(self) -> None:
        for text in ("requests", "requests[socks]>=2; python_version>'3'", "a==1.0"):
            assert _parse(text) is None

    def test_a_named_url_is_left_to_packaging(self) -> None:
        assert _parse("pkg @ https://h.example/pkg-1.0.tar.gz") is None

    def test_credentials_go_to_given_only(self) -> None:
        ref = parse_direct(
            "https://user:s3cret@h.example/p/pkg-1.0-py3-none-any.whl",
            editable=False,
            cwd=Path("/"),
        )
        assert ref is not None
        assert ref.url == "https://h.example/p/pkg-1.0-py3-none-any.whl"
        assert "s3cret" in ref.given
        assert "s3cret" not in ref.text

    @pytest.mark.parametrize("secret", ["pa#ss", "pa/ss", "pa?ss"])
    def test_an_unencoded_password_is_refused_unshown(self, secret: str) -> None:
        for text in (
            f"https://user:{secret}@h.example/pkg-1.0.tar.gz",
            f"git+https://user:{secret}@h.example/r.git#egg=a",
        ):
            with pytest.raises(DirectError) as caught:
                _parse(text)
            assert "percent-encode" in str(caught.value)
            assert secret not in str(caught.value)

    def test_fragment_fields(self) -> None:
        ref = parse_direct(
            f"https://h.example/pkg-1.0.tar.gz#sha256={'AB' * 32}&egg=pkg",
            editable=False,
            cwd=Path("/"),
        )
        assert ref is not None
        assert (ref.kind, ref.name, ref.sha256) == (
            DirectKind.ARCHIVE,
            "pkg",
            "ab" * 32,
        )

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("https://h.example/pkg-1.0.tar.gz#md5=abc", "only a #sha256= hash"),
            ("https://h.example/pkg-1.0.tar.gz#sha256=xyz", "not a sha256 hex digest"),
            ("https://h.example/download?id=3", "not a wheel or sdist URL"),
            ("ftp://h.example/pkg-1.0.tar.gz", "URL scheme 'ftp' is not supported"),
            ("https://h.example/pkg-1.0.tar.gz#subdirectory=x", "for VCS URLs only"),
            ("file://other-host/srv/pkg-1.0.tar.gz", "must name this machine"),
            ("https://[::1/pkg-1.0.tar.gz", "not a valid URL"),
        ],
    )
    def test_refused(self, text: str, reason: str) -> None:
        with pytest.raises(DirectError, match=reason):
            _parse(text)

    def test_a_url_marker_needs_a_space_before_the_semicolon(self) -> None:
        ref = parse_direct(
            "https://h.example/pkg-1.0.tar.gz ; python_version < '3'",
            editable=False,
            cwd=Path("/"),
        )
        assert ref is not None
        assert str(ref.marker) == 'python_version < "3"'
        assert not ref.applies({"python_version": "3.11"})


class TestGit:
    def test_revision_subdirectory_and_egg(self) -> None:
        ref = parse_direct(
            f"git+https://h.example/o/r.git@{COMMIT}#subdirectory=libs/a&egg=a",
            editable=False,
            cwd=Path("/"),
        )
        assert ref is not None
        assert (ref.kind, ref.name, ref.url, ref.revision, ref.subdirectory) == (
            DirectKind.VCS,
            "a",
            "https://h.example/o/r.git",
            COMMIT,
            "libs/a",
        )

    def test_ssh_keeps_its_user_and_drops_a_password(self) -> None:
        plain = direct_from_requirement(
            Requirement("a @ git+ssh://git@h.example/o/r.git@v1"),
            cwd=Path("/"),
            text="a @ git+ssh://git@h.example/o/r.git@v1",
        )
        assert (plain.url, plain.revision) == ("ssh://git@h.example/o/r.git", "v1")
        secret = parse_direct(
            "git+ssh://u:pw@h.example/o/r.git#egg=a", editable=False, cwd=Path("/")
        )
        assert secret is not None
        assert secret.url == "ssh://h.example/o/r.git"
        assert "pw" in secret.given and "pw" not in secret.text

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("hg+https://h.example/r#egg=a", "only git repositories"),
            ("git+https://h.example/r.git#subdirectory=../up", "stay inside"),
            ("git+https://h.example/r.git#subdirectory=/abs", "stay inside"),
            ("git+ext::sh -c evil#egg=a", "not supported"),
            ("git+https::http://h.example/r.git#egg=a", "not supported"),
            ("git+https://h.example/r.git@#egg=a", "empty revision"),
            ("git+https://h.example/r.git@-c#egg=a", "not a git revision"),
            ("git+https://h.example/r.git@a..b#egg=a", "not a git revision"),
        ],
    )
    def test_refused(self, text: str, reason: str) -> None:
        with pytest.raises(DirectError, match=reason):
            _parse(text)


class TestPaths:
    def test_folders_archives_extras_and_editable(self, tmp_path: Path) -> None:
        (tmp_path / "app").mkdir()
        (tmp_path / "pkg-1.0.tar.gz").write_bytes(b"")
        folder = parse_direct("./app[fast, extra] ", editable=True, cwd=tmp_path)
        assert folder is not None
        assert (folder.kind, folder.path, folder.editable) == (
            DirectKind.DIRECTORY,
            tmp_path / "app",
            True,
        )
        assert folder.extras == {"fast", "extra"}
        assert folder.text.startswith("-e ")
        archive = parse_direct("pkg-1.0.tar.gz", editable=False, cwd=tmp_path)
        assert archive is not None
        assert archive.kind is DirectKind.ARCHIVE
        assert archive.url == (tmp_path / "pkg-1.0.tar.gz").as_uri()

    @pytest.mark.parametrize(
        ("text", "editable", "reason"),
        [
            ("./missing", False, "no such file or folder"),
            ("./notes.txt", False, "neither a folder nor a wheel or sdist"),
            ("requests", True, "-e needs a local folder"),
            ("./pkg-1.0.tar.gz", True, "only a local folder can be editable"),
            ("./app[not a name]", False, "invalid extras"),
        ],
    )
    def test_refused(
        self, tmp_path: Path, text: str, editable: bool, reason: str
    ) -> None:
        (tmp_path / "app").mkdir()
        (tmp_path / "notes.txt").write_text("x")
        (tmp_path / "pkg-1.0.tar.gz").write_bytes(b"")
        with pytest.raises(DirectError, match=reason):
            parse_direct(text, editable=editable, cwd=tmp_path)


def test_a_port_then_a_revision_is_no_password() -> None:
    """``host:port/path@rev``: the "@" is git's revision, not the end of userinfo."""
    ref = parse_direct(
        "git+https://127.0.0.1:8080/r.git@v1#egg=a", editable=False, cwd=Path("/")
    )
    assert ref is not None
    assert (ref.url, ref.revision) == ("https://127.0.0.1:8080/r.git", "v1")
