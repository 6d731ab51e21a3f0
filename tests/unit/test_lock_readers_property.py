"""Any TOML, any shape: the lock readers answer with lockgen's own errors or none.

A lock is untrusted input (it arrives in pull requests), and an existing lock is read
by ``lock`` (no-op check, ``--check``, preferences, known hashes) and by ``hydrate``.
Wrong-typed tables (``[tool.lockgen] inputs = 3``, ``packages = "x"``, a package that
is a string) and text that is not TOML must end as a one-line ``LockgenError`` or as
"not a lockgen lock", never as a traceback. The strategies mutate a realistic lock and
one lockgen wrote (a value replaced, a key deleted or added) at a random place, so the
readers are driven past their first type check; the lock file's bytes themselves are
also mutated and handed to the CLI.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockgen.app.hydrate import HydrateOptions, _plan
from lockgen.core.environment import make_target
from lockgen.core.errors import LockFileError, LockgenError
from lockgen.core.models import CoreMetadata, DistFile, MetadataSource
from lockgen.lockfile.read import read_lock
from lockgen.lockfile.relock import (
    first_difference,
    known_hashes,
    pinned_versions,
    seal,
    stale_reason,
)
from lockgen.lockfile.write import lock_tables, render
from lockgen.resolver.resolve import Pin
from tests.support.mutations import mutated

if TYPE_CHECKING:
    from collections.abc import Callable

    from click.testing import Result

_SHA = "a" * 64
_DIGEST = "sha256:" + "b" * 64

#: The shape lockgen writes, to be broken one place at a time.
_BASE: dict[str, Any] = {
    "lock-version": "1.0",
    "environments": ["python_version == '3.11'"],
    "requires-python": "==3.11.*",
    "extras": [],
    "dependency-groups": [],
    "default-groups": [],
    "created-by": "lockgen",
    "packages": [
        {
            "name": "app",
            "version": "1.0",
            "dependencies": [{"name": "lib"}],
            "index": "http://127.0.0.1:1/simple/",
            "wheels": [
                {
                    "url": "http://127.0.0.1:1/files/app-1.0-py3-none-any.whl",
                    "upload-time": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                    "size": 10,
                    "hashes": {"sha256": _SHA},
                }
            ],
            "tool": {
                "lockgen": {
                    "metadata-file": "app-1.0-py3-none-any.whl",
                    "metadata-sha256": _SHA,
                    "requires-dist": ["lib"],
                }
            },
        },
        {
            "name": "lib",
            "version": "2.0",
            "sdist": {
                "url": "http://127.0.0.1:1/files/lib-2.0.tar.gz",
                "hashes": {"sha256": _SHA},
            },
            "wheels": [
                {"path": "wheels/lib-2.0-py3-none-any.whl", "hashes": {"sha256": _SHA}}
            ],
        },
    ],
    "tool": {"lockgen": {"inputs": _DIGEST, "body": _DIGEST}},
}

_KEYS = st.sampled_from(
    [
        "name",
        "version",
        "url",
        "path",
        "hashes",
        "sha256",
        "size",
        "wheels",
        "sdist",
        "packages",
        "tool",
        "lockgen",
        "inputs",
        "body",
        "index",
        "dependencies",
        "marker",
        "requires-python",
        "environments",
        "upload-time",
    ]
) | st.text(max_size=8)
_SCALARS = (
    st.text(max_size=12)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.datetimes(timezones=st.just(datetime.UTC))
    | st.dates()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3)
    ),
    max_leaves=8,
)


#: Strings a hostile lock would try where a string belongs.
_HOSTILE = st.sampled_from(
    [
        "",
        "../../etc/passwd",
        "/etc/passwd",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[::1",
        "http://example.invalid/a/../../x.whl",
        "lib-2.0-py3-none-any.whl",
        "x-1.0.tar.gz",
        "sha256:" + "0" * 64,
        "python_version < '3'",
        ">=3.11",
        "\x1b[31m",
        "\x00",
        "wheels/\x00/lib-2.0-py3-none-any.whl",
        "file:///tmp/%00/lib-2.0.tar.gz",
        "http://[::1/simple/",
        "http://user:secret@[::1/simple/",
        "http://a\uff03b/simple/",
    ]
)


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Another value of ``value``'s type (so the lock stays valid past its schema
    more often), or anything."""
    if isinstance(value, str):
        return _HOSTILE | st.text(max_size=12) | _VALUES
    if isinstance(value, int) and not isinstance(value, bool):
        return st.integers(min_value=-(2**63), max_value=2**63 - 1) | _VALUES
    return _VALUES


def _pin(name: str, files: tuple[DistFile, ...], deps: tuple[str, ...]) -> Pin:
    metadata = CoreMetadata(
        name=canonicalize_name(name),
        version=Version("1.0"),
        requires_dist=(),
        requires_python=SpecifierSet(">=3.8"),
        source=MetadataSource.PEP658,
        sha256=_SHA,
        filename=files[0].filename,
    )
    return Pin(
        name=canonicalize_name(name),
        version=Version("1.0"),
        files=files,
        metadata=metadata,
        dependencies=tuple(canonicalize_name(d) for d in deps),
    )


