"""The persistent cache through the CLI: warm locks, offline, corruption, sharing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli
from click.testing import Result

from lockgen.store.cache import Cache
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.wheels import Dist, make_sdist, make_wheel

Run = Callable[..., Result]


def _dists() -> list[Dist]:
    return [
        make_wheel("app", "1.0", requires_dist=["lib>=1", "util"]),
        make_wheel("lib", "1.0", padding=50_000),
        make_wheel("util", "1.0"),
    ]


def _lock(lockgen: Run, server: IndexServer, *args: str) -> Result:
    # -U: a real resolution every time (an up-to-date lock would make no request)
    result = lockgen("lock", "r.in", "-i", server.index_url, "-U", *args)
    assert result.exit_code == 0, result.output
    return result


def _cache_dir(tmp_path: Path) -> Path:
    return Path(os.environ["LOCKGEN_CACHE_DIR"])


def test_warm_lock_makes_only_conditional_page_requests(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists(), pep658=False)
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    cold = (tmp_path / "pylock.toml").read_text()
    server.clear_log()
    _lock(lockgen, server)
    assert (tmp_path / "pylock.toml").read_text() == cold
    assert all(r.path.startswith("/simple/") for r in server.requests)
    assert all("if-none-match" in r.headers for r in server.requests)
    assert {r.status for r in server.requests} == {304}


def test_offline_on_a_warm_cache_makes_no_request(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    server.clear_log()
    _lock(lockgen, server, "--offline")
    assert server.requests == []


def test_a_lock_makes_no_directory_per_entry(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Each kind of entry is one flat directory: on ext4, making a subdirectory per
    entry (as 256 shards did) cost a cold lock of a hundred packages about 0.2 s."""
    server = make_server(_dists(), pep658=False)
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    v1 = _cache_dir(tmp_path) / "v1"
    kinds = sorted(p.name for p in v1.iterdir() if p.name != "tmp")
    assert kinds == ["inputs", "metadata", "pages"]
    for kind in kinds:
        inside = list((v1 / kind).iterdir())
        assert inside and all(p.is_file() for p in inside), (kind, inside)
    assert len(list((v1 / "metadata").iterdir())) == 3  # app, lib, util


def test_offline_on_a_cold_cache_names_what_is_missing(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "--offline")
    assert result.exit_code == 1
    assert f"{server.index_url}app/" in result.stderr and "offline" in result.stderr
    assert server.requests == []


def test_a_corrupt_entry_is_discarded_and_refetched(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    dists = _dists()
    server = make_server(dists)
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    entries = list((_cache_dir(tmp_path) / "v1" / "metadata").rglob("pep658-*"))
    assert len(entries) == 3
    for entry in entries:  # flip the last byte of each payload
        data = bytearray(entry.read_bytes())
        data[-1] ^= 0xFF
        entry.write_bytes(bytes(data))
    server.clear_log()
    _lock(lockgen, server)
    metadata_gets = [r for r in server.requests if r.path.endswith(".metadata")]
    assert len(metadata_gets) == 3
    lock = tomli.loads((tmp_path / "pylock.toml").read_text())
    by_file = {d.filename: d for d in dists}
    for package in lock["packages"]:
        tool = package["tool"]["lockgen"]
        assert tool["metadata-sha256"] == by_file[tool["metadata-file"]].metadata_sha256


def test_no_cache_neither_reads_nor_writes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server, "--no-cache")
    assert not _cache_dir(tmp_path).exists()
    _lock(lockgen, server)
    server.clear_log()
    _lock(lockgen, server, "--no-cache")
    assert any(r.path.endswith(".metadata") for r in server.requests)


