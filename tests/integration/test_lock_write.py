"""How ``lockgen lock`` writes the file: the umask's mode, an existing file's mode
kept, and no temporary file left behind whatever stops the write."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from lockgen.app.atomic import write_atomically
from lockgen.core.errors import LockFileError
from tests.conftest import ServerFactory
from tests.support.wheels import make_wheel

Run = Callable[..., Result]


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test (the CLI runs in this process)."""
    saved = os.umask(0o022)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(saved)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_new_lock_gets_the_umasks_mode(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    umask: Callable[[int], None],
    mask: int,
    expected: int,
) -> None:
    server = make_server([make_wheel("app", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    umask(mask)
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    assert _mode(tmp_path / "pylock.toml") == expected
    assert _leftovers(tmp_path) == []


def test_a_relock_keeps_the_existing_files_mode(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    umask: Callable[[int], None],
) -> None:
    server = make_server([make_wheel("app", "1.0"), make_wheel("extra", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    umask(0o022)
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    lock = tmp_path / "pylock.toml"
    lock.chmod(0o640)
    before = lock.read_bytes()
    (tmp_path / "r.in").write_text("app\nextra\n")
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    assert lock.read_bytes() != before
    assert _mode(lock) == 0o640
    assert _leftovers(tmp_path) == []


def test_a_failed_rename_leaves_the_old_state_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "pylock.toml"
    target.mkdir()  # a directory where the lock goes: the rename fails
    with pytest.raises(LockFileError, match="cannot write"):
        write_atomically(target, "lock-version = '1.0'\n")
    assert target.is_dir() and _leftovers(tmp_path) == []


def test_an_interrupted_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C arriving between the write and the rename."""
    target = tmp_path / "pylock.toml"
    target.write_text("old\n")

    def interrupted(self: Path, other: Path) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []
