"""An sdist's build system: what its ``pyproject.toml`` says, or PEP 517's default.

PEP 518 names the build requirements (``[build-system] requires``) and PEP 517 the
backend (``build-backend``, with ``backend-path`` for an in-tree one). A project with
no ``pyproject.toml``, or none of these keys, is built the way pip builds it: with
setuptools' legacy backend, ``setuptools>=40.8.0`` and ``wheel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement

from lockgen.core.errors import LockgenError, first_line

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_BACKEND", "DEFAULT_REQUIRES", "BuildSystem", "build_system"]

DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
DEFAULT_REQUIRES = ("setuptools>=40.8.0", "wheel")


@dataclass(frozen=True, slots=True)
class BuildSystem:
    """How to build one source tree."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()


def build_system(pyproject: Mapping[str, Any] | None, filename: str) -> BuildSystem:
    """The build system ``pyproject`` (the parsed ``pyproject.toml``, ``None`` when
    there is none) declares for the sdist ``filename``."""
    if pyproject is None:
        return BuildSystem(DEFAULT_REQUIRES, DEFAULT_BACKEND)
    table = pyproject.get("build-system")
    if table is None:
        return BuildSystem(DEFAULT_REQUIRES, DEFAULT_BACKEND)
    if not isinstance(table, dict):
        raise _error(filename, "[build-system] is not a table")
    requires = _requires(table.get("requires", list(DEFAULT_REQUIRES)), filename)
    backend = table.get("build-backend", DEFAULT_BACKEND)
    if not isinstance(backend, str) or not backend.strip():
        raise _error(filename, "build-system.build-backend is not a name")
    backend_path = table.get("backend-path", [])
    if not (isinstance(backend_path, list) and all(_inside(p) for p in backend_path)):
        raise _error(
            filename, "build-system.backend-path must be relative paths inside it"
        )
    return BuildSystem(requires, backend.strip(), tuple(backend_path))


def _requires(value: object, filename: str) -> tuple[str, ...]:
    """``build-system.requires``, each a valid requirement (PEP 518 makes the key
    required in the table; pip, like lockgen, takes the default when it is absent)."""
    if not (isinstance(value, list) and all(isinstance(r, str) for r in value)):
        raise _error(filename, "build-system.requires is not a list of strings")
    for text in value:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            reason = first_line(exc)
            raise _error(
                filename, f"invalid build requirement {text!r}: {reason}"
            ) from None
    return tuple(value)


def _inside(path: object) -> bool:
    """Whether ``path`` is a relative path that stays in the source tree (PEP 517:
    backend-path entries are relative to it and must not leave it)."""
    if not isinstance(path, str) or not path or "\\" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts


def _error(filename: str, reason: str) -> LockgenError:
    return LockgenError(f"{filename}: cannot build it: {reason}")
