"""What reaches the terminal: live progress on a terminal's stderr, and only there (a
real pty); and never a control sequence from an index, its metadata or a lock file."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import tomli
import tomli_w

from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer
from tests.support.wheels import make_wheel


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run lockgen with stderr on a pseudo-terminal; returns (status, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        lockgen_command(*args),
        cwd=cwd,
        env=isolated_env(),
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(master)
    return proc.wait(timeout=30), shown.decode(errors="replace")


def test_lock_and_hydrate_show_progress_on_a_terminal(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server(
        [make_wheel("app", "1.0", requires_dist=["lib"]), make_wheel("lib", "1.0")]
    )
    (tmp_path / "r.in").write_text("app\n")
    status, shown = _run_on_a_terminal(
        ["lock", "r.in", "-i", server.index_url], tmp_path
    )
    assert status == 0, shown
    assert "Resolving: 1 packages pinned" in shown and "requests" in shown
    assert "Locked 2 packages" in shown
    status, shown = _run_on_a_terminal(["hydrate", "-d", "wh"], tmp_path)
    assert status == 0, shown
    assert "Hydrating: " in shown and "files" in shown and "/s" in shown
    status, shown = _run_on_a_terminal(["hydrate", "-d", "wh2", "-q"], tmp_path)
    assert status == 0 and shown == ""


# --- text from indexes and lock files never drives the terminal -----------------------

#: What a hostile index or lock puts in its strings: erase the screen, set the window
#: title (OSC ... BEL), go back to the line's start, back up a character, and a C1 CSI.
HOSTILE = "\x1b[2J\x1b]0;title\x07\r\b\x9b"
#: The same without CR, for METADATA fields and HTTP headers (a CR would end them).
HOSTILE_FIELD = "\x1b[2J\x1b]0;title\x07\x9b"
#: How each shows up instead: the escapes as text.
SHOWN = r"\x1b[2J\x1b]0;title\x07\x0d\x08\x9b"
SHOWN_FIELD = r"\x1b[2J\x1b]0;title\x07\x9b"
_CONTROL_BYTES = frozenset(b"\x1b\x9b\x07\r\b")


def _run(args: list[str], cwd: Path) -> tuple[int, bytes]:
    """Run lockgen with stdout and stderr on pipes; (status, both, as bytes)."""
    done = subprocess.run(
        lockgen_command(*args),
        cwd=cwd,
        env=isolated_env(),
        capture_output=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _inert(output: bytes) -> None:
    """No byte of ``output`` can start or steer a terminal sequence."""
    found = sorted({bytes([b]) for b in output if b in _CONTROL_BYTES})
    assert not found, output


def _hostile_file(server: IndexServer) -> None:
    wheel = make_wheel("app", "1.0")  # its platform tags: any, and the attack
    server.add(replace(wheel, filename=f"app-1.0-py3-none-any.{HOSTILE}.whl"))


def _hostile_location(server: IndexServer) -> None:
    server.add(make_wheel("app", "1.0"))
    loop = "/simple/app/" + HOSTILE_FIELD
    server.redirects["/simple/app/"] = server.redirects[loop] = loop


@pytest.mark.parametrize(
    ("publish", "status", "shown"),
    [
        (_hostile_file, 0, f"app-1.0-py3-none-any.{SHOWN}.whl: metadata from PEP"),
        (
            lambda s: s.add(make_wheel("app", "1.0", requires_python=">=3" + HOSTILE)),
            1,
            f"requires Python >=3{SHOWN};",
        ),
        (
            lambda s: s.add(
                make_wheel("app", "1.0", metadata_name="app" + HOSTILE_FIELD)
            ),
            1,
            f"METADATA says 'app{SHOWN_FIELD}' 1.0",
        ),
        (
            lambda s: s.add(make_wheel("app", "1.0", requires_dist=[HOSTILE_FIELD])),
            1,
            f"invalid Requires-Dist '{SHOWN_FIELD}'",
        ),
        (
            _hostile_location,
            1,
            f"too many redirects ({{url}}/simple/app/{SHOWN_FIELD})",
        ),
    ],
    ids=["file-name", "requires-python", "metadata-name", "requires-dist", "location"],
)
def test_index_data_is_shown_inert(
    make_server: ServerFactory,
    tmp_path: Path,
    publish: Callable[[IndexServer], None],
    status: int,
    shown: str,
) -> None:
    server = make_server()
    publish(server)
    (tmp_path / "r.in").write_text("app\n")
    args = ["-i", server.index_url, "--python-version", "3.11", "-v", "-o", "-"]
    code, output = _run(["lock", "r.in", *args], tmp_path)  # the lock on stdout too
    assert code == status, output
    _inert(output)
    assert shown.format(url=server.url) in output.decode()


def _locked(
    make_server: ServerFactory, tmp_path: Path
) -> tuple[IndexServer, dict[str, Any]]:
    server = make_server([make_wheel("app", "1.0", requires_dist=["dep"])])
    server.add(make_wheel("dep", "1.0"))
    (tmp_path / "r.in").write_text("app\n")
    code, output = _run(["lock", "r.in", "-i", server.index_url], tmp_path)
    assert code == 0, output
    return server, tomli.loads((tmp_path / "pylock.toml").read_text())


def _hostile_url(lock: dict[str, Any]) -> None:
    wheel = lock["packages"][0]["wheels"][0]
    wheel["url"] = wheel["url"].replace("/files/", f"/gone{HOSTILE}/")


def _hostile_record(lock: dict[str, Any]) -> None:
    record = lock["packages"][0]["tool"]["lockgen"]
    record["metadata-sha256"] = "0" * 64
    record["requires-dist"] = ["dep" + HOSTILE]


@pytest.mark.parametrize(
    ("edit", "shown"),
    [
        (_hostile_url, f"HTTP 404 ({{url}}/gone{SHOWN}/app-1.0-py3-none-any.whl)"),
        (_hostile_record, f"- Requires-Dist: dep{SHOWN})"),
    ],
    ids=["url", "requires-dist-record"],
)
def test_lock_file_data_is_shown_inert_by_hydrate(
    make_server: ServerFactory,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    shown: str,
) -> None:
    server, lock = _locked(make_server, tmp_path)
    edit(lock)
    (tmp_path / "pylock.toml").write_text(tomli_w.dumps(lock))
    code, output = _run(["hydrate", "-d", "wh", "--json"], tmp_path)
    assert code == 1, output
    _inert(output)
    assert shown.format(url=server.url) in output.decode()


def test_on_a_terminal_only_lockgen_own_sequences_arrive(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """On a terminal click strips nothing: what lockgen writes is what is shown."""
    server = make_server()
    _hostile_file(server)
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "r.in").write_text("app\n")
    status, locked = _run_on_a_terminal(
        ["lock", "r.in", "-i", server.index_url, "-v"], tmp_path / "index"
    )
    assert status == 0, locked
    _, lock = _locked(make_server, tmp_path)
    _hostile_url(lock)
    (tmp_path / "pylock.toml").write_text(tomli_w.dumps(lock))
    status, hydrated = _run_on_a_terminal(["hydrate", "-d", "wh"], tmp_path)
    assert status == 1, hydrated
    for shown in (locked, hydrated):
        shown = shown.replace("\r\n", "\n")  # the terminal's own line ends
        shown = re.sub("\r[^\r\n\x1b]*\x1b\\[K", "", shown)  # the live line
        _inert(shown.encode())
    assert f"app-1.0-py3-none-any.{SHOWN}.whl: metadata from PEP" in locked
    assert f"/gone{SHOWN}/app-1.0-py3-none-any.whl)" in hydrated
