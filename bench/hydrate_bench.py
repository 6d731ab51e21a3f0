"""How fast ``lockgen hydrate`` fills a wheelhouse compared with ``pip download``.

A slow index is where parallel fetching pays, so a local IndexServer answers every
request after a fixed delay (``--delay``, default 50 ms) while serving 53 generated
wheels of mixed sizes (40 small, 10 medium, 3 large; the same bytes on every run).
``lockgen lock`` locks them, then each tool downloads the locked set into an empty
directory, in a subprocess, so wall time is what a user waits (start-up included).

The server runs in a forked process: the in-process loopback ceiling measured at the
end must not share a GIL with the server that feeds it. That section compares, for
the largest files, one urllib3 stream into /dev/null while hashing (the most a client
can do) with ``run_hydrate`` fetching a lock of only that package (in-process, so
interpreter start-up is not counted; the CLI's time is shown beside it). The same
stream into a file is shown too: hydrate must write the bytes, and on a slow disk
that alone can cost more than the 20% the target allows.

Every lockgen run gets a new, empty ``LOCKGEN_CACHE_DIR`` (so runs are cold and the
user's cache is never touched); pip runs with ``PIP_NO_CACHE_DIR`` and no config.

Usage: ``.venv/bin/python bench/hydrate_bench.py [--delay SECONDS] [--quick]``.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

    from tests.support.wheels import Dist

REPO = Path(__file__).resolve().parents[1]

__all__ = ["FULL", "QUICK", "Locked", "Row", "Size", "main"]

_MB = 1_000_000
_REPS = 3  # best of, for the short single-file timings
_TARGET = 1.2  # hydrate of one large file, over the loopback ceiling
_SEED = 751


@dataclass(frozen=True)
class Size:
    """``count`` wheels, their padding drawn uniformly from ``low``..``high`` bytes."""

    label: str
    count: int
    low: int
    high: int


FULL = (
    Size("small", 40, 10_000, 200_000),
    Size("medium", 10, 1_000_000, 5_000_000),
    Size("large", 3, 30_000_000, 60_000_000),
)
QUICK = (
    Size("small", 12, 10_000, 200_000),
    Size("medium", 3, 1_000_000, 2_000_000),
    Size("large", 1, 15_000_000, 20_000_000),
)


@dataclass(frozen=True)
class Locked:
    """One package of the lock, with the wheel it pins."""

    name: str
    version: str
    filename: str
    url: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Row:
    """One tool's cold download of the whole locked set (``wall`` None: skipped)."""

    tool: str
    files: int = 0
    nbytes: int = 0
    wall: float | None = None
    note: str = ""


# --- the corpus and its server -------------------------------------------------------


def build_dists(sizes: tuple[Size, ...]) -> list[Dist]:
    """Deterministic wheels: names and paddings come from a fixed seed."""
    from tests.support.wheels import make_wheel

    rng = random.Random(_SEED)
    return [
        make_wheel(
            f"{size.label}-{index:02d}", "1.0", padding=rng.randint(size.low, size.high)
        )
        for size in sizes
        for index in range(size.count)
    ]


def _prehashed(dists: list[Dist]) -> list[Dist]:
    """The same dists with sha256 computed once, so a listing costs no hashing.

    ``Dist.sha256`` hashes the whole file on every call, which would add up to a
    second to pip's run (it reads every project page) and none to hydrate's.
    """
    from tests.support.wheels import Dist

    @dataclass(frozen=True)
    class Prehashed(Dist):
        digest: str = ""

        @property
        def sha256(self) -> str:
            return self.digest

    return [
        Prehashed(**{f.name: getattr(d, f.name) for f in fields(d)}, digest=d.sha256)
        for d in dists
    ]


def _serve(dists: list[Dist], delay: float, conn: Connection) -> None:
    from tests.support.index_server import IndexServer

    with IndexServer(dists, delay=delay) as server:
        conn.send(server.url)
        conn.recv()  # until the parent says stop (or goes away)


@contextmanager
def serving(dists: list[Dist], delay: float) -> Iterator[str]:
    """An IndexServer in a forked child process; yields its base URL."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(dists, delay, child), daemon=True)
    process.start()
    child.close()  # so a child that dies is an EOFError here, not a hang
    try:
        yield parent.recv()
    finally:
        with suppress(OSError):
            parent.send("stop")
        process.join(5)
        if process.is_alive():
            process.terminate()


# --- the runs ------------------------------------------------------------------------


def _empty_cache(workdir: Path) -> Path:
    """A new, empty lockgen cache: every run is cold, and the user's cache untouched."""
    return Path(tempfile.mkdtemp(prefix="cache-", dir=workdir))


def _environment(cache: Path) -> dict[str, str]:
    """No pip configuration, cache or version check; no index from the caller's env."""
    env = dict(os.environ)
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        env.pop(name, None)
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        LOCKGEN_CACHE_DIR=str(cache),
    )
    return env


def _run(
    command: list[str], cwd: Path
) -> tuple[float, subprocess.CompletedProcess[str]]:
    cache = _empty_cache(cwd)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env=_environment(cache),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    shutil.rmtree(cache)
    return wall, done


def lock(index_url: str, names: list[str], workdir: Path) -> tuple[float, list[Locked]]:
    """Run ``lockgen lock``; its wall time and the packages it pinned."""
    (workdir / "requirements.in").write_text("\n".join(names) + "\n")
    command = [
        sys.executable, "-m", "lockgen", "lock", "requirements.in",
        "-q", "-i", index_url,
    ]  # fmt: skip
    wall, done = _run(command, workdir)
    if done.returncode:
        raise SystemExit(f"lockgen lock failed:\n{done.stderr}")
    document = tomllib.loads((workdir / "pylock.toml").read_text())
    locked = []
    for package in document["packages"]:
        [wheel] = package["wheels"]
        filename = wheel.get("name") or wheel["url"].rsplit("/", 1)[-1]
        locked.append(
            Locked(
                name=package["name"],
                version=package["version"],
                filename=filename,
                url=wheel["url"],
                size=wheel["size"],
                sha256=wheel["hashes"]["sha256"],
            )
        )
    return wall, locked


def _wheelhouse(dest: Path, expected: set[str]) -> tuple[int, int, str]:
    """Files and bytes in ``dest``, and a note if they are not the locked set."""
    files = [p for p in dest.iterdir() if p.is_file()] if dest.is_dir() else []
    names = {p.name for p in files}
    note = (
        ""
        if names == expected
        else f"got {len(names & expected)}/{len(expected)} locked files"
    )
    return len(files), sum(p.stat().st_size for p in files), note


def _row(
    tool: str, command: list[str], workdir: Path, dest: Path, expected: set[str]
) -> Row:
    wall, done = _run(command, workdir)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        return Row(tool, note=f"skipped: {reason[:90]}")
    files, nbytes, note = _wheelhouse(dest, expected)
    shutil.rmtree(dest)  # unwritten pages of a deleted file never reach the disk
    return Row(tool, files, nbytes, wall, note)


def compare(index_url: str, locked: list[Locked], workdir: Path) -> list[Row]:
    """Each tool, cold, into its own empty directory."""
    expected = {p.filename for p in locked}
    (workdir / "reqs.txt").write_text(
        "".join(f"{p.name}=={p.version}\n" for p in locked)
    )
    hydrate = [sys.executable, "-m", "lockgen", "hydrate", "pylock.toml", "-q", "-d"]
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d"]
    runs = [
        ("lockgen hydrate -j 8", [*hydrate, "h8", "-j", "8"], "h8"),
        ("lockgen hydrate -j 16", [*hydrate, "h16", "-j", "16"], "h16"),
        (
            "pip download -r reqs.txt",
            [*pip, "p1", "-r", "reqs.txt", "--index-url", index_url],
            "p1",
        ),
        ("pip download -r pylock.toml", [*pip, "p2", "-r", "pylock.toml"], "p2"),
    ]
    return [
        _row(tool, command, workdir, workdir / dest, expected)
        for tool, command, dest in runs
    ]