def _written_lock() -> str:
    """A lock as ``lockgen lock`` writes it: an index's wheel and sdist, a find-links
    file, the inputs digest and the seal over the text."""
    index = "http://127.0.0.1:1/simple/"
    files = "http://127.0.0.1:1/files"
    app = [
        DistFile(
            filename=f"app-1.0{suffix}",
            url=f"{files}/app-1.0{suffix}",
            index=index,
            sha256=_SHA,
            size=10,
            upload_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        )
        for suffix in ("-py3-none-any.whl", ".tar.gz")
    ]
    lib = DistFile(
        filename="lib-1.0-py3-none-any.whl",
        url="file:///srv/wheels/lib-1.0-py3-none-any.whl",
        index="",
        sha256=_SHA,
    )
    pins = [_pin("app", tuple(app), ("lib",)), _pin("lib", (lib,), ())]
    target = make_target("3.11", "linux_x86_64")
    tool = {"inputs": _DIGEST, "body": ""}
    return seal(render(lock_tables(pins, target, _no_download, tool=tool)))


def _no_download(dist: DistFile) -> tuple[str, int]:
    raise AssertionError(f"{dist.filename} has a sha256")


_WRITTEN = _written_lock()

_LOCKS = (
    mutated(_BASE, _like, _KEYS)
    | mutated(tomli.loads(_WRITTEN), _like, _KEYS)
    | st.dictionaries(_KEYS, _VALUES, max_size=5)
)


def _read_for_lock(data: dict[str, Any]) -> None:
    """What ``lockgen lock`` reads from an existing lock (none of it may raise; a
    lock that is not PEP 751 gives no preferences and no hashes, and a reason)."""
    text = tomli_w.dumps(data)
    existing = read_lock(text, "pylock.toml")  # tomli_w wrote it: TOML
    stale_reason(existing, _DIGEST, "pylock.toml")
    try:
        lock = existing.validated()
    except LockFileError as exc:
        assert existing.lock is None and "\n" not in str(exc)
    else:
        pinned_versions(lock)
        known_hashes(lock)
    for difference in (first_difference(data, _BASE), first_difference(_BASE, data)):
        assert difference is None or difference.isprintable()


def _read_for_hydrate(text: str, lock_path: Path) -> None:
    """What ``lockgen hydrate`` reads before its first fetch (the lock file, the
    artifacts it selects, its index URLs): only lockgen's own errors may come out."""
    lock_path.write_text(text, encoding="utf-8", errors="surrogateescape")
    dest = lock_path.parent / "dest"
    for options in (
        HydrateOptions(lock_path=lock_path, dest=dest, all_files=True),
        HydrateOptions(
            lock_path=lock_path,
            dest=dest,
            target=make_target("3.11", "linux_x86_64"),
        ),
    ):
        try:
            _plan(options)
        except LockgenError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(data=_LOCKS)
def test_lock_reads_any_shape_without_raising(data: dict[str, Any]) -> None:
    _read_for_lock(data)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=_LOCKS)
@example(data={**_BASE, "packages": [{**_BASE["packages"][0], "index": "http://[::1"}]})
def test_hydrate_reads_any_shape_with_its_own_errors(
    data: dict[str, Any], tmp_path: Path
) -> None:
    _read_for_hydrate(tomli_w.dumps(data), tmp_path / "pylock.toml")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(max_size=200)
    | _LOCKS.map(tomli_w.dumps).flatmap(
        lambda text: st.integers(0, len(text)).map(lambda cut: text[:cut])
    )
)
def test_hydrate_reads_any_text_with_its_own_errors(text: str, tmp_path: Path) -> None:
    _read_for_hydrate(text, tmp_path / "pylock.toml")


# --- the lock file's bytes, through the CLI -----------------------------------------


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    """The written lock's bytes, cut, overwritten, re-encoded or given lines."""
    data = _WRITTEN.encode()
    how = draw(st.sampled_from(["cut", "byte", "line", "utf-16", "bom", "insert"]))
    at = draw(st.integers(0, len(data) - 1))
    if how == "cut":
        return data[:at]
    if how == "byte":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if how == "line":
        lines = data.splitlines(keepends=True)
        line = draw(st.integers(0, len(lines) - 1))
        return b"".join(lines[:line] + lines[line + 1 :])
    if how == "utf-16":
        return _WRITTEN.encode("utf-16")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    text = draw(_HOSTILE).encode("utf-8", "surrogateescape")
    return data[:at] + text + data[at:]


@settings(
    max_examples=60,  # two CLI runs each
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=200) | _damaged())
@example(data=_WRITTEN.encode())
def test_any_lock_bytes_end_in_an_error_line_not_a_traceback(
    data: bytes, tmp_path: Path, lockgen: Callable[..., Result]
) -> None:
    # lock --check fails without a request: the lock was not made from these inputs
    (tmp_path / "pylock.toml").write_bytes(data)
    (tmp_path / "requirements.in").write_text("app\n")
    index = ("--index-url", "http://127.0.0.1:1/simple/")
    checked = lockgen("lock", "--check", *index, "requirements.in")
    assert checked.exit_code == 1
    assert checked.stderr.count("\n") == 1, checked.stderr
    # hydrate may refuse the lock (one line) or, offline, fail each file it selects
    hydrated = lockgen("hydrate", "-d", "dest", "--offline", "--no-cache", "--all")
    assert hydrated.exit_code == 0 or (
        hydrated.exit_code == 1 and "\nerror: " in "\n" + hydrated.stderr
    ), hydrated.stderr
