"""``lock_bench.py --public``: lockgen, uv and pip on real requirement sets.

Each set is locked against pip's configured index, as a user would: lockgen without
``-i`` (it follows pip's configuration), uv with ``--index-url`` read from pip's
configuration at run time, pip as configured. Per set it runs lockgen cold, warm (same
cache, new output), offline and no-op; uv cold and warm (its own fresh cache); and
pip ``install --dry-run --report`` cold (fresh ``--cache-dir``). A tool that fails on
a set prints its failure in that set's row; the run goes on.

The cold runs of lockgen and uv are made ``--repeat`` times each (3 by default),
alternated so both tools meet the same network, and each tool's row is its run of
median wall time (the note lists every run). One run's ratio swings by a quarter
either way here (prefect at the same code: 1.79x to 2.44x over seven runs), and the
worst of ten sets' single runs is mostly the luckiest draw of noise.

Requests and bytes are what lockgen's summary line says. The offline and no-op runs
get a proxy on 127.0.0.1 that only counts connections, so "zero requests" there is
measured, not assumed. Peak RSS and CPU time (user and system, every thread) come
from ``os.wait4`` on each subprocess: lockgen's cold CPU next to its wall time shows
how much of the run is Python work under the GIL, uv's how much of its own is.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lock_bench import (
    REPO,
    Goal,
    Target,
    Tools,
    _format,
    _redact,
    lock_pins,
    pip_pins,
    uv_pins,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["SETS", "run_public"]

_MB = 1_000_000

# The sets, beside examples/*.in (added by name at run time).
SETS: dict[str, tuple[str, ...] | Path] = {
    "jupyterlab": ("jupyterlab",),
    "fastapi-standard": ("fastapi[standard]",),
    "transformers-torch": ("transformers[torch]",),
    "prefect": ("prefect",),
    "scrapy": ("scrapy",),
    "mixed-app": ("flask", "sqlalchemy", "pandas", "httpx", "pydantic", "rich", "boto3"),
}  # fmt: skip

_SUMMARY = re.compile(r"\((\d+) requests, ([^)]+)\)")


@dataclass(frozen=True)
class Row:
    """One tool's run on one set; ``wall`` is None when the tool failed."""

    set_name: str
    tool: str
    wall: float | None
    pkgs: int | None = None
    requests: int | None = None
    size: str = ""
    rss_kb: int | None = None
    note: str = ""
    #: User and system CPU seconds of the tool's process (all its threads).
    cpu: float | None = None


def all_sets() -> dict[str, tuple[str, ...] | Path]:
    """examples/*.in by file stem (used in place: they may name files beside them),
    then the issue's sets."""
    sets: dict[str, tuple[str, ...] | Path] = {
        path.stem: path for path in sorted((REPO / "examples").glob("*.in"))
    }
    return {**sets, **SETS}


def public_environment() -> dict[str, str]:
    """The caller's environment with pip's configuration kept; no uv config or
    lockgen cache from outside, so every cache is the one the run names."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("UV_") and k != "LOCKGEN_CACHE_DIR"
    }
    env.update(UV_NO_CONFIG="1", NO_COLOR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def measured(
    command: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> tuple[float, int, str, int, float]:
    """Wall time, exit status, stderr, peak RSS (KiB) and CPU seconds (user and
    system), the last two from ``os.wait4``."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return wall, process.returncode, err.read(), usage.ru_maxrss, cpu


