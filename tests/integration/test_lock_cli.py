"""``lockgen lock`` end to end through the CLI against a real index server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
import tomli
from click.testing import Result

from lockgen.net.range_reader import open_tail, tail_headers
from lockgen.net.transport import HttpClient
from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer, RequestRecord
from tests.support.lockcheck import check_lock
from tests.support.wheels import Dist, make_sdist, make_wheel, write_static_index

Run = Callable[..., Result]


def _lock(tmp_path: Path, name: str = "pylock.toml") -> dict[str, Any]:
    # every lock we write must pass packaging.pylock and schemas/pylock.schema.json
    return check_lock(tmp_path / name)


def _packages(lock: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in lock["packages"]}


def _file_gets(server: IndexServer) -> list[RequestRecord]:
    return [r for r in server.requests if r.path.startswith("/files/")]


def _demo() -> list[Dist]:
    return [
        make_wheel("demo-a", "1.0", requires_dist=["demo-b>=1"]),
        make_wheel(
            "demo-a",
            "2.0",
            requires_dist=["demo-b>=2", "demo-c ; sys_platform == 'win32'"],
        ),
        make_wheel("demo-b", "1.0"),
        make_wheel("demo-b", "2.0", requires_python=">=3.8"),
        make_sdist("demo-b", "2.0", requires_python=">=3.8"),
        make_wheel("demo-c", "1.0"),
    ]


class TestBasicLock:
    def test_lock_pins_transitively_with_urls_sizes_hashes(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _demo()
        server = make_server(dists)
        (tmp_path / "requirements.in").write_text("demo-a\n")
        result = lockgen("lock", "requirements.in", "-i", server.index_url)
        assert result.exit_code == 0, result.output
        lock = _lock(tmp_path)
        packages = _packages(lock)
        assert sorted(packages) == ["demo-a", "demo-b"]  # demo-c only on win32
        assert packages["demo-a"]["version"] == "2.0"
        assert packages["demo-b"]["version"] == "2.0"
        assert packages["demo-a"]["dependencies"] == [{"name": "demo-b"}]
        assert packages["demo-a"]["index"] == server.index_url
        by_name = {d.filename: d for d in dists}
        b = packages["demo-b"]
        assert b["requires-python"] == ">=3.8"
        wheel = b["wheels"][0]
        dist = by_name[wheel["url"].rsplit("/", 1)[1]]
        assert wheel["hashes"] == {"sha256": dist.sha256}
        assert wheel["size"] == dist.size
        assert b["sdist"]["hashes"]["sha256"] == by_name["demo_b-2.0.tar.gz"].sha256
        tool = packages["demo-a"]["tool"]["lockgen"]
        meta_dist = by_name["demo_a-2.0-py3-none-any.whl"]
        paths = {r.path for r in server.requests}
        assert f"/files/{meta_dist.filename}.metadata" in paths  # read from PEP 658
        assert tool["metadata-sha256"] == meta_dist.metadata_sha256
        assert lock["created-by"] == "lockgen"
        assert lock["extras"] == [] and lock["default-groups"] == []
        assert len(lock["environments"]) == 1
        assert "Locked 2 packages" in result.stderr

    def test_second_run_is_byte_identical(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo())
        (tmp_path / "r.in").write_text("demo-a\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        first = (tmp_path / "pylock.toml").read_bytes()
        assert (
            lockgen(
                "lock", "r.in", "-i", server.index_url, "-o", "pylock.b.toml"
            ).exit_code
            == 0
        )
        assert (tmp_path / "pylock.b.toml").read_bytes() == first

    def test_stdin_and_stdout(self, make_server: ServerFactory, lockgen: Run) -> None:
        server = make_server(_demo())
        result = lockgen(
            "lock", "-", "-o", "-", "-i", server.index_url, input="demo-b<2\n"
        )
        assert result.exit_code == 0, result.output
        lock = tomli.loads(result.stdout)
        assert _packages(lock)["demo-b"]["version"] == "1.0"

    def test_html_only_index(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo(), formats=("html",))
        (tmp_path / "r.in").write_text("demo-a\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        assert _packages(_lock(tmp_path))["demo-a"]["version"] == "2.0"
        assert all(
            "json" not in (r.accept or "") or r.status == 200 for r in server.requests
        )


class TestRangeMetadata:
    def test_padded_wheel_costs_at_most_two_gets_under_64k(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        big = make_wheel("big", "1.0", padding=3 * 1024 * 1024, requires_dist=["small"])
        small = make_wheel("small", "1.0")
        server = make_server([big, small], pep658=False)
        (tmp_path / "r.in").write_text("big\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, "-v")
        assert result.exit_code == 0, result.output
        big_gets = [r for r in _file_gets(server) if r.path == f"/files/{big.filename}"]
        assert 1 <= len(big_gets) <= 2
        assert all(r.range is not None and r.status == 206 for r in big_gets)
        assert sum(r.bytes_sent for r in big_gets) < 64 * 1024
        assert f"{big.filename}: metadata by range requests" in result.stderr

    def test_metadata_first_costs_one_more_get(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        wheel = make_wheel("early", "1.0", padding=2 * 1024 * 1024, metadata_first=True)
        server = make_server([wheel], pep658=False)
        (tmp_path / "r.in").write_text("early\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        gets = _file_gets(server)
        assert [r.status for r in gets] == [206, 206]
        assert sum(r.bytes_sent for r in gets) < 64 * 1024

    def test_an_empty_read_sends_no_request(self, make_server: ServerFactory) -> None:
        dist = make_wheel("solo", "1.0", padding=100_000)
        server = make_server([dist], pep658=False)
        client = HttpClient()
        url = f"{server.url}/files/{dist.filename}"
        with client.stream(url, tail_headers()) as response:
            remote = open_tail(client, url, response)
        asked = len(server.requests)
        assert remote.read_at(0, 0) == b""  # bytes=0--1 would be no range
        assert remote.read_at(remote.size, 0) == b""
        assert len(server.requests) == asked

    def test_central_directory_past_the_tail_costs_two_gets(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        # 1200 files: a central directory of about 80 KiB, more than the first
        # request's tail, with METADATA and RECORD (about 100 KiB) just before it;
        # the directory's read brings METADATA too, instead of a third request
        files = {f"many/module_{i:04}.py": b"x = 1\n" for i in range(1200)}
        wheel = make_wheel("many", "1.0", files=files, requires_dist=["dep"])
        server = make_server([wheel, make_wheel("dep", "1.0")], pep658=False)
        (tmp_path / "r.in").write_text("many\n")
        result = lockgen("lock", "r.in", "-i", server.index_url)
        assert result.exit_code == 0, result.output
        assert sorted(_packages(_lock(tmp_path))) == ["dep", "many"]
        gets = [r for r in _file_gets(server) if r.path == f"/files/{wheel.filename}"]
        assert [r.status for r in gets] == [206, 206]
        assert sum(r.bytes_sent for r in gets) < 32 * 1024 + 256 * 1024

    @pytest.mark.parametrize("compression", ["stored", "deflate"])
    def test_zip64_and_compression(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        compression: Literal["stored", "deflate"],
    ) -> None:
        wheel = make_wheel(
            "zz", "1.0", zip64=True, compression=compression, requires_dist=["dep"]
        )
        server = make_server([wheel, make_wheel("dep", "1.0")], pep658=False)
        (tmp_path / "r.in").write_text("zz\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        assert sorted(_packages(_lock(tmp_path))) == ["dep", "zz"]

    @pytest.mark.parametrize(
        "mode", ["ignore", "refuse", "refuse-suffix", "wrong", "long"]
    )
    def test_fallback_to_whole_file_and_host_memory(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, mode: str
    ) -> None:
        dists = [
            make_wheel("one", "1.0", requires_dist=["two"], padding=100_000),
            make_wheel("two", "1.0", padding=100_000),
        ]
        server = make_server(dists, pep658=False, ranges=mode)
        (tmp_path / "r.in").write_text("one\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, "-v")
        assert result.exit_code == 0, result.output
        assert sorted(_packages(_lock(tmp_path))) == ["one", "two"]
        for dist in dists:
            assert f"{dist.filename}: metadata from the whole wheel" in result.stderr
        one = [r for r in _file_gets(server) if r.path.startswith("/files/one-")]
        two = [r for r in _file_gets(server) if r.path.startswith("/files/two-")]
        # the first wheel tried a range; the second went straight to a plain GET
        assert one[0].range is not None
        assert [r.range for r in two] == [None]
        if mode == "ignore":  # the 200 body was used: no second request
            assert len(one) == 1
        if mode in ("wrong", "long"):
            assert "server failed a range request (" in result.stderr
        # an abandoned range answer never leaves bytes for the next request to trip on
        assert sum(r.range is None for r in one) <= 1

    def test_index_without_hashes_downloads_each_locked_file_once(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("nh", "1.0"), make_sdist("nh", "1.0")]
        server = make_server(dists, hashes=False, pep658=False)
        (tmp_path / "r.in").write_text("nh\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
        package = _packages(_lock(tmp_path))["nh"]
        assert package["wheels"][0]["hashes"]["sha256"] == dists[0].sha256
        assert package["sdist"]["hashes"]["sha256"] == dists[1].sha256
        whole = [r for r in _file_gets(server) if r.range is None]
        assert sorted(r.path for r in whole) == sorted(
            f"/files/{d.filename}" for d in dists
        )


class TestIndexes:
    def test_first_index_with_the_project_wins(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        private = make_server([make_wheel("internal", "1.0")])
        public = make_server(
            [make_wheel("internal", "99.0"), make_wheel("other", "1.0")]
        )
        (tmp_path / "r.in").write_text("internal\nother\n")
        result = lockgen(
            "lock",
            "r.in",
            "-i",
            private.index_url,
            "--extra-index-url",
            public.index_url,
        )
        assert result.exit_code == 0, result.output
        packages = _packages(_lock(tmp_path))
        assert packages["internal"]["version"] == "1.0"
        assert packages["other"]["index"] == public.index_url

    @pytest.mark.parametrize("quiet", [[], ["-q"]])
    def test_an_index_that_had_nothing_is_named(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, quiet: list[str]
    ) -> None:
        """A mistyped private index URL (every project 404) must not go unnoticed
        while the projects quietly come from the next index."""
        server = make_server(
            [make_wheel("internal", "1.0"), make_wheel("other", "1.0")]
        )
        wrong = server.url + "/simpel/"
        (tmp_path / "r.in").write_text("internal\nother\n")
        args = ["-i", wrong, "--extra-index-url", server.index_url, *quiet]
        result = lockgen("lock", "r.in", *args)
        assert result.exit_code == 0, result.output
        expected = (
            f"warning: {wrong} had none of the 2 projects asked of it (they came "
            "from the other indexes): is its URL right?"
        )
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        assert warnings == [expected]
        (tmp_path / "pylock.toml").unlink()
        args = ["-i", server.index_url, "--extra-index-url", wrong]
        result = lockgen("lock", "r.in", *args)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.stderr  # never asked: nothing to say

    def test_file_index(self, lockgen: Run, tmp_path: Path) -> None:
        write_static_index(_demo(), tmp_path / "mirror", pep658=False)
        url = (tmp_path / "mirror" / "simple").as_uri() + "/"
        (tmp_path / "r.in").write_text("demo-a\n")
        result = lockgen("lock", "r.in", "-i", url, "-v")
        assert result.exit_code == 0, result.output
        packages = _packages(_lock(tmp_path))
        assert packages["demo-a"]["wheels"][0]["url"].startswith("file://")
        meta_file = packages["demo-a"]["tool"]["lockgen"]["metadata-file"]
        assert f"{meta_file}: metadata by range requests" in result.stderr

    def test_credentials_are_used_but_never_written_or_printed(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo(), auth=("alice", "s3cr3t-token"))
        url = server.index_url.replace("http://", "http://alice:s3cr3t-token@")
        (tmp_path / "r.in").write_text("demo-a\n")
        result = lockgen("lock", "r.in", "-i", url, "-v")
        assert result.exit_code == 0, result.output
        text = (tmp_path / "pylock.toml").read_text()
        assert "s3cr3t" not in text and "alice" not in text
        assert "s3cr3t" not in result.output
        assert all(r.status != 401 for r in server.requests)

    def test_wrong_credentials_fail_without_leaking(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo(), auth=("alice", "right"))
        url = server.index_url.replace("http://", "http://alice:wrong-pw@")
        (tmp_path / "r.in").write_text("demo-a\n")
        result = lockgen("lock", "r.in", "-i", url)
        assert result.exit_code == 1
        assert "401" in result.stderr and "wrong-pw" not in result.output

    def test_default_index_from_pip_environment(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_demo())
        monkeypatch.setenv("PIP_INDEX_URL", server.index_url)
        (tmp_path / "r.in").write_text("demo-b\n")
        assert lockgen("lock", "r.in").exit_code == 0
        assert _packages(_lock(tmp_path))["demo-b"]["index"] == server.index_url

    def test_default_index_from_pip_config_file(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        server = make_server(_demo())
        config = tmp_path / "pip.conf"
        config.write_text(f"[global]\nindex-url = {server.index_url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
        (tmp_path / "r.in").write_text("demo-b\n")
        assert lockgen("lock", "r.in").exit_code == 0
        assert _packages(_lock(tmp_path))["demo-b"]["index"] == server.index_url

    def test_index_url_in_requirements_file(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo())
        (tmp_path / "r.in").write_text(f"--index-url {server.index_url}\ndemo-b\n")
        assert lockgen("lock", "r.in").exit_code == 0


class TestErrors:
    def test_unknown_project_names_the_index(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo())
        (tmp_path / "r.in").write_text("nope\n")
        result = lockgen("lock", "r.in", "-i", server.index_url)
        assert result.exit_code == 1
        assert "nope" in result.stderr and server.index_url in result.stderr
        assert "Traceback" not in result.output

    def test_conflict_names_who_asked(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo())
        (tmp_path / "r.in").write_text("demo-a>=2\ndemo-b<2\n")
        result = lockgen("lock", "r.in", "-i", server.index_url)
        assert result.exit_code == 1
        assert "demo-a 2.0 depends on demo-b>=2" in result.stderr
        assert "you asked for demo-b<2" in result.stderr

    def test_failure_leaves_previous_lock_untouched(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(_demo())
        (tmp_path / "pylock.toml").write_text("previous\n")
        (tmp_path / "r.in").write_text("nope\n")
        assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 1
        assert (tmp_path / "pylock.toml").read_text() == "previous\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    def test_bad_output_name_is_refused(self, lockgen: Run, tmp_path: Path) -> None:
        (tmp_path / "r.in").write_text("x\n")
        result = lockgen(
            "lock", "r.in", "-o", "lock.toml", "-i", "http://127.0.0.1:9/simple/"
        )
        assert result.exit_code == 2
        assert "pylock" in result.output

    def test_metadata_name_mismatch(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        wheel = make_wheel("liar", "1.0", metadata_version="1.1")
        server = make_server([wheel], pep658=False)
        (tmp_path / "r.in").write_text("liar\n")
        result = lockgen("lock", "r.in", "-i", server.index_url)
        assert result.exit_code == 1
        assert "1.1" in result.stderr and "1.0" in result.stderr

    def test_unsupported_requirement_line(self, lockgen: Run, tmp_path: Path) -> None:
        (tmp_path / "r.in").write_text("hg+https://example.invalid/pkg#egg=pkg\n")
        result = lockgen("lock", "r.in", "-i", "http://127.0.0.1:9/simple/")
        assert result.exit_code == 1
        assert "r.in:1" in result.stderr
        assert "only git repositories are supported" in result.stderr

    def test_dynamic_sdist_under_no_build_is_a_clear_error(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server([make_sdist("dyn", "1.0", dynamic=["Requires-Dist"])])
        (tmp_path / "r.in").write_text("dyn\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, "--no-build")
        assert result.exit_code == 1
        assert "dyn 1.0 cannot be used: its metadata is dynamic" in result.stderr
        assert "--no-build forbids building it" in result.stderr


class TestSdistAndTargets:
    def test_static_sdist_metadata_is_used(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        server = make_server(
            [make_sdist("src-only", "1.0", requires_dist=["demo-b"]), *_demo()]
        )
        (tmp_path / "r.in").write_text("src-only\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, "-v")
        assert result.exit_code == 0, result.output
        packages = _packages(_lock(tmp_path))
        sdist = "src_only-1.0.tar.gz"
        assert f"{sdist}: metadata from the sdist's PKG-INFO" in result.stderr
        assert "demo-b" in packages

    def test_foreign_platform_selects_its_wheels(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [
            make_wheel("plat", "1.0"),
            make_wheel("plat", "2.0", tag="cp311-cp311-win_amd64"),
        ]
        server = make_server(dists)
        (tmp_path / "r.in").write_text("plat\n")
        args = ("lock", "r.in", "-i", server.index_url, "--python-version", "3.11")
        assert lockgen(*args, "--platform", "win_amd64").exit_code == 0
        assert _packages(_lock(tmp_path))["plat"]["version"] == "2.0"
        assert lockgen(*args, "--platform", "linux_x86_64").exit_code == 0
        lock = _lock(tmp_path)
        assert _packages(lock)["plat"]["version"] == "1.0"
        assert 'sys_platform == "linux"' in lock["environments"][0]


def test_sha256_helper_matches() -> None:
    # guards the fixture itself: Dist.sha256 is the digest of its bytes
    dist = make_wheel("x", "1.0")
    assert dist.sha256 == hashlib.sha256(dist.data).hexdigest()


class TestIndexUrls:
    """A mistyped index is an error: else its projects silently come from the
    next index (pip's configured extra indexes, say)."""

    def test_a_plain_path_suggests_its_file_url(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        (tmp_path / "r.in").write_text("x\n")
        folder = tmp_path / "simple"
        result = lockgen("lock", "r.in", "-i", str(folder))
        assert result.exit_code == 1
        expected = (
            f"error: index URL '{folder}' must be http(s)://HOST/... or "
            f"file:///FOLDER; for a local folder use {folder.as_uri()}"
        )
        assert result.stderr.splitlines() == [expected]

    def test_a_missing_file_index_folder(self, lockgen: Run, tmp_path: Path) -> None:
        (tmp_path / "r.in").write_text("x\n")
        result = lockgen("lock", "r.in", "-i", (tmp_path / "nope").as_uri())
        assert result.exit_code == 1
        assert "is not a folder on this machine" in result.stderr

    def test_an_http_url_without_host(self, lockgen: Run, tmp_path: Path) -> None:
        (tmp_path / "r.in").write_text("x\n")
        result = lockgen("lock", "r.in", "-i", "https:///simple")
        assert result.exit_code == 1
        assert "must be http(s)://HOST/" in result.stderr
        assert "Warning" not in result.stderr

    @pytest.mark.parametrize("char", ["#", "/", "?"])
    def test_a_password_with_an_unencoded_delimiter_is_never_echoed(
        self, lockgen: Run, tmp_path: Path, char: str
    ) -> None:
        (tmp_path / "r.in").write_text("x\n")
        secret = f"s3cr{char}et"
        url = f"https://user:{secret}@127.0.0.1:9/simple/"
        result = lockgen("lock", "r.in", "-i", url)
        assert result.exit_code == 1
        assert "percent-encode them" in result.stderr
        assert "s3cr" not in result.output
        assert not (tmp_path / "pylock.toml").exists()
