"""CLI behaviour around the lock: version, output modes, retries, headers, options."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import pytest
import tomli
from click.testing import Result

from lockgen import __version__
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.wheels import make_sdist, make_wheel

Run = Callable[..., Result]


def _pins(path: Path) -> dict[str, str]:
    data = tomli.loads(path.read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


def _simple(server_factory: ServerFactory, **options: object) -> IndexServer:
    return server_factory(
        [
            make_wheel("app", "1.0", requires_dist=["lib>=1"]),
            make_wheel("lib", "1.0"),
            make_wheel("lib", "2.0b1"),
            make_sdist("lib", "1.5"),
        ],
        **options,
    )


def test_version(lockgen: Run) -> None:
    result = lockgen("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        lockgen_command("--version"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in out.stdout


def test_quiet_prints_nothing(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-q", "-i", server.index_url)
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_verbose_says_how_metadata_was_read(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-v", "-i", server.index_url)
    assert "app-1.0-py3-none-any.whl: metadata from PEP 658 file" in result.stderr
    assert "pinned app 1.0" in result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("Locked 2 packages into pylock.toml in ")
    assert "requests" in summary


def test_requirements_in_is_the_default_input(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    assert lockgen("lock", "-i", server.index_url).exit_code == 2
    (tmp_path / "requirements.in").write_text("lib\n")
    assert lockgen("lock", "-i", server.index_url).exit_code == 0
    assert _pins(tmp_path / "pylock.toml") == {"lib": "1.5"}


def test_pre_and_format_control_options(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    server.add(make_sdist("lib", "1.0"))
    out = tmp_path / "pylock.toml"

    def lock(requirement: str, *options: str) -> dict[str, Any]:
        (tmp_path / "r.in").write_text(requirement + "\n")
        result = lockgen("lock", "r.in", "-i", server.index_url, *options)
        assert result.exit_code == 0, result.output
        package: dict[str, Any] = tomli.loads(out.read_text())["packages"][0]
        return package

    assert lock("lib", "--pre")["version"] == "2.0b1"
    assert lock("lib")["version"] == "1.5"
    binary_only = lock("lib", "--only-binary", ":all:")
    assert binary_only["version"] == "1.0"
    assert "sdist" not in binary_only and len(binary_only["wheels"]) == 1
    source_only = lock("lib<1.5", "--no-binary", "lib")
    assert source_only["version"] == "1.0"
    assert "wheels" not in source_only and "sdist" in source_only


def test_5xx_is_retried_and_user_agent_names_lockgen(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    server.fail["/simple/app/"] = [503]
    server.fail["/files/lib-1.0-py3-none-any.whl.metadata"] = [500]
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    statuses = [r.status for r in server.requests if r.path == "/simple/app/"]
    assert statuses == [503, 200]
    assert all(
        r.headers["user-agent"].startswith(f"lockgen/{__version__}")
        for r in server.requests
    )
    page = next(r for r in server.requests if r.path == "/simple/app/")
    assert (
        page.accept is not None and "application/vnd.pypi.simple.v1+json" in page.accept
    )


def test_persistent_5xx_is_one_line_error(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = _simple(make_server)
    server.fail["/simple/app/"] = [503] * 10
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "503" in result.stderr
    assert (
        len([r for r in server.requests if r.path == "/simple/app/"]) == 4
    )  # 1 + 3 retries


def test_unreachable_index_is_one_line_error(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", "http://127.0.0.1:9/simple/")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_bad_target_is_one_line_error(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen(
        "lock", "r.in", "-i", "http://127.0.0.1:9/simple/", "--platform", "amiga"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "amiga" in result.stderr


def test_missing_requirements_file(lockgen: Run) -> None:
    result = lockgen("lock", "nope.in", "-i", "http://127.0.0.1:9/simple/")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: nope.in: cannot read")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args", [["cache", "dir"], ["cache", "info"]], ids=["cache-dir", "cache-info"]
)
def test_stdout_on_a_full_disk_is_one_line(args: list[str], tmp_path: Path) -> None:
    """A full disk behind stdout is an error line and status 1, not a traceback."""
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            lockgen_command(*args, "--cache-dir", str(tmp_path)),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: cannot write to standard output: No space left on device"
    ]


#: Where a child's stream goes: as ``subprocess.run`` takes it, or closed.
Stream = int | IO[Any] | Literal["closed"] | None


def _cli(
    args: list[str], cwd: Path, *, stdout: Stream = None, stderr: Stream = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m lockgen ARGS`` with pip's configuration off and the given streams
    (a stream set to ``"closed"`` is closed in the child before it starts)."""
    closed = [fd for fd, stream in ((1, stdout), (2, stderr)) if stream == "closed"]

    def close_streams() -> None:
        for fd in closed:
            os.close(fd)

    return subprocess.run(
        lockgen_command(*args),
        cwd=cwd,
        env=isolated_env(),
        preexec_fn=close_streams,
        check=False,
        stdout=_inherited(stdout),
        stderr=_inherited(stderr),
    )


