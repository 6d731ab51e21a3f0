"""``pyproject.toml`` as a lock's input: the project's dependencies, its extras
(``[project.optional-dependencies]``) and its dependency groups (PEP 735).

Each requirement is tagged with what needs it: ``None`` for the project itself,
``extra:NAME`` or ``group:NAME``; one lock holds them all (PEP 751), each package
marked with the extras and groups that need it. A requirement on the project itself
(``demo[test]`` in a group) stands for that extra's requirements, as installers read
it. By default every extra and every group is locked; ``extras`` and ``groups`` name
the ones to lock instead, and the default groups (``dev``, as uv has it) are what an
installer selects when asked for none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.errors import LockgenError, first_line
from lockgen.core.toml_input import parse_toml

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName

    from lockgen.core.requirements import InputRequirement

__all__ = ["DEFAULT_GROUPS", "ProjectInput", "is_pyproject", "read_pyproject"]

#: The groups an installer selects when it is asked for none (uv's default).
DEFAULT_GROUPS = ("dev",)


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """The requirements to lock, tagged, and the extras and groups they cover."""

    requirements: tuple[InputRequirement, ...]
    extras: tuple[NormalizedName, ...]
    groups: tuple[NormalizedName, ...]
    default_groups: tuple[NormalizedName, ...]


def is_pyproject(path: str) -> bool:
    """Whether a requirements argument names a ``pyproject.toml``."""
    return path.replace("\\", "/").rsplit("/", 1)[-1] == "pyproject.toml"


def read_pyproject(
    text: str,
    path: str,
    *,
    extras: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    default_groups: bool = True,
) -> ProjectInput:
    """What ``text`` (the file at ``path``) asks to lock; ``extras`` / ``groups``
    ``None``: all of them; ``default_groups``: whether the default groups are locked."""
    # on use, as packaging below: the command line checks is_pyproject early
    from lockgen.core.requirements import InputRequirement

    try:
        document = parse_toml(text)
    except ValueError as exc:
        raise _error(path, str(exc)) from None
    project = _table(document, "project", path)
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and {"dependencies", "optional-dependencies"} & set(
        map(str, dynamic)
    ):
        raise _error(
            path,
            "its dependencies are dynamic ([project] dynamic): lockgen locks what "
            "pyproject.toml writes out",
        )
    name = _name(project.get("name"), path)
    core = _strings(project.get("dependencies", []), path, "[project] dependencies")
    declared_extras = {
        _normal(extra, path): _strings(value, path, f"optional-dependencies.{extra}")
        for extra, value in _table(project, "optional-dependencies", path).items()
    }
    declared_groups = _groups(document, path)
    chosen_extras = _chosen(extras, declared_extras, path, "extra")
    chosen_groups = [
        g
        for g in _chosen(groups, declared_groups, path, "group")
        if default_groups or groups is not None or g not in DEFAULT_GROUPS
    ]
    expand = _Expander(name, declared_extras, path)
    tagged: list[InputRequirement] = []
    for tag, texts in [
        (None, core),
        *((f"extra:{e}", declared_extras[e]) for e in chosen_extras),
        *((f"group:{g}", declared_groups[g]) for g in chosen_groups),
    ]:
        for requirement in expand(texts):
            tagged.append(
                InputRequirement(requirement=requirement, source=path, needed_by=tag)
            )
    return ProjectInput(
        requirements=tuple(tagged),
        extras=tuple(sorted(chosen_extras)),
        groups=tuple(sorted(chosen_groups)),
        default_groups=tuple(g for g in chosen_groups if g in DEFAULT_GROUPS),
    )


class _Expander:
    """Requirements as written, a requirement on the project itself replaced by the
    requirements of the extras it names (installing ``demo[test]`` installs those)."""

    def __init__(
        self,
        name: NormalizedName | None,
        extras: Mapping[NormalizedName, Sequence[str]],
        path: str,
    ) -> None:
        self._name = name
        self._extras = extras
        self._path = path

    def __call__(
        self, texts: Sequence[str], seen: frozenset[str] = frozenset()
    ) -> list[Requirement]:
        out: list[Requirement] = []
        for text in texts:
            requirement = _requirement(text, self._path)
            if _canonical(requirement.name) != self._name:
                out.append(requirement)
                continue
            if requirement.marker is not None or requirement.specifier:
                raise _error(
                    self._path,
                    f"{text!r}: a requirement on the project itself may only name "
                    "extras (no version, no marker)",
                )
            for extra in sorted(_canonical(e) for e in requirement.extras):
                if extra not in self._extras:
                    raise _error(
                        self._path, f"{text!r}: the project has no extra {extra!r}"
                    )
                if extra not in seen:
                    out += self(self._extras[extra], seen | {extra})
        return out


def _groups(
    document: Mapping[str, object], path: str
) -> dict[NormalizedName, list[str]]:
    """``[dependency-groups]`` with every ``include-group`` resolved (packaging's
    PEP 735 resolver: cycles and unknown groups are its errors)."""
    from packaging.dependency_groups import resolve_dependency_groups

    table = _table(document, "dependency-groups", path)
    out: dict[NormalizedName, list[str]] = {}
    for group in table:
        normal = _normal(group, path)
        try:
            out[normal] = list(resolve_dependency_groups(table, group))  # type: ignore[arg-type]
        except (ValueError, TypeError, LookupError, ExceptionGroup) as exc:
            while isinstance(exc, ExceptionGroup):  # packaging groups its findings
                exc = exc.exceptions[0]
            reason = first_line(exc, type(exc).__name__)
            raise _error(path, f"[dependency-groups] {group}: {reason}") from None
    return out


def _chosen(
    asked: Sequence[str] | None,
    declared: Mapping[NormalizedName, object],
    path: str,
    kind: str,
) -> list[NormalizedName]:
    if asked is None:
        return sorted(declared)
    chosen = [_canonical(a) for a in asked]
    unknown = sorted(set(chosen) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise _error(path, f"no {kind} named {', '.join(unknown)} (it has: {known})")
    return sorted(set(chosen))


def _table(document: Mapping[str, object], key: str, path: str) -> dict[str, object]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise _error(path, f"[{key}] is not a table")
    return value


def _strings(value: object, path: str, what: str) -> list[str]:
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _error(path, f"{what} is not a list of requirement strings")
    return value


def _name(value: object, path: str) -> NormalizedName | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(path, "[project] name is not a string")
    return _normal(value, path)


def _canonical(name: str) -> NormalizedName:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _normal(value: str, path: str) -> NormalizedName:
    from packaging.utils import InvalidName, canonicalize_name

    try:
        return canonicalize_name(value, validate=True)
    except InvalidName:
        raise _error(path, f"{value!r} is not a valid name") from None


def _requirement(text: str, path: str) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = first_line(exc)
        raise _error(path, f"invalid requirement {text!r}: {reason}") from None
    if requirement.url is not None:
        raise _error(
            path,
            f"{text!r}: direct references are locked from a requirements file "
            "(lockgen lock requirements.in), not from pyproject.toml",
        )
    return requirement


def _error(path: str, reason: str) -> LockgenError:
    return LockgenError(f"{path}: {reason}")
