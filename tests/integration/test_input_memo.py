"""The inputs memo (:mod:`lockgen.app.input_memo`): an up-to-date re-lock that does
not parse its requirements again must still see every change that parsing would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel, write_static_index

Run = Callable[..., Result]
UP_TO_DATE = "is up to date"


def _memos() -> list[Path]:
    root = Path(os.environ["LOCKGEN_CACHE_DIR"]) / "v1" / "inputs"
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def server(make_server: ServerFactory) -> IndexServer:
    return make_server(
        [
            make_wheel("app", "1.0", requires_dist=["lib"]),
            make_wheel("lib", "1.0"),
            make_wheel("lib", "2.0"),
            make_wheel("other", "1.0"),
        ]
    )


def _lock(lockgen: Run, server: IndexServer, *extra: str) -> Result:
    result = lockgen("lock", "r.in", "-i", server.index_url, *extra)
    assert result.exit_code == 0, result.output
    return result


def _write(path: Path, text: str) -> None:
    path.write_text(text)


#: name -> (set-up, change): files in the project folder and the environment.
_CHANGES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "requirement": ({"r.in": "app\n"}, {"r.in": "app\nother\n"}),
    "included file": (
        {"r.in": "-r base.in\n", "base.in": "app\n"},
        {"base.in": "app\nother\n"},
    ),
    "constraint": (
        {"r.in": "-c c.txt\napp\n", "c.txt": "lib<3\n"},
        {"c.txt": "lib<2\n"},
    ),
    "variable": ({"r.in": "app\n${EXTRA}\n", "$EXTRA": "lib"}, {"$EXTRA": "other"}),
    "pip's config file": (
        {
            "r.in": "app\n",
            "pip.conf": "[global]\nextra-index-url = http://a.invalid/\n",
        },
        {"pip.conf": "[global]\nextra-index-url = http://b.invalid/\n"},
    ),
    "pip's variable": (
        {"r.in": "app\n", "$PIP_EXTRA_INDEX_URL": "http://a.invalid/"},
        {"$PIP_EXTRA_INDEX_URL": "http://b.invalid/"},
    ),
}


def _apply(
    files: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in files.items():
        if name.startswith("$"):
            monkeypatch.setenv(name[1:], text)
        else:
            _write(tmp_path / name, text)


@pytest.mark.parametrize("change", list(_CHANGES))
def test_a_change_the_parse_would_see_is_seen(
    change: str,
    server: IndexServer,
    lockgen: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_up, changed = _CHANGES[change]
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    _write(tmp_path / "pip.conf", "")
    _apply(set_up, tmp_path, monkeypatch)
    _lock(lockgen, server)
    assert UP_TO_DATE in _lock(lockgen, server).stderr  # from the memo
    assert len(_memos()) == 1
    _apply(changed, tmp_path, monkeypatch)
    assert UP_TO_DATE not in _lock(lockgen, server).stderr
    assert UP_TO_DATE in _lock(lockgen, server).stderr  # remembered again


def test_an_edit_that_changes_nothing_is_still_up_to_date(
    server: IndexServer, lockgen: Run, tmp_path: Path
) -> None:
    _write(tmp_path / "r.in", "app\n")
    _lock(lockgen, server)
    _write(tmp_path / "r.in", "# the app\napp   \n")
    assert UP_TO_DATE in _lock(lockgen, server).stderr


def test_each_target_is_remembered_apart_and_no_cache_keeps_none(
    server: IndexServer, lockgen: Run, tmp_path: Path
) -> None:
    _write(tmp_path / "r.in", "app\n")
    _lock(lockgen, server, "--python-version", "3.11")
    assert UP_TO_DATE in _lock(lockgen, server, "--python-version", "3.11").stderr
    assert UP_TO_DATE not in _lock(lockgen, server, "--python-version", "3.12").stderr
    assert len(_memos()) == 2
    _lock(lockgen, server, "--no-cache", "-o", "pylock.nocache.toml")
    assert len(_memos()) == 2


def test_a_bad_target_is_still_one_line(lockgen: Run, tmp_path: Path) -> None:
    _write(tmp_path / "r.in", "app\n")
    result = lockgen("lock", "r.in", "--platform", "no_such_platform")
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1 and "no_such_platform" in result.stderr
    assert "Traceback" not in result.output


def test_a_variable_is_remembered_as_a_hash_only(
    server: IndexServer, lockgen: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requirements file may take a password from a variable: the memo keeps its
    hash, never its value."""
    monkeypatch.setenv("INDEX_PASSWORD", "s3cret-7f3a")
    index = server.index_url.replace("http://", "http://user:${INDEX_PASSWORD}@")
    _write(tmp_path / "r.in", f"--index-url {index}\napp\n")
    result = lockgen("lock", "r.in")
    assert result.exit_code == 0, result.output
    (memo,) = _memos()
    assert b"7f3a" not in memo.read_bytes()
    monkeypatch.setenv("INDEX_PASSWORD", "other-7f3b")
    again = lockgen("lock", "r.in")
    assert UP_TO_DATE in again.stderr  # another password: the same inputs digest
    assert b"7f3b" not in memo.read_bytes()


@pytest.mark.parametrize("change", ["host platform", "manylinux module"])
def test_what_changes_the_running_targets_tags_is_seen(
    change: str,
    server: IndexServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """packaging's tags read more than ``uname``: sysconfig's platform (which
    honours ``_PYTHON_HOST_PLATFORM``) and a ``_manylinux`` module on the path.
    Run in child processes: both are read once per interpreter."""
    _write(tmp_path / "r.in", "app\n")
    args = ("lock", "r.in", "-i", server.index_url)
    env = isolated_env()

    def lock(**extra: str) -> str:
        done = subprocess.run(
            lockgen_command(*args),
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stderr

    lock()
    assert UP_TO_DATE in lock()
    if change == "host platform":
        changed = {"_PYTHON_HOST_PLATFORM": "linux-aarch64"}
    else:
        (tmp_path / "ml").mkdir()
        (tmp_path / "ml" / "_manylinux.py").write_text(
            "def manylinux_compatible(*args):\n    return False\n"
        )
        changed = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "ml"), *sys.path])}
    assert UP_TO_DATE not in lock(**changed)


def test_a_local_index_folder_that_is_gone_is_an_error_still(
    lockgen: Run, tmp_path: Path
) -> None:
    root = tmp_path / "mirror"
    write_static_index([make_wheel("app", "1.0")], root)
    _write(tmp_path / "r.in", "app\n")
    index = (root / "simple").as_uri() + "/"
    assert lockgen("lock", "r.in", "-i", index).exit_code == 0
    assert UP_TO_DATE in lockgen("lock", "r.in", "-i", index).stderr
    root.rename(tmp_path / "gone")
    result = lockgen("lock", "r.in", "-i", index)
    assert result.exit_code == 1
    assert "is not a folder on this machine" in result.stderr
