"""A full disk, read-only folders: one line per failure, nothing half-written or left.

``hydrate`` into a full or read-only DEST reports each file it could not write and
keeps the ones it could; a lock written into a full or read-only folder is one error
line and leaves the old lock as it was. The cache is best effort: a full or read-only
cache costs the keeping, never a lock or a hydrate, and the lock is byte for byte what
a healthy cache gives. The limits are put on a ``python -m lockgen`` child, so they
hold as root too (see :mod:`tests.support.disk_limits`); each case lists what is left
on disk, temp folders included.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.disk_limits import Ran, listing, modes_obeyed, read_only, run_lockgen
from tests.support.index_server import IndexServer
from tests.support.wheels import Dist, make_sdist, make_wheel

#: How far a file may grow on the "full" disk: a lock, a page or a METADATA fits, a
#: padded wheel does not.
_ROOM = 64 * 1024


@pytest.fixture
def obey_modes(tmp_path: Path) -> None:
    """Skip unless a child lockgen can be shown a read-only folder (see disk_limits)."""
    reason = modes_obeyed(tmp_path)
    if reason is not None:
        pytest.skip(reason)


def _small() -> Dist:
    return make_wheel("small", "1.0")


def _big() -> Dist:
    return make_wheel("big", "1.0", padding=300_000)


def _lock(
    server: IndexServer,
    cwd: Path,
    dists: list[Dist],
    *,
    output: str = "pylock.toml",
    file_size_limit: int | None = None,
    obey_modes: bool = False,
) -> Ran:
    """Lock the projects of ``dists`` (served by ``server``) into ``cwd/output``."""
    cwd.mkdir(exist_ok=True)
    projects = sorted({d.project for d in dists})
    (cwd / "r.in").write_text("".join(f"{p}\n" for p in projects))
    return run_lockgen(
        cwd,
        "lock",
        "r.in",
        "-i",
        server.index_url,
        "--python-version",
        "3.11",
        "-o",
        output,
        file_size_limit=file_size_limit,
        obey_modes=obey_modes,
    )


def _hydrate(
    cwd: Path,
    dest: str = "wh",
    *,
    file_size_limit: int | None = None,
    obey_modes: bool = False,
) -> Ran:
    return run_lockgen(
        cwd,
        "hydrate",
        "pylock.toml",
        "-d",
        dest,
        "--python-version",
        "3.11",
        file_size_limit=file_size_limit,
        obey_modes=obey_modes,
    )


def _locked(make_server: ServerFactory, cwd: Path, dists: list[Dist]) -> None:
    """A lock written with no limits, for hydrate to read."""
    ran = _lock(make_server(dists), cwd, dists)
    assert ran.code == 0, ran.stderr


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(ran: Ran) -> str:
    """The run failed with exactly one line on stderr, and no traceback."""
    assert ran.code == 1, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr
    return lines[0]


def _succeeded(ran: Ran) -> None:
    assert ran.code == 0, ran.stderr
    assert "Traceback" not in ran.stderr and "error" not in ran.stderr, ran.stderr


def _cache_entries_are_whole(cache: Path) -> None:
    """Every kept artifact hashes to its name: none was kept half-written."""
    artifacts = cache / "v1" / "artifacts"
    for path in artifacts.rglob("*"):
        if path.is_file():
            assert _sha(path) == path.name


def _tree(top: Path) -> list[Path]:
    """``top`` and everything under it, to make all of it :func:`read_only`."""
    return [top, *top.rglob("*")]


class TestFullDest:
    def test_the_file_that_does_not_fit_fails_alone(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        small, big = _small(), _big()
        _locked(make_server, tmp_path, [small, big])
        ran = _hydrate(tmp_path, file_size_limit=_ROOM)
        assert ran.code == 1
        assert "Traceback" not in ran.stderr
        summary, *errors = ran.stderr.splitlines()
        assert summary.startswith("Hydrated wh: 1 fetched")
        assert errors == [
            "error: 1 of 2 files failed",
            f"  {big.filename}: File too large (wh/{big.filename}.part)",
        ]
        # no .part, no half file: only the one that fitted, verified
        assert listing(tmp_path / "wh") == [small.filename]
        assert _sha(tmp_path / "wh" / small.filename) == small.sha256
        assert listing(tmp_path / "cache" / "v1" / "tmp") == []
        _cache_entries_are_whole(tmp_path / "cache")

    def test_a_warm_cache_still_fills_it(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        """Files come from the cache as hard links, which take no room."""
        small, big = _small(), _big()
        _locked(make_server, tmp_path, [small, big])
        _succeeded(_hydrate(tmp_path, "first"))
        ran = _hydrate(tmp_path, "second", file_size_limit=_ROOM)
        _succeeded(ran)
        assert "2 from the cache" in ran.stderr
        assert listing(tmp_path / "second") == sorted([small.filename, big.filename])
        assert _sha(tmp_path / "second" / big.filename) == big.sha256


@pytest.mark.usefixtures("obey_modes")
class TestReadOnlyDest:
    def test_each_missing_file_fails_and_the_folder_is_untouched(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        small, big = _small(), _big()
        _locked(make_server, tmp_path, [small, big])
        (tmp_path / "wh").mkdir()
        (tmp_path / "wh" / small.filename).write_bytes(small.data)
        with read_only(*_tree(tmp_path / "wh")):
            ran = _hydrate(tmp_path, obey_modes=True)
        assert ran.code == 1
        assert "Traceback" not in ran.stderr
        summary, *errors = ran.stderr.splitlines()
        assert "1 already present, 1 failed" in summary
        assert errors == [
            "error: 1 of 2 files failed",
            f"  {big.filename}: Permission denied (wh/{big.filename}.part)",
        ]
        assert listing(tmp_path / "wh") == [small.filename]
        assert listing(tmp_path / "cache" / "v1" / "tmp") == []

    def test_a_dest_that_cannot_be_created_is_one_line(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        _locked(make_server, tmp_path, [_small()])
        with read_only(tmp_path / "ro"):
            ran = _hydrate(tmp_path, "ro/wh", obey_modes=True)
        assert _one_error_line(ran) == "error: cannot create ro/wh: Permission denied"
        assert listing(tmp_path / "ro") == []


class TestFullCache:
    def test_a_lock_is_the_same_as_with_a_healthy_cache(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        """No PEP 658 files, no ranges, no hashes: every file is downloaded into the
        cache's temp folder and its METADATA read from there; the big one does not
        fit, so what it wrote moves to memory and the download goes on there."""
        small, big = _small(), _big()
        dists = [small, big, make_sdist("source", "1.0")]
        server = make_server(dists, pep658=False, ranges="ignore", hashes=False)
        _succeeded(_lock(server, tmp_path / "healthy", dists))
        full = tmp_path / "full"
        _succeeded(_lock(server, full, dists, file_size_limit=_ROOM))
        assert (full / "pylock.toml").read_bytes() == (
            tmp_path / "healthy" / "pylock.toml"
        ).read_bytes()
        assert listing(full / "cache" / "v1" / "tmp") == []
        _cache_entries_are_whole(full / "cache")
        kept = [p.name for p in (full / "cache" / "v1" / "artifacts").rglob("*")]
        assert small.sha256 in kept and big.sha256 not in kept

    def test_no_room_even_for_the_spool_is_one_line(
        self,
        make_server: ServerFactory,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A download bigger than memory's share (4 MiB) goes to TMPDIR, on the same
        full disk: then the lock cannot go on, and says so in one line."""
        huge = make_wheel("huge", "1.0", padding=5 * 1024 * 1024)
        server = make_server([huge], pep658=False, hashes=False)
        (tmp_path / "tmp").mkdir()
        monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
        ran = _lock(server, tmp_path, [huge], file_size_limit=_ROOM)
        line = _one_error_line(ran)
        assert line == (
            f"error: {huge.filename}: no room to hold the download: File too large "
            f"({tmp_path / 'tmp'})"
        )
        assert listing(tmp_path / "tmp") == []
        assert listing(tmp_path / "cache" / "v1" / "tmp") == []
        assert not (tmp_path / "pylock.toml").exists()


