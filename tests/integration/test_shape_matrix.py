"""Every index shape against every cache state: same bytes, same pins, no wasted download.

One small but real graph (a root with platform wheels and an sdist, a dependency with
two versions, a small shared dependency, an sdist-only project) is served in each shape
real indexes come in: JSON with sizes, hashes and PEP 658; JSON with neither sizes nor
PEP 658; HTML with and without ``data-core-metadata`` (HTML never has sizes); a static
``file://`` folder; nginx's validators, or none at all; servers that refuse or ignore
ranges, or answer a short file's suffix range with a 200; an index without hashes
(HTML or JSON, with or without ranges). For each shape, one server and
one sequence of runs through the CLI covers the cache states (cold, no-op, warm into a
new output, warm with the previous lock and ``-U``, a second set sharing dependencies,
``--offline``, ``-j 1``); every one must write the cold run's bytes, and no warm run
touches a file (without listed hashes, the cache recalls what each URL hashed to).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import IndexServer, RangeMode, RequestRecord, Validators
from tests.support.lockcheck import check_lock
from tests.support.shape_graph import (
    PINS_A,
    PINS_B,
    TARGET,
    expected_files,
    shape_dists,
)
from tests.support.wheels import write_static_index

Run = Callable[..., Result]


@dataclass(frozen=True)
class Shape:
    """How an index serves the graph."""

    formats: tuple[str, ...] = ("json",)
    pep658: bool = True
    sizes: bool = True
    hashes: bool = True
    validators: Validators = "sha"
    ranges: RangeMode = "honour"
    static: bool = False  # a file:// folder of HTML pages

    @property
    def lists_sizes(self) -> bool:
        return self.sizes and "json" in self.formats and not self.static

    @property
    def downloads_all(self) -> bool:
        """No sha256 listed: every locked file is downloaded to hash it (once: the
        cache then recalls its hash by URL)."""
        return not self.hashes

    @property
    def reads_by_range(self) -> bool:
        """Ranges work (a whole small file for a longer suffix range is fine)."""
        return self.ranges in ("honour", "whole-if-short")


SHAPES = {
    "json-sizes-pep658": Shape(),
    "json-bare": Shape(pep658=False, sizes=False),
    "html-pep658": Shape(formats=("html",)),
    "html-bare": Shape(formats=("html",), pep658=False),
    "file-html-bare": Shape(pep658=False, static=True),
    "html-bare-nginx": Shape(formats=("html",), pep658=False, validators="nginx"),
    "json-sizes-pep658-no-validators": Shape(validators="none"),
    "html-bare-no-validators": Shape(formats=("html",), pep658=False, validators="none"),
    # a 200 to a small wheel's suffix range must not mark the host "no ranges"
    "html-bare-whole-if-short": Shape(
        formats=("html",), pep658=False, ranges="whole-if-short"
    ),
    # no sha256 listed: the one case where lockgen downloads the locked files (cold)
    "html-no-hashes": Shape(formats=("html",), pep658=False, hashes=False),
    "html-no-hashes-nginx": Shape(
        formats=("html",), pep658=False, hashes=False, validators="nginx"
    ),
    "html-no-hashes-no-ranges": Shape(
        formats=("html",), pep658=False, hashes=False, ranges="refuse"
    ),
    "json-no-hashes-sizes": Shape(pep658=False, hashes=False),
    # no ranges: metadata from whole downloads, which learn sizes too
    "html-bare-no-ranges": Shape(formats=("html",), pep658=False, ranges="refuse"),
    "json-bare-ranges-ignored": Shape(pep658=False, sizes=False, ranges="ignore"),
}  # fmt: skip


def _index(
    shape: Shape, make_server: ServerFactory, root: Path
) -> tuple[str, IndexServer | None]:
    if shape.static:
        write_static_index(shape_dists(), root / "mirror", pep658=shape.pep658)
        return (root / "mirror" / "simple").as_uri() + "/", None
    server = make_server(
        list(shape_dists()),
        formats=shape.formats,
        pep658=shape.pep658,
        sizes=shape.sizes,
        hashes=shape.hashes,
        validators=shape.validators,
        ranges=shape.ranges,
    )
    return server.index_url, server


class Locker:
    """Runs ``lockgen lock`` against one index, each run in a cache of its choosing."""

    def __init__(self, lockgen: Run, root: Path, index_url: str) -> None:
        self.lockgen = lockgen
        self.root = root
        self.index_url = index_url
        (root / "a.in").write_text("shape-app\n")
        (root / "b.in").write_text("shape-tool\n")

    def lock(self, reqs: str, out: str, cache: str, *extra: str) -> Result:
        result = self.lockgen(
            "lock", reqs, "-i", self.index_url, "-o", out,
            "--cache-dir", str(self.root / cache), *TARGET, *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return result

    def text(self, out: str) -> str:
        return (self.root / out).read_text()


def _wheel_gets_without_range(records: list[RequestRecord]) -> list[str]:
    return [
        r.path
        for r in records
        if r.method == "GET"
        and r.path.startswith("/files/")
        and r.path.endswith(".whl")
        and r.range is None
    ]


def _file_requests(records: list[RequestRecord]) -> list[str]:
    return [r.path for r in records if r.path.startswith("/files/")]


def _summary(lock: dict[str, Any]) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """name -> (version, [(file name, sha256)]): what every shape must agree on."""
    summary = {}
    for package in lock["packages"]:
        files = [*package.get("wheels", []), *filter(None, [package.get("sdist")])]
        hashes = sorted(
            (f["url"].rsplit("/", 1)[1], f["hashes"]["sha256"]) for f in files
        )
        summary[package["name"]] = (package["version"], hashes)
    return summary


def _assert_sizes(lock: dict[str, Any], shape: Shape) -> None:
    """A size is written only when it came for free: listed, or learnt by reading the
    metadata through the file (never by downloading a file for it)."""
    by_name = {d.filename: d for d in shape_dists()}
    for package in lock["packages"]:
        metadata_file = package["tool"]["lockgen"]["metadata-file"]
        read_through = not shape.pep658 or metadata_file.endswith(".tar.gz")
        files = [*package.get("wheels", []), *filter(None, [package.get("sdist")])]
        for entry in files:
            filename = entry["url"].rsplit("/", 1)[1]
            free = shape.lists_sizes or shape.downloads_all
            free = free or (read_through and filename == metadata_file)
            expected = by_name[filename].size if free else None
            assert entry.get("size") == expected, (filename, entry)


@pytest.mark.parametrize("shape_id", list(SHAPES))
def test_every_cache_state_writes_the_cold_bytes(
    shape_id: str, make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    shape = SHAPES[shape_id]
    index_url, server = _index(shape, make_server, tmp_path)
    run = Locker(lockgen, tmp_path, index_url)
    log: list[RequestRecord] = []

    def drain() -> list[RequestRecord]:
        if server is None:
            return []
        records = server.requests
        server.clear_log()
        log.extend(records)
        return records

    run.lock("a.in", "pylock.cold.toml", "cache")
    cold = run.text("pylock.cold.toml")
    asked = [(r.path, r.range) for r in drain()]
    assert len(asked) == len(set(asked)), asked  # nothing fetched twice, not even
    # a file without a listed sha256 whose metadata came from downloading it
    lock = check_lock(tmp_path / "pylock.cold.toml")
    assert _summary(lock) == expected_files(PINS_A)
    _assert_sizes(lock, shape)

    # no-op: the lock is up to date, nothing is asked of the index
    result = run.lock("a.in", "pylock.cold.toml", "cache")
    assert "is up to date" in result.stderr
    assert drain() == []

    # warm into a new output: the pages are unchanged, so the recorded resolution
    # is replayed: each page asked for (revalidated) once, and nothing else
    replayed = run.lock("a.in", "pylock.warm.toml", "cache", "-v")
    assert "replayed the resolution" in replayed.stderr
    assert run.text("pylock.warm.toml") == cold
    warm = drain()
    paths = [r.path for r in warm]
    assert all(p.startswith("/simple/") for p in paths), paths
    assert len(set(paths)) == len(paths), paths
    if server is not None and shape.validators != "none":
        assert {r.status for r in warm} == {304}, warm

    # warm with the previous lock: -U resolves again, with its hashes and the cache;
    # metadata is cached by sha256 (or URL), and a file without a listed sha256 by
    # what its URL hashed to when downloaded: no file is touched, not even by range
    shutil.copy(tmp_path / "pylock.cold.toml", tmp_path / "pylock.upgrade.toml")
    resolved = run.lock("a.in", "pylock.upgrade.toml", "cache", "-U", "-v")
    assert "replayed" not in resolved.stderr
    assert run.text("pylock.upgrade.toml") == cold
    assert _file_requests(drain()) == []

    # offline on the warm cache, replayed and resolved: no request at all
    run.lock("a.in", "pylock.offline.toml", "cache", "--offline")
    assert run.text("pylock.offline.toml") == cold
    run.lock("a.in", "pylock.offline-u.toml", "cache", "--offline", "-U")
    assert run.text("pylock.offline-u.toml") == cold
    assert drain() == []

    # a second set sharing shape-util, in the same cache, as in a fresh one
    run.lock("b.in", "pylock.b-shared.toml", "cache")
    run.lock("b.in", "pylock.b-cold.toml", "cache-b")
    assert run.text("pylock.b-shared.toml") == run.text("pylock.b-cold.toml")
    lock_b = check_lock(tmp_path / "pylock.b-cold.toml")
    assert _summary(lock_b) == expected_files(PINS_B)
    _assert_sizes(lock_b, shape)

    # -j 1, cold: thread timing never shows in the bytes
    run.lock("a.in", "pylock.serial.toml", "cache-serial", "-j", "1")
    assert run.text("pylock.serial.toml") == cold

    drain()
    if shape.reads_by_range and not shape.downloads_all:
        assert _wheel_gets_without_range(log) == []
    if shape.pep658 and server is not None:
        wheel_reads = [p for p in _file_requests(log) if p.endswith(".whl")]
        assert wheel_reads == []
    if server is not None:
        assert server.errors == []


@pytest.mark.parametrize(
    ("first", "then"),
    [("html-pep658", "html-bare"), ("html-bare", "html-pep658")],
)
def test_a_cache_filled_through_another_shape_changes_nothing(
    first: str, then: str, make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """The same artifacts behind another index shape share metadata cache entries
    (keyed by sha256): an entry read through PEP 658 knows no size, one read by range
    does. Either way the second shape's lock is its own cold lock, byte for byte."""
    first_url, _ = _index(SHAPES[first], make_server, tmp_path)
    then_url, then_server = _index(SHAPES[then], make_server, tmp_path)
    Locker(lockgen, tmp_path, first_url).lock("a.in", "pylock.first.toml", "shared")
    run = Locker(lockgen, tmp_path, then_url)
    run.lock("a.in", "pylock.then-shared.toml", "shared")
    run.lock("a.in", "pylock.then-cold.toml", "fresh")
    assert run.text("pylock.then-shared.toml") == run.text("pylock.then-cold.toml")
    assert then_server is not None
    assert _wheel_gets_without_range(then_server.requests) == []


