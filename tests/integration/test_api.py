"""The Python API as a build tool uses it: ``import lockgen`` and public names only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.pylock import Pylock

import lockgen
from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

_WIN = "cp311-cp311-win_amd64"


@pytest.fixture
def server(make_server: ServerFactory) -> IndexServer:
    return make_server(
        [
            make_wheel("app", "1.0", requires_dist=["lib>=1", "util"]),
            make_wheel("lib", "1.0"),
            make_wheel("util", "1.0"),
            make_wheel("plat", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
            make_wheel("plat", "1.0", tag=_WIN),
        ]
    )


def _pins(lock: Pylock) -> dict[str, str]:
    return {str(p.name): str(p.version) for p in lock.packages}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lock_has_the_bytes_the_command_line_writes(
    server: IndexServer, tmp_path: Path
) -> None:
    lock = lockgen.lock(["app"], indexes=[server.index_url])
    assert isinstance(lock, Pylock)
    assert _pins(lock) == {"app": "1.0", "lib": "1.0", "util": "1.0"}
    (tmp_path / "r.in").write_text("app\n")
    ran = _cli("lock", "r.in", "-i", server.index_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert lockgen.dumps(lock) == (tmp_path / "pylock.toml").read_text()


def test_relock_keeps_the_previous_pins(server: IndexServer) -> None:
    first = lockgen.lock(["app"], indexes=[server.index_url])
    server.add(make_wheel("lib", "2.0"))
    server.clear_log()
    # the same inputs: the previous lock as it is, without a request
    again = lockgen.lock(["app"], indexes=[server.index_url], previous=first)
    assert server.requests == []
    assert lockgen.dumps(again) == lockgen.dumps(first)
    # new inputs: resolved again, but lib stays where the previous lock had it
    grown = lockgen.lock(
        ["app", "plat"], indexes=[server.index_url], previous=lockgen.dumps(first)
    )
    assert _pins(grown)["lib"] == "1.0" and "plat" in _pins(grown)
    freed = lockgen.lock(
        ["app"], indexes=[server.index_url], previous=first, upgrade=["lib"]
    )
    assert _pins(freed)["lib"] == "2.0"


def test_hydrate_fetches_and_verifies_the_lock(
    server: IndexServer, tmp_path: Path
) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text(lockgen.dumps(lockgen.lock(["app"], indexes=[server.index_url])))
    report = lockgen.hydrate(path, tmp_path / "wheels")
    assert isinstance(report, lockgen.HydrateReport)
    assert report.failures == [] and report.count("fetched") == 3
    assert sorted(p.name for p in (tmp_path / "wheels").iterdir()) == [
        "app-1.0-py3-none-any.whl",
        "lib-1.0-py3-none-any.whl",
        "util-1.0-py3-none-any.whl",
    ]


def test_a_target_selects_its_wheels(server: IndexServer, tmp_path: Path) -> None:
    windows = lockgen.Target.from_spec(python_version="3.11", platform="win_amd64")
    lock = lockgen.lock(["plat"], indexes=[server.index_url], target=windows)
    path = tmp_path / "pylock.toml"
    path.write_text(lockgen.dumps(lock))
    report = lockgen.hydrate(path, tmp_path / "wheels", target=windows)
    assert [o.artifact.filename for o in report.outcomes] == [f"plat-1.0-{_WIN}.whl"]


def test_errors_are_lockgen_errors(server: IndexServer) -> None:
    with pytest.raises(lockgen.ProjectNotFoundError) as missing:
        lockgen.lock(["nothing-here"], indexes=[server.index_url])
    assert isinstance(missing.value, lockgen.LockgenError)
    with pytest.raises(lockgen.InvalidTargetError):
        lockgen.Target.from_spec(platform="amiga_68k")
    with pytest.raises(lockgen.LockFileError):
        lockgen.lock(["app"], indexes=[server.index_url], previous="not = [toml")


def test_failed_requests_are_retried_without_waiting(server: IndexServer) -> None:
    server.fail["/simple/app/"] = [503, 503]
    lock = lockgen.lock(["app"], indexes=[server.index_url], backoff=0)
    assert "app" in _pins(lock)
    assert [r.status for r in server.requests if r.path == "/simple/app/"] == [
        503,
        503,
        200,
    ]


def test_import_and_an_up_to_date_relock_load_no_network_code(
    server: IndexServer, tmp_path: Path
) -> None:
    """``import lockgen`` is one small module; re-locking an up-to-date lock makes no
    request and never loads urllib3, the resolver or urllib.request (http.client, ssl
    and email: only file: URLs need it)."""
    previous = tmp_path / "pylock.toml"
    previous.write_text(
        lockgen.dumps(lockgen.lock(["app"], indexes=[server.index_url]))
    )
    server.clear_log()
    code = (
        "import sys, lockgen; "
        "print(sorted(m for m in sys.modules if m.startswith('lockgen'))); "
        f"lockgen.lock(['app'], indexes=[{server.index_url!r}], "
        f"previous=open({str(previous)!r}).read()); "
        "print(sorted(m for m in sys.modules if m in ('urllib3', 'urllib.request') or "
        "m.startswith(('lockgen.resolver', 'lockgen.net.transport'))))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert ran.stdout.splitlines() == ["['lockgen']", "[]"]
    assert server.requests == []
