"""What one ``lockgen lock`` costs on the wire, per metadata path, on the 48-project test index.

Runs the real command in a subprocess (so wall time includes interpreter start-up, as a
user sees it) against tests/support/index_server.py serving tests/support/bigindex.py,
and prints one row per mode. Usage: ``.venv/bin/python bench/lock_metrics.py [--seed N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

__all__ = ["MODES", "Row", "main", "measure"]

#: label -> IndexServer options. "no ranges" is the baseline a lazy-wheel locker avoids.
MODES: dict[str, dict[str, Any]] = {
    "pep658 on": {"pep658": True},
    "pep658 off (range)": {"pep658": False},
    "no ranges (baseline)": {"pep658": False, "ranges": "ignore"},
}
_COLUMNS = (
    ("mode", 21, "{}"),
    ("packages", 8, "{}"),
    ("wheels read", 11, "{}"),
    ("requests", 8, "{}"),
    ("req/wheel", 9, "{:.2f}"),
    ("bytes", 10, "{:,}"),
    ("bytes/wheel", 11, "{:,.0f}"),
    ("wall s", 6, "{:.2f}"),
)


@dataclass(frozen=True)
class Row:
    """One mode's measurement; per-wheel figures count only metadata traffic."""

    mode: str
    packages: int
    wheels_read: int
    requests: int
    requests_per_wheel: float
    bytes: int
    bytes_per_wheel: float
    wall: float

    def cells(self) -> tuple[object, ...]:
        return (
            self.mode, self.packages, self.wheels_read, self.requests,
            self.requests_per_wheel, self.bytes, self.bytes_per_wheel, self.wall,
        )  # fmt: skip


def _run_lock(index_url: str, roots: tuple[str, ...], workdir: Path) -> float:
    """Run ``lockgen lock`` once; return its wall time in seconds."""
    (workdir / "requirements.in").write_text("\n".join(roots) + "\n")
    command = [
        sys.executable, "-m", "lockgen", "lock", "requirements.in", "-q",
        "-i", index_url, "--python-version", "3.11", "--platform", "linux_x86_64",
        "--cache-dir", str(workdir / "cache"),  # cold: a fresh, private cache per run
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=workdir, check=True)
    return time.perf_counter() - started


def measure(mode: str, options: dict[str, Any], seed: int) -> Row:
    """Serve the index with ``options``, lock it, and read the cost from the log."""
    from tests.support.bigindex import build_big_index, wire_stats
    from tests.support.index_server import IndexServer

    index = build_big_index(seed)
    with (
        IndexServer(index.dists, **options) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        wall = _run_lock(server.index_url, index.roots, Path(tmp))
        lock = tomllib.loads((Path(tmp) / "pylock.toml").read_text())
        stats = wire_stats(server.requests)
    return Row(
        mode=mode,
        packages=len(lock["packages"]),
        wheels_read=stats.metadata_files,
        requests=stats.requests,
        requests_per_wheel=stats.requests_per_wheel,
        bytes=stats.bytes,
        bytes_per_wheel=stats.bytes_per_wheel,
        wall=wall,
    )


def _table(rows: list[Row]) -> str:
    header = "  ".join(name.rjust(width) for name, width, _ in _COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = zip(_COLUMNS, row.cells(), strict=True)
        lines.append("  ".join(fmt.format(v).rjust(w) for (_, w, fmt), v in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=751, help="index generator seed")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:  # tests.support lives at the repository root
        sys.path.insert(0, str(REPO))
    rows = [measure(mode, options, args.seed) for mode, options in MODES.items()]
    print(_table(rows))
    print(
        "requests/bytes: all traffic (index pages included); "
        "req/wheel and bytes/wheel: wheel or .metadata GETs only."
    )


if __name__ == "__main__":
    main()