@pytest.mark.usefixtures("obey_modes")
class TestReadOnlyCache:
    @pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
    def test_a_lock_is_the_same_as_with_a_healthy_cache(
        self, make_server: ServerFactory, tmp_path: Path, warm: bool
    ) -> None:
        dists = [_small(), _big(), make_sdist("source", "1.0")]
        server = make_server(dists, pep658=False, hashes=False)
        healthy = tmp_path / "healthy"
        _succeeded(_lock(server, healthy, dists))
        where = healthy if warm else tmp_path / "read-only"
        (where / "cache").mkdir(parents=True, exist_ok=True)
        before = listing(where / "cache")
        server.clear_log()
        with read_only(*_tree(where / "cache")):
            ran = _lock(
                server, where, dists, output="pylock.again.toml", obey_modes=True
            )
        _succeeded(ran)
        assert (where / "pylock.again.toml").read_bytes() == (
            healthy / "pylock.toml"
        ).read_bytes()
        assert listing(where / "cache") == before
        downloads = [r for r in server.requests if r.path.startswith("/files/")]
        assert bool(downloads) is not warm  # a read-only cache is still read

    def test_hydrate_fills_dest(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        small, big = _small(), _big()
        _locked(make_server, tmp_path, [small, big])
        before = listing(tmp_path / "cache")
        with read_only(*_tree(tmp_path / "cache")):
            ran = _hydrate(tmp_path, obey_modes=True)
        _succeeded(ran)
        assert "2 fetched" in ran.stderr
        assert listing(tmp_path / "wh") == sorted([small.filename, big.filename])
        assert _sha(tmp_path / "wh" / big.filename) == big.sha256
        assert listing(tmp_path / "cache") == before

    def test_cache_clean_says_what_it_could_not_remove(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        """It printed "Removed 0 B" and exited 0, and the next lock read it all."""
        dists = [_small(), _big()]
        _succeeded(_lock(make_server(dists), tmp_path, dists))
        before = listing(tmp_path / "cache")
        with read_only(*_tree(tmp_path / "cache")):
            ran = run_lockgen(tmp_path, "cache", "clean", obey_modes=True)
        assert ran.code == 1, ran
        (line,) = ran.stderr.splitlines()
        assert line.startswith("error: ") and "could not be removed" in line, line
        assert listing(tmp_path / "cache") == before
        ran = run_lockgen(tmp_path, "cache", "clean")
        assert ran.code == 0 and ran.stderr == "", ran


class TestLockOutput:
    """``lock -o`` into a folder that will not take the file: the old lock stays."""

    @staticmethod
    def _old_lock(
        make_server: ServerFactory, tmp_path: Path
    ) -> tuple[IndexServer, Path]:
        """``out/pylock.toml`` locks ``small`` only; the tests ask for ``big`` too."""
        server = make_server([_small(), _big()])
        (tmp_path / "out").mkdir()
        _succeeded(_lock(server, tmp_path, [_small()], output="out/pylock.toml"))
        return server, tmp_path / "out" / "pylock.toml"

    @pytest.mark.usefixtures("obey_modes")
    def test_a_read_only_folder(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        server, old = self._old_lock(make_server, tmp_path)
        before = old.read_bytes()
        with read_only(*_tree(old.parent)):
            ran = _lock(
                server,
                tmp_path,
                [_small(), _big()],
                output="out/pylock.toml",
                obey_modes=True,
            )
        assert (
            _one_error_line(ran)
            == "error: out/pylock.toml: cannot write: Permission denied"
        )
        assert listing(old.parent) == ["pylock.toml"]
        assert old.read_bytes() == before

    def test_a_full_disk(self, make_server: ServerFactory, tmp_path: Path) -> None:
        server, old = self._old_lock(make_server, tmp_path)
        before = old.read_bytes()
        ran = _lock(
            server,
            tmp_path,
            [_small(), _big()],
            output="out/pylock.toml",
            file_size_limit=len(before) // 2,
        )
        assert (
            _one_error_line(ran)
            == "error: out/pylock.toml: cannot write: File too large"
        )
        assert listing(old.parent) == ["pylock.toml"]
        assert old.read_bytes() == before
        assert listing(tmp_path / "cache" / "v1" / "tmp") == []
