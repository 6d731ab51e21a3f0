"""Start-up, counted in modules: ``--version`` and each command load only what they use.

Both ways in are checked: ``python -m lockgen`` and the ``lockgen`` script's entry
point as ``pyproject.toml`` names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import lockgen
from lockgen.cli.main import main
from tests.conftest import ServerFactory
from tests.support.cli import EXIT_AS_SYSTEM_EXIT, isolated_env, lockgen_command
from tests.support.wheels import make_wheel

_ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = tomllib.loads((_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
_MODULE, _FUNCTION = _SCRIPT["lockgen"].split(":")
_LAUNCHERS = {
    "python -m": "import runpy; runpy.run_module('lockgen', run_name='__main__')",
    "script": f"from {_MODULE} import {_FUNCTION}; {_FUNCTION}()",
}
#: Libraries and lockgen packages that a bare ``--version`` has no use for.
_HEAVY_LIBRARIES = ("click", "packaging", "resolvelib", "tomli", "tomli_w", "urllib3")
_HEAVY_PACKAGES = ("app", "cli", "core", "lockfile", "net", "resolver", "store")


def _loaded_after(launcher: str, *args: str) -> tuple[str, list[str]]:
    """What the command printed, and the modules it left loaded."""
    code = (
        EXIT_AS_SYSTEM_EXIT + f"import sys; sys.argv = ['lockgen', *{args!r}]\n"
        f"try:\n    {_LAUNCHERS[launcher]}\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    *printed, modules = ran.stdout.splitlines()
    return "\n".join(printed), modules.split()


@pytest.mark.parametrize("launcher", sorted(_LAUNCHERS))
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_loads_no_library_and_no_command(launcher: str, flag: str) -> None:
    printed, modules = _loaded_after(launcher, flag)
    assert printed == f"lockgen, version {lockgen.__version__}"
    heavy = [
        m
        for m in modules
        if m.split(".")[0] in _HEAVY_LIBRARIES
        or (m.startswith("lockgen.") and m.split(".")[1] in _HEAVY_PACKAGES)
    ]
    assert heavy == []


def test_version_text_is_the_one_click_prints() -> None:
    printed, _ = _loaded_after("python -m", "--version")
    assert CliRunner().invoke(main, ["--version"]).output == printed + "\n"


def test_a_command_loads_its_own_module_only() -> None:
    _, modules = _loaded_after("python -m", "lock", "--help")
    commands = sorted(m for m in modules if m.endswith("_command"))
    assert commands == ["lockgen.cli.lock_command"]


@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_version_into_an_unwritable_stdout_is_one_line(stdout: str) -> None:
    """The fast path reports a full or closed stdout as the command line does."""
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            lockgen_command("--version"),
            env=isolated_env(),
            stdout=full if stdout == "full" else None,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            preexec_fn=(lambda: os.close(1)) if stdout == "closed" else None,
        )
    reason = "No space left on device" if stdout == "full" else "it is closed"
    assert done.returncode == 1
    assert done.stderr == f"error: cannot write to standard output: {reason}\n"


#: What neither an up-to-date re-lock nor an ``--offline`` replay loads: the network
#: stack, the resolver, the page parsers, packaging's lock model.
_NOT_WITHOUT_RESOLVING = (
    "urllib3",
    "ssl",
    "resolvelib",
    "msgspec",
    "packaging.pylock",
    "html.parser",
    "lockgen.resolver",
    "lockgen.net.transport",
)
#: What an up-to-date re-lock (no request, nothing resolved, no lock written) must
#: never load besides: the network settings, the cache, the archive parsers, the
#: TOML parser (the sealed lock's own table is all it reads), and packaging's
#: parsers once the inputs' digest is remembered.
_NOT_FOR_A_NO_OP = (
    *_NOT_WITHOUT_RESOLVING,
    "tarfile",
    "zipfile",
    "email",
    "ctypes",
    "lockgen.app.memory",
    "lockgen.app.network",
    "lockgen.net.access",
    "lockgen.store.cache",
    "tomli",
    "lockgen.core.models",
    # the inputs are not parsed again (lockgen.app.input_memo)
    "packaging.requirements",
    "packaging.markers",
    "packaging.specifiers",
    "packaging.tags",
    "lockgen.app.inputs",
    "lockgen.core.requirements",
)


def _loaded_by_lock(cwd: Path, *args: str) -> list[str]:
    """The modules a ``lockgen lock ARGS`` run in ``cwd`` left loaded."""
    code = (
        EXIT_AS_SYSTEM_EXIT + f"import sys; sys.argv = ['lockgen', 'lock', *{args!r}]\n"
        f"try:\n    {_LAUNCHERS['script']}\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return ran.stdout.split()


@pytest.mark.parametrize(
    "target",
    [(), ("--python-version", "3.11", "--platform", "linux_x86_64")],
    ids=["running", "given"],
)
def test_an_up_to_date_lock_loads_no_network_resolver_or_parser(
    make_server: ServerFactory, tmp_path: Path, target: tuple[str, ...]
) -> None:
    server = make_server([make_wheel("app", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    args = ("r.in", "-i", server.index_url, *target)
    written = lockgen_command("lock", *args, "-q")  # its verdict is kept for -q only
    subprocess.run(written, cwd=tmp_path, env=isolated_env(), check=True)
    server.clear_log()
    loaded = _loaded_by_lock(tmp_path, *args)
    assert "lockgen.app.lock" in loaded  # it did run the command
    heavy = [m for m in loaded if m.startswith(_NOT_FOR_A_NO_OP)]
    assert heavy == []
    answered = _loaded_by_lock(tmp_path, *args)  # now on record: no command line
    assert "lockgen.app.settled" in answered
    assert [m for m in answered if m.startswith(_NOT_FOR_AN_ANSWER)] == []
    assert server.requests == []


#: What a no-op answered from its record (:mod:`lockgen.app.settled`) loads besides
#: nothing of a no-op's: no command line, no lock reader, no dataclasses, and no
#: cache writer (the no-op through the command line writes that record).
_NOT_FOR_AN_ANSWER = (
    *_NOT_FOR_A_NO_OP,
    "lockgen.store.files",
    "shutil",
    "click",
    "lockgen.cli",
    "lockgen.app.lock",
    "lockgen.lockfile",
    "dataclasses",
)


#: What an ``--offline`` replay (:mod:`lockgen.app.replay`) must not load: it reads
#: cached pages' bytes, not their entries, and writes a recorded text, for inputs
#: whose digest is remembered.
_NOT_FOR_A_REPLAY = (
    *_NOT_WITHOUT_RESOLVING,
    "tomli_w",
    "lockgen.app.resolution",
    # the inputs' digest is remembered (lockgen.app.input_memo): not parsed again
    "packaging.requirements",
    "lockgen.app.inputs",
)


def test_an_offline_replay_loads_no_network_resolver_or_writer(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server(
        [make_wheel("app", "1.0", requires_dist=["lib"]), make_wheel("lib", "1.0")]
    )
    (tmp_path / "r.in").write_text("app\n")
    args = ("r.in", "-i", server.index_url, "-q")
    subprocess.run(
        lockgen_command("lock", *args), cwd=tmp_path, env=isolated_env(), check=True
    )
    loaded = _loaded_by_lock(tmp_path, *args, "--offline", "-o", "pylock.offline.toml")
    assert "lockgen.app.replay" in loaded
    assert [m for m in loaded if m.startswith(_NOT_FOR_A_REPLAY)] == []
    assert (tmp_path / "pylock.offline.toml").read_bytes() == (
        tmp_path / "pylock.toml"
    ).read_bytes()