# --- large files: the loopback ceiling -----------------------------------------------


class _Silent:
    """A HydrateProgress that reports nothing."""

    def start(self, files: int, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self, filename: str, status: str) -> None:
        pass


def stream_once(package: Locked, sink: Path | None = None) -> float:
    """Time to GET the file with urllib3 while hashing it (1 MiB reads).

    Into /dev/null by default: the most any client can do. With ``sink``, into a new
    file there: the most a client that keeps the file (as hydrate must) can do.
    """
    import urllib3

    target = Path(os.devnull) if sink is None else sink / package.filename
    started = time.perf_counter()
    pool = urllib3.PoolManager()
    response = pool.request(
        "GET", package.url, preload_content=False, decode_content=False
    )
    sha = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in response.stream(1 << 20):
            sha.update(chunk)
            out.write(chunk)
    response.release_conn()
    wall = time.perf_counter() - started
    assert sha.hexdigest() == package.sha256, package.filename
    pool.clear()
    if sink is not None:
        target.unlink()
    return wall


def _single_lock(lock_path: Path, package: Locked, workdir: Path) -> Path:
    """A copy of the lock with only ``package`` in it."""
    import tomli_w

    document = tomllib.loads(lock_path.read_text())
    document["packages"] = [
        p for p in document["packages"] if p["name"] == package.name
    ]
    path = workdir / "pylock.toml"
    path.write_text(tomli_w.dumps(document))
    return path


def hydrate_once(lock_path: Path, workdir: Path) -> float:
    """In-process ``run_hydrate`` of a one-package lock, cold (new dir and cache)."""
    from lockgen.app.hydrate import HydrateOptions, run_hydrate
    from lockgen.app.services import Services
    from lockgen.store.cache import Cache

    dest, cache = workdir / "in-process", _empty_cache(workdir)
    options = HydrateOptions(lock_path=lock_path, dest=dest)
    started = time.perf_counter()
    report = run_hydrate(options, _Silent(), Services(cache=Cache(cache)))
    wall = time.perf_counter() - started
    assert not report.failures and report.count("fetched") == 1, report.to_json()
    shutil.rmtree(dest)
    shutil.rmtree(cache)
    return wall


def large_files(
    lock_path: Path, locked: list[Locked], workdir: Path, count: int
) -> list[tuple[Any, ...]]:
    """For the ``count`` largest files: size, both ceilings, hydrate, CLI, ratios.

    The three in-process timings alternate, best of ``_REPS`` each, so the disk's
    write-back state weighs on them alike.
    """
    rows = []
    for package in sorted(locked, key=lambda p: p.size, reverse=True)[:count]:
        here = workdir / package.name
        here.mkdir()
        one = _single_lock(lock_path, package, here)
        times: list[tuple[float, float, float]] = [
            (stream_once(package), stream_once(package, here), hydrate_once(one, here))
            for _ in range(_REPS)
        ]
        to_null, to_file, ours = (min(column) for column in zip(*times, strict=True))
        command = [sys.executable, "-m", "lockgen", "hydrate", "-q", "-d", "cli"]
        cli, done = _run(command, here)
        shutil.rmtree(here)
        mb = package.size / _MB
        rows.append(
            (
                package.filename,
                mb,
                to_null,
                mb / to_null,
                to_file,
                ours,
                mb / ours,
                None if done.returncode else cli,
                ours / to_null,
                ours / to_file,
            )
        )
    return rows


# --- output --------------------------------------------------------------------------


def _format(
    columns: tuple[tuple[str, int, str], ...], rows: list[tuple[Any, ...]]
) -> str:
    """Right-aligned columns, except the first (names) which is cut and left-aligned."""
    (first, first_width, _), *rest = columns
    header = "  ".join(
        [first.ljust(first_width), *(name.rjust(width) for name, width, _ in rest)]
    )
    lines = [header, "-" * len(header)]
    for name, *values in rows:
        cells = (
            ("-" if value is None else fmt.format(value)).rjust(width)
            for (_, width, fmt), value in zip(rest, values, strict=True)
        )
        lines.append("  ".join([str(name)[:first_width].ljust(first_width), *cells]))
    return "\n".join(lines)


