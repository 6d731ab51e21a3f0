"""Which extras and dependency groups need each locked package: its PEP 751 marker.

One lock covers a project's own dependencies, every extra and every group. A package
the project itself needs (through any path) is always installed: no marker. Any other
is needed only when one of the extras or groups that reach it is selected: its marker
says so, ``'test' in dependency_groups or 'socks' in extras``, which installers
(packaging's ``Pylock.select``, uv, pip) evaluate against what their user asked for.
Reaching is followed through each pin's own Requires-Dist for the target, with the
extras each edge names, so a package an extra of a dependency brings is charged to
whoever asked for that extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.resolver.resolve import Pin
    from lockgen.resolver.values import Req

__all__ = ["Selections", "package_markers"]


@dataclass(frozen=True, slots=True)
class Selections:
    """What a pyproject.toml's lock covers (PEP 751's top-level ``extras``,
    ``dependency-groups``, ``default-groups``) and each package's marker."""

    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    markers: Mapping[NormalizedName, str] = field(default_factory=dict)


def package_markers(
    pins: Sequence[Pin],
    roots: Iterable[tuple[str | None, Req]],
    environment: Mapping[str, str],
) -> dict[NormalizedName, str]:
    """The marker of every package some extra or group needs and the project does
    not; ``roots`` are the user's requirements with what needs each (``None``: the
    project itself, ``extra:NAME``, ``group:NAME``)."""
    by_name = {pin.name: pin for pin in pins}
    by_tag: dict[str | None, list[Req]] = {}
    for tag, req in roots:
        by_tag.setdefault(tag, []).append(req)
    needed: dict[NormalizedName, set[str | None]] = {}
    for tag, reqs in by_tag.items():
        for name in _reached(reqs, by_name, environment):
            needed.setdefault(name, set()).add(tag)
    return {name: _marker(tags) for name, tags in needed.items() if None not in tags}


def _reached(
    reqs: Sequence[Req],
    pins: Mapping[NormalizedName, Pin],
    environment: Mapping[str, str],
) -> set[NormalizedName]:
    """The packages ``reqs`` pull in, with the extras each edge asks for."""
    # on use: lockfile.write (an up-to-date run may import it) needs Selections only
    from lockgen.resolver.values import applicable_requires

    seen: set[tuple[NormalizedName, frozenset[NormalizedName]]] = set()
    todo = [(req.name, req.extras) for req in reqs]
    reached: set[NormalizedName] = set()
    while todo:
        name, extras = todo.pop()
        pin = pins.get(name)
        if pin is None or (name, extras) in seen:
            continue  # a requirement for another target, or met already
        seen.add((name, extras))
        reached.add(name)
        children = applicable_requires(pin.metadata, frozenset(), environment)
        if extras:
            children += applicable_requires(pin.metadata, extras, environment)
        todo += [(child.name, child.extras) for child in children]
    return reached


def _marker(tags: set[str | None]) -> str:
    """``'x' in extras or 'g' in dependency_groups`` for the tags that need it."""
    terms = sorted(
        (kind, name)
        for tag in tags
        if tag is not None
        for kind, _, name in [tag.partition(":")]
    )
    variable = {"extra": "extras", "group": "dependency_groups"}
    return " or ".join(f"'{name}' in {variable[kind]}" for kind, name in terms)
