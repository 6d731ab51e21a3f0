"""uv and pip install what ``lockgen lock`` writes: a lock is as good as its readers."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import tomli
import tomli_w
from click.testing import CliRunner
from packaging.version import Version

from lockgen.cli.main import main
from tests.support.index_server import IndexServer
from tests.support.installers import hermetic_env, uv
from tests.support.wheels import make_wheel

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.support.wheels import Dist


pytestmark = pytest.mark.interop

_TIMEOUT = 120
_MIN_UV = Version("0.12")  # size checks and strict pylock names (formats.md 5.2)
_MIN_PIP = Version("26.2")  # locked links that ignore indexes (formats.md 5.1)
#: What a lock of ``interop-a`` must pin on Linux, so what both installers must install.
EXPECTED = {"interop-a": "1.0", "interop-b": "2.0", "interop-c": "1.5"}

CompletedProcess = subprocess.CompletedProcess[str]


def _dists() -> list[Dist]:
    """a -> b[fast] -> c, plus a Windows-only dependency that must stay out."""
    return [
        make_wheel(
            "interop-a",
            "1.0",
            requires_dist=[
                "interop-b[fast]>=1",
                "interop-win ; sys_platform == 'win32'",
            ],
        ),
        make_wheel("interop-b", "1.0"),
        make_wheel("interop-b", "2.0", extras={"fast": ["interop-c>=1"]}),
        make_wheel("interop-c", "1.5"),
        make_wheel("interop-win", "1.0"),
    ]


@dataclass(frozen=True)
class Locked:
    """One lock shared by the module: locking is not what these tests measure."""

    server: IndexServer
    path: Path
    text: str
    wheels: dict[str, Dist]  # by project, the wheel the lock pins

    def wheel_paths(self) -> set[str]:
        return {f"/files/{dist.filename}" for dist in self.wheels.values()}


# --- processes -----------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str], cwd: Path) -> CompletedProcess:
    return subprocess.run(
        args,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )


def _show(proc: CompletedProcess) -> str:
    """Everything a failing assertion needs to explain itself."""
    return (
        f"$ {shlex.join(str(a) for a in proc.args)}\n"
        f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )


def _ok(proc: CompletedProcess) -> CompletedProcess:
    assert proc.returncode == 0, _show(proc)
    return proc


def _pip() -> list[str]:
    """The test venv's pip (>= 26.2), driving other venvs through ``--python``."""
    return [sys.executable, "-m", "pip"]


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


# --- installers ----------------------------------------------------------------------


class Uv:
    """``uv pip install -r pylock.toml``; uv never resolves, so needs no index."""

    name = "uv"
    hash_refusal = "Hash mismatch for `interop-c==1.5`"

    def venv(self, tmp_path: Path, env: dict[str, str]) -> Path:
        venv = tmp_path / "venv-uv"
        args = ["venv", "-q", "--python", sys.executable, str(venv)]
        _ok(_run([*uv(), *args], env, tmp_path))
        return _venv_python(venv)

    def install(
        self, python: Path, lock: Path, env: dict[str, str]
    ) -> CompletedProcess:
        args = ["pip", "install", "--python", str(python), "--no-index"]
        quiet = ["--preview-features", "pylock"]  # reading pylock is still preview
        return _run([*uv(), *args, *quiet, "-r", str(lock)], env, lock.parent)

    def installed(self, python: Path, env: dict[str, str]) -> dict[str, str]:
        args = ["pip", "list", "--python", str(python), "--format", "json"]
        listed = _ok(_run([*uv(), *args], env, python.parent))
        return {row["name"]: row["version"] for row in json.loads(listed.stdout)}