def comparison_table(rows: list[Row]) -> str:
    """tool, files, bytes, wall s, MB/s, speed-up vs pip (pip -r reqs.txt = 1.00x)."""
    baseline = next(
        (r.wall for r in rows if r.tool.startswith("pip download -r reqs")), None
    )
    columns = (
        ("tool", 28, "{}"),
        ("files", 5, "{}"),
        ("bytes", 12, "{:,}"),
        ("wall s", 7, "{:.2f}"),
        ("MB/s", 7, "{:.1f}"),
        ("vs pip", 7, "{:.2f}x"),
    )
    cells = []
    for row in rows:
        rate = None if row.wall is None else row.nbytes / _MB / row.wall
        speedup = None if row.wall is None or baseline is None else baseline / row.wall
        cells.append((row.tool, row.files, row.nbytes, row.wall, rate, speedup))
    notes = [f"  {r.tool}: {r.note}" for r in rows if r.note]
    return "\n".join([_format(columns, cells), *notes])


def large_table(rows: list[tuple[Any, ...]]) -> str:
    """One row per large file; the target is judged against the /dev/null ceiling."""
    columns = (
        ("file", 29, "{}"),
        ("MB", 5, "{:.1f}"),
        ("null s", 6, "{:.3f}"),
        ("MB/s", 5, "{:.0f}"),
        ("file s", 6, "{:.3f}"),
        ("hydrate s", 9, "{:.3f}"),
        ("MB/s", 5, "{:.0f}"),
        ("CLI s", 5, "{:.2f}"),
        ("ratio", 5, "{:.2f}"),
        ("/file", 5, "{:.2f}"),
    )
    worst = max(r[-2] for r in rows)
    verdict = "met" if worst <= _TARGET else "NOT met"
    summary = (
        f"target: hydrate s / null s <= {_TARGET:.2f}: {verdict} (worst {worst:.2f}; "
        f"vs the to-file ceiling {max(r[-1] for r in rows):.2f})"
    )
    return f"{_format(columns, rows)}\n{summary}"


_LEGEND = (
    "  null s / file s: urllib3 GET + sha256 into /dev/null / into a new file;\n"
    "  hydrate s: run_hydrate of a one-package lock, in-process; CLI s: the same as\n"
    "  `lockgen hydrate` in a subprocess (start-up included); ratio = hydrate/null,\n"
    "  /file = hydrate/file"
)


# --- main ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--delay",
        type=float,
        default=0.05,
        metavar="SECONDS",
        help="server delay per request (default 0.05)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer, smaller files")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:  # tests.support lives at the repository root
        sys.path.insert(0, str(REPO))
    os.environ.pop("LOCKGEN_CACHE_DIR", None)  # set per run, to an empty directory
    started = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    dists = _prehashed(build_dists(sizes))
    names = [d.project for d in dists]
    total = sum(d.size for d in dists)
    print(
        f"{len(dists)} wheels, {total / _MB:.1f} MB "
        f"({', '.join(f'{s.count} {s.label}' for s in sizes)}); "
        f"server delay {args.delay * 1000:.0f} ms/request; {os.cpu_count()} CPUs"
    )
    with (
        tempfile.TemporaryDirectory(prefix="hydrate-bench-") as tmp,
        serving(dists, args.delay) as url,
    ):
        workdir = Path(tmp)
        lock_wall, locked = lock(f"{url}/simple/", names, workdir)
        print(f"lockgen lock: {len(locked)} packages in {lock_wall:.2f}s\n")
        print(comparison_table(compare(f"{url}/simple/", locked, workdir)))
        print(f"\nlargest files, one stream each, best of {_REPS}:\n{_LEGEND}")
        rows = large_files(workdir / "pylock.toml", locked, workdir, sizes[-1].count)
        print(large_table(rows))
    print(f"\ntotal bench time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
