"""A lock's process settings (:mod:`lockgen.app.memory`), measured in child
processes: freed big buffers leave the RSS (the allocation pattern is a lock's, many
MB-sized page bodies freed while small objects made meanwhile stay alive), and the
cyclic collector runs rarely; the command line applies them, the API does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lockgen.app.memory import YOUNG_COLLECTION
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env
from tests.support.wheels import make_wheel

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


def _child(program: str, *args: str) -> list[int]:
    """The numbers ``program`` prints, run in a new interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [int(n) for n in out]


def _grown_and_kept(setting: str) -> tuple[int, int]:
    """MB of RSS the 64 MB of bodies added, and MB still held once they are freed."""
    grown, kept = _child(_PROGRAM, setting)
    return grown, kept


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


_COLLECTIONS = textwrap.dedent(
    """
    import gc, sys
    if sys.argv[1] == "on":
        from lockgen.app.memory import collect_less
        collect_less()
    runs = [0, 0, 0]
    gc.callbacks.append(
        lambda phase, info: phase == "stop" and runs.__setitem__(
            info["generation"], runs[info["generation"]] + 1
        )
    )
    kept = [(i, str(i)) for i in range(200_000)]  # parsed entries, kept
    print(*runs)
    """
)


def _collections(setting: str) -> list[int]:
    return _child(_COLLECTIONS, setting)


def test_the_collector_runs_rarely_over_a_growing_heap() -> None:
    young, _, oldest = _collections("on")
    assert young <= 12 and oldest == 0


def test_without_it_the_collector_runs_hundreds_of_times() -> None:
    young, _, oldest = _collections("off")
    assert young >= 200 and oldest >= 1


_AFTER_A_LOCK = textwrap.dedent(
    """
    import gc, sys
    before = gc.get_threshold()
    index, how = sys.argv[1], sys.argv[2]
    if how == "cli":
        from lockgen.cli.main import main
        try:
            main(["lock", "r.in", "-i", index, "-q", "--no-cache"])
        except SystemExit as exc:
            assert not exc.code, exc.code
    else:
        import lockgen
        lockgen.lock(["app"], indexes=[index])
    print(before[0], gc.get_threshold()[0], gc.get_freeze_count() > 0)
    """
)


@pytest.mark.parametrize(("how", "tuned"), [("cli", True), ("api", False)])
def test_the_command_line_tunes_its_process_and_the_api_does_not(
    make_server: ServerFactory, tmp_path: Path, how: str, tuned: bool
) -> None:
    server = make_server([make_wheel("app", "1.0")])
    (tmp_path / "r.in").write_text("app\n")
    out = subprocess.run(
        [sys.executable, "-c", _AFTER_A_LOCK, server.index_url, how],
        cwd=tmp_path,
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    before, after, frozen = int(out[0]), int(out[1]), out[2] == "True"
    assert before == 700
    assert (after, frozen) == ((YOUNG_COLLECTION, True) if tuned else (700, False))
