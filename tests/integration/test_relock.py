"""Re-locking with an existing lock: no-op runs, preferences, -U, -P, --check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import tomli
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

Run = Callable[..., Result]


def _server(make_server: ServerFactory) -> IndexServer:
    return make_server(
        [
            make_wheel("app", "1.0", requires_dist=["lib>=1", "util"]),
            make_wheel("lib", "1.0"),
            make_wheel("util", "1.0"),
            make_wheel("extra", "1.0"),
        ]
    )


def _pins(tmp_path: Path) -> dict[str, str]:
    data = tomli.loads((tmp_path / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


def _lock(lockgen: Run, server: IndexServer, *args: str) -> Result:
    return lockgen("lock", "r.in", "-i", server.index_url, *args)


def test_unchanged_relock_makes_no_request_and_writes_nothing(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    lock = tmp_path / "pylock.toml"
    data = tomli.loads(lock.read_text())
    assert data["tool"]["lockgen"]["inputs"].startswith("sha256:")
    before = lock.stat()
    server.clear_log()
    result = _lock(lockgen, server)
    assert result.exit_code == 0
    assert server.requests == []
    assert (
        lock.stat().st_mtime_ns == before.st_mtime_ns
        and lock.stat().st_ino == before.st_ino
    )
    assert "pylock.toml is up to date (3 packages); nothing to do" in result.stderr


def test_comments_and_order_do_not_count_as_changes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\nextra\n")
    assert _lock(lockgen, server).exit_code == 0
    server.clear_log()
    (tmp_path / "r.in").write_text("# reordered\nextra  # why\napp\n")
    assert _lock(lockgen, server).exit_code == 0
    assert server.requests == []


def test_options_count_as_inputs(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    server.clear_log()
    assert _lock(lockgen, server, "--pre").exit_code == 0
    assert server.requests != []


def test_existing_pins_are_preferences_until_upgraded(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    server.add(make_wheel("lib", "2.0"))
    server.add(make_wheel("util", "2.0"))
    (tmp_path / "r.in").write_text("app\nextra\n")  # inputs change: a real re-resolve
    assert _lock(lockgen, server).exit_code == 0
    assert _pins(tmp_path) == {
        "app": "1.0",
        "lib": "1.0",
        "util": "1.0",
        "extra": "1.0",
    }
    # -P frees exactly the named package
    assert _lock(lockgen, server, "-P", "lib").exit_code == 0
    assert _pins(tmp_path) == {
        "app": "1.0",
        "lib": "2.0",
        "util": "1.0",
        "extra": "1.0",
    }
    # -P NAME==VER moves it to that version
    assert _lock(lockgen, server, "-P", "lib==1.0").exit_code == 0
    assert _pins(tmp_path)["lib"] == "1.0"
    # -U frees everything
    assert _lock(lockgen, server, "-U").exit_code == 0
    assert _pins(tmp_path) == {
        "app": "1.0",
        "lib": "2.0",
        "util": "2.0",
        "extra": "1.0",
    }


def test_a_pin_that_no_longer_fits_moves(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    server.add(make_wheel("lib", "2.0"))
    (tmp_path / "r.in").write_text("app\nlib>=2\n")
    assert _lock(lockgen, server).exit_code == 0
    assert _pins(tmp_path)["lib"] == "2.0"


def test_check(make_server: ServerFactory, lockgen: Run, tmp_path: Path) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    missing = _lock(lockgen, server, "--check")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert not (tmp_path / "pylock.toml").exists()
    assert _lock(lockgen, server).exit_code == 0
    server.clear_log()
    ok = _lock(lockgen, server, "--check")
    # --check resolves again (pages only: every hash is on the index)
    assert ok.exit_code == 0
    assert all(r.path.startswith("/simple/") for r in server.requests)
    server.clear_log()
    (tmp_path / "r.in").write_text("app\nextra\n")
    before = (tmp_path / "pylock.toml").read_bytes()
    stale = _lock(lockgen, server, "--check")
    assert stale.exit_code == 1
    assert stale.stderr.count("\n") == 1 and "inputs or options changed" in stale.stderr
    assert (tmp_path / "pylock.toml").read_bytes() == before
    assert server.requests == []


def test_check_needs_a_file(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "r.in").write_text("app\n")
    assert lockgen("lock", "r.in", "--check", "-o", "-").exit_code == 2


def test_relock_against_a_hashless_index_reuses_the_locks_hashes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    dists = [make_wheel("app", "1.0", requires_dist=["lib"]), make_wheel("lib", "1.0")]
    server = make_server([*dists, make_wheel("extra", "1.0")], hashes=False)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    first = tomli.loads((tmp_path / "pylock.toml").read_text())
    assert {p["wheels"][0]["hashes"]["sha256"] for p in first["packages"]} == {
        d.sha256 for d in dists
    }
    server.clear_log()
    (tmp_path / "r.in").write_text("app\nextra\n")
    assert _lock(lockgen, server, "--no-cache").exit_code == 0
    downloads = [
        r.path for r in server.requests if r.path.endswith(".whl") and r.range is None
    ]
    assert downloads == ["/files/extra-1.0-py3-none-any.whl"]


def test_a_previous_lock_without_sizes_still_supplies_hashes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """``size`` is optional in PEP 751: a lock that has none (another tool's, or an
    older one's) still spares the downloads its sha256s make unnecessary."""
    dists = [make_wheel("app", "1.0", requires_dist=["lib"]), make_wheel("lib", "1.0")]
    server = make_server([*dists, make_wheel("extra", "1.0")], hashes=False)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    lock = tmp_path / "pylock.toml"
    text = lock.read_text()
    lock.write_text(
        "".join(line for line in text.splitlines(True) if not line.startswith("size ="))
    )
    server.clear_log()
    (tmp_path / "r.in").write_text("app\nextra\n")
    assert _lock(lockgen, server, "--no-cache").exit_code == 0
    downloads = [
        r.path for r in server.requests if r.path.endswith(".whl") and r.range is None
    ]
    assert downloads == ["/files/extra-1.0-py3-none-any.whl"]
    packages = {p["name"]: p for p in tomli.loads(lock.read_text())["packages"]}
    assert packages["lib"]["wheels"][0]["hashes"]["sha256"] == dists[1].sha256


def test_upgrade_package_to_a_version_no_resolution_holds_is_refused(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A constraint alone would let the resolver drop the package (an older
    ``app`` without ``lib``); -P promises the version, so it is an error."""
    server = _server(make_server)
    server.add(make_wheel("app", "0.9"))  # needs no lib
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    before = (tmp_path / "pylock.toml").read_bytes()
    result = _lock(lockgen, server, "-P", "lib==9.9")
    assert result.exit_code == 1
    assert "--upgrade-package lib==9.9: no resolution holds it" in result.stderr
    assert (tmp_path / "pylock.toml").read_bytes() == before


def test_upgrade_package_must_name_a_locked_or_needed_package(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    result = _lock(lockgen, server, "-P", "nosuchpkg")
    assert result.exit_code == 1
    assert "nosuchpkg is neither in the lock nor needed" in result.stderr
