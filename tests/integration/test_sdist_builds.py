"""sdists whose PKG-INFO is dynamic are built for their metadata (issue 11).

Real backends (setuptools, flit_core, hatchling) run in an isolated environment made
from wheels the test index serves (:mod:`tests.support.backends`); the resolver,
fetcher and cache are lockgen's own. What a build costs is asserted in requests and
builds, never in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.backends import backend_wheels, buildable_sdist
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.installers import install, uv, venv
from tests.support.wheels import Dist, make_wheel

Run = Callable[..., Result]

DEP = make_wheel("dep", "2.0")


def _cache() -> Path:
    return Path(os.environ["LOCKGEN_CACHE_DIR"]) / "v1"


def _packages(path: Path) -> dict[str, dict[str, object]]:
    lock = tomllib.loads(path.read_text())
    return {p["name"]: p for p in lock["packages"]}


def _files(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/files/")]


def _server(make_server: ServerFactory, *dists: Dist, backend: str) -> IndexServer:
    wanted = "setuptools" if backend == "setup.py" else backend
    return make_server([*dists, DEP, *backend_wheels(wanted)])


@pytest.mark.parametrize(
    "backend", ["setuptools", "setup.py", "flit_core", "hatchling"]
)
def test_an_sdist_is_built_for_its_dependencies(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, backend: str
) -> None:
    """Its PKG-INFO names no dependency; only the build says it needs ``dep``."""
    sdist = buildable_sdist("pkg", "1.0", backend, requires_dist=("dep>=2",))
    server = _server(make_server, sdist, backend=backend)
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "-v")
    assert result.exit_code == 0, result.output
    assert "pkg-1.0.tar.gz: built for its metadata by" in result.stderr
    packages = _packages(tmp_path / "pylock.toml")
    assert sorted(packages) == ["dep", "pkg"]  # the backend's own wheels: not locked
    assert packages["pkg"]["dependencies"] == [{"name": "dep"}]
    tool = packages["pkg"]["tool"]
    assert isinstance(tool, dict)
    assert tool["lockgen"]["requires-dist"] == ["dep>=2"]


def test_a_second_lock_builds_nothing_and_downloads_nothing(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """The built metadata is cached under the sdist's sha256 and the environment
    under what it holds: resolving again (a new output, no recorded resolution to
    replay) fetches no file at all."""
    server = _pkg_index(make_server, tmp_path)
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    assert "/files/pkg-1.0.tar.gz" in _files(server)
    assert len(list((_cache() / "build-envs").iterdir())) == 1
    shutil.rmtree(_cache() / "resolutions")
    server.clear_log()
    again = lockgen("lock", "r.in", "-i", server.index_url, "-o", "pylock.b.toml", "-v")
    assert again.exit_code == 0, again.output
    assert "built for its metadata" not in again.stderr
    assert _files(server) == []
    assert (tmp_path / "pylock.b.toml").read_text() == (
        tmp_path / "pylock.toml"
    ).read_text()
    assert list((_cache() / "build-logs").iterdir()) == []  # kept only on failure


def test_two_sdists_share_one_build_environment(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    one = buildable_sdist("one", "1.0", "setuptools", requires_dist=("two",))
    two = buildable_sdist("two", "1.0", "setuptools", requires_dist=("dep",))
    server = _server(make_server, one, two, backend="setuptools")
    (tmp_path / "r.in").write_text("one\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert sorted(_packages(tmp_path / "pylock.toml")) == ["dep", "one", "two"]
    assert len(list((_cache() / "build-envs").iterdir())) == 1
    backend_files = [
        p for p in _files(server) if p.endswith(".whl") and "setuptools-" in p
    ]
    assert len(backend_files) == 1  # downloaded once, installed once


@pytest.mark.parametrize(
    ("flag", "named"),
    [(("--no-build",), "--no-build"), (("--no-build-package", "PKG"), "pkg")],
)
def test_no_build_keeps_a_dynamic_sdist_out(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    flag: tuple[str, ...],
    named: str,
) -> None:
    server = _pkg_index(make_server, tmp_path)
    result = lockgen("lock", "r.in", "-i", server.index_url, *flag)
    assert result.exit_code == 1
    assert "its metadata is dynamic (Metadata-Version 2.1)" in result.stderr
    assert f"--no-build{'-package ' + named if named == 'pkg' else ''} forbids" in (
        result.stderr
    )
    assert not [p for p in _files(server) if "setuptools" in p]
    assert not (tmp_path / "pylock.toml").exists()


def test_a_static_pyproject_needs_no_build(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """[project] fixes the dependencies (nothing dynamic): they are read from it,
    and the backend, which would fail, never runs (the index has no backend)."""
    pyproject = (
        '[build-system]\nrequires = ["no-such-backend"]\n'
        'build-backend = "nowhere"\n\n'
        '[project]\nname = "pkg"\nversion = "1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["dep>=2"]\n\n'
        "[project.optional-dependencies]\nFancy = [\"fancy; os_name == 'nt'\"]\n"
    )
    sdist = buildable_sdist("pkg", "1.0", "hatchling", pyproject=pyproject)
    server = make_server([sdist, DEP])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "-v")
    assert result.exit_code == 0, result.output
    assert "pkg-1.0.tar.gz: metadata from its static pyproject.toml" in result.stderr
    pkg = _packages(tmp_path / "pylock.toml")["pkg"]
    assert pkg["requires-python"] == ">=3.8"
    tool = pkg["tool"]
    assert isinstance(tool, dict)
    assert tool["lockgen"]["requires-dist"] == [
        "dep>=2",
        'fancy; os_name == "nt" and extra == "fancy"',
    ]


def _pkg_index(make_server: ServerFactory, tmp_path: Path) -> IndexServer:
    """An index with ``pkg`` (a setuptools sdist needing ``dep``), its backend, and
    ``r.in`` asking for ``pkg``."""
    sdist = buildable_sdist("pkg", "1.0", "setuptools", requires_dist=("dep",))
    (tmp_path / "r.in").write_text("pkg\n")
    return _server(make_server, sdist, backend="setuptools")


def _writing_metadata(name: str, version: str, requires: str = "") -> str:
    """A prepare_metadata_for_build_wheel body writing this METADATA (``requires``:
    a Python expression for one Requires-Dist line, evaluated by the backend)."""
    line = "" if not requires else f" + f'Requires-Dist: {{{requires}}}\\n'"
    return (
        "import os\n"
        f"    info = os.path.join(metadata_directory, '{name}-{version}.dist-info')\n"
        "    os.makedirs(info)\n"
        "    with open(os.path.join(info, 'METADATA'), 'w') as fh:\n"
        f"        fh.write('Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n'"
        f"{line})\n"
        f"    return '{name}-{version}.dist-info'"
    )


def _in_tree(body: str) -> Dist:
    """An sdist built by its own in-tree backend (``backend-path``), needing
    nothing else; ``body`` is the backend's prepare_metadata_for_build_wheel."""
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n'
    )
    backend = (
        "import sys, time\n\n"
        "def prepare_metadata_for_build_wheel(metadata_directory, config=None):\n"
        f"    {body}\n\n"
        "def build_wheel(wheel_directory, config=None, metadata_directory=None):\n"
        "    raise RuntimeError('not here')\n"
    )
    return buildable_sdist(
        "pkg",
        "1.0",
        "setuptools",
        pyproject=pyproject,
        files={"backend.py": backend},
    )


