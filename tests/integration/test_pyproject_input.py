"""``lockgen lock pyproject.toml``: one lock for the project, every extra and every
group, each package marked with who needs it (PEP 751), selected again by
``hydrate --extra/--group``, packaging's ``Pylock.select`` and uv."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from packaging.pylock import Pylock

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer
from tests.support.installers import install, uv, venv
from tests.support.wheels import make_wheel

Run = Callable[..., Result]

PYPROJECT = """
[project]
name = "app"
version = "0.1"
dependencies = ["core", "shared"]

[project.optional-dependencies]
fast = ["speedy"]

[dependency-groups]
test = ["checker[plugins]"]
dev = ["lint", {include-group = "test"}, "shared"]
"""


def _server(make_server: ServerFactory) -> IndexServer:
    return make_server(
        [
            make_wheel("core", "1.0", requires_dist=["base"]),
            make_wheel("base", "1.0"),
            make_wheel("shared", "1.0"),
            make_wheel("speedy", "1.0", requires_dist=["base"]),
            make_wheel("lint", "1.0"),
            make_wheel("checker", "1.0", extras={"plugins": ["plugin"]}),
            make_wheel("plugin", "1.0"),
        ]
    )


def _locked(make_server: ServerFactory, lockgen: Run, tmp_path: Path) -> IndexServer:
    """The index, with PYPROJECT locked from it into ``tmp_path/pylock.toml``."""
    server = _server(make_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert lockgen("lock", "pyproject.toml", "-i", server.index_url).exit_code == 0
    return server


def _markers(path: Path) -> dict[str, str | None]:
    lock = tomllib.loads(path.read_text())
    return {p["name"]: p.get("marker") for p in lock["packages"]}


def test_one_lock_marks_what_each_extra_and_group_needs(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = lockgen("lock", "pyproject.toml", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    lock_path = tmp_path / "pylock.toml"
    lock = tomllib.loads(lock_path.read_text())
    assert (lock["extras"], lock["dependency-groups"], lock["default-groups"]) == (
        ["fast"],
        ["dev", "test"],
        ["dev"],
    )
    assert _markers(lock_path) == {
        "base": None,  # the project needs it (through core), whoever else does
        "core": None,
        "shared": None,  # dev asks for it too: still always installed
        "speedy": '"fast" in extras',
        "lint": '"dev" in dependency_groups',
        "checker": '"dev" in dependency_groups or "test" in dependency_groups',
        # brought by checker's extra, which only the groups ask for
        "plugin": '"dev" in dependency_groups or "test" in dependency_groups',
    }
    pylock = Pylock.from_dict(lock)

    def chosen(**kw: object) -> list[str]:
        return sorted(str(p.name) for p, _ in pylock.select(**kw))  # type: ignore[arg-type]

    always = ["base", "core", "shared"]
    assert chosen() == sorted([*always, "checker", "lint", "plugin"])  # dev: default
    assert chosen(dependency_groups=[]) == always
    assert chosen(dependency_groups=["test"]) == sorted([*always, "checker", "plugin"])
    assert chosen(extras=["fast"], dependency_groups=[]) == sorted([*always, "speedy"])


def test_hydrate_selects_extras_and_groups(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    _locked(make_server, lockgen, tmp_path)
    result = lockgen(
        "hydrate", "pylock.toml", "-d", "wh", "--extra", "fast", "--group", "test"
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "wh").iterdir())
    assert names == ["base", "checker", "core", "plugin", "shared", "speedy"]


@pytest.mark.parametrize(
    ("flags", "names", "groups"),
    [
        (
            ("--extra", "fast", "--group", "test"),
            {"speedy", "checker", "plugin"},
            ["test"],
        ),
        (("--no-default-groups",), {"speedy", "checker", "plugin"}, ["test"]),
        (
            ("--group", "dev", "--extra", "fast"),
            {"speedy", "checker", "plugin", "lint"},
            ["dev"],
        ),
    ],
)
def test_flags_narrow_what_is_locked(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    flags: tuple[str, ...],
    names: set[str],
    groups: list[str],
) -> None:
    server = _server(make_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = lockgen("lock", "pyproject.toml", "-i", server.index_url, *flags)
    assert result.exit_code == 0, result.output
    lock = tomllib.loads((tmp_path / "pylock.toml").read_text())
    assert lock["dependency-groups"] == groups
    assert set(_markers(tmp_path / "pylock.toml")) == {"base", "core", "shared", *names}


def test_with_no_argument_a_folder_without_requirements_in_locks_its_pyproject(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = lockgen("lock", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert "lint" in _markers(tmp_path / "pylock.toml")
    again = lockgen("lock", "-i", server.index_url)
    assert "up to date" in again.stderr


def test_a_changed_group_makes_the_lock_out_of_date(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _locked(make_server, lockgen, tmp_path)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace('"lint", ', ""))
    result = lockgen("lock", "pyproject.toml", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert "lint" not in _markers(tmp_path / "pylock.toml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("r.in", "--group", "dev"), "select from a pyproject.toml"),
        (("pyproject.toml", "--extra", "fast", "--all-extras"), "contradict"),
    ],
)
def test_misused_flags_are_usage_errors(
    lockgen: Run, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "r.in").write_text("core\n")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = lockgen("lock", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_unknown_group_is_one_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _server(make_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = lockgen(
        "lock", "pyproject.toml", "-i", server.index_url, "--group", "docs"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: pyproject.toml: no group named docs (it has: dev, test)"
    )


@pytest.mark.interop
@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ((), {"base", "core", "shared", "checker", "lint", "plugin"}),
        (
            ("--extra", "fast", "--group", "test"),
            {"base", "core", "shared", "checker", "plugin", "speedy"},
        ),
    ],
)
def test_uv_installs_the_selection(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    selection: tuple[str, ...],
    expected: set[str],
) -> None:
    """uv reads the markers: the default group without flags, and instead of it
    what it is asked for, as packaging's select does."""
    _locked(make_server, lockgen, tmp_path)
    env, python = venv(tmp_path)
    command = [
        *uv(),
        "pip",
        "install",
        "-q",
        "--python",
        str(python),
        "-r",
        "pylock.toml",
    ]
    assert install([*command, *selection], env, tmp_path, python) == expected


@pytest.mark.interop
@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ((), {"base", "core", "shared", "checker", "lint", "plugin"}),
        (
            ("[fast]", "--group", "pylock.toml:test"),
            # pip reads -r pylock.toml[fast] with the default group, and adds test
            {"base", "core", "shared", "checker", "plugin", "speedy", "lint"},
        ),
    ],
)
def test_pip_installs_the_selection(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    selection: tuple[str, ...],
    expected: set[str],
) -> None:
    """pip 26.2+ reads the markers too: extras as ``-r pylock.toml[fast]``, groups
    as ``--group pylock.toml:test``."""
    _locked(make_server, lockgen, tmp_path)
    env, python = venv(tmp_path)
    extras, *groups = selection or ("",)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    args = [*pip, "--no-index", "-r", f"pylock.toml{extras}", *groups]
    assert install(args, env, tmp_path, python) == expected
