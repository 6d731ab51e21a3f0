"""schemas/pylock.schema.json: valid itself, accepts a good lock, rejects each way lockgen must not write one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli
from jsonschema import Draft202012Validator

from tests.support.lockcheck import (
    LockCheckError,
    check_lock,
    format_checker,
    load_schema,
    schema_errors,
)

SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4

MINIMAL = f"""\
lock-version = "1.0"
environments = ['python_version == "3.11" and sys_platform == "linux"']
requires-python = "==3.11.*"
extras = []
dependency-groups = []
default-groups = []
created-by = "lockgen"

[[packages]]
name = "demo-a"
version = "1.0"
requires-python = ">=3.8"
dependencies = [{{ name = "demo-b" }}]
index = "https://example.invalid/simple/"

[[packages.wheels]]
upload-time = 2025-01-02T03:04:05Z
url = "https://example.invalid/files/demo_a-1.0-py3-none-any.whl"
size = 884
hashes = {{ sha256 = "{SHA_A}" }}

[packages.tool.lockgen]
metadata-file = "demo_a-1.0-py3-none-any.whl"
metadata-sha256 = "{SHA_B}"
requires-dist = ["demo-b>=1", 'demo-c ; sys_platform == "win32"']

[[packages]]
name = "demo-b"
version = "2.0.post1"
dependencies = []
index = "file:///srv/mirror/simple/"

[packages.sdist]
name = "demo_b-2.0.post1.tar.gz"
url = "file:///srv/mirror/files/demo_b-2.0.post1.tar.gz"
size = 0
hashes = {{ sha256 = "{SHA_B}" }}

[packages.tool.lockgen]
metadata-file = "demo_b-2.0.post1.tar.gz"
metadata-sha256 = "{SHA_A}"
requires-dist = []

