"""An existing lock of the wrong shape, or not TOML at all, through the CLI.

``lock`` treats what it cannot use as "not a lockgen lock" and writes a new one
(``--check`` fails with one line); ``hydrate`` refuses it with one line. Neither
prints a traceback. The property tests in tests/unit/test_lock_readers_property.py
cover the space; these pin the examples seen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import tomli
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel

Run = Callable[..., Result]


def _lock(lockgen: Run, server: IndexServer, *args: str) -> Result:
    return lockgen("lock", "r.in", "-i", server.index_url, *args)


def _locked(lockgen: Run, server: IndexServer, tmp_path: Path) -> str:
    (tmp_path / "r.in").write_text("app\n")
    assert _lock(lockgen, server).exit_code == 0
    return (tmp_path / "pylock.toml").read_text()


def _with_inputs_3(text: str) -> str:
    inputs = tomli.loads(text)["tool"]["lockgen"]["inputs"]
    return text.replace(f'inputs = "{inputs}"', "inputs = 3")


def _packages_x(text: str) -> str:
    head = text[: text.index("[[packages]]")]
    tail = text[text.index("[tool.lockgen]") :]
    return head.replace("created-by", 'packages = "x"\ncreated-by') + tail


def _package_string(text: str) -> str:
    head = text[: text.index("[[packages]]")]
    tail = text[text.index("[tool.lockgen]") :]
    return head.replace("created-by", 'packages = ["app"]\ncreated-by') + tail


def _tool_string(text: str) -> str:
    head = text[: text.index("[tool.lockgen]")]
    return head + 'tool = "lockgen"\n'


_BROKEN: dict[str, Callable[[str], str]] = {
    "inputs-3": _with_inputs_3,
    "packages-string": _packages_x,
    "package-is-a-string": _package_string,
    "tool-string": _tool_string,
    "not-toml": lambda text: text[: len(text) // 2] + "\n[[[",
    "nesting-bomb": lambda text: "a = " + "[" * 100_000 + "\n",
    "wheels-number": lambda text: text.replace(
        "[[packages.wheels]]", "wheels = 3\n[x]", 1
    ),
    "hashes-string": lambda text: text.replace(
        "\n[packages.wheels.hashes]\nsha256 =", "\nhashes =", 1
    ),
}


@pytest.mark.parametrize("broken", sorted(_BROKEN))
def test_lock_replaces_a_lock_it_cannot_use(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, broken: str
) -> None:
    server = _server(make_server)
    good = _locked(lockgen, server, tmp_path)
    lock = tmp_path / "pylock.toml"
    lock.write_text(_BROKEN[broken](good))
    check = _lock(lockgen, server, "--check")
    assert check.exit_code == 1
    assert check.stderr.startswith("error: ") and check.stderr.count("\n") == 1
    result = _lock(lockgen, server)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert lock.read_text() == good


#: Only lockgen's own table is wrong: still a valid PEP 751 lock, which hydrate uses.
_TOOL_ONLY = {"inputs-3", "tool-string"}


@pytest.mark.parametrize("broken", sorted(_BROKEN.keys() - _TOOL_ONLY))
def test_hydrate_refuses_a_lock_of_the_wrong_shape_in_one_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, broken: str
) -> None:
    server = _server(make_server)
    (tmp_path / "pylock.toml").write_text(
        _BROKEN[broken](_locked(lockgen, server, tmp_path))
    )
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: pylock.toml: ")
    assert result.stderr.count("\n") == 1


def test_hydrate_refuses_a_lock_that_is_not_utf8(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_bytes(b"lock-version = '1.0'\n\xff\xfe\n")
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
    assert result.exit_code == 1
    assert result.stderr == "error: pylock.toml: not UTF-8 text (byte 21)\n"


def test_hydrate_refuses_an_index_that_is_no_url_without_echoing_it(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    # Found by the lock readers' property test: urlsplit's ValueError was a traceback.
    server = _server(make_server)
    good = _locked(lockgen, server, tmp_path)
    index = f'index = "{server.index_url}"'
    assert index in good
    bad = good.replace(index, 'index = "http://user:s3cret@[::1/simple/"')
    (tmp_path / "pylock.toml").write_text(bad)
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
    assert result.exit_code == 1
    assert result.stderr == "error: pylock.toml: package app: invalid index URL\n"


def _server(make_server: ServerFactory) -> IndexServer:
    return make_server([make_wheel("app", "1.0")])


@pytest.mark.parametrize("broken", sorted(_TOOL_ONLY))
def test_hydrate_ignores_a_wrong_lockgen_table(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, broken: str
) -> None:
    server = _server(make_server)
    (tmp_path / "pylock.toml").write_text(
        _BROKEN[broken](_locked(lockgen, server, tmp_path))
    )
    result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (tmp_path / "wh").iterdir()] == ["app-1.0-py3-none-any.whl"]


def test_a_lock_that_is_not_pep751_gives_no_preferences(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """``lock`` reads an existing lock as ``hydrate`` does: one packaging refuses is
    no lock, so its pins are not kept even where an entry looks right."""
    server = _server(make_server)
    good = _locked(lockgen, server, tmp_path)
    server.add(make_wheel("app", "2.0"))
    lock = tmp_path / "pylock.toml"
    lock.write_text(good.replace('created-by = "lockgen"', "created-by = 7"))
    assert _lock(lockgen, server).exit_code == 0
    assert tomli.loads(lock.read_text())["packages"][0]["version"] == "2.0"
