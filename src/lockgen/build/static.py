"""An sdist's dependencies read from its ``[project]`` table, when that fixes them.

PEP 621: a field of ``[project]`` that is not listed in ``dynamic`` is what the
backend must write, and one that is absent is empty. So when ``name``, ``version``,
``requires-python``, ``dependencies`` and ``optional-dependencies`` are all static,
the METADATA a build would write says nothing more about dependencies, and no build
is needed (uv reads such sdists the same way). Anything unusual (a value of the
wrong type, an invalid requirement) is left to the backend: the build then says what
is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["static_metadata"]

_NEEDED = frozenset(
    {"name", "version", "requires-python", "dependencies", "optional-dependencies"}
)


def static_metadata(pyproject: Mapping[str, Any] | None) -> bytes | None:
    """The METADATA ``pyproject`` (a parsed ``pyproject.toml``) fixes without a
    build, or ``None`` when one of the fields the resolver reads may be dynamic."""
    if pyproject is None:
        return None
    project = pyproject.get("project")
    if not isinstance(project, dict):
        return None
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or _NEEDED & set(map(str, dynamic)):
        return None
    try:
        return _metadata(project)
    except (TypeError, ValueError, InvalidRequirement, InvalidName, InvalidVersion):
        return None


def _metadata(project: dict[str, object]) -> bytes | None:
    name, version = project.get("name"), project.get("version")
    python = project.get("requires-python")
    if not (isinstance(name, str) and isinstance(version, str)):
        return None
    if python is not None and not isinstance(python, str):
        return None
    # each must be what it says, on one line: a newline would write a field of its own
    canonicalize_name(name, validate=True)
    Version(version)
    if python is not None:
        SpecifierSet(python)
    if "\n" in name + version + (python or ""):
        return None
    lines = ["Metadata-Version: 2.2", f"Name: {name}", f"Version: {version}"]
    if python is not None:
        lines.append(f"Requires-Python: {python}")
    lines += [f"Requires-Dist: {r}" for r in _requirements(project.get("dependencies"))]
    extras = project.get("optional-dependencies", {})
    if not isinstance(extras, dict):
        return None
    for extra, requirements in extras.items():
        normal = canonicalize_name(str(extra), validate=True)
        lines.append(f"Provides-Extra: {normal}")
        lines += [
            f"Requires-Dist: {_for_extra(r, normal)}"
            for r in _requirements(requirements)
        ]
    return ("\n".join(lines) + "\n").encode()


def _requirements(value: object) -> list[Requirement]:
    if value is None:
        return []
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise TypeError("not a list of requirement strings")
    return [Requirement(text) for text in value]


def _for_extra(requirement: Requirement, extra: str) -> str:
    """``requirement`` needed only with ``extra``: its marker and'ed with the extra's."""
    marker = requirement.marker
    requirement.marker = None
    condition = f'extra == "{extra}"'
    if marker is not None:
        condition = f"({marker}) and {condition}"
    return f"{requirement}; {condition}"
