"""Freed big buffers go back to the system (:mod:`lockgen.app.memory`), measured in a
child process's RSS: the allocation pattern is a lock's, many MB-sized page bodies
freed while small objects made meanwhile stay alive."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_PROGRAM = textwrap.dedent(
    """
    import os, sys
    if sys.argv[1] == "on":
        from lockgen.app.memory import return_big_buffers
        assert return_big_buffers()

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    first = bytearray(1 << 20)  # freed: glibc then raises its mmap threshold
    first[-1] = 1
    del first
    before = rss()
    bodies, kept = [], []
    for i in range(64):
        body = bytearray(1 << 20)
        body[-1] = 1
        bodies.append(body)
        kept.append(bytes(200 + i))  # small objects made between the big ones
    peak = rss()
    del bodies
    print((peak - before) >> 20, (rss() - before) >> 20)
    """
)


def _grown_and_kept(setting: str) -> tuple[int, int]:
    """MB of RSS the 64 MB of bodies added, and MB still held once they are freed."""
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM, setting],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RSS is read from /proc"
)
def test_freed_page_bodies_leave_the_process() -> None:
    grown, kept = _grown_and_kept("on")
    assert grown >= 60  # the bodies were really there
    assert kept <= 4


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="RSS is read from /proc"
)
def test_without_it_the_heap_keeps_them() -> None:
    """What the setting is for: glibc's default keeps the freed bodies."""
    grown, kept = _grown_and_kept("off")
    assert grown >= 60
    assert kept >= 48


def test_the_setting_is_taken_where_glibc_runs() -> None:
    from lockgen.app.memory import return_big_buffers

    expected = sys.platform.startswith("linux")
    assert return_big_buffers() is expected