class Pip:
    """``pip --python VENV install --no-index -r pylock.toml`` (pip still resolves)."""

    name = "pip"
    hash_refusal = "THESE PACKAGES DO NOT MATCH THE HASHES"

    def venv(self, tmp_path: Path, env: dict[str, str]) -> Path:
        venv = tmp_path / "venv-pip"
        args = ["-m", "venv", "--without-pip", str(venv)]
        _ok(_run([sys.executable, *args], env, tmp_path))
        return _venv_python(venv)

    def install(
        self, python: Path, lock: Path, env: dict[str, str]
    ) -> CompletedProcess:
        args = ["--python", str(python), "install", "--no-index", "-r", str(lock)]
        return _run([*_pip(), *args], env, lock.parent)

    def installed(self, python: Path, env: dict[str, str]) -> dict[str, str]:
        args = ["--python", str(python), "list", "--format", "json"]
        listed = _ok(_run([*_pip(), *args], env, python.parent))
        return {row["name"]: row["version"] for row in json.loads(listed.stdout)}


Installer = Uv | Pip
INSTALLERS = [pytest.param(Uv(), id="uv"), pytest.param(Pip(), id="pip")]


# --- fixtures ------------------------------------------------------------------------


def _check_tools() -> None:
    """Fail loudly (not skip) when the test extras are missing: CI must run these."""
    found = _ok(_run([*uv(), "--version"], dict(os.environ), Path.cwd()))
    uv_version = Version(found.stdout.split()[1])  # "uv 0.13.9 (...)"
    pip_version = Version(importlib.metadata.version("pip"))
    if uv_version < _MIN_UV or pip_version < _MIN_PIP:
        pytest.fail(
            f"need uv>={_MIN_UV} and pip>={_MIN_PIP}, have {uv_version} and "
            f"{pip_version}: install the test extras or deselect -m 'not interop'"
        )


def _lock_with_cli(root: Path, *sources: str) -> Path:
    """Run the CLI in-process (the ``lockgen`` fixture is function-scoped)."""
    (root / "requirements.in").write_text("interop-a\n")
    output = root / "pylock.toml"
    args = ["lock", str(root / "requirements.in"), *sources, "-o", str(output)]
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": None}
    env |= {"LOCKGEN_CACHE_DIR": str(root / "cache")}  # never the user's cache
    env |= {"PIP_EXTRA_INDEX_URL": None, "PIP_FIND_LINKS": None}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return output


def _locked(server: IndexServer, root: Path, dists: list[Dist]) -> Locked:
    path = _lock_with_cli(root, "-i", server.index_url)
    text = path.read_text()
    pins = {p["name"]: p["version"] for p in tomli.loads(text)["packages"]}
    assert pins == EXPECTED, text  # the premise of every test below
    wheels = {d.project: d for d in dists if EXPECTED.get(d.project) == d.version}
    return Locked(server=server, path=path, text=text, wheels=wheels)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    _check_tools()
    dists = _dists()
    with IndexServer(dists) as server:
        yield _locked(server, tmp_path_factory.mktemp("interop-lock"), dists)


@pytest.fixture(scope="module")
def locked_from_html(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Locked]:
    """An HTML index lists no sizes, and PEP 658 leaves none to learn: no size at all."""
    _check_tools()
    dists = _dists()
    with IndexServer(dists, formats=("html",), pep658=True) as server:
        yield _locked(server, tmp_path_factory.mktemp("interop-html-lock"), dists)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return hermetic_env(tmp_path)


def _tampered(locked: Locked, where: Path, edit: Callable[[str], str]) -> Path:
    """A copy of the lock, still named ``pylock.toml`` so both tools read it as one."""
    where.mkdir()
    path = where / "pylock.toml"
    path.write_text(edit(locked.text))
    return path


def _flip_last_digit(digest: str) -> str:
    return digest[:-1] + ("1" if digest[-1] == "0" else "0")