def _inherited(stream: Stream) -> int | IO[Any] | None:
    """What ``subprocess.run`` gets for ``stream``: a closed one is inherited, then
    closed in the child."""
    return None if isinstance(stream, str) else stream


def test_closed_stdout_is_one_line(tmp_path: Path) -> None:
    done = _cli(
        ["cache", "dir", "--cache-dir", str(tmp_path)],
        tmp_path,
        stdout="closed",
        stderr=subprocess.PIPE,
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        "error: cannot write to standard output: it is closed"
    ]


@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_unwritable_stderr_still_writes_the_lock(
    make_server: ServerFactory, tmp_path: Path, stderr: str
) -> None:
    """Messages are best effort: a lock (its summary and a note unprintable) is
    still written, and hydrate still fetches."""
    server = make_server([make_wheel("app", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    with Path("/dev/full").open("w") as full:
        stream: Stream = "closed" if stderr == "closed" else full
        done = _cli(
            ["lock", "r.in", "-i", server.index_url, "--cache-dir", "c"],
            tmp_path,
            stderr=stream,
        )
        assert done.returncode == 0
        assert (tmp_path / "pylock.toml").is_file()
        done = _cli(
            ["hydrate", "-d", "wh", "--cache-dir", "c"], tmp_path, stderr=stream
        )
    assert done.returncode == 0
    assert [p.name for p in (tmp_path / "wh").iterdir()] == ["app-1.0-py3-none-any.whl"]


def test_reader_gone_ends_quietly(make_server: ServerFactory, tmp_path: Path) -> None:
    """``lockgen lock -o - | head -c 1``: no "Broken pipe" message, status 1."""
    dists = [make_wheel(f"p{i}", "1.0") for i in range(40)]
    server = make_server(dists)
    (tmp_path / "r.in").write_text("".join(f"p{i}\n" for i in range(40)))
    lock = subprocess.Popen(
        lockgen_command("lock", "r.in", "-q", "-i", server.index_url, "-o", "-"),
        cwd=tmp_path,
        env=isolated_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert lock.stdout is not None and lock.stderr is not None
    lock.stdout.close()  # the reader leaves before anything is written
    with lock.stderr:
        assert lock.wait() == 1
        assert lock.stderr.read() == b""


@pytest.mark.parametrize("option", ["-i", "--extra-index-url"])
def test_empty_index_url_is_an_error(lockgen: Run, tmp_path: Path, option: str) -> None:
    """``-i "$PRIVATE_INDEX"`` with the variable unset must not mean the default."""
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", option, "")
    assert result.exit_code == 1
    assert result.stderr == "error: an index URL given on the command line is empty\n"


def test_output_into_a_missing_folder_fails_before_resolving(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server([make_wheel("app", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "-o", "nodir/pylock.toml")
    assert result.exit_code == 1
    assert result.stderr == "error: nodir/pylock.toml: cannot write: no folder nodir\n"
    assert server.requests == []


def test_hydrate_into_a_file_is_one_line(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "x"\npackages = []\n'
    )
    (tmp_path / "wh").write_text("a file, not a folder")
    result = lockgen("hydrate", "-d", "wh")
    assert result.exit_code == 1
    assert result.stderr == "error: wh exists and is not a directory\n"
