"""A page may not point lockgen at this machine's files, nor a lock hydrate at them.

Each hostile page lists a good ``app 1.0`` served over HTTP and a "secret" (a real
wheel, so a lockgen without the rule would happily lock it as ``app 2.0``) at a
``file:`` URL, or a link in a scheme that is no download. The secret's bytes and hash
must end up nowhere: not in the lock, not in the cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.wheels import Dist, make_wheel, write_static_index

Run = Callable[..., Result]

SECRET = make_wheel("app", "2.0")
GOOD = make_wheel("app", "1.0")


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """The user's private file, outside anything lockgen was pointed at."""
    path = tmp_path / "home" / ".ssh" / "id_rsa"
    path.parent.mkdir(parents=True)
    path.write_bytes(SECRET.data)
    return path


def _named_like_a_wheel(secret: Path) -> Path:
    """The secret under a distribution's name (``app-2.0-...whl``): the newest
    candidate, were it not skipped."""
    wheel = secret.with_name(SECRET.filename)
    wheel.write_bytes(secret.read_bytes())
    return wheel


def _assert_secret_not_leaked(tmp_path: Path, *, check_lock: bool = True) -> None:
    lock = tmp_path / "pylock.toml"
    if check_lock and lock.exists():
        text = lock.read_text()
        assert SECRET.sha256 not in text
        assert "id_rsa" not in text and "2.0" not in text
    cache = Path(os.environ["LOCKGEN_CACHE_DIR"])
    for path in cache.rglob("*"):
        if path.is_file():
            assert SECRET.data not in path.read_bytes(), path
            # the hostile page (and its compact form) lists the hash itself
            if not {"pages", "listings"} & set(path.parts):
                assert SECRET.sha256.encode() not in path.read_bytes(), path


def _hostile(server: IndexServer, content_type: str, body: str) -> str:
    """An index whose ``app`` page is ``body``; the good wheel stays on ``/files/``."""
    server.pages["/hostile/app/"] = (content_type, body.encode())
    return f"{server.url}/hostile/"


def _json_page(server: IndexServer, *entries: tuple[Dist, str]) -> str:
    files = [
        {"filename": d.filename, "url": url, "hashes": {"sha256": d.sha256}}
        for d, url in entries
    ]
    page = {"meta": {"api-version": "1.1"}, "name": "app", "files": files}
    return json.dumps(page)


def _good_url(server: IndexServer) -> str:
    return f"{server.url}/files/{GOOD.filename}"


def _lock(lockgen: Run, tmp_path: Path, index: str, requirement: str) -> Result:
    (tmp_path / "r.in").write_text(requirement + "\n")
    return lockgen("lock", "r.in", "-i", index, "-v")


def _skipped(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": skipped " in line]