def test_a_failing_build_is_one_line_naming_its_backend_and_log(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    sdist = _in_tree("print('the backend speaks'); raise RuntimeError('boom')")
    server = make_server([sdist])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    prefix = "error: pkg-1.0.tar.gz: building it for its metadata failed (backend: "
    assert line.startswith(prefix), line
    assert "Traceback" not in result.output
    log = Path(line.rpartition("its log is ")[2])
    assert log.parent == _cache() / "build-logs"
    text = log.read_text()
    assert "the backend speaks" in text and "RuntimeError: boom" in text
    assert not (tmp_path / "pylock.toml").exists()


def test_a_hanging_build_is_killed_at_its_timeout(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    marker = tmp_path / "still-running"
    sdist = _in_tree(f"time.sleep(3600); open({str(marker)!r}, 'w').close()")
    server = make_server([sdist])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "--build-timeout", "1")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "pkg-1.0.tar.gz: building it for its metadata failed" in line
    assert "timed out after 1 s" in line
    assert not marker.exists()


def test_missing_build_requirements_are_one_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    sdist = buildable_sdist("pkg", "1.0", "flit_core")
    server = make_server([sdist, DEP])  # no flit_core on the index
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "error: pkg-1.0.tar.gz: its build requirements (flit_core>=3.2) cannot be "
        "installed: "
    ), line


