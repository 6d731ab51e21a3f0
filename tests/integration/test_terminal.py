"""Live progress appears on a terminal's stderr, and only there (a real pty)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.conftest import ServerFactory
from tests.support.wheels import make_wheel


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run lockgen with stderr on a pseudo-terminal; returns (status, what it showed)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    proc = subprocess.Popen(
        [sys.executable, "-m", "lockgen", *args],
        cwd=cwd,
        env=env,
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