[tool.lockgen]
inputs = "sha256:{SHA_A}"
"""

Mutation = Callable[[dict[str, Any]], None]


def _minimal() -> dict[str, Any]:
    return tomli.loads(MINIMAL)


def _wheel(lock: dict[str, Any]) -> dict[str, Any]:
    wheel: dict[str, Any] = lock["packages"][0]["wheels"][0]
    return wheel


def _tool(lock: dict[str, Any]) -> dict[str, Any]:
    tool: dict[str, Any] = lock["packages"][0]["tool"]["lockgen"]
    return tool


def _set(
    getter: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any
) -> Mutation:
    return lambda lock: getter(lock).__setitem__(key, value)


def _drop(getter: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Mutation:
    return lambda lock: getter(lock).__delitem__(key)


def _path_instead_of_url(path: str) -> Mutation:
    """The first wheel as a find-links file: ``path`` and no ``url``."""

    def mutate(lock: dict[str, Any]) -> None:
        wheel = _wheel(lock)
        del wheel["url"]
        wheel["path"] = path

    return mutate


def _top(lock: dict[str, Any]) -> dict[str, Any]:
    return lock


def _lockgen_top(lock: dict[str, Any]) -> dict[str, Any]:
    tool: dict[str, Any] = lock["tool"]["lockgen"]
    return tool


def _pkg(lock: dict[str, Any]) -> dict[str, Any]:
    package: dict[str, Any] = lock["packages"][0]
    return package


def _sdist_pkg(lock: dict[str, Any]) -> dict[str, Any]:
    package: dict[str, Any] = lock["packages"][1]
    return package


# (id, mutation, JSON path the error must point at)
MUTATIONS: list[tuple[str, Mutation, str]] = [
    ("missing-hashes", _drop(_wheel, "hashes"), "$.packages[0].wheels[0]"),
    ("missing-sha256", _set(_wheel, "hashes", {"md5": "0" * 32}), "$.packages[0].wheels[0].hashes"),
    ("short-sha256", _set(_wheel, "hashes", {"sha256": "abc"}), "$.packages[0].wheels[0].hashes.sha256"),
    ("uppercase-sha256", _set(_wheel, "hashes", {"sha256": SHA_A.upper()}), "$.packages[0].wheels[0].hashes.sha256"),
    ("extra-hash", _set(_wheel, "hashes", {"sha256": SHA_A, "md5": "0" * 32}), "$.packages[0].wheels[0].hashes"),
    ("name-uppercase", _set(_pkg, "name", "Demo-A"), "$.packages[0].name"),
    ("name-underscore", _set(_pkg, "name", "demo_a"), "$.packages[0].name"),
    ("name-double-dash", _set(_pkg, "name", "demo--a"), "$.packages[0].name"),
    ("dependency-name", _set(_pkg, "dependencies", [{"name": "Demo.B"}]), "$.packages[0].dependencies[0].name"),
    ("dependency-extra-key", _set(_pkg, "dependencies", [{"name": "demo-b", "version": "2"}]), "$.packages[0].dependencies[0]"),
    ("duplicate-dependency", _set(_pkg, "dependencies", [{"name": "demo-b"}] * 2), "$.packages[0].dependencies"),
    ("unknown-top-key", _set(_top, "comment", "hi"), "$"),
    ("no-input-digest", _drop(_top, "tool"), "$"),
    ("bad-input-digest", _set(_lockgen_top, "inputs", "md5:00"), "$.tool.lockgen.inputs"),
    ("unknown-lockgen-key", _set(_lockgen_top, "when", "now"), "$.tool.lockgen"),
    ("unknown-package-key", _set(_pkg, "marker", "os_name == 'nt'"), "$.packages[0]"),
    ("unknown-wheel-key", _set(_wheel, "path", "demo.whl"), "$.packages[0].wheels[0]"),
    ("unknown-tool-key", _set(_tool, "note", "x"), "$.packages[0].tool.lockgen"),
    ("foreign-tool-table", _set(_pkg, "tool", {"lockgen": {}, "uv": {}}), "$.packages[0].tool"),
    ("metadata-source", _set(_tool, "metadata-source", "range"), "$.packages[0].tool.lockgen"),
    ("metadata-sha256", _set(_tool, "metadata-sha256", "xyz"), "$.packages[0].tool.lockgen.metadata-sha256"),
    ("missing-metadata-file", _drop(_tool, "metadata-file"), "$.packages[0].tool.lockgen"),
    ("requires-dist-not-list", _set(_tool, "requires-dist", "demo-b"), "$.packages[0].tool.lockgen.requires-dist"),
    ("missing-tool", _drop(_pkg, "tool"), "$.packages[0]"),
    ("lock-version", _set(_top, "lock-version", "1.1"), "$.lock-version"),
    ("created-by", _set(_top, "created-by", "uv"), "$.created-by"),
    ("no-environments", _set(_top, "environments", []), "$.environments"),
    ("missing-requires-python", _drop(_top, "requires-python"), "$"),
    ("extras-written", _set(_top, "extras", ["dev"]), "$.extras"),
    ("index-no-slash", _set(_pkg, "index", "https://example.invalid/simple"), "$.packages[0].index"),
    ("index-credentials", _set(_pkg, "index", "https://u:p@example.invalid/simple/"), "$.packages[0].index"),
    ("url-credentials", _set(_wheel, "url", "https://u:p@example.invalid/f/x.whl"), "$.packages[0].wheels[0].url"),
    ("url-relative", _set(_wheel, "url", "files/x.whl"), "$.packages[0].wheels[0].url"),
    ("negative-size", _set(_wheel, "size", -1), "$.packages[0].wheels[0].size"),
    ("bool-size", _set(_wheel, "size", True), "$.packages[0].wheels[0].size"),
    ("upload-time-garbage", _set(_wheel, "upload-time", "yesterday"), "$.packages[0].wheels[0].upload-time"),
    ("upload-time-not-utc", _set(_wheel, "upload-time", "2025-01-02T03:04:05+02:00"), "$.packages[0].wheels[0].upload-time"),
    ("upload-time-impossible", _set(_wheel, "upload-time", "2025-02-30T03:04:05Z"), "$.packages[0].wheels[0].upload-time"),
    ("wheel-name-suffix", _set(_wheel, "name", "demo_a-1.0.tar.gz"), "$.packages[0].wheels[0].name"),
    ("sdist-name-suffix", lambda lock: _sdist_pkg(lock)["sdist"].__setitem__("name", "x.whl"), "$.packages[1].sdist.name"),
    ("no-files", _drop(_sdist_pkg, "sdist"), "$.packages[1]"),
    ("empty-wheels", _set(_pkg, "wheels", []), "$.packages[0].wheels"),
    ("version-not-normalized", _set(_pkg, "version", "1.0-final"), "$.packages[0].version"),
    ("no-url-or-path", _drop(_wheel, "url"), "$.packages[0].wheels[0]"),
    ("path-absolute", _path_instead_of_url("/srv/w/demo_a-1.0-py3-none-any.whl"), "$.packages[0].wheels[0].path"),
    ("path-escapes", _path_instead_of_url("w/../../demo_a-1.0-py3-none-any.whl"), "$.packages[0].wheels[0].path"),
]  # fmt: skip


class TestSchemaItself:
    def test_is_a_valid_draft_2020_12_schema(self) -> None:
        schema = load_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)

    def test_every_property_is_described(self) -> None:
        """The schema doubles as the lock's documentation: no key goes unexplained."""
        missing: list[str] = []

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                for key, sub in node.get("properties", {}).items():
                    if "description" not in sub:
                        missing.append(f"{where}/{key}")
                for key, sub in node.items():
                    walk(sub, f"{where}/{key}")
            elif isinstance(node, list):
                for index, sub in enumerate(node):
                    walk(sub, f"{where}/{index}")

        walk(load_schema(), "#")
        assert missing == []

    def test_date_time_format_is_checked_without_extra_dependencies(self) -> None:
        checker = format_checker()
        assert checker.conforms("2025-01-02T03:04:05.123456+00:00", "date-time")
        assert not checker.conforms("2025-01-02 03:04:05", "date-time")
        assert not checker.conforms("2025-13-01T00:00:00Z", "date-time")