class TestRemotePages:
    def test_a_json_page_naming_a_file_url_is_skipped(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, secret: Path
    ) -> None:
        server = make_server([GOOD])
        page = _json_page(server, (GOOD, _good_url(server)), (SECRET, secret.as_uri()))
        index = _hostile(server, "application/vnd.pypi.simple.v1+json", page)
        result = _lock(lockgen, tmp_path, index, "app")
        assert result.exit_code == 0, result.output
        assert _skipped(result) == [
            (
                f"{index}: skipped {SECRET.filename!r}: "
                "a remote page may not name a file: URL"
            )
        ]
        assert GOOD.sha256 in (tmp_path / "pylock.toml").read_text()
        _assert_secret_not_leaked(tmp_path)

    def test_pinning_the_skipped_version_is_a_one_line_error(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, secret: Path
    ) -> None:
        server = make_server([GOOD])
        page = _json_page(server, (GOOD, _good_url(server)), (SECRET, secret.as_uri()))
        index = _hostile(server, "application/vnd.pypi.simple.v1+json", page)
        result = _lock(lockgen, tmp_path, index, "app==2.0")
        assert result.exit_code == 1
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert "no release of app matches ==2.0 (the newest is 1.0)" in errors[0]
        assert not (tmp_path / "pylock.toml").exists()
        _assert_secret_not_leaked(tmp_path)

    def test_an_html_page_with_a_file_base_is_skipped(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, secret: Path
    ) -> None:
        server = make_server([GOOD])
        wheel = _named_like_a_wheel(secret)
        relative = wheel.relative_to(wheel.anchor).as_posix()
        page = (
            '<html><head><base href="file:///"></head><body>'
            f'<a href="{_good_url(server)}#sha256={GOOD.sha256}">{GOOD.filename}</a>'
            f'<a href="{relative}#sha256={SECRET.sha256}">{SECRET.filename}</a>'
            f'<a href="{secret.relative_to(secret.anchor).as_posix()}">key</a>'
            "</body></html>"
        )
        index = _hostile(server, "text/html", page)
        result = _lock(lockgen, tmp_path, index, "app")
        assert result.exit_code == 0, result.output
        # HTML names a file by its URL: the wheel-named copy (the newest candidate,
        # were it not skipped) and the key itself (a small page is read whole)
        assert sorted(_skipped(result)) == [
            (
                f"{index}: skipped {SECRET.filename!r}: "
                "a remote page may not name a file: URL"
            ),
            f"{index}: skipped 'id_rsa': a remote page may not name a file: URL",
        ]
        _assert_secret_not_leaked(tmp_path)

    @pytest.mark.parametrize(
        "url",
        [
            "javascript:alert(1)//app-2.0-py3-none-any.whl",
            "ftp://127.0.0.1/files/app-2.0-py3-none-any.whl",
            "data:application/zip;base64,UEsFBg==#app-2.0-py3-none-any.whl",
        ],
    )
    def test_links_in_other_schemes_are_skipped(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, url: str
    ) -> None:
        server = make_server([GOOD])
        page = _json_page(server, (GOOD, _good_url(server)), (SECRET, url))
        index = _hostile(server, "application/vnd.pypi.simple.v1+json", page)
        result = _lock(lockgen, tmp_path, index, "app")
        assert result.exit_code == 0, result.output
        scheme = url.partition(":")[0]
        assert _skipped(result) == [
            (
                f"{index}: skipped {SECRET.filename!r}: "
                f"{scheme} scheme (links must be http(s))"
            )
        ]
        # nothing was asked of the server but the page and the good wheel
        paths = {r.path for r in server.requests}
        assert paths <= {"/hostile/app/", f"/files/{GOOD.filename}"}, paths
        _assert_secret_not_leaked(tmp_path)

    def test_a_remote_find_links_page_naming_a_file_url_is_skipped(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, secret: Path
    ) -> None:
        server = make_server([GOOD])
        page = (
            f'<a href="{_good_url(server)}#sha256={GOOD.sha256}">x</a>'
            f'<a href="{secret.parent.as_uri()}/{SECRET.filename}">x</a>'
        )
        server.pages["/links.html"] = ("text/html", page.encode())
        (secret.parent / SECRET.filename).write_bytes(SECRET.data)
        (tmp_path / "r.in").write_text("app\n")
        links = f"{server.url}/links.html"
        result = lockgen("lock", "r.in", "--no-index", "-f", links, "-v")
        assert result.exit_code == 0, result.output
        assert _skipped(result) == [
            (
                f"{links}: skipped {SECRET.filename!r}: "
                "a remote page may not name a file: URL"
            )
        ]
        _assert_secret_not_leaked(tmp_path)


class TestFileIndex:
    @pytest.mark.parametrize("spelling", ["absolute", "relative"])
    def test_a_file_outside_the_index_root_is_skipped(
        self, lockgen: Run, tmp_path: Path, secret: Path, spelling: str
    ) -> None:
        write_static_index([GOOD], tmp_path / "mirror")
        page = tmp_path / "mirror" / "simple" / "app" / "index.html"
        wheel = _named_like_a_wheel(secret)
        href = (
            wheel.as_uri()
            if spelling == "absolute"
            else f"../../../home/.ssh/{wheel.name}"  # from mirror/simple/app/
        )
        page.write_text(
            page.read_text().replace(
                "</body>", f'<a href="{href}#sha256={SECRET.sha256}">x</a></body>'
            )
        )
        index = (tmp_path / "mirror" / "simple").as_uri() + "/"
        result = _lock(lockgen, tmp_path, index, "app")
        assert result.exit_code == 0, result.output
        root = (tmp_path / "mirror").resolve()
        assert _skipped(result) == [
            (
                f"{index}: skipped {SECRET.filename!r}: "
                f"a file: URL outside the index's root {root}"
            )
        ]
        # files beside simple/ (mirror/files/) are inside the root
        assert GOOD.sha256 in (tmp_path / "pylock.toml").read_text()
        _assert_secret_not_leaked(tmp_path)


class TestHydrate:
    def test_a_lock_naming_a_file_outside_its_directory_is_refused(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server([GOOD])
        (tmp_path / "r.in").write_text("app\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        lock = tmp_path / "pylock.toml"
        # named as the locked wheel, since a lock takes a wheel's name from its URL
        # and outside the lock's directory (tmp_path)
        planted = tmp_path.parent / f"{tmp_path.name}-ssh" / GOOD.filename
        planted.parent.mkdir()
        planted.write_bytes(SECRET.data)
        text = lock.read_text().replace(_good_url(server), planted.as_uri())
        # the attacker knows (or guesses) the secret's hash and size
        lock.write_text(
            text.replace(GOOD.sha256, SECRET.sha256).replace(
                f"size = {GOOD.size}", f"size = {SECRET.size}"
            )
        )
        result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            (
                f"error: {lock}: package app: file: URL outside the lock file's "
                "directory (allowed with --allow-file-urls)"
            )
        ]
        assert not (tmp_path / "wh").exists() or not list((tmp_path / "wh").iterdir())
        _assert_secret_not_leaked(tmp_path, check_lock=False)  # the attacker wrote it
