"""Whether ``lockgen lock`` keeps up with uv and outruns pip on a realistic index.

A local IndexServer on 127.0.0.1 answers every request after ``--delay`` seconds (the
round trip to a real index) while serving tests/support/realindex.py: 105 projects of
3-6 releases, a graph 7 edges deep, READMEs in METADATA, wheels from 20 KB to 40 MB,
platform wheels, sdists, PEP 658 files advertised as the public index does (or not,
with ``--no-pep658``). Locking its 4 roots pins 90 packages. Each tool runs in a
subprocess, so wall time is what a user waits (start-up included); requests and bytes
come from the server's log, cleared before each run. One run compares:

  lockgen cold (new cache, no lock), lockgen warm (same cache, lock deleted),
  lockgen no-op (lock up to date), lockgen cold -j 1 (no prefetch),
  pip install --dry-run --report (new cache), uv pip compile cold and warm,

then judges the project's targets. ``--public`` instead locks real requirement sets
with all three tools against pip's configured index (bench/public_bench.py; never in
CI).

Usage: ``.venv/bin/python bench/lock_bench.py [--delay S] [--quick] [--no-pep658]``
(or ``--public [--sets NAME,...]``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from tests.support.index_server import IndexServer, RequestRecord
    from tests.support.realindex import RealIndex

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIME = Path("/usr/bin/time")

__all__ = ["Run", "main"]

_MB = 1_000_000
_VERSION_RUNS = 5


@dataclass(frozen=True)
class Run:
    """One tool's run: wall time, what it cost on the wire, and what it pinned."""

    tool: str
    wall: float
    records: tuple[RequestRecord, ...] = ()
    pins: dict[str, str] | None = None
    rss_kb: int | None = None
    note: str = ""

    @property
    def requests(self) -> int:
        return len(self.records)

    @property
    def bytes(self) -> int:
        return sum(r.bytes_sent for r in self.records)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.records if _kind(r) == kind)

    def kind_bytes(self, *kinds: str) -> int:
        return sum(r.bytes_sent for r in self.records if _kind(r) in kinds)


def _kind(record: RequestRecord) -> str:
    """page, 304 (a revalidated page), meta (a PEP 658 file), wheel, or other."""
    path = record.path.split("?", 1)[0]
    if path.startswith("/simple"):
        return "304" if record.status == 304 else "page"
    if path.endswith(".whl.metadata"):
        return "meta"
    return "wheel" if path.endswith(".whl") else "other"


# --- running a command ---------------------------------------------------------------