class CountingProxy:
    """A proxy on 127.0.0.1 that accepts, counts and drops every connection: a run
    that reaches for the network through it fails or retries, and is counted."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        names = ("http_proxy", "https_proxy", "all_proxy")
        proxied = {k: v for k, v in env.items() if k.lower() != "no_proxy"}
        return {**proxied, **dict.fromkeys(names, self.url)}

    def close(self) -> None:
        self._socket.close()


def _fail_note(stderr: str, status: int) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else f"exit status {status}"
    return "failed: " + _redact(reason)[:90]


@dataclass
class SetRun:
    """The runs of one set in one working directory: the cold runs of lockgen and
    uv ``repeat`` times each, alternated, then the others once."""

    name: str
    tools: Tools
    index_url: str | None
    env: dict[str, str]
    proxy: CountingProxy
    repeat: int = 1

    def step(
        self,
        tool: str,
        command: list[str],
        output: str,
        read: Callable[[Path], dict[str, str]],
        proxied: bool = False,
    ) -> Row:
        env = self.proxy.environment(self.env) if proxied else self.env
        before = self.proxy.connections
        wall, status, stderr, rss, cpu = measured(command, self.tools.workdir, env)
        path = self.tools.workdir / output
        if status or not path.exists():
            return Row(
                self.name, tool, None, rss_kb=rss, note=_fail_note(stderr, status)
            )
        found = _SUMMARY.findall(stderr)
        requests, size = (int(found[-1][0]), found[-1][1]) if found else (None, "")
        if proxied:
            requests = self.proxy.connections - before
        pkgs = len(read(path))
        return Row(self.name, tool, wall, pkgs, requests, size, rss, cpu=cpu)

    def rows(self) -> list[Row]:
        tools, index = self.tools, self.index_url
        lockgen = tools.lockgen
        uv_index = ["--index-url", index] if index else []
        pip = tools.pip("pip-cache")
        lockgen_cold, uv_cold = [], []
        for i in range(self.repeat):  # alternated: both tools meet the same network
            lockgen_cold.append(
                self.step(
                    "lockgen cold", lockgen(f"lg-cache{i}"), "pylock.toml", lock_pins
                )
            )
            tools.clean("pylock.toml")
            uv = tools.uv(f"uv-cache{i}") + uv_index
            uv_cold.append(self.step("uv cold", uv, "out.txt", uv_pins))
            tools.clean("out.txt")
        last = f"lg-cache{self.repeat - 1}"  # the warm runs reuse the last cold cache
        rows = [_median_row(lockgen_cold)]
        rows.append(self.step("lockgen warm", lockgen(last), "pylock.toml", lock_pins))
        tools.clean("pylock.toml")
        offline = lockgen(last, "--offline")
        rows.append(
            self.step("lockgen offline", offline, "pylock.toml", lock_pins, True)
        )
        rows.append(
            self.step("lockgen no-op", lockgen(last), "pylock.toml", lock_pins, True)
        )
        rows.append(_median_row(uv_cold))
        uv = tools.uv(f"uv-cache{self.repeat - 1}") + uv_index
        rows.append(self.step("uv warm", uv, "out.txt", uv_pins))
        rows.append(self.step("pip cold", pip, "report.json", pip_pins))
        return rows


def _median_row(runs: Sequence[Row]) -> Row:
    """The run of median wall time among ``runs`` (the slower middle one of an even
    count), its note listing every run's wall; a failed run is the row (a failure
    is no pass)."""
    failed = [run for run in runs if run.wall is None]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: run.wall or 0.0)
    middle = ordered[len(ordered) // 2]
    if len(runs) == 1:
        return middle
    walls = " ".join(f"{run.wall:.2f}" for run in runs)
    return replace(middle, note=f"median of {len(runs)}: {walls}")


def lock_set(
    name: str,
    lines: tuple[str, ...] | Path,
    index_url: str | None,
    proxy: CountingProxy,
    repeat: int,
) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="lock-bench-public-") as tmp:
        workdir = Path(tmp)
        requirements = workdir / f"{name}.in"
        if isinstance(lines, Path):
            requirements = lines
        else:
            requirements.write_text("\n".join(lines) + "\n")
        tools = Tools(workdir, None, requirements, Target.running(), quiet=False)
        env = public_environment()
        return SetRun(name, tools, index_url, env, proxy, repeat).rows()


# --- judging -------------------------------------------------------------------------


def _walls(rows: Sequence[Row]) -> dict[tuple[str, str], float | None]:
    return {(row.set_name, row.tool): row.wall for row in rows}


def _ratio(
    walls: Mapping[tuple[str, str], float | None], name: str, kind: str
) -> float | None:
    top, bottom = walls.get((name, f"lockgen {kind}")), walls.get((name, f"uv {kind}"))
    return None if top is None or bottom is None else top / bottom


def ratio_rows(rows: Sequence[Row], names: Sequence[str]) -> list[tuple[object, ...]]:
    walls = _walls(rows)
    table: list[tuple[object, ...]] = []
    for name in names:
        pip, cold = walls.get((name, "pip cold")), walls.get((name, "lockgen cold"))
        table.append(
            (
                name,
                _ratio(walls, name, "cold"),
                _ratio(walls, name, "warm"),
                None if pip is None or cold is None else pip / cold,
            )
        )
    return table


def _worst(values: Sequence[float | None]) -> float | None:
    """The largest value, or None if any run failed (a failure is no pass)."""
    return (
        None
        if not values or None in values
        else max(v for v in values if v is not None)
    )


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def goals(rows: Sequence[Row], names: Sequence[str]) -> list[Goal]:
    walls = _walls(rows)
    cold = [_ratio(walls, n, "cold") for n in names]
    warm = [_ratio(walls, n, "warm") for n in names]
    noop = [r for r in rows if r.tool == "lockgen no-op"]
    requests = [r.requests for r in noop]
    rss = [
        r.rss_kb * 1024 / _MB for r in rows if r.tool.startswith("lockgen") and r.rss_kb
    ]
    offline = walls.get(("web-service", "lockgen offline"))
    return [
        Goal("cold lockgen / uv, median of sets", _median(cold), "x", "<=", 1.5),
        Goal("cold lockgen / uv, worst set", _worst(cold), "x", "<=", 2),
        Goal("warm lockgen / uv, median of sets", _median(warm), "x", "<=", 1.5),
        Goal("offline wall, web-service", offline, " s", "<", 0.3),
        Goal("no-op wall, slowest set", _worst([r.wall for r in noop]), " s", "<", 0.2),
        Goal("no-op requests, all sets", _worst(requests), "", "==", 0),
        Goal("peak RSS, any lockgen run", _worst(rss), " MB", "<", 150),
    ]  # fmt: skip


def goals_table(rows: Sequence[Goal]) -> str:
    columns = (
        ("target", 36, "{}"), ("value", 8, "{}"), ("goal", 9, "{}"), ("", 4, "{}"),
        ("miss by", 10, "{}"),
    )  # fmt: skip
    cells = []
    for goal in rows:
        label, value, limit, verdict, gap = goal.cells()
        cells.append((label, value, limit, verdict.replace("MISS", "FAIL"), gap))
    return _format(columns, cells)


def runs_table(rows: Sequence[Row]) -> str:
    columns = (
        ("set", 18, "{}"), ("tool", 15, "{}"), ("pkgs", 4, "{}"), ("wall s", 6, "{:.2f}"),
        ("CPU s", 5, "{:.2f}"), ("requests", 8, "{}"), ("bytes", 9, "{}"),
        ("RSS MB", 6, "{:.0f}"), ("note", 0, "{}"),
    )  # fmt: skip
    cells = [
        (
            r.set_name, r.tool, r.pkgs, r.wall, r.cpu, r.requests, r.size or None,
            None if r.rss_kb is None else r.rss_kb * 1024 / _MB, r.note or None,
        )
        for r in rows
    ]  # fmt: skip
    return _format(columns, cells)


def _chosen(wanted: str | None) -> dict[str, tuple[str, ...] | Path]:
    sets = all_sets()
    if not wanted:
        return sets
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise SystemExit(
            f"unknown set(s) {', '.join(unknown)}; known: {', '.join(sets)}"
        )
    return {n: sets[n] for n in names}


def run_public(wanted: str | None, repeat: int) -> None:
    """Lock every chosen set with every tool (the cold runs ``repeat`` times), then
    print the runs, ratios and goals."""
    if os.environ.get("CI"):
        raise SystemExit("--public talks to the public index; it does not run in CI")
    from lockgen.app.pipconfig import default_index_url

    sets = _chosen(wanted)
    index_url = default_index_url(public_environment())
    started = time.perf_counter()
    print(
        f"pip's configured index ({_redact(index_url or 'none')}) for every tool; "
        f"{len(sets)} sets; cold runs x{repeat}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
        f"uv {'found' if shutil.which('uv') or (Path(sys.executable).parent / 'uv').exists() else 'missing'}"
    )  # fmt: skip
    proxy = CountingProxy()
    rows: list[Row] = []
    try:
        for name, lines in sets.items():
            rows += lock_set(name, lines, index_url, proxy, repeat)
    finally:
        proxy.close()
    print()
    print(runs_table(rows))
    print()
    columns = (
        ("set", 18, "{}"), ("lockgen/uv cold", 15, "{:.2f}x"),
        ("lockgen/uv warm", 15, "{:.2f}x"), ("pip/lockgen cold", 16, "{:.2f}x"),
    )  # fmt: skip
    print(_format(columns, ratio_rows(rows, list(sets))))
    print()
    print(goals_table(goals(rows, list(sets))))
    print(f"\ntotal bench time {time.perf_counter() - started:.1f} s")
