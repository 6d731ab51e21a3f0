"""Replay (issue 10): a lock resolved before from the same inputs is written again,
unresolved, when every index page it was resolved from is unchanged; anything else
resolves, and a changed index fetches no page twice."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli
from click.testing import Result

import lockgen
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel, write_static_index

Run = Callable[..., Result]

REPLAYED = "replayed the resolution recorded for these inputs"


def _dists() -> list[Any]:
    return [
        make_wheel("app", "1.0", requires_dist=["lib"]),
        make_wheel("lib", "1.0"),
        make_wheel("lib", "2.0"),
    ]


def _lock(lockgen: Run, server: IndexServer, out: str, *extra: str) -> Result:
    result = lockgen("lock", "r.in", "-i", server.index_url, "-o", out, "-v", *extra)
    assert result.exit_code == 0, result.output
    return result


def _records(tmp_path: Path) -> list[Path]:
    cache = tmp_path / "cache" / "v1" / "resolutions"
    return [p for p in cache.rglob("*") if p.is_file()]


def _versions(path: Path) -> dict[str, str]:
    lock = tomli.loads(path.read_text())
    return {p["name"]: p["version"] for p in lock["packages"]}


@pytest.fixture
def lock_in(
    lockgen: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``lockgen lock`` with the cache in ``tmp_path/cache``."""
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "r.in").write_text("app\n")
    return lambda server, out, *extra: _lock(lockgen, server, out, *extra)


@pytest.mark.parametrize("validators", ["sha", "none"])
@pytest.mark.parametrize("page_format", ["json", "html"])
def test_warm_into_a_new_output_asks_each_page_once_and_nothing_else(
    make_server: ServerFactory,
    lock_in: Run,
    tmp_path: Path,
    validators: str,
    page_format: str,
) -> None:
    server = make_server(_dists(), validators=validators, formats=(page_format,))
    cold = lock_in(server, "pylock.toml")
    assert REPLAYED not in cold.stderr
    cold_pages = sorted(r.path for r in server.requests if r.path.startswith("/simple"))
    server.clear_log()
    warm = lock_in(server, "pylock.warm.toml")
    assert REPLAYED in warm.stderr
    assert (tmp_path / "pylock.warm.toml").read_bytes() == (
        tmp_path / "pylock.toml"
    ).read_bytes()
    assert sorted(r.path for r in server.requests) == cold_pages