def environment() -> dict[str, str]:
    """No pip or uv configuration, no index or cache from the caller's environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("UV_") and k != "LOCKGEN_CACHE_DIR"
    }
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        env.pop(name, None)
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_NO_CONFIG="1",
        NO_COLOR="1",
    )
    return env


def _redact(text: str) -> str:
    """Keep host names out of anything printed (the public index's above all)."""
    return re.sub(r"[a-z][a-z0-9+.-]*://[^\s/'\"]+", "<index>", text)


def timed(
    command: Sequence[str], cwd: Path
) -> tuple[float, subprocess.CompletedProcess[str], int | None]:
    """Run ``command``: wall time, result, and peak RSS in KiB (/usr/bin/time's %M)."""
    rss_file = cwd / ".rss"
    wrapper = [str(TIME), "-f", "%M", "-o", str(rss_file)] if TIME.exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [*wrapper, *command],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if not wrapper:
        return wall, done, _children_peak_rise(before)
    lines = rss_file.read_text().split() if rss_file.exists() else []
    rss_file.unlink(missing_ok=True)
    return wall, done, int(lines[-1]) if lines and lines[-1].isdigit() else None


def _children_peak_rise(before: int) -> int | None:
    """Without /usr/bin/time: the children's peak RSS (KiB), if this child raised it.

    ``RUSAGE_CHILDREN`` keeps the largest peak of any child so far, so a child that
    stayed below an earlier one cannot be measured (None).
    """
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return after if after > before else None


def _failure(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
    return "failed: " + _redact(reason)[:100]


# --- reading what each tool pinned ---------------------------------------------------


def lock_pins(path: Path) -> dict[str, str]:
    document = tomllib.loads(path.read_text())
    return {p["name"]: p["version"] for p in document["packages"]}


def pip_pins(path: Path) -> dict[str, str]:
    report = json.loads(path.read_text())
    return {
        _normalize(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }


def uv_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        name, sep, version = requirement.partition("==")
        if sep:
            pins[_normalize(name.split("[", 1)[0])] = version.strip()
    return pins


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_wheel_bytes(lock_path: Path) -> int:
    """Sum of the sizes of the one wheel per package an installer here would take."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    priority = {tag: rank for rank, tag in enumerate(sys_tags())}
    total = 0
    for package in tomllib.loads(lock_path.read_text())["packages"]:
        ranked = []
        for wheel in package.get("wheels", []):
            filename = wheel.get("name") or wheel["url"].rsplit("/", 1)[-1]
            tags = parse_wheel_filename(filename)[3]
            ranks = [priority[t] for t in tags if t in priority]
            if ranks:
                ranked.append((min(ranks), wheel["size"]))
        total += min(ranked)[1] if ranked else 0
    return total


# --- the tools -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The same environment for every tool: lockgen's default, the running one."""

    lockgen: tuple[str, ...]
    uv: tuple[str, ...]

    @classmethod
    def running(cls) -> Target:
        """Python X.Y on manylinux_2_28 x86_64 when that is where we run, else the
        running interpreter for both (uv is told which one)."""
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        if sys.platform == "linux" and platform.machine() == "x86_64":
            return cls(
                ("--python-version", version, "--platform", "linux_x86_64"),
                ("--python-version", version, "--python-platform", "x86_64-manylinux_2_28"),
            )  # fmt: skip
        return cls((), ("--python", sys.executable))


def _compile_lockgen() -> None:
    """Write lockgen's bytecode, as installing a wheel does: an editable checkout run
    with ``PYTHONDONTWRITEBYTECODE`` (as on CI machines) would otherwise compile
    every module on every run, a start-up cost no installed lockgen pays."""
    import lockgen

    compileall.compile_dir(Path(lockgen.__file__).parent, quiet=1)


def _lockgen() -> list[str]:
    script = BIN / "lockgen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lockgen"]


def _uv() -> list[str]:
    script = BIN / "uv"
    return [str(script) if script.exists() else shutil.which("uv") or "uv"]


@dataclass
class Tools:
    """The commands of one comparison, all in ``workdir`` and against one index."""

    workdir: Path
    index_url: str | None  # None: each tool's default index
    requirements: Path
    target: Target
    quiet: bool = True

    def lockgen(self, cache: str, *extra: str) -> list[str]:
        index = ["-i", self.index_url] if self.index_url else []
        return [
            *_lockgen(), "lock", str(self.requirements), *index, *self.target.lockgen,
            "--cache-dir", cache, "-o", "pylock.toml", *(["-q"] if self.quiet else []),
            *extra,
        ]  # fmt: skip

    def pip(self, cache: str) -> list[str]:
        index = ["--index-url", self.index_url] if self.index_url else []
        return [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--report", "report.json", *index, "-r", str(self.requirements),
            "--cache-dir", cache, "-q",
        ]  # fmt: skip

    def uv(self, cache: str) -> list[str]:
        index = ["--index-url", self.index_url] if self.index_url else []
        return [
            *_uv(), "pip", "compile", str(self.requirements), *index,
            "--cache-dir", cache, "-o", "out.txt", *self.target.uv,
            "--no-header", "--no-annotate", "-q",
        ]  # fmt: skip

    def clean(self, *names: str) -> None:
        for name in names:
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


# --- the local comparison ------------------------------------------------------------


@dataclass
class Session:
    """Runs tools one after another, each with the server's log cleared first."""

    tools: Tools
    server: IndexServer
    runs: list[Run]

    def run(
        self,
        tool: str,
        command: list[str],
        read: Callable[[Path], dict[str, str]] | None,
        output: str,
    ) -> Run:
        self.server.clear_log()
        wall, done, rss = timed(command, self.tools.workdir)
        records = tuple(self.server.requests)
        path = self.tools.workdir / output
        if done.returncode:
            run = Run(tool, wall, records, None, rss, _failure(done))
        else:
            pins = read(path) if read and path.exists() else None
            run = Run(tool, wall, records, pins, rss)
        self.runs.append(run)
        return run


def local_runs(session: Session) -> None:
    """The seven runs, in an order where each cache is as its label says."""
    tools = session.tools
    tools.clean("pylock.toml")
    session.run("lockgen cold", tools.lockgen("lg-cache"), lock_pins, "pylock.toml")
    tools.clean("pylock.toml")
    session.run("lockgen warm", tools.lockgen("lg-cache"), lock_pins, "pylock.toml")
    session.run("lockgen no-op", tools.lockgen("lg-cache"), lock_pins, "pylock.toml")
    shutil.copy(tools.workdir / "pylock.toml", tools.workdir / "cold.pylock.toml")
    tools.clean("pylock.toml")
    command = tools.lockgen("lg-cache-j1", "-j", "1")
    session.run("lockgen cold -j 1", command, lock_pins, "pylock.toml")
    session.run("pip cold", tools.pip("pip-cache"), pip_pins, "report.json")
    session.run("uv cold", tools.uv("uv-cache"), uv_pins, "out.txt")
    tools.clean("out.txt")
    session.run("uv warm", tools.uv("uv-cache"), uv_pins, "out.txt")


def version_wall() -> float:
    """Median wall time of ``lockgen --version`` over a few runs."""
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(_VERSION_RUNS):
            wall, done, _ = timed([*_lockgen(), "--version"], Path(tmp))
            if done.returncode:
                raise SystemExit(f"lockgen --version {_failure(done)}")
            walls.append(wall)
    return statistics.median(walls)


# --- output --------------------------------------------------------------------------


def _format(
    columns: Sequence[tuple[str, int, str]], rows: Iterable[Sequence[Any]]
) -> str:
    """Right-aligned columns but the first; None prints as '-'."""
    (first, first_width, _), *rest = columns
    header = "  ".join([first.ljust(first_width), *(n.rjust(w) for n, w, _ in rest)])
    lines = [header, "-" * len(header)]
    for name, *values in rows:
        cells = [
            ("-" if v is None else fmt.format(v)).rjust(width)
            for (_, width, fmt), v in zip(rest, values, strict=True)
        ]
        lines.append("  ".join([str(name).ljust(first_width), *cells]))
    return "\n".join(lines)


def _pins_cell(run: Run, expected: dict[str, str]) -> str:
    if run.pins is None:
        return "-"
    wrong = {
        n
        for n in expected.keys() | run.pins.keys()
        if run.pins.get(n) != expected.get(n)
    }
    return "ok" if not wrong else f"{len(wrong)} off"


def runs_table(runs: Sequence[Run], expected: dict[str, str], delay: float) -> str:
    """One row per run; "in flight" is requests x delay / wall, the mean number of
    requests the tool kept waiting on (1 = strictly one after another)."""
    columns = (
        ("tool", 17, "{}"), ("pkgs", 4, "{}"), ("pins", 6, "{}"), ("wall s", 6, "{:.2f}"),
        ("requests", 8, "{}"), ("pages", 5, "{}"), ("304", 4, "{}"), ("meta", 4, "{}"),
        ("wheel", 5, "{}"), ("bytes", 12, "{:,}"), ("in flight", 9, "{:.1f}"),
        ("RSS MB", 6, "{:.0f}"),
    )  # fmt: skip
    rows = [
        (
            run.tool, None if run.pins is None else len(run.pins),
            _pins_cell(run, expected), run.wall, run.requests, run.count("page"),
            run.count("304"), run.count("meta"), run.count("wheel"), run.bytes,
            run.requests * delay / run.wall if delay else None,
            None if run.rss_kb is None else run.rss_kb * 1024 / _MB,
        )
        for run in runs
    ]  # fmt: skip
    notes = [f"  {run.tool}: {run.note}" for run in runs if run.note]
    return "\n".join([_format(columns, rows), *notes])


@dataclass(frozen=True)
class Goal:
    """One target: the measured value against a limit (``op``: <=, <, >=, ==)."""

    label: str
    value: float | None
    unit: str  # "x", " s", "%", " MB" or "" (a count)
    op: str
    limit: float

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        checks: dict[str, Callable[[float, float], bool]] = {
            "<=": lambda v, lim: v <= lim,
            "<": lambda v, lim: v < lim,
            ">=": lambda v, lim: v >= lim,
            "==": lambda v, lim: v == lim,
        }
        return checks[self.op](self.value, self.limit)

    def show(self, value: float) -> str:
        digits = {"x": 2, " s": 3, "%": 2, " MB": 0, "": 0}[self.unit]
        return f"{value:.{digits}f}{self.unit}"

    def cells(self) -> tuple[str, str, str, str, str]:
        """label, value, goal, verdict, and how far off a miss is."""
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[self.met]
        shown = "-" if self.value is None else self.show(self.value)
        goal = ("" if self.op == "==" else self.op + " ") + self.show(self.limit)
        return self.label, shown, goal, verdict, self._gap()

    def _gap(self) -> str:
        if self.met is not False or self.value is None:
            return ""
        if self.op == "==":
            return f"{self.value - self.limit:+g}"
        if self.op == ">=":
            return f"{self.limit / self.value:.2f}x short"
        if not self.limit:
            return ""
        return f"{self.value / self.limit:.2f}x over"


def _ratio(label: str, top: Run, bottom: Run, op: str, limit: float) -> Goal:
    value = None if top.note or bottom.note else top.wall / bottom.wall
    return Goal(label, value, "x", op, limit)


def goals(runs: dict[str, Run], version: float, wheel_bytes: int) -> list[Goal]:
    cold, warm, noop = runs["lockgen cold"], runs["lockgen warm"], runs["lockgen no-op"]
    metadata = cold.kind_bytes("meta", "wheel")
    share = 100 * metadata / wheel_bytes if wheel_bytes else None
    rss = None if cold.rss_kb is None else cold.rss_kb * 1024 / _MB
    return [
        _ratio("cold lockgen / uv cold", cold, runs["uv cold"], "<=", 1.5),
        _ratio("pip cold / lockgen cold", runs["pip cold"], cold, ">=", 5),
        _ratio("warm lockgen / uv warm", warm, runs["uv warm"], "<=", 2),
        Goal("no-op requests", noop.requests, "", "==", 0),
        Goal("no-op wall", noop.wall, " s", "<", 0.3),
        Goal("lockgen --version wall (median of 5)", version, " s", "<", 0.15),
        Goal("metadata bytes / locked wheel bytes", share, "%", "<=", 3),
        Goal("peak RSS, lockgen cold", rss, " MB", "<", 150),
    ]


def goals_table(rows: Sequence[Goal]) -> str:
    columns = (
        ("target", 37, "{}"),
        ("value", 8, "{}"),
        ("goal", 9, "{}"),
        ("", 4, "{}"),
        ("miss by", 12, "{}"),
    )
    return _format(columns, [goal.cells() for goal in rows])


def info_lines(runs: dict[str, Run], wheel_bytes: int) -> list[str]:
    """Figures without a target that explain the ones with."""
    cold, serial = runs["lockgen cold"], runs["lockgen cold -j 1"]
    lines = [f"locked wheels for this target: {wheel_bytes:,} bytes"]
    if not (cold.note or serial.note):
        lines.append(
            f"prefetch: cold -j 1 / cold (default -j) = {serial.wall / cold.wall:.2f}x "
            f"({serial.wall:.2f} s / {cold.wall:.2f} s)"
        )
    lines.append(
        f"lockgen cold metadata traffic: {cold.count('meta')} .metadata + "
        f"{cold.count('wheel')} wheel GETs = {cold.kind_bytes('meta', 'wheel'):,} bytes"
    )
    return lines


# --- main: local ---------------------------------------------------------------------


def _serve(index: RealIndex, delay: float, pep658: bool) -> IndexServer:
    from tests.support.index_server import IndexServer

    return IndexServer(index.dists, delay=delay, pep658=pep658)


def run_local(args: argparse.Namespace) -> None:
    from tests.support.realindex import FULL, QUICK, build_real_index

    started = time.perf_counter()
    index = build_real_index(QUICK if args.quick else FULL)
    print(
        f"index: {len(index.projects)} projects, {len(index.dists)} files, "
        f"{sum(d.size for d in index.dists) / _MB:.0f} MB (generated in "
        f"{time.perf_counter() - started:.1f} s); roots: {' '.join(index.roots)}; "
        f"{len(index.expected_pins)} pins expected"
    )
    print(
        f"server: 127.0.0.1, {args.delay * 1000:.0f} ms per request, PEP 658 "
        f"{'off' if args.no_pep658 else 'on'}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}"
    )
    version = version_wall()
    with (
        tempfile.TemporaryDirectory(prefix="lock-bench-") as tmp,
        _serve(index, args.delay, not args.no_pep658) as server,
    ):
        workdir = Path(tmp)
        requirements = workdir / "roots.txt"
        requirements.write_text("\n".join(index.roots) + "\n")
        tools = Tools(workdir, server.index_url, requirements, Target.running())
        session = Session(tools, server, [])
        local_runs(session)
        wheel_bytes = locked_wheel_bytes(workdir / "cold.pylock.toml")
    runs = {run.tool: run for run in session.runs}
    print()
    print(runs_table(session.runs, index.expected_pins, args.delay))
    print()
    print(goals_table(goals(runs, version, wheel_bytes)))
    print()
    print("\n".join(info_lines(runs, wheel_bytes)))
    print(f"\ntotal bench time {time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--delay",
        type=float,
        default=0.03,
        metavar="SECONDS",
        help="server delay per request (default 0.03)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 34-project index, for a smoke run"
    )
    parser.add_argument(
        "--no-pep658",
        action="store_true",
        help="serve no PEP 658 metadata files (wheels are read by range)",
    )
    parser.add_argument(
        "--public",
        action="store_true",
        help="lock real sets with lockgen, uv and pip against pip's configured "
        "index instead (not in CI; see bench/public_bench.py)",
    )
    parser.add_argument(
        "--sets",
        metavar="NAME,...",
        help="with --public: only these sets (default: all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="with --public: run lockgen cold and uv cold N times each, alternated, "
        "and compare their medians (default 3)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    _compile_lockgen()
    if str(REPO) not in sys.path:  # tests.support lives at the repository root
        sys.path.insert(0, str(REPO))
    if args.public:
        from public_bench import run_public

        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        run_public(args.sets, args.repeat)
    else:
        run_local(args)


if __name__ == "__main__":
    main()
