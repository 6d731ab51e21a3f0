"""``toml_data`` gives exactly the tables packaging's ``Pylock.to_dict`` gives.

The lock writer uses it instead of ``to_dict`` (which deep-copies every leaf), so
the lock's bytes depend on the two agreeing: on every kind of table PEP 751 has, on
what lockgen writes, and on locks varied by Hypothesis.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import tomli
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.pylock import Pylock

from lockgen.lockfile.toml_data import toml_data
from lockgen.lockfile.write import dumps, lock_tables, render
from tests.unit.test_lockfile import TARGET, _file, _never, _pin

_SHA = "c" * 64
_WHEEL = {
    "name": "demo-1.0-py3-none-any.whl",
    "url": "https://example.invalid/demo-1.0-py3-none-any.whl",
    "size": 10,
    "upload-time": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    "hashes": {"sha256": _SHA},
}
#: Every kind of table and key PEP 751 has.
_FULL: dict[str, Any] = {
    "lock-version": "1.0",
    "environments": ["sys_platform == 'linux'", "sys_platform == 'win32'"],
    "requires-python": ">=3.9",
    "extras": ["cli"],
    "dependency-groups": ["dev"],
    "default-groups": ["dev"],
    "created-by": "lockgen",
    "packages": [
        {
            "name": "demo",
            "version": "1.0",
            "marker": "'cli' in extras",
            "requires-python": ">=3.9",
            "dependencies": [{"name": "other"}],
            "index": "https://example.invalid/simple/",
            "attestation-identities": [{"kind": "GitHub", "repository": "o/r"}],
            "sdist": {
                "name": "demo-1.0.tar.gz",
                "path": "dist/demo-1.0.tar.gz",
                "hashes": {"sha256": _SHA},
            },
            "wheels": [_WHEEL],
            "tool": {"lockgen": {"some_key": [1, {"nested_key": None}]}},
        },
        {
            "name": "other",
            "vcs": {
                "type": "git",
                "url": "https://example.invalid/other.git",
                "requested-revision": "main",
                "commit-id": "0" * 40,
                "subdirectory": "pkg",
            },
        },
        {"name": "local", "directory": {"path": "./local", "editable": True}},
        {
            "name": "packed",
            "version": "2.0",
            "archive": {
                "url": "https://example.invalid/packed-2.0.tar.gz",
                "size": 5,
                "hashes": {"sha256": _SHA},
                "subdirectory": "src",
            },
        },
    ],
    "tool": {"lockgen": {"inputs": "x", "under_score": {"a_b": 1}}},
}


def _agree(data: dict[str, Any]) -> None:
    lock = Pylock.from_dict(data)
    assert toml_data(lock) == lock.to_dict()


def test_every_kind_of_table() -> None:
    _agree(_FULL)


def test_what_lockgen_writes() -> None:
    pins = [
        _pin("a", "1.0", (_file("a-1.0-py3-none-any.whl"), _file("a-1.0.tar.gz"))),
        _pin("b", "2.0", (_file("b-2.0-py3-none-any.whl"),), deps=("a",)),
    ]
    tables = lock_tables(pins, TARGET, _never, tool={"inputs": "d" * 64})
    lock = Pylock.from_dict(tables)  # packaging validates the tables lockgen builds
    assert toml_data(lock) == lock.to_dict()
    # ...which are packaging's own tables for that lock, in its order of keys
    assert render(tables) == dumps(lock)
    # render() does not validate its output (it would cost a big lock 70 ms): this does
    assert Pylock.from_dict(tomli.loads(render(tables))) == lock


_OPTIONAL_PACKAGE_KEYS = ("marker", "requires-python", "dependencies", "index", "tool")


@settings(max_examples=60, deadline=None)
@given(
    top=st.sets(st.sampled_from(["extras", "dependency-groups", "tool"])),
    package=st.sets(st.sampled_from(_OPTIONAL_PACKAGE_KEYS)),
    wheels=st.integers(min_value=0, max_value=3),
)
def test_locks_with_keys_left_out(
    top: set[str], package: set[str], wheels: int
) -> None:
    data = copy.deepcopy(_FULL)
    for key in top:
        data.pop(key)
    if "dependency-groups" in top:
        data.pop("default-groups")
    first = data["packages"][0]
    for key in package:
        first.pop(key)
    first["wheels"] = [
        {**_WHEEL, "name": f"demo-1.0-py3{n}-none-any.whl"} for n in range(wheels)
    ] or [_WHEEL]
    _agree(data)
