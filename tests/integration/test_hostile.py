"""Hostile servers: bombs, endless bodies, trickles, loops; bounded by bytes, not time.

The CLI cases run ``python -m lockgen`` as a subprocess so its peak RSS can be read
from ``wait4``; timeouts are given to an :class:`HttpClient` directly (the CLI has no
timeout option), so no test waits longer than a fraction of a second per request.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockgen.core.errors import NetworkError, TooSlowError
from lockgen.net.download import fetch
from lockgen.net.transport import HttpClient
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import BOMB_SIZE, IndexServer
from tests.support.wheels import Dist, artifact_of, make_wheel

_MiB = 1024 * 1024
#: Peak RSS a lock may reach with any one hostile answer: lockgen itself plus one
#: capped body (a page at most 64 MiB), far below the bomb's 256 MiB.
_RSS_BOUND = 200 * _MiB


@dataclass(frozen=True)
class _Run:
    code: int
    stderr: str
    peak_rss: int  # bytes


def _run(cwd: Path, *args: str) -> _Run:
    """``python -m lockgen ARGS`` in ``cwd``; its exit code, stderr and peak RSS."""
    with (cwd / "stderr").open("w+b") as err:
        proc = subprocess.Popen(
            lockgen_command(*args),
            cwd=cwd,
            env=isolated_env(LOCKGEN_CACHE_DIR=str(cwd / "cache")),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode()
    return _Run(proc.returncode, stderr, usage.ru_maxrss * 1024)


def _app() -> Dist:
    return make_wheel("app", "1.0")


def _lock(server: IndexServer, cwd: Path) -> _Run:
    (cwd / "r.in").write_text("app\n")
    return _run(cwd, "lock", "r.in", "-i", server.index_url, "--python-version", "3.11")


def _forget_resolutions(cwd: Path) -> None:
    """Drop the recorded resolutions, so the next lock resolves (reading metadata)."""
    shutil.rmtree(cwd / "cache" / "v1" / "resolutions", ignore_errors=True)


def _error_line(run: _Run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_gzip_bomb_page_is_refused_at_the_page_limit(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "gzip-bomb"
    run = _lock(server, tmp_path)
    assert run.code == 1
    url = f"{server.index_url}app/"
    assert _error_line(run) == (
        f"error: response larger than 64 MiB, the limit for a page ({url})"
    )
    assert run.peak_rss < _RSS_BOUND < BOMB_SIZE


def test_gzip_metadata_is_never_decompressed(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Nobody asked for gzip: the bomb is taken as sent, and its hash does not match."""
    dist = _app()
    server = make_server([dist])
    server.hostile[f"/files/{dist.filename}.metadata"] = "gzip-bomb"
    run = _lock(server, tmp_path)
    assert run.code == 1
    assert f"{dist.filename}.metadata" in _error_line(run)
    assert "hash mismatch" in run.stderr
    assert run.peak_rss < _RSS_BOUND


