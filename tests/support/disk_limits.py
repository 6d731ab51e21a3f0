"""Run ``python -m lockgen`` on a full disk or against read-only folders, even as root.

CI runs the suite as root, and root writes through any mode bits; mounting a small
tmpfs needs privileges a container may not grant. So the limits are put on the child
process instead, by this file run as a script just before it execs lockgen:

- **A full disk**: ``RLIMIT_FSIZE`` of N bytes (SIGXFSZ ignored) makes every write
  that would grow a file past N fail with ``EFBIG`` ("File too large"), the way a full
  disk fails it with ``ENOSPC``: a write error part way through a file. Interpreter
  start-up writes no file, and creating, renaming and hard-linking files still work.
- **Read-only folders** (``chmod 0555``): as root, the capabilities that override
  mode bits (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``) are dropped
  from the bounding set, so the exec'd lockgen, still uid 0 (it can read the root-owned
  interpreter and checkout, even under a 0700 home), obeys them like any user.
  Dropping needs ``CAP_SETPCAP``; :func:`modes_obeyed` probes whether it all works,
  so a test can skip with the reason instead of passing vacuously.

Usage as a script: ``python disk_limits.py [--file-size-limit N] [--obey-modes] --
LOCKGEN-ARGS...`` (standard library only: it runs before anything is imported).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_PR_CAPBSET_DROP = 24
#: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER (linux/capability.h)
_MODE_OVERRIDING_CAPS = (1, 2, 3)


@dataclass(frozen=True)
class Ran:
    """How a limited ``lockgen`` run ended."""

    code: int
    stdout: str
    stderr: str


def run_lockgen(
    cwd: Path,
    *args: str,
    file_size_limit: int | None = None,
    obey_modes: bool = False,
) -> Ran:
    """``python -m lockgen ARGS`` in ``cwd`` under the given limits.

    The environment is the test's (the suite's hermetic settings), with the cache in
    ``cwd/cache``.
    """
    limits = ["--obey-modes"] if obey_modes else []
    if file_size_limit is not None:
        limits += ["--file-size-limit", str(file_size_limit)]
    done = subprocess.run(
        [sys.executable, __file__, *limits, "--", *args],
        cwd=cwd,
        env={
            **os.environ,
            "LOCKGEN_CACHE_DIR": str(cwd / "cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make ``paths`` read-only for the block: folders 0555 (created if missing), files
    0444; then 0755 and 0644 again, so pytest can clean up."""
    for path in paths:
        if not path.exists():
            path.mkdir(parents=True)
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


def modes_obeyed(scratch: Path) -> str | None:
    """``None`` if an ``--obey-modes`` child cannot write into a 0555 folder, else
    why (so a test skips instead of passing without a read-only folder)."""
    folder = scratch / "probe"
    with read_only(folder):
        done = subprocess.run(
            [sys.executable, __file__, "--obey-modes", "--probe", str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if done.returncode != 0:
        return f"cannot make a folder read-only for a child: {done.stderr.strip()}"
    return None


def _drop_mode_overrides() -> None:
    """Lose the capabilities that let root ignore mode bits, for what is exec'd next."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _MODE_OVERRIDING_CAPS:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            sys.exit(f"prctl(PR_CAPBSET_DROP): {os.strerror(ctypes.get_errno())}")


def _probe(folder: str) -> None:
    """Exec a child that must fail to create a file in ``folder`` (exit 0 if so)."""
    code = (
        "import sys\n"
        "try:\n"
        f"    open({folder!r} + '/x', 'w')\n"
        "except PermissionError:\n"
        "    sys.exit(0)\n"
        "sys.exit('a 0555 folder was writable')\n"
    )
    os.execv(sys.executable, [sys.executable, "-c", code])


def _child(argv: list[str]) -> None:
    """Apply the limits named in ``argv``, then become ``python -m lockgen``."""
    while argv and argv[0] != "--":
        option = argv.pop(0)
        if option == "--obey-modes":
            _drop_mode_overrides()
        elif option == "--probe":
            _probe(argv.pop(0))
        elif option == "--file-size-limit":
            size = int(argv.pop(0))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    os.execv(sys.executable, [sys.executable, "-m", "lockgen", *argv[1:]])


def listing(top: Path) -> list[str]:
    """Every file and folder under ``top`` (relative, sorted; folders end in ``/``)."""
    if not top.exists():
        return []
    return sorted(
        str(p.relative_to(top)) + ("/" if stat.S_ISDIR(p.lstat().st_mode) else "")
        for p in top.rglob("*")
    )


if __name__ == "__main__":
    _child(sys.argv[1:])