def test_a_lock_for_another_target_says_the_build_used_this_interpreter(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _pkg_index(make_server, tmp_path)
    result = lockgen(
        "lock", "r.in", "-i", server.index_url, "--platform", "macosx_11_0_arm64"
    )
    assert result.exit_code == 0, result.output
    notes = [
        line for line in result.stderr.splitlines() if "running interpreter" in line
    ]
    assert len(notes) == 1
    assert "pkg-1.0.tar.gz" in notes[0]


def test_a_build_sees_only_its_environment(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """lockgen's own site-packages (click, urllib3...) are off the backend's path:
    a backend that finds click writes a dependency on ``leaked`` instead of ``dep``."""
    sdist = _in_tree(
        "try:\n"
        "        import click\n"
        "        dep = 'leaked'\n"
        "    except ImportError:\n"
        "        dep = 'dep'\n"
        "    " + _writing_metadata("pkg", "1.0", requires="dep")
    )
    server = make_server([sdist, DEP])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert sorted(_packages(tmp_path / "pylock.toml")) == ["dep", "pkg"]


def test_a_verdict_cached_under_no_build_is_built_by_the_next_run(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _pkg_index(make_server, tmp_path)
    assert lockgen("lock", "r.in", "-i", server.index_url, "--no-build").exit_code == 1
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert sorted(_packages(tmp_path / "pylock.toml")) == ["dep", "pkg"]


def test_no_build_is_part_of_the_inputs(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A lock made with a build is not up to date under ``--no-build``: that run
    resolves again, cannot use the sdist, and leaves the lock as it was."""
    server = _pkg_index(make_server, tmp_path)
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    before = (tmp_path / "pylock.toml").read_text()
    again = lockgen("lock", "r.in", "-i", server.index_url)
    assert "up to date" in again.stderr
    refused = lockgen("lock", "r.in", "-i", server.index_url, "--no-build")
    assert refused.exit_code == 1
    assert "--no-build forbids building it" in refused.stderr
    assert (tmp_path / "pylock.toml").read_text() == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("return None", "prepare_metadata_for_build_wheel returned None"),
        ("return '../outside.dist-info'", "prepare_metadata_for_build_wheel returned"),
        (
            (
                "os.makedirs(os.path.join(metadata_directory, 'p.dist-info'))\n"
                "    os.mkfifo(os.path.join(metadata_directory, 'p.dist-info', 'METADATA'))\n"
                "    return 'p.dist-info'"
            ),
            "METADATA is not a regular file",
        ),
        ("os._exit(0)", "the backend exited without an answer"),
    ],
    ids=["none", "outside", "fifo", "no-answer"],
)
def test_what_a_backend_answers_is_checked(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, body: str, reason: str
) -> None:
    sdist = _in_tree("import os\n    " + body)
    server = make_server([sdist])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "--build-timeout", "30")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "pkg-1.0.tar.gz: building it for its metadata failed" in line
    assert reason in line, line


def test_what_a_build_started_ends_with_it(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A helper the backend left running in its process group is killed once the
    build is over, even when the build succeeded."""
    pid_file = tmp_path / "helper.pid"
    sdist = _in_tree(
        "import os, subprocess\n"
        "    helper = subprocess.Popen(['sleep', '300'])\n"
        f"    open({str(pid_file)!r}, 'w').write(str(helper.pid))\n"
        "    " + _writing_metadata("pkg", "1.0")
    )
    server = make_server([sdist])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the kill is sent; give the kernel a moment to reap
            os.kill(pid, 0)
            time.sleep(0.1)


@pytest.mark.parametrize(
    "args",
    [
        ("--build-timeout", "nan"),
        ("--build-timeout", "inf"),
        ("--no-build-package", "a==1"),
    ],
)
def test_bad_build_options_are_usage_errors(
    lockgen: Run, tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", *args)
    assert result.exit_code == 2, result.output


def test_built_metadata_for_another_project_is_named_as_built(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    sdist = _in_tree(_writing_metadata("other", "9.9"))
    server = make_server([sdist])
    (tmp_path / "r.in").write_text("pkg\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 1
    assert (
        "the METADATA it builds to says other 9.9 but the file name says pkg 1.0"
        in result.stderr
    )


@pytest.mark.interop
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_installers_build_a_locked_sdist(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, installer: str
) -> None:
    """A lock holding an sdist lockgen built for its metadata installs with uv and
    pip 26.2+, which build it again (the backend from the test index): what the lock
    says pkg needs is what its build installs."""
    server = _pkg_index(make_server, tmp_path)
    assert lockgen("lock", "r.in", "-i", server.index_url).exit_code == 0
    env, python = venv(tmp_path)
    if installer == "uv":
        args = [*uv(), "pip", "install", "-q", "--python", str(python)]
    else:
        args = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    args += ["--index-url", server.index_url, "-r", "pylock.toml"]
    assert install(args, env, tmp_path, python) == {"dep", "pkg"}


def test_a_build_folder_without_a_cache_is_gone_when_the_command_ends(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """``--no-cache`` builds in a temporary folder removed by an exit function: the
    command line ends its process at once, after running them (not after tearing
    the interpreter down), so the folder must still be gone."""
    sdist = buildable_sdist("pkg", "1.0", "setuptools", requires_dist=("dep>=2",))
    server = _server(make_server, sdist, backend="setuptools")
    (tmp_path / "r.in").write_text("pkg\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        lockgen_command("lock", "r.in", "-i", server.index_url, "--no-cache"),
        cwd=tmp_path,
        env=isolated_env(TMPDIR=str(scratch)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Locked 2 packages" in done.stderr  # dep: only the build names it
    left = sorted(p.name for p in scratch.iterdir())
    assert left == ["lockgen-build-logs"]  # kept for failed builds' logs: none here
    assert list((scratch / "lockgen-build-logs").iterdir()) == []