class TestValidLock:
    def test_minimal_lock_passes_schema_and_packaging(self) -> None:
        assert schema_errors(_minimal()) == []
        data = check_lock(MINIMAL)
        assert [p["name"] for p in data["packages"]] == ["demo-a", "demo-b"]

    def test_check_lock_reads_a_path_and_keeps_datetimes(self, tmp_path: Path) -> None:
        path = tmp_path / "pylock.toml"
        path.write_text(MINIMAL)
        wheel = check_lock(path)["packages"][0]["wheels"][0]
        assert wheel["upload-time"].isoformat() == "2025-01-02T03:04:05+00:00"

    def test_size_is_optional(self) -> None:
        """PEP 751 makes size optional; lockgen writes it only when it came for free."""
        lock = _minimal()
        del _wheel(lock)["size"]
        del _sdist_pkg(lock)["sdist"]["size"]
        assert schema_errors(lock) == []

    def test_find_links_file_by_path_without_index_is_valid(self) -> None:
        lock = _minimal()
        _path_instead_of_url("wheels/demo_a-1.0-py3-none-any.whl")(lock)
        del lock["packages"][0]["index"]
        assert schema_errors(lock) == []

    def test_empty_lock_is_valid(self) -> None:
        lock = _minimal()
        lock["packages"] = []
        assert schema_errors(lock) == []


class TestMutationsFail:
    @pytest.mark.parametrize(
        ("mutate", "path"),
        [pytest.param(m, p, id=i) for i, m, p in MUTATIONS],
    )
    def test_schema_rejects(self, mutate: Mutation, path: str) -> None:
        lock = copy.deepcopy(_minimal())
        mutate(lock)
        errors = schema_errors(lock)
        assert any(e.startswith(f"{path}: ") for e in errors), errors

    def test_check_lock_rejects_what_only_the_schema_knows(self) -> None:
        """metadata-source depended on timing and the cache; lockgen no longer writes it."""
        text = MINIMAL.replace(
            'metadata-file = "demo_a',
            'metadata-source = "pep658"\nmetadata-file = "demo_a',
        )
        assert text != MINIMAL
        with pytest.raises(LockCheckError, match=r"metadata-source"):
            check_lock(text)

    def test_check_lock_rejects_what_packaging_rejects(self) -> None:
        text = MINIMAL.replace("2025-01-02T03:04:05Z", '"2025-01-02T03:04:05Z"')
        with pytest.raises(LockCheckError, match=r"packaging\.pylock"):
            check_lock(text)
