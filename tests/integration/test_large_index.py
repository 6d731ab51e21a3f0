"""Wire cost of locking a realistic 48-project index: range reads stay small, PEP 658 stays minimal.

The headline promise of lockgen is reading metadata without downloading wheels; one
small index cannot show a per-wheel cost creeping up, this one can (45 locked packages,
big and native wheels, a DAG six deep). Run with ``pytest -s`` to see the averages.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.bigindex import BigIndex, WireStats, build_big_index, wire_stats
from tests.support.index_server import IndexServer, RequestRecord
from tests.support.lockcheck import check_lock

Run = Callable[..., Result]

MAX_GETS_PER_WHEEL = 2
MAX_BYTES_PER_WHEEL = 64 * 1024


def report(label: str, stats: WireStats) -> str:
    """One line of averages, printed so ``pytest -s`` shows what a lock cost."""
    line = (
        f"[{label}] {stats.metadata_files} wheels read, "
        f"{stats.requests_per_wheel:.2f} requests/wheel, "
        f"{stats.bytes_per_wheel / 1024:.1f} KiB/wheel "
        f"(all traffic: {stats.requests} requests, {stats.bytes / 1024:.1f} KiB)"
    )
    print(line)
    return line


@pytest.fixture(scope="module")
def big() -> BigIndex:
    return build_big_index()


def _lock(
    lockgen: Run, tmp_path: Path, big: BigIndex, server: IndexServer, output: str
) -> dict[str, Any]:
    (tmp_path / "requirements.in").write_text("\n".join(big.roots) + "\n")
    result = lockgen(
        "lock", "requirements.in", "-i", server.index_url, "-o", output,
        "--python-version", "3.11", "--platform", "linux_x86_64",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return check_lock(tmp_path / output)


def _depth(lock: dict[str, Any]) -> int:
    """Longest dependency chain in the lock, counted in packages."""
    edges = {
        p["name"]: [d["name"] for d in p["dependencies"]] for p in lock["packages"]
    }

    @functools.cache
    def depth(name: str) -> int:
        return 1 + max((depth(child) for child in edges[name]), default=0)

    return max(depth(name) for name in edges)


def _wheel_gets(records: list[RequestRecord]) -> dict[str, list[RequestRecord]]:
    by_path: dict[str, list[RequestRecord]] = {}
    for record in records:
        if record.path.startswith("/files/") and record.path.endswith(".whl"):
            by_path.setdefault(record.path, []).append(record)
    return by_path


def _assert_pins(lock: dict[str, Any], big: BigIndex) -> None:
    pins = {p["name"]: p["version"] for p in lock["packages"]}
    assert len(pins) >= 40
    assert pins == big.expected_pins
    assert _depth(lock) >= 5


class TestRangePath:
    def test_lock_reads_each_wheel_with_few_small_ranges(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, big: BigIndex
    ) -> None:
        server = make_server(big.dists, pep658=False)
        lock = _lock(lockgen, tmp_path, big, server, "pylock.toml")
        records = server.requests
        _assert_pins(lock, big)
        assert not any(r.path.endswith(".metadata") for r in records)  # ranges only
        wheels = _wheel_gets(records)
        read = {
            f"/files/{p['tool']['lockgen']['metadata-file']}" for p in lock["packages"]
        }
        assert set(wheels) == read  # one wheel per package, and only those
        for path, gets in wheels.items():
            assert all(r.method == "GET" for r in gets), path
            assert all(r.range is not None and r.status == 206 for r in gets), path
            assert len(gets) <= MAX_GETS_PER_WHEEL, path
            assert sum(r.bytes_sent for r in gets) < MAX_BYTES_PER_WHEEL, path
        other_files = [r.path for r in records if r.path.startswith("/files/")]
        assert len(other_files) == sum(len(g) for g in wheels.values())  # no sdists
        stats = wire_stats(records)
        assert stats.requests_per_wheel <= MAX_GETS_PER_WHEEL
        report("range", stats)

    def test_second_run_is_byte_identical(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, big: BigIndex
    ) -> None:
        server = make_server(big.dists, pep658=False)
        _lock(lockgen, tmp_path, big, server, "pylock.toml")
        _lock(lockgen, tmp_path, big, server, "pylock.again.toml")
        first = (tmp_path / "pylock.toml").read_bytes()
        assert (tmp_path / "pylock.again.toml").read_bytes() == first


class TestPep658Path:
    def test_one_metadata_get_per_package_and_no_wheel_gets(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path, big: BigIndex
    ) -> None:
        server = make_server(big.dists, pep658=True)
        lock = _lock(lockgen, tmp_path, big, server, "pylock.toml")
        records = server.requests
        _assert_pins(lock, big)
        metadata = Counter(r.path for r in records if r.path.endswith(".metadata"))
        expected = {
            f"/files/{p['tool']['lockgen']['metadata-file']}.metadata"
            for p in lock["packages"]
        }
        assert set(metadata) == expected
        assert set(metadata.values()) == {1}
        assert len(metadata) == len(lock["packages"])
        assert _wheel_gets(records) == {}
        report("pep658", wire_stats(records))


def test_prefetch_matches_a_serial_run_and_never_repeats_a_request(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Parallel prefetch changes timing only: same lock, no request made twice."""
    index = build_big_index()
    outputs = {}
    server = make_server(index.dists, pep658=False, delay=0.002)
    (tmp_path / "roots.in").write_text("\n".join(index.roots) + "\n")
    for jobs in ("1", "8"):
        server.clear_log()
        out = f"pylock.j{jobs}.toml"
        result = lockgen(
            "lock",
            "roots.in",
            "-i",
            server.index_url,
            "-o",
            out,
            "-j",
            jobs,
            "--python-version",
            "3.11",
            "--platform",
            "linux_x86_64",
        )
        assert result.exit_code == 0, result.output
        outputs[jobs] = (tmp_path / out).read_text()
        seen = [(r.method, r.path, r.range) for r in server.requests]
        assert len(seen) == len(set(seen)), "a request was made twice"
    assert outputs["1"] == outputs["8"]