# --- tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("installer", INSTALLERS)
class TestInstallsTheLock:
    def test_exactly_the_locked_versions_from_the_locked_urls(
        self, installer: Installer, locked: Locked, env: dict[str, str], tmp_path: Path
    ) -> None:
        python = installer.venv(tmp_path, env)
        locked.server.clear_log()
        proc = _ok(installer.install(python, locked.path, env))
        assert installer.installed(python, env) == EXPECTED, _show(proc)
        # only the locked files were fetched: no index page, nothing else
        requests = locked.server.requests
        assert {r.path for r in requests} == locked.wheel_paths(), requests
        assert {r.status for r in requests} == {200}
        assert "Looking in" not in proc.stdout  # the machine's pip.conf stayed out

    def test_packages_import_with_their_locked_versions(
        self, installer: Installer, locked: Locked, env: dict[str, str], tmp_path: Path
    ) -> None:
        python = installer.venv(tmp_path, env)
        _ok(installer.install(python, locked.path, env))
        modules = [name.replace("-", "_") for name in EXPECTED]
        code = (
            "import importlib, json, sys\n"
            "print(json.dumps({m: importlib.import_module(m).__version__"
            " for m in sys.argv[1:]}))"
        )
        proc = _ok(_run([str(python), "-I", "-c", code, *modules], env, tmp_path))
        versions = json.loads(proc.stdout)
        assert versions == dict(zip(modules, EXPECTED.values(), strict=True))


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_lock_without_sizes_installs(
    installer: Installer,
    locked_from_html: Locked,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    """PEP 751 makes ``size`` optional; both installers still check every sha256."""
    data = tomli.loads(locked_from_html.text)
    files = [w for p in data["packages"] for w in p["wheels"]]
    assert files and not any("size" in w for w in files)
    python = installer.venv(tmp_path, env)
    locked_from_html.server.clear_log()
    proc = _ok(installer.install(python, locked_from_html.path, env))
    assert installer.installed(python, env) == EXPECTED, _show(proc)
    paths = {r.path for r in locked_from_html.server.requests}
    assert paths == locked_from_html.wheel_paths()


@pytest.mark.parametrize("installer", INSTALLERS)
def test_tampered_sha256_is_refused(
    installer: Installer, locked: Locked, env: dict[str, str], tmp_path: Path
) -> None:
    real = locked.wheels["interop-c"].sha256
    fake = _flip_last_digit(real)
    assert locked.text.count(real) == 1
    lock = _tampered(locked, tmp_path / "lock", lambda text: text.replace(real, fake))
    python = installer.venv(tmp_path, env)
    proc = installer.install(python, lock, env)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, _show(proc)
    assert installer.hash_refusal in output, _show(proc)
    assert real in output and fake in output, _show(proc)  # both digests shown
    assert installer.installed(python, env) == {}  # refused means nothing installed


def _with_wrong_size(text: str, project: str) -> str:
    """Add one byte to the size of the project's wheel; everything else unchanged."""
    data = tomli.loads(text)
    (package,) = [p for p in data["packages"] if p["name"] == project]
    package["wheels"][0]["size"] += 1
    return tomli_w.dumps(data)


def test_tampered_size_is_refused_by_uv(
    locked: Locked, env: dict[str, str], tmp_path: Path
) -> None:
    """pip ignores ``size`` (formats.md 5.5), so only uv is asked."""
    size = locked.wheels["interop-c"].size
    lock = _tampered(
        locked, tmp_path / "lock", lambda text: _with_wrong_size(text, "interop-c")
    )
    python = Uv().venv(tmp_path, env)
    proc = Uv().install(python, lock, env)
    assert proc.returncode != 0, _show(proc)
    assert "size mismatch" in proc.stderr.lower(), _show(proc)
    assert f"expected {size + 1} bytes" in proc.stderr, _show(proc)
    assert Uv().installed(python, env) == {}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_find_links_lock_installs_from_its_relative_paths(
    installer: Installer, env: dict[str, str], tmp_path: Path
) -> None:
    """Files of a wheelhouse beside the lock are written as ``path``: both read it."""
    _check_tools()
    root = tmp_path / "project"
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    for dist in _dists():
        (wheels / dist.filename).write_bytes(dist.data)
    lock = _lock_with_cli(root, "--no-index", "-f", str(wheels))
    packages = tomli.loads(lock.read_text())["packages"]
    assert all(w["path"].startswith("wheels/") for p in packages for w in p["wheels"])
    python = installer.venv(tmp_path, env)
    proc = _ok(installer.install(python, lock, env))
    assert installer.installed(python, env) == EXPECTED, _show(proc)
