"""``-f/--find-links`` and ``--no-index`` end to end: directories, pages, merging."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import tomli
from click.testing import Result

from lockgen.net.index_pages import COMPACT_FROM
from tests.conftest import ServerFactory
from tests.support.lockcheck import check_lock
from tests.support.wheels import Dist, make_sdist, make_wheel, render_links_html

Run = Callable[..., Result]


def _write(folder: Path, dists: Iterable[Dist]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        (folder / dist.filename).write_bytes(dist.data)
    return folder


def _packages(path: Path) -> dict[str, dict[str, Any]]:
    # every lock we write must pass packaging.pylock and schemas/pylock.schema.json
    return {p["name"]: p for p in check_lock(path)["packages"]}


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def _artifacts(package: dict[str, Any]) -> list[dict[str, Any]]:
    sdist = package.get("sdist")
    return [*package.get("wheels", []), *([sdist] if sdist else [])]


def _app_and_lib() -> list[Dist]:
    return [
        make_wheel("app", "1.0", requires_dist=["lib>=1"]),
        make_wheel("lib", "1.0"),
        make_sdist("lib", "1.0"),
    ]


class TestLocalDirectory:
    def test_no_index_locks_from_the_directory_with_relative_paths(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _app_and_lib()
        _write(tmp_path / "wheels", dists)
        (tmp_path / "wheels" / "README.txt").write_text("not a distribution\n")
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", "wheels"))
        packages = _packages(tmp_path / "pylock.toml")
        assert sorted(packages) == ["app", "lib"]
        by_name = {d.filename: d for d in dists}
        for package in packages.values():
            assert "index" not in package  # no simple index listed these files
            for artifact in _artifacts(package):
                assert "url" not in artifact
                dist = by_name[Path(artifact["path"]).name]
                assert artifact["path"] == f"wheels/{dist.filename}"
                assert artifact["hashes"] == {"sha256": dist.sha256}
                assert artifact["size"] == dist.size
        tool = packages["app"]["tool"]["lockgen"]
        (app_wheel,) = [d for d in dists if d.project == "app" and d.is_wheel]
        assert tool["metadata-file"] == app_wheel.filename  # read from the file itself
        assert packages["lib"]["sdist"]["path"] == "wheels/lib-1.0.tar.gz"
        # read in place: nothing (files, metadata) went into the cache
        cache = Path(os.environ["LOCKGEN_CACHE_DIR"])
        assert not [p for p in _entries(cache) if "inputs" not in p.parts]

    def test_a_directory_outside_the_lock_is_written_as_file_urls(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        wheels = _write(tmp_path / "wheels %41+", _app_and_lib())  # quoted in URLs
        (tmp_path / "proj").mkdir()
        (tmp_path / "proj" / "r.in").write_text("app\n")
        args = ["lock", "proj/r.in", "-o", "proj/pylock.toml", "--no-index"]
        _ok(lockgen(*args, "-f", str(wheels)))
        packages = _packages(tmp_path / "proj" / "pylock.toml")
        wheel = packages["app"]["wheels"][0]
        assert wheel["url"] == (wheels / "app-1.0-py3-none-any.whl").as_uri()
        assert "path" not in wheel
        # file: URLs outside the lock's directory need the user's opt-in
        args = ["hydrate", "proj/pylock.toml", "-d", "wh", "--all"]
        assert lockgen(*args).exit_code == 1
        _ok(lockgen(*args, "--allow-file-urls"))
        assert len(list((tmp_path / "wh").iterdir())) == 3

    def test_a_home_directory_location_in_a_file(
        self, lockgen: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        _write(tmp_path / "home" / "my wheels", _app_and_lib())
        (tmp_path / "r.in").write_text("--no-index\n-f '~/my wheels'\napp\n")
        _ok(lockgen("lock", "r.in"))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["lib"]["wheels"][0]["path"] == (
            "home/my wheels/lib-1.0-py3-none-any.whl"
        )
        _ok(lockgen("hydrate", "pylock.toml", "-d", "wh"))
        assert (tmp_path / "wh" / "app-1.0-py3-none-any.whl").is_file()

    def test_a_file_url_of_a_directory(self, lockgen: Run, tmp_path: Path) -> None:
        wheels = _write(tmp_path / "elsewhere" / "wheels", _app_and_lib())
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", wheels.as_uri()))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["lib"]["wheels"][0]["path"] == (
            "elsewhere/wheels/lib-1.0-py3-none-any.whl"
        )

    def test_a_file_url_of_a_local_html_page(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _app_and_lib()
        _write(tmp_path / "dl", dists)
        page = tmp_path / "pages" / "links.html"
        page.parent.mkdir()
        page.write_text(render_links_html(dists, base="../dl/"))
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", page.as_uri()))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["app"]["wheels"][0]["path"] == "dl/app-1.0-py3-none-any.whl"
        assert packages["lib"]["sdist"]["path"] == "dl/lib-1.0.tar.gz"


class TestMergedWithTheIndex:
    def test_find_links_files_join_the_index_files(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        shared = make_wheel("util", "1.0")
        server = make_server(
            [
                make_wheel("app", "1.0", requires_dist=["lib", "extra", "util"]),
                make_wheel("lib", "1.0"),
                shared,
            ]
        )
        local = [make_wheel("lib", "2.0"), make_wheel("extra", "0.1"), shared]
        _write(tmp_path / "wheels", local)
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "-i", server.index_url, "-f", "wheels"))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["app"]["index"] == server.index_url
        assert packages["app"]["wheels"][0]["url"].startswith(server.url)
        # a newer version only in find-links wins; a project only there is found
        assert packages["lib"]["version"] == "2.0"
        assert packages["lib"]["wheels"] == [
            {
                "path": "wheels/lib-2.0-py3-none-any.whl",
                "size": local[0].size,
                "hashes": {"sha256": local[0].sha256},
            }
        ]
        assert packages["extra"]["wheels"][0]["path"].startswith("wheels/")
        # one file name in both: listed once, from find-links (pip tries it first)
        assert [w.get("path") for w in packages["util"]["wheels"]] == [
            "wheels/util-1.0-py3-none-any.whl"
        ]

    def test_an_index_version_still_wins_when_newer(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server([make_wheel("lib", "3.0")])
        _write(tmp_path / "wheels", [make_wheel("lib", "2.0")])
        (tmp_path / "r.in").write_text("lib\n")
        _ok(lockgen("lock", "r.in", "-i", server.index_url, "-f", "wheels"))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["lib"]["version"] == "3.0"
        assert packages["lib"]["index"] == server.index_url


class TestRemotePage:
    def test_an_html_page_of_links_on_a_server(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _app_and_lib()
        server = make_server(dists, formats=("json",))  # /simple/ is not used
        page = render_links_html(dists, base="files/").encode()
        server.pages["/links.html"] = ("text/html", page)
        (tmp_path / "r.in").write_text("app\n")
        link = f"{server.url}/links.html"
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link))
        assert not [r for r in server.requests if r.path.startswith("/simple")]
        packages = _packages(tmp_path / "pylock.toml")
        by_name = {d.filename: d for d in dists}
        for package in packages.values():
            assert "index" not in package
            for artifact in _artifacts(package):
                name = artifact["url"].rsplit("/", 1)[1]
                assert artifact["url"] == f"{server.url}/files/{name}"
                assert artifact["hashes"] == {"sha256": by_name[name].sha256}
        _ok(lockgen("hydrate", "pylock.toml", "-d", "wh"))
        assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == [
            "app-1.0-py3-none-any.whl",
            "lib-1.0-py3-none-any.whl",
        ]

    def test_a_big_page_is_read_whole_every_time(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        """A find-links page has no compact form: big or not, it is cached with its
        body, so a revalidated (304) or offline lock still reads its links."""
        dists = _app_and_lib()
        server = make_server(dists, formats=("json",))
        page = render_links_html(dists, base="files/").encode()
        page += b"<!-- padding -->\n" * (COMPACT_FROM // 16)
        server.pages["/links.html"] = ("text/html", page)
        (tmp_path / "r.in").write_text("app\n")
        link = f"{server.url}/links.html"
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link))
        cold = (tmp_path / "pylock.toml").read_text()
        server.clear_log()
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link, "-o", "pylock.w.toml"))
        assert [(r.path, r.status) for r in server.requests] == [("/links.html", 304)]
        offline = ("-o", "pylock.off.toml", "--offline")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link, *offline))
        for name in ("pylock.w.toml", "pylock.off.toml"):
            assert (tmp_path / name).read_text() == cold

    def test_a_page_without_hashes_is_downloaded_once_ever(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        """An autoindex-like page lists no sha256: the cold lock downloads each file
        to hash it, and the cache recalls those hashes by URL, so a warm lock into
        a new output downloads nothing and ``--offline`` writes the same bytes."""
        dists = _app_and_lib()
        server = make_server(dists, formats=("json",))
        page = render_links_html(dists, base="../files/", hashes=False).encode()
        server.pages["/links/"] = ("text/html", page)
        (tmp_path / "r.in").write_text("app\n")
        link = f"{server.url}/links/"
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link))
        cold = (tmp_path / "pylock.toml").read_text()
        by_name = {d.filename: d for d in dists}
        for package in _packages(tmp_path / "pylock.toml").values():
            for artifact in _artifacts(package):
                name = artifact["url"].rsplit("/", 1)[1]
                assert artifact["hashes"] == {"sha256": by_name[name].sha256}
        downloads = [r.path for r in server.requests if r.range is None]
        assert sorted(p for p in downloads if p.startswith("/files/")) == sorted(
            f"/files/{d.filename}" for d in dists
        )
        server.clear_log()
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link, "-o", "pylock.w.toml"))
        assert (tmp_path / "pylock.w.toml").read_text() == cold
        assert [r.path for r in server.requests] == ["/links/"]  # revalidated
        server.clear_log()
        offline = ("-o", "pylock.off.toml", "--offline")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", link, *offline))
        assert (tmp_path / "pylock.off.toml").read_text() == cold
        assert server.requests == []

    def test_a_missing_page_is_one_line(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server()
        (tmp_path / "r.in").write_text("app\n")
        result = lockgen("lock", "r.in", "--no-index", "-f", f"{server.url}/nope/")
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: find-links page {server.url}/nope/ was not found (HTTP 404)\n"
        )


class TestRequirementsFile:
    def test_find_links_and_no_index_lines_relative_to_the_file(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        _write(tmp_path / "wheels", _app_and_lib())
        (tmp_path / "reqs").mkdir()
        (tmp_path / "reqs" / "r.in").write_text("--no-index\n-f ../wheels\napp\n")
        _ok(lockgen("lock", "reqs/r.in"))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["app"]["wheels"][0]["path"] == (
            "wheels/app-1.0-py3-none-any.whl"
        )


class TestNoIndex:
    def test_nothing_to_lock_from_is_one_line(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_app_and_lib())
        (tmp_path / "r.in").write_text("app\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, "--no-index")
        assert result.exit_code == 1
        assert result.stderr == (
            "error: no project named 'app': --no-index ignores every index and no "
            "--find-links location is given\n"
        )
        assert server.requests == []

    def test_not_in_find_links_names_them(self, lockgen: Run, tmp_path: Path) -> None:
        _write(tmp_path / "wheels", [make_wheel("lib", "1.0")])
        (tmp_path / "r.in").write_text("app\n")
        result = lockgen("lock", "r.in", "--no-index", "-f", "wheels")
        assert result.exit_code == 1
        assert result.stderr == (
            "error: no project named 'app' in --find-links wheels "
            "(--no-index ignores every index)\n"
        )

    def test_a_missing_directory_is_one_line(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        (tmp_path / "r.in").write_text("app\n")
        result = lockgen("lock", "r.in", "--no-index", "-f", "missing")
        assert result.exit_code == 1
        assert result.stderr == "error: find-links location missing does not exist\n"

    def test_no_index_ignores_pips_configured_indexes(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_app_and_lib())
        monkeypatch.setenv("PIP_INDEX_URL", server.index_url)
        monkeypatch.setenv("PIP_EXTRA_INDEX_URL", server.index_url)
        _write(tmp_path / "wheels", _app_and_lib())
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", "wheels"))
        assert server.requests == []


class TestRelock:
    def test_the_digest_changes_when_find_links_or_no_index_is_added(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_app_and_lib())
        _write(tmp_path / "wheels", [make_wheel("lib", "2.0")])
        (tmp_path / "r.in").write_text("app\n")
        base = ["lock", "r.in", "-i", server.index_url]
        _ok(lockgen(*base))
        assert "up to date" in _ok(lockgen(*base)).stderr
        with_links = [*base, "-f", "wheels"]
        check = lockgen(*with_links, "--check")
        assert check.exit_code == 1 and "inputs or options changed" in check.stderr
        assert "Locked 2 packages" in _ok(lockgen(*with_links, "-U")).stderr
        assert _packages(tmp_path / "pylock.toml")["lib"]["version"] == "2.0"
        assert "up to date" in _ok(lockgen(*with_links)).stderr
        check = lockgen(*with_links, "--no-index", "--check")
        assert check.exit_code == 1 and "inputs or options changed" in check.stderr

    def test_new_files_are_an_index_change_seen_by_upgrade(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        wheels = _write(tmp_path / "wheels", _app_and_lib())
        (tmp_path / "r.in").write_text("app\n")
        args = ["lock", "r.in", "--no-index", "-f", "wheels"]
        _ok(lockgen(*args))
        _write(wheels, [make_wheel("lib", "1.5")])
        assert "up to date" in _ok(lockgen(*args)).stderr  # unchanged inputs: no-op
        assert "Locked" in _ok(lockgen(*args, "--refresh")).stderr  # re-read, pins kept
        assert _packages(tmp_path / "pylock.toml")["lib"]["version"] == "1.0"
        _ok(lockgen(*args, "-U"))
        assert _packages(tmp_path / "pylock.toml")["lib"]["version"] == "1.5"

    def test_a_replaced_local_file_is_hashed_again(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        wheels = _write(tmp_path / "wheels", [make_wheel("lib", "1.0")])
        (tmp_path / "proj").mkdir()
        (tmp_path / "proj" / "r.in").write_text("lib\n")
        args = ["lock", "proj/r.in", "-o", "proj/pylock.toml", "--no-index"]
        _ok(lockgen(*args, "-f", str(wheels)))
        rebuilt = make_wheel("lib", "1.0", files={"lib/extra.py": b"x = 1\n"})
        _write(wheels, [rebuilt])
        _ok(lockgen(*args, "-f", str(wheels), "-U"))
        wheel = _packages(tmp_path / "proj" / "pylock.toml")["lib"]["wheels"][0]
        assert wheel["url"].startswith("file://")
        assert wheel["hashes"] == {"sha256": rebuilt.sha256}


class TestHydrate:
    def test_hydrate_a_find_links_lock_into_a_new_directory(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _app_and_lib()
        _write(tmp_path / "wheels", dists)
        outside = _write(tmp_path.parent / f"{tmp_path.name}-outside", dists)
        (tmp_path / "r.in").write_text("app\n")
        _ok(lockgen("lock", "r.in", "--no-index", "-f", "wheels"))
        args = ["-o", "pylock.outside.toml"]
        _ok(lockgen("lock", "r.in", "--no-index", "-f", str(outside), *args))
        by_name = {d.filename: d for d in dists}
        for lock_file, dest in (("pylock.toml", "wh"), ("pylock.outside.toml", "wh2")):
            _ok(lockgen("hydrate", lock_file, "-d", dest, "--all", "--allow-file-urls"))
            fetched = sorted((tmp_path / dest).iterdir())
            assert [p.name for p in fetched] == sorted(by_name)
            for path in fetched:
                assert path.read_bytes() == by_name[path.name].data
        # local files are not copied into the cache by hydrate either
        cache = Path(os.environ["LOCKGEN_CACHE_DIR"])
        assert not [p for p in _entries(cache) if "inputs" not in p.parts]
        lock = tomli.loads((tmp_path / "pylock.toml").read_text())
        assert all("path" in w for p in lock["packages"] for w in p["wheels"])


class TestPipConfiguration:
    def test_configured_extra_indexes_are_searched_after_the_given_ones(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        main = make_server([make_wheel("app", "1.0", requires_dist=["lib", "util"])])
        given = make_server([make_wheel("lib", "1.0")])
        configured = make_server([make_wheel("lib", "9.0"), make_wheel("util", "1.0")])
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nextra-index-url =\n  {configured.index_url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
        (tmp_path / "r.in").write_text("app\n")
        args = ["-i", main.index_url, "--extra-index-url", given.index_url]
        _ok(lockgen("lock", "r.in", *args))
        packages = _packages(tmp_path / "pylock.toml")
        assert packages["util"]["index"] == configured.index_url
        # first index that has the project wins: the given one, not pip's
        assert packages["lib"]["index"] == given.index_url
        assert packages["lib"]["version"] == "1.0"

    def test_pips_find_links_and_no_index_are_noted_once_and_not_used(
        self, lockgen: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        wheels = _write(tmp_path / "wheels", _app_and_lib())
        monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
        monkeypatch.setenv("PIP_NO_INDEX", "1")
        (tmp_path / "r.in").write_text("app\n")
        empty = tmp_path / "empty" / "simple"  # an index without the project
        empty.mkdir(parents=True)
        result = lockgen("lock", "r.in", "-i", empty.as_uri())
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            (
                f"note: pip's configured find-links ({wheels}) is not used by "
                "lockgen; pass --find-links to use it"
            ),
            (
                "note: pip's configured no-index is not used by lockgen; "
                "pass --no-index to use it"
            ),
            f"error: no project named 'app' on {empty.as_uri()}/",
        ]
        quiet = lockgen("lock", "r.in", "--no-index", "-f", "wheels", "-q")
        assert quiet.exit_code == 0 and quiet.stderr == ""


def _entries(cache: Path) -> list[Path]:
    """The cache's files (``v1/inputs`` holds only what the command line's inputs
    normalised to, see :mod:`lockgen.app.input_memo`)."""
    return [p for p in cache.rglob("*") if p.is_file()]
