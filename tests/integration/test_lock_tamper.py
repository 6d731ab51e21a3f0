"""A lock edited after lockgen wrote it: the no-op re-lock notices, ``--check`` fails.

The attack: keep ``[tool.lockgen]`` (so the inputs digest still matches) and point a
wheel at another file (URL, sha256 and size changed together), or delete a package.
``hydrate`` trusts the lock's hashes, so ``--check`` must prove the lock is what
lockgen would write now, and a plain ``lock`` must re-lock instead of saying
"up to date".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli
import tomli_w
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

Run = Callable[..., Result]

_EVIL_URL = "http://example.invalid/files/lib-1.0-py3-none-any.whl"
_EVIL_SHA = "e" * 64


def _server(make_server: ServerFactory, **options: object) -> IndexServer:
    return make_server(
        [
            make_wheel("app", "1.0", requires_dist=["lib"]),
            make_wheel("lib", "1.0"),
        ],
        **options,
    )


def _lock(lockgen: Run, server: IndexServer, *args: str) -> Result:
    return lockgen("lock", "r.in", "-i", server.index_url, *args)


def _locked(lockgen: Run, server: IndexServer, tmp_path: Path) -> Path:
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    return tmp_path / "pylock.toml"


def _retarget_lib(lock: Path) -> None:
    """Point lib's wheel at another file, changing URL, sha256 and size by hand."""
    text = lock.read_text()
    data = tomli.loads(text)
    wheel = next(p for p in data["packages"] if p["name"] == "lib")["wheels"][0]
    text = text.replace(wheel["url"], _EVIL_URL)
    text = text.replace(wheel["hashes"]["sha256"], _EVIL_SHA)
    text = text.replace(f"size = {wheel['size']}\n", "size = 666\n")
    lock.write_text(text)


def _lib_wheel(lock: Path) -> dict[str, Any]:
    data = tomli.loads(lock.read_text())
    package: dict[str, Any] = next(p for p in data["packages"] if p["name"] == "lib")
    wheel: dict[str, Any] = package["wheels"][0]
    return wheel


def test_the_lock_records_a_digest_of_its_own_text(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    lock = _locked(lockgen, _server(make_server), tmp_path)
    text = lock.read_text()
    recorded = tomli.loads(text)["tool"]["lockgen"]["body"]
    blank = text.replace(f'\nbody = "{recorded}"\n', '\nbody = ""\n')
    assert recorded == "sha256:" + hashlib.sha256(blank.encode()).hexdigest()


def test_check_fails_on_a_retargeted_wheel_and_names_it(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    _retarget_lib(lock)
    before = lock.read_bytes()
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "is not what lockgen would write now" in result.stderr
    assert "package lib: wheels[0].url differs" in result.stderr
    assert lock.read_bytes() == before


def test_check_fails_even_when_the_body_digest_is_forged(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """The body digest only spares the no-op a request; --check trusts no digest."""
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    _retarget_lib(lock)
    text = lock.read_text()
    recorded = tomli.loads(text)["tool"]["lockgen"]["body"]
    blank = text.replace(f'\nbody = "{recorded}"\n', '\nbody = ""\n')
    forged = "sha256:" + hashlib.sha256(blank.encode()).hexdigest()
    lock.write_text(blank.replace('\nbody = ""\n', f'\nbody = "{forged}"\n'))
    assert _lock(lockgen, server).stderr.count("up to date") == 1  # fooled, by design
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1
    assert "package lib: wheels[0].url differs" in result.stderr


def test_check_names_a_deleted_package(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    data = tomli.loads(lock.read_text())
    data["packages"] = [p for p in data["packages"] if p["name"] != "lib"]
    lock.write_text(tomli_w.dumps(data))
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "package lib is missing" in result.stderr


def test_check_fails_on_a_reformatted_lock(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    lock.write_text("# edited\n" + lock.read_text())
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1
    assert "its formatting differs" in result.stderr


def test_no_op_relock_sees_the_edit_and_restores_the_lock(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    original = lock.read_bytes()
    _retarget_lib(lock)
    server.clear_log()
    result = _lock(lockgen, server)
    assert result.exit_code == 0
    assert "up to date" not in result.stderr and server.requests != []
    assert lock.read_bytes() == original
    assert _lib_wheel(lock)["url"] != _EVIL_URL


def test_no_op_relock_restores_a_deleted_package(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    original = lock.read_bytes()
    data = tomli.loads(lock.read_text())
    data["packages"] = [p for p in data["packages"] if p["name"] != "lib"]
    lock.write_text(tomli_w.dumps(data))
    assert _lock(lockgen, server).exit_code == 0
    assert lock.read_bytes() == original


def test_check_does_not_take_the_locks_hashes_on_trust(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Against an index without hashes a re-lock reuses the lock's sha256 for an
    unchanged URL; --check must not, or a swapped hash would pass. The URL's hash
    learnt by download is in the cache, so the check downloads nothing."""
    server = _server(make_server, hashes=False)
    lock = _locked(lockgen, server, tmp_path)
    wheel = _lib_wheel(lock)
    sha256 = wheel["hashes"]["sha256"]
    lock.write_text(lock.read_text().replace(sha256, _EVIL_SHA))
    server.clear_log()
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1
    assert "package lib: wheels[0].hashes.sha256 differs" in result.stderr
    assert not any(r.path.endswith(".whl") and r.range is None for r in server.requests)


def test_an_unedited_lock_passes_check(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server, hashes=False)
    lock = _locked(lockgen, server, tmp_path)
    before = lock.stat()
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 0 and "is up to date" in result.stderr
    assert lock.stat().st_mtime_ns == before.st_mtime_ns


def test_relock_of_an_edited_lock_does_not_reuse_its_hashes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A swapped sha256 for an unchanged URL on an index without hashes: the no-op
    path sees the edit, and the re-lock takes the hash from what lockgen itself
    learnt (the cache), not from the edited lock."""
    server = _server(make_server, hashes=False)
    lock = _locked(lockgen, server, tmp_path)
    original = lock.read_bytes()
    sha256 = _lib_wheel(lock)["hashes"]["sha256"]
    lock.write_text(lock.read_text().replace(sha256, _EVIL_SHA))
    server.clear_log()
    assert _lock(lockgen, server).exit_code == 0
    assert lock.read_bytes() == original
    assert not any(r.path.endswith(".whl") and r.range is None for r in server.requests)


def test_check_escapes_control_characters_from_the_lock(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    lock = _locked(lockgen, server, tmp_path)
    data = tomli.loads(lock.read_text())
    data["packages"].append({"name": "evil\x1b[2J", "version": "1.0"})
    lock.write_text(tomli_w.dumps(data))
    result = _lock(lockgen, server, "--check")
    assert result.exit_code == 1 and "\x1b" not in result.stderr
    assert "package evil\\x1b[2J is not in the resolution" in result.stderr