def test_refresh_refetches_pages(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    server.clear_log()
    _lock(lockgen, server, "--refresh")
    pages = [r for r in server.requests if r.path.startswith("/simple/")]
    assert len(pages) == 3 and all(r.status == 200 for r in pages)
    assert not any(r.path.endswith(".metadata") for r in server.requests)


def test_whole_file_downloads_serve_a_later_hydrate(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists(), pep658=False, ranges="ignore")
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    server.clear_log()
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--json")
    assert result.exit_code == 0, result.output
    assert server.requests == []
    assert '"from_cache": 3' in result.stdout


def test_second_hydrate_into_a_new_dir_links_from_the_cache(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    assert lockgen("hydrate", "pylock.toml", "-d", "one").exit_code == 0
    server.clear_log()
    result = lockgen("hydrate", "pylock.toml", "-d", "two")
    assert result.exit_code == 0
    assert server.requests == []
    assert "3 from the cache" in result.stderr
    for name in os.listdir(tmp_path / "two"):
        assert (tmp_path / "two" / name).read_bytes() == (
            tmp_path / "one" / name
        ).read_bytes()


def test_offline_hydrate_without_the_files_fails_naming_them(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    server.clear_log()
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--offline")
    assert result.exit_code == 1
    assert "app-1.0-py3-none-any.whl: offline" in result.stderr
    assert server.requests == []


def test_two_processes_lock_into_one_cache(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server(_dists(), pep658=False, delay=0.005)
    (tmp_path / "r.in").write_text("app\n")
    env = isolated_env()
    procs = [
        subprocess.Popen(
            lockgen_command(
                "lock",
                "r.in",
                "-q",
                "-i",
                server.index_url,
                "-o",
                f"pylock.p{i}.toml",
            ),
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert (tmp_path / "pylock.p0.toml").read_text() == (
        tmp_path / "pylock.p1.toml"
    ).read_text()
    cache = Cache(_cache_dir(tmp_path))
    for url in (f"{server.index_url}{name}/" for name in ("app", "lib", "util")):
        page = cache.get_page(url)
        assert page is not None and page.body
    assert cache.info()["metadata"][0] == 3


def test_cache_commands(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    root = _cache_dir(tmp_path)
    assert lockgen("cache", "dir").stdout.strip() == str(root)
    info = lockgen("cache", "info").stdout
    assert "pages: 3 entries" in info and "metadata: 3 entries" in info
    cleaned = lockgen("cache", "clean")
    assert cleaned.exit_code == 0 and "Removed" in cleaned.stdout
    assert "pages: 0 entries" in lockgen("cache", "info").stdout


def test_a_corrupt_cached_artifact_is_refetched_not_trusted(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    dists = _dists()
    server = make_server(dists)
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    assert lockgen("hydrate", "pylock.toml", "-d", "one").exit_code == 0
    lib = next(d for d in dists if d.project == "lib")
    cached = Cache(_cache_dir(tmp_path)).artifact_path(lib.sha256)
    assert cached is not None
    (tmp_path / "one" / lib.filename).unlink()  # break the hard link, then corrupt
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    server.clear_log()
    result = lockgen("hydrate", "pylock.toml", "-d", "two")
    assert result.exit_code == 0, result.output
    assert [r.path for r in server.requests] == [f"/files/{lib.filename}"]
    assert (tmp_path / "two" / lib.filename).read_bytes() == lib.data


def _file_requests(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/files/")]


def test_a_dynamic_sdist_verdict_is_cached_and_the_sdist_not_kept(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """An sdist downloaded only to read its PKG-INFO is not kept, and its PKG-INFO is
    cached before the static check, so a warm run that may not build it either
    reaches the same verdict without downloading it again."""
    server = make_server(
        [
            make_wheel("app", "1.0", requires_dist=["dyn"]),
            make_sdist("dyn", "1.0", dynamic=["Requires-Dist"]),
        ]
    )
    (tmp_path / "r.in").write_text("app\n")
    cold = lockgen("lock", "r.in", "-i", server.index_url, "--no-build")
    assert cold.exit_code == 1
    assert "dyn 1.0 cannot be used: its metadata is dynamic" in cold.stderr
    assert _file_requests(server)[-1:] == ["/files/dyn-1.0.tar.gz"]
    cache = Cache(_cache_dir(tmp_path))
    assert cache.info()["artifacts"][0] == 0
    server.clear_log()
    warm = lockgen("lock", "r.in", "-i", server.index_url, "--no-build")
    assert (warm.exit_code, warm.stderr) == (1, cold.stderr)
    assert _file_requests(server) == []
    assert cache.info()["artifacts"][0] == 0


@pytest.mark.parametrize("hashes", [True, False], ids=["hashes", "no-hashes"])
def test_a_locked_sdist_read_for_metadata_is_fetched_again_by_hydrate(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, hashes: bool
) -> None:
    src = make_sdist("src", "1.0")
    server = make_server(
        [make_wheel("app", "1.0", requires_dist=["src"]), src], hashes=hashes
    )
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    cold = (tmp_path / "pylock.toml").read_text()
    assert _file_requests(server).count("/files/src-1.0.tar.gz") == 1
    cache = Cache(_cache_dir(tmp_path))
    assert cache.artifact_path(src.sha256) is None  # read for metadata only
    server.clear_log()
    _lock(lockgen, server)  # metadata, and the hash the index did not list, cached
    assert (tmp_path / "pylock.toml").read_text() == cold
    assert _file_requests(server) == []
    result = lockgen("hydrate", "pylock.toml", "-d", "wheelhouse")
    assert result.exit_code == 0, result.output
    assert "/files/src-1.0.tar.gz" in _file_requests(server)
    assert (tmp_path / "wheelhouse" / src.filename).read_bytes() == src.data
    assert cache.artifact_path(src.sha256) is not None  # hydrate keeps what it fetched


def test_refresh_downloads_an_unhashed_file_again(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Without listed hashes the cache recalls each URL's hash; ``--refresh`` does
    not trust that record and learns the hash anew (a file replaced in place)."""
    dists = _dists()
    server = make_server(dists, hashes=False, pep658=False)
    (tmp_path / "r.in").write_text("app\n")
    _lock(lockgen, server)
    server.clear_log()
    _lock(lockgen, server, "-o", "pylock.warm.toml")
    assert _file_requests(server) == []
    server.clear_log()
    _lock(lockgen, server, "--refresh", "-o", "pylock.new.toml")  # no previous lock
    whole = [r.path for r in server.requests if r.range is None]
    assert sorted(p for p in whole if p.startswith("/files/")) == sorted(
        f"/files/{d.filename}" for d in dists
    )