def test_endless_metadata_stops_at_its_limit(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    dist = _app()
    server = make_server([dist])
    server.hostile[f"/files/{dist.filename}.metadata"] = "endless"
    run = _lock(server, tmp_path)
    assert run.code == 1
    url = f"{server.url}/files/{dist.filename}.metadata"
    assert _error_line(run) == (
        f"error: response larger than 16 MiB, the limit for a .metadata file ({url})"
    )
    assert run.peak_rss < _RSS_BOUND


def test_endless_206_is_no_range_and_the_whole_file_stops_at_its_size(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    dist = _app()
    server = make_server([dist], pep658=False)
    server.hostile[f"/files/{dist.filename}"] = "endless"
    run = _lock(server, tmp_path)
    assert run.code == 1
    url = f"{server.url}/files/{dist.filename}"
    # a range answered with more than was asked is no range: the whole file is
    # fetched instead, and its endless body stops at the size the index listed
    assert _error_line(run) == (
        f"error: response larger than {dist.size} bytes, the limit for "
        f"{dist.filename} (its listed size) ({url})"
    )
    assert run.peak_rss < _RSS_BOUND
    ranges = [r.range for r in server.requests if r.path == f"/files/{dist.filename}"]
    assert ranges == ["bytes=-32768", None]


def test_lock_download_stops_at_the_listed_size(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """No sha256 listed: lock downloads the file, which never ends."""
    dist = _app()
    server = make_server([dist], hashes=False)
    server.hostile[f"/files/{dist.filename}"] = "endless"
    run = _lock(server, tmp_path)
    assert run.code == 1
    url = f"{server.url}/files/{dist.filename}"
    assert _error_line(run) == (
        f"error: response larger than {dist.size} bytes, the limit for "
        f"{dist.filename} (its listed size) ({url})"
    )
    assert run.peak_rss < _RSS_BOUND
    assert not list((tmp_path / "cache").rglob("*.whl"))


def test_hydrate_download_stops_at_the_locked_size(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    dist = _app()
    server = make_server([dist])
    assert _lock(server, tmp_path).code == 0
    server.hostile[f"/files/{dist.filename}"] = "endless"
    run = _run(tmp_path, "hydrate", "pylock.toml", "-d", "wh", "--no-cache")
    assert run.code == 1
    assert f"response larger than {dist.size} bytes" in run.stderr
    assert f"{dist.filename} (its locked size)" in run.stderr
    assert run.peak_rss < _RSS_BOUND
    assert list((tmp_path / "wh").iterdir()) == []  # no .part, no file


def test_redirect_loop_is_named(make_server: ServerFactory, tmp_path: Path) -> None:
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "redirect-loop"
    run = _lock(server, tmp_path)
    assert run.code == 1
    assert _error_line(run) == f"error: too many redirects ({server.index_url}app/)"
    assert len(server.requests) <= 8


def test_unsolicited_304_is_not_a_page(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "not-modified"
    run = _lock(server, tmp_path)
    assert run.code == 1
    assert _error_line(run) == (f"error: unexpected HTTP 304 ({server.index_url}app/)")
    del server.hostile["/simple/app/"]
    assert _lock(server, tmp_path).code == 0  # nothing was cached from the 304


def test_trickled_page_is_cut_short(make_server: ServerFactory) -> None:
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "trickle"
    client = HttpClient(timeout=0.2)
    with pytest.raises(NetworkError, match=r"sending too slowly"):
        client.get(
            f"{server.index_url}app/",
            {"Accept-Encoding": "gzip"},
            limit=_MiB,
            what="a page",
        )
    assert client.stats.requests == 1
    assert client.stats.bytes < 100  # one byte each 50 ms, stopped after 0.2 s


def test_trickled_download_is_reported_as_too_slow(
    make_server: ServerFactory,
) -> None:
    dist = _app()
    server = make_server([dist])
    server.hostile[f"/files/{dist.filename}"] = "trickle"
    client = HttpClient(timeout=0.2)
    with (
        pytest.raises(NetworkError, match=r"the server is sending too slowly"),
        client.stream(f"{server.url}/files/{dist.filename}") as response,
    ):
        for _ in response.iter_bytes():
            pass
    assert client.stats.bytes < 100


def test_silent_server_is_reported(make_server: ServerFactory) -> None:
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "silent"
    client = HttpClient(timeout=0.1)
    with pytest.raises(NetworkError, match=r"timed out"):
        client.get(f"{server.index_url}app/", None, limit=_MiB, what="a page")
    assert len(server.requests) == 1  # after one timeout, not after each retry


def test_retry_after_is_capped(make_server: ServerFactory) -> None:
    """An hour's Retry-After is cut to the timeout: three requests, then the 503."""
    server = make_server([_app()])
    server.hostile["/simple/app/"] = "retry-after"
    client = HttpClient(timeout=0.1, retries=2)
    response = client.get(f"{server.index_url}app/", None, limit=_MiB, what="a page")
    assert response.status == 503
    with pytest.raises(NetworkError, match=r"HTTP 503"):
        response.raise_for_status()
    assert len(server.requests) == 3


def test_slow_but_steady_range_read_meets_the_overall_deadline(
    make_server: ServerFactory,
) -> None:
    """Fast enough never to look stalled, too slow to finish within twice the timeout."""
    dist = make_wheel("app", "1.0", padding=2 * _MiB)
    server = make_server([dist])
    server.slow[dist.filename] = 0.01  # 16 KiB each 10 ms: about 1.6 MB/s
    client = HttpClient(timeout=0.1)
    with pytest.raises(NetworkError, match=r"no complete response within 0.2 s"):
        client.get(
            f"{server.url}/files/{dist.filename}",
            {"Range": f"bytes=0-{dist.size - 1}"},
            limit=dist.size,
            what="the range asked for",
        )
    assert client.stats.requests == 1
    assert client.stats.bytes < dist.size


def test_hydrate_reports_a_trickled_file_once_and_keeps_its_part(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Too slow is final (no resume attempts against the same server); the bytes that
    came stay in ``.part`` for a later run."""
    dist = _app()
    server = make_server([dist])
    server.hostile[f"/files/{dist.filename}"] = "trickle"
    artifact = artifact_of(dist, f"{server.url}/files/{dist.filename}")
    client = HttpClient(timeout=0.2)
    with pytest.raises(TooSlowError, match=r"sending too slowly"):
        fetch(
            client,
            artifact,
            tmp_path,
            on_bytes=lambda _: None,
            cancelled=threading.Event(),
        )
    assert len(server.requests) == 1
    assert not (tmp_path / dist.filename).exists()
    assert (tmp_path / f"{dist.filename}.part").stat().st_size < 100


def test_oversized_cache_entry_is_discarded_unread(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """A page entry grown to 1 GiB (sparse) in a shared cache costs no memory."""
    server = make_server([_app()])
    assert _lock(server, tmp_path).code == 0
    (entry,) = (tmp_path / "cache" / "v1" / "pages").glob("*")
    with entry.open("r+b") as fh:
        fh.truncate(1024 * _MiB)
    (tmp_path / "pylock.toml").unlink()
    run = _lock(server, tmp_path)
    assert run.code == 0, run.stderr
    assert run.peak_rss < _RSS_BOUND
    assert entry.stat().st_size < _MiB  # discarded, then written again


@pytest.mark.parametrize("command", ["lock", "hydrate"])
def test_ctrl_c_during_a_silent_read_ends_the_run(
    make_server: ServerFactory, tmp_path: Path, command: str
) -> None:
    """A thread stuck in a read (30 s timeout) does not hold the exit: the run ends
    with status 130 and one error line, long before that read could time out."""
    import signal
    import time

    dist = _app()
    server = make_server([dist])
    if command == "hydrate":
        assert _lock(server, tmp_path).code == 0
        path = f"/files/{dist.filename}"
        args = ["hydrate", "pylock.toml", "-d", "wh", "--no-cache"]
    else:
        (tmp_path / "r.in").write_text("app\n")
        path = "/simple/app/"
        args = ["lock", "r.in", "-i", server.index_url, "--python-version", "3.11"]
    server.hostile[path] = "silent"
    server.clear_log()
    proc = subprocess.Popen(
        lockgen_command(*args),
        cwd=tmp_path,
        env=isolated_env(LOCKGEN_CACHE_DIR=str(tmp_path / "cache")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20  # a hang guard, not a measurement
    while not any(r.path == path for r in server.requests):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)  # the stuck read would take 30 s
    assert proc.returncode == 130, stderr
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), lines
    assert not (tmp_path / "wh" / dist.filename).exists()


def test_metadata_with_tens_of_thousands_of_requirements_is_refused(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Refused as read: not one page of the 20,000 projects it names is requested."""
    dist = make_wheel("app", "1.0", requires_dist=[f"dep{i}" for i in range(20_000)])
    server = make_server([dist])
    run = _lock(server, tmp_path)
    assert run.code == 1
    assert _error_line(run) == (
        "error: cannot resolve the requirements: you asked for app (r.in:1); app 1.0 "
        "cannot be used: 20000 Requires-Dist lines, more than the 4096 lockgen accepts"
    )
    assert [r.path for r in server.requests] == [
        "/simple/app/",
        f"/files/{dist.filename}.metadata",
    ]


def test_hundreds_of_missing_projects_stop_the_run(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """600 versions, each needing its own project that no index has: the run stops
    after 501 of them, not all."""
    dists = [make_wheel("app", f"{i}.0", requires_dist=[f"dep{i}"]) for i in range(600)]
    server = make_server(dists)
    run = _lock(server, tmp_path)
    assert run.code == 1
    line = _error_line(run)
    assert line.startswith("error: more than 500 projects are on no index (the last: ")
    pages = [r for r in server.requests if r.path.startswith("/simple/dep")]
    assert 500 < len(pages) <= 500 + 16  # the limit, plus what prefetch had started


def test_hydrate_reports_a_file_gone_silent_once(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Headers, then nothing: one read timeout, no resume attempts."""
    dist = make_wheel("app", "1.0", padding=200_000)
    server = make_server([dist])
    server.slow[dist.filename] = 60.0  # the body never starts within the test
    artifact = artifact_of(dist, f"{server.url}/files/{dist.filename}")
    with pytest.raises(TooSlowError, match=r"went silent mid-body \(0 bytes in\)"):
        fetch(
            HttpClient(timeout=0.2),
            artifact,
            tmp_path,
            on_bytes=lambda _: None,
            cancelled=threading.Event(),
        )
    assert len(server.requests) == 1


@pytest.mark.parametrize("lie", ["length over the metadata limit", "file overlong"])
def test_planted_metadata_entry_is_refused_unread(
    make_server: ServerFactory, tmp_path: Path, lie: str
) -> None:
    """A metadata entry grown to 60 MiB in a shared cache (under the 64 MiB a page may
    have, over the 16 MiB metadata may) costs no memory: its declared length is
    checked against the file and the kind's limit before its payload is read."""
    server = make_server([_app()])
    assert _lock(server, tmp_path).code == 0
    (tmp_path / "pylock.toml").unlink()
    _forget_resolutions(tmp_path)  # else replayed: no metadata would be read
    warm = _lock(server, tmp_path)
    assert warm.code == 0, warm.stderr
    (entry,) = (tmp_path / "cache" / "v1" / "metadata").glob("*")
    magic, header, payload = entry.read_bytes().split(b"\n", 2)
    fields = json.loads(header)
    size = 60 * _MiB
    if lie == "length over the metadata limit":
        fields["length"] = size
    framing = magic + b"\n" + json.dumps(fields).encode() + b"\n"
    with entry.open("wb") as fh:
        fh.write(framing + payload)
        fh.truncate(len(framing) + size)
    (tmp_path / "pylock.toml").unlink()
    _forget_resolutions(tmp_path)
    run = _lock(server, tmp_path)
    assert run.code == 0, run.stderr
    assert run.peak_rss < warm.peak_rss + 20 * _MiB, (run.peak_rss, warm.peak_rss)
    assert entry.stat().st_size < _MiB  # discarded, then written again