def test_offline_replays_from_the_cache_alone(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    lock_in(server, "pylock.toml")
    server.clear_log()
    offline = lock_in(server, "pylock.offline.toml", "--offline")
    assert REPLAYED in offline.stderr
    assert server.requests == []
    assert (tmp_path / "pylock.offline.toml").read_bytes() == (
        tmp_path / "pylock.toml"
    ).read_bytes()


def test_a_new_release_is_resolved_and_no_page_is_fetched_twice(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    """The pages read to check the record are the resolver's: a changed index costs
    no more requests than a warm lock without replay."""
    server = make_server(_dists(), validators="none")
    lock_in(server, "pylock.toml")
    server.add(make_wheel("lib", "3.0"))
    server.clear_log()
    again = lock_in(server, "pylock.new.toml")
    assert REPLAYED not in again.stderr
    assert _versions(tmp_path / "pylock.new.toml")["lib"] == "3.0"
    pages = [r.path for r in server.requests if r.path.startswith("/simple/")]
    assert sorted(pages) == ["/simple/app/", "/simple/lib/"]
    # the new resolution is the one recorded now
    server.clear_log()
    assert REPLAYED in lock_in(server, "pylock.newer.toml").stderr
    assert (tmp_path / "pylock.newer.toml").read_bytes() == (
        tmp_path / "pylock.new.toml"
    ).read_bytes()


def test_the_previous_locks_pins_are_part_of_what_is_replayed(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    """A re-lock prefers the existing lock's pins: a resolution recorded without them
    (lib 2.0) must not stand for one that keeps lib 1.0."""
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\nlib<2\n")
    lock_in(server, "pylock.toml")
    assert _versions(tmp_path / "pylock.toml")["lib"] == "1.0"
    (tmp_path / "r.in").write_text("app\n")
    lock_in(server, "pylock.fresh.toml")
    assert _versions(tmp_path / "pylock.fresh.toml")["lib"] == "2.0"
    relocked = lock_in(server, "pylock.toml")  # inputs changed: pins preferred
    assert REPLAYED not in relocked.stderr
    assert _versions(tmp_path / "pylock.toml")["lib"] == "1.0"


@pytest.mark.parametrize("flag", ["-U", "--refresh", "--upgrade-package=lib"])
def test_flags_that_ask_for_a_new_resolution_resolve(
    make_server: ServerFactory, lock_in: Run, flag: str
) -> None:
    server = make_server(_dists())
    lock_in(server, "pylock.toml")
    assert REPLAYED not in lock_in(server, "pylock.toml", flag).stderr


def test_check_resolves_again(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    lock_in(server, "pylock.toml")
    checked = lock_in(server, "pylock.toml", "--check")
    assert REPLAYED not in checked.stderr
    assert "pinned lib 2.0" in checked.stderr


def _edit_record(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    (record,) = _records(tmp_path)
    magic, header, payload = record.read_bytes().split(b"\n", 2)
    fields = json.loads(payload)
    edit(fields)
    body = json.dumps(fields).encode()
    head = json.loads(header)
    head.update(length=len(body), sha256=hashlib.sha256(body).hexdigest())
    record.write_bytes(magic + b"\n" + json.dumps(head).encode() + b"\n" + body)


def _swap_a_hash(fields: dict[str, Any]) -> None:
    text = fields["text"]
    sha = text.split('sha256 = "', 1)[1].split('"', 1)[0]
    fields["text"] = text.replace(sha, "0" * 64)


def _change_a_page(fields: dict[str, Any]) -> None:
    fields["pages"][0][1] = "0" * 64


@pytest.mark.parametrize(
    "edit", [_swap_a_hash, _change_a_page], ids=["forged lock", "another page"]
)
def test_a_record_that_does_not_check_out_is_not_used(
    make_server: ServerFactory,
    lock_in: Run,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
) -> None:
    """The record is untrusted: a lock whose seal fails, or pages that differ, mean
    a resolution, which writes what a cold lock writes."""
    server = make_server(_dists())
    lock_in(server, "pylock.toml")
    _edit_record(tmp_path, edit)
    again = lock_in(server, "pylock.again.toml", "--offline")
    assert REPLAYED not in again.stderr
    assert (tmp_path / "pylock.again.toml").read_bytes() == (
        tmp_path / "pylock.toml"
    ).read_bytes()


def test_offline_without_a_recorded_page_names_it(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path, lockgen: Run
) -> None:
    server = make_server(_dists())
    lock_in(server, "pylock.toml")
    pages = tmp_path / "cache" / "v1" / "pages"
    shutil.rmtree(pages)
    result = lockgen(
        "lock", "r.in", "-i", server.index_url, "-o", "pylock.x.toml", "--offline"
    )
    assert result.exit_code == 1
    assert "offline" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "pylock.x.toml").exists()


def test_two_locks_sharing_one_cache_each_replay_their_own(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path, lockgen: Run
) -> None:
    server = make_server([*_dists(), make_wheel("tool", "1.0", requires_dist=["lib"])])
    (tmp_path / "b.in").write_text("tool\n")

    def lock_b(out: str) -> Result:
        result = lockgen("lock", "b.in", "-i", server.index_url, "-o", out, "-v")
        assert result.exit_code == 0, result.output
        return result

    lock_in(server, "pylock.a.toml")
    lock_b("pylock.b.toml")
    assert len(_records(tmp_path)) == 2
    assert REPLAYED in lock_in(server, "pylock.a2.toml").stderr
    assert REPLAYED in lock_b("pylock.b2.toml").stderr
    for name in "ab":
        assert (tmp_path / f"pylock.{name}2.toml").read_bytes() == (
            tmp_path / f"pylock.{name}.toml"
        ).read_bytes()


def test_a_replay_repeats_the_warnings(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, monkeypatch: Any
) -> None:
    """A mistyped extra index is still reported when the lock is replayed."""
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "cache"))
    server = make_server(_dists())
    wrong = make_server([make_wheel("other", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    args = ("lock", "r.in", "-i", wrong.index_url, "--extra-index-url")
    cold = lockgen(*args, server.index_url, "-o", "pylock.toml")
    warm = lockgen(*args, server.index_url, "-o", "pylock.warm.toml", "-v")
    assert cold.exit_code == warm.exit_code == 0
    assert REPLAYED in warm.stderr

    def warnings(result: Result) -> list[str]:
        return [
            line for line in result.stderr.splitlines() if "is its URL right" in line
        ]

    assert warnings(cold) and warnings(warm) == warnings(cold)


def test_the_api_replays_too(make_server: ServerFactory, tmp_path: Path) -> None:
    server = make_server(_dists())
    first = lockgen.lock(["app"], indexes=[server.index_url], cache_dir=tmp_path)
    server.clear_log()
    second = lockgen.lock(["app"], indexes=[server.index_url], cache_dir=tmp_path)
    assert lockgen.dumps(second) == lockgen.dumps(first)
    assert all(r.path.startswith("/simple/") for r in server.requests)


def test_find_links_are_not_replayed(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    """A folder's listing is no page with a fingerprint: such a lock resolves."""
    server = make_server(_dists())
    (tmp_path / "wheels").mkdir()
    extra = make_wheel("lib", "9.0")
    (tmp_path / "wheels" / extra.filename).write_bytes(extra.data)
    lock_in(server, "pylock.toml", "--find-links", "wheels")
    assert _records(tmp_path) == []
    again = lock_in(server, "pylock.again.toml", "--find-links", "wheels")
    assert REPLAYED not in again.stderr


def _sha256s(path: Path) -> dict[str, str]:
    lock = tomli.loads(path.read_text())
    return {p["name"]: p["wheels"][0]["hashes"]["sha256"] for p in lock["packages"]}


def test_a_local_index_without_hashes_is_never_replayed(
    lock_in: Run, lockgen: Run, tmp_path: Path
) -> None:
    """lockgen hashes a file:// file listed without a sha256 on every run (it can
    change under its name); a replay would carry the old hash, so such a lock is
    not recorded. The file's metadata is read anew too."""
    old = make_wheel("lib", "1.0")
    root = tmp_path / "mirror"
    app = make_wheel("app", "1.0", requires_dist=["lib"])
    write_static_index([app, old], root, hashes=False, pep658=False)
    index = (root / "simple").as_uri() + "/"
    (tmp_path / "r.in").write_text("app\n")
    args = ("lock", "r.in", "-i", index, "-v")
    assert lockgen(*args, "-o", "pylock.toml").exit_code == 0
    assert _records(tmp_path) == []
    new = make_wheel("lib", "1.0", requires_dist=["extra-dep"])
    (root / "files" / new.filename).write_bytes(new.data)  # same name, new bytes
    write_static_index(
        [make_wheel("extra-dep", "1.0")], root, hashes=False, pep658=False
    )
    again = lockgen(*args, "-o", "pylock.again.toml")
    assert again.exit_code == 0, again.output
    assert REPLAYED not in again.stderr
    locked = _sha256s(tmp_path / "pylock.again.toml")
    assert locked["lib"] == new.sha256 != old.sha256
    assert "extra-dep" in locked  # the new METADATA, not a cached one


def test_the_previous_locks_hashes_are_part_of_what_is_replayed(
    make_server: ServerFactory, lock_in: Run, tmp_path: Path
) -> None:
    """Against an index without hashes a re-lock takes the previous lock's sha256
    for an unchanged URL: a record made with one previous lock's hashes must not
    stand for a re-lock of another's."""
    first = make_wheel("lib", "1.0")
    server = make_server([make_wheel("app", "1.0", requires_dist=["lib"]), first])
    server.listing = type(server.listing)(pep658=True, hashes=False, sizes=True)
    lock_in(server, "pylock.one.toml")
    second = make_wheel("lib", "1.0", padding=100)  # the file replaced in place
    server.add(second)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "r.in").write_text("app\n")
    # a lock holding the new bytes' hash, made with another cache
    done = subprocess.run(
        lockgen_command(
            "lock", "r.in", "-i", server.index_url, "-o", "pylock.two.toml",
            "--cache-dir", str(fresh / "cache"), "-q",
        ),
        cwd=fresh, env=isolated_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0
    assert _sha256s(fresh / "pylock.two.toml")["lib"] == second.sha256
    (tmp_path / "r.in").write_text("app\nlib>=0.5\n")  # inputs changed: re-locks
    shutil.copy(tmp_path / "pylock.one.toml", tmp_path / "pylock.q.toml")
    lock_in(server, "pylock.q.toml")  # records the first lock's hash
    shutil.copy(fresh / "pylock.two.toml", tmp_path / "pylock.q2.toml")
    relocked = lock_in(server, "pylock.q2.toml")
    assert REPLAYED not in relocked.stderr
    assert _sha256s(tmp_path / "pylock.q2.toml")["lib"] == second.sha256


def test_a_recorded_page_that_cannot_be_read_now_only_matters_if_needed(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, monkeypatch: Any
) -> None:
    """app 1.0 needed lib from a second index; app 1.1 needs nothing. With that
    index down, the record's check fails on lib's page, which the new resolution
    never reads: the lock is written."""
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "cache"))
    primary = make_server([make_wheel("app", "1.0", requires_dist=["lib"])])
    extra = make_server([make_wheel("lib", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    args = ("lock", "r.in", "-i", primary.index_url, "--extra-index-url")
    assert lockgen(*args, extra.index_url, "-o", "pylock.toml").exit_code == 0
    primary.add(make_wheel("app", "1.1"))
    extra.fail["/simple/lib/"] = [503] * 20
    again = lockgen(*args, extra.index_url, "-o", "pylock.new.toml", "-v")
    assert again.exit_code == 0, again.output
    assert REPLAYED not in again.stderr
    assert _versions(tmp_path / "pylock.new.toml") == {"app": "1.1"}


def test_a_page_that_cannot_be_read_and_is_needed_is_the_resolvers_error_once(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LOCKGEN_CACHE_DIR", str(tmp_path / "cache"))
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    args = ("lock", "r.in", "-i", server.index_url)
    assert lockgen(*args, "-o", "pylock.toml").exit_code == 0
    server.fail["/simple/lib/"] = [503] * 20
    server.clear_log()
    again = lockgen(*args, "-o", "pylock.new.toml")
    assert again.exit_code == 1
    assert again.stderr.count("\n") == 1 and "/simple/lib/" in again.stderr
    tries = [r for r in server.requests if r.path == "/simple/lib/"]
    assert len(tries) == 4  # one request and its 3 retries, not a second round
    assert not (tmp_path / "pylock.new.toml").exists()