def test_hydrate_a_lock_without_sizes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """An HTML index lists no sizes and PEP 658 leaves none to learn: the lock has no
    size at all, and hydrate still checks every file's sha256."""
    index_url, server = _index(SHAPES["html-pep658"], make_server, tmp_path)
    Locker(lockgen, tmp_path, index_url).lock("a.in", "pylock.toml", "cache")
    lock = tomli.loads((tmp_path / "pylock.toml").read_text())
    wheels = [w for p in lock["packages"] for w in p["wheels"]]
    assert wheels and all("size" not in w for w in wheels)
    result = lockgen("hydrate", "pylock.toml", "-d", "wheelhouse", "--all")
    assert result.exit_code == 0, result.output
    fetched = sorted(p.name for p in (tmp_path / "wheelhouse").iterdir())
    expected = expected_files(PINS_A)
    assert fetched == sorted(f for _, files in expected.values() for f, _ in files)

    assert server is not None
    bad = lock["packages"][0]["wheels"][0]["url"].rsplit("/", 1)[1]
    server.corrupt.add(bad)  # same length, one byte flipped: only the sha256 sees it
    result = lockgen("hydrate", "pylock.toml", "-d", "other", "--all", "--no-cache")
    assert result.exit_code == 1
    assert "hash mismatch" in result.stderr and bad in result.stderr
    assert not (tmp_path / "other" / bad).exists()
