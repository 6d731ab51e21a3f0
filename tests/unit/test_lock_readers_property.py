"""Any TOML, any shape: the lock readers answer with lockgen's own errors or none.

A lock is untrusted input (it arrives in pull requests), and an existing lock is read
by ``lock`` (no-op check, ``--check``, preferences, known hashes) and by ``hydrate``.
Wrong-typed tables (``[tool.lockgen] inputs = 3``, ``packages = "x"``, a package that
is a string) and text that is not TOML must end as a one-line ``LockgenError`` or as
"not a lockgen lock", never as a traceback. The strategies mutate a realistic lock at
a random place, so the readers are driven past their first type check.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgen.environment import make_target
from lockgen.errors import LockgenError
from lockgen.lockfile import loads
from lockgen.plan import plan
from lockgen.relock import first_difference, known_hashes, pinned_versions, stale_reason

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


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path and list index in ``value`` (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            found.append((*path, key))
            found.extend(_places(child, (*path, key)))
    return found


def _replaced(base: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    if isinstance(base, dict):
        return {
            k: _replaced(v, path[1:], new) if k == path[0] else v
            for k, v in base.items()
        }
    return [
        _replaced(v, path[1:], new) if i == path[0] else v for i, v in enumerate(base)
    ]


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


@st.composite
def broken_locks(draw: st.DrawFn) -> dict[str, Any]:
    """The base lock with one to three places replaced by random TOML values."""
    data: Any = _BASE
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(_places(data)))
        old: Any = data
        for key in place:
            old = old[key]
        data = _replaced(data, place, draw(_like(old)))
    assert isinstance(data, dict)
    return data


_LOCKS = broken_locks() | st.dictionaries(_KEYS, _VALUES, max_size=5)


def _read_for_lock(data: dict[str, Any]) -> None:
    """What ``lockgen lock`` reads from an existing lock (none of it may raise)."""
    text = tomli_w.dumps(data)
    stale_reason((text, data), _DIGEST, "pylock.toml")
    pinned_versions(data)
    known_hashes(data)
    for difference in (first_difference(data, _BASE), first_difference(_BASE, data)):
        assert difference is None or difference.isprintable()


def _read_for_hydrate(text: str, lock_path: Path) -> None:
    """What ``lockgen hydrate`` reads: only lockgen's own errors may come out."""
    try:
        lock = loads(text, str(lock_path))
        plan(lock, lock_path, target=None)
        plan(lock, lock_path, target=make_target("3.11", "linux_x86_64"))
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
