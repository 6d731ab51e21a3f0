"""Brute force for small graphs, and what lockgen must do with them.

A graph is solvable iff some assignment of one version (or nothing) per project
satisfies every requirement reachable from the roots; lockgen must lock exactly the
solvable graphs, with such an assignment, raise nothing but ResolutionError, and
not go round more than MAX_ROUNDS times. :func:`minimize` shrinks a failing graph
found without Hypothesis (the seeded sweep) to a regression example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter

from lockgen.core.environment import make_target
from lockgen.core.errors import ResolutionError
from lockgen.core.req_options import FormatControl
from lockgen.resolver.resolve import Pin, resolve
from lockgen.resolver.selection import Policy
from lockgen.resolver.values import Candidate, Req, root_requirements
from tests.support.graphs import PYTHON, Graph, Release
from tests.support.scenarios import PLATFORM

__all__ = [
    "MAX_ROUNDS",
    "Outcome",
    "failure_classes",
    "lock",
    "minimize",
    "problems",
    "solutions",
    "verdict",
]

#: Far above what a tiny graph needs (lockgen itself gives up at 2000 rounds).
MAX_ROUNDS = 200


def _python_ok(release: Release) -> bool:
    spec = release.requires_python
    return spec is None or SpecifierSet(spec).contains(PYTHON, prereleases=True)


def _reqs(lines: tuple[str, ...]) -> tuple[Requirement, ...]:
    return tuple(Requirement(line) for line in lines)


def solutions(graph: Graph) -> Iterator[dict[NormalizedName, Version]]:
    """Every valid assignment, each exactly once.

    Valid: every root satisfied, every chosen version installable on the target and
    its dependencies chosen and satisfied, and every chosen project required by a
    root or a chosen version (the search adds a project only when something asks
    for it, so each result is reachable from the roots by construction).
    """
    return _search(graph, {}, _reqs(graph.roots))


def _search(
    graph: Graph,
    chosen: dict[NormalizedName, Version],
    reqs: tuple[Requirement, ...],
) -> Iterator[dict[NormalizedName, Version]]:
    names = [canonicalize_name(r.name) for r in reqs]
    for name, req in zip(names, reqs, strict=True):
        if name in chosen and not req.specifier.contains(chosen[name], True):
            return
    pending = next((n for n in names if n not in chosen), None)
    if pending is None:
        yield dict(chosen)
        return
    specs = [r.specifier for n, r in zip(names, reqs, strict=True) if n == pending]
    for version, release in graph.versions(pending):
        if _python_ok(release) and all(s.contains(version, True) for s in specs):
            deps = _reqs(release.effective_requires)
            yield from _search(graph, {**chosen, pending: version}, reqs + deps)


# -- running lockgen ----------------------------------------------------------


class _TooManyRoundsError(Exception):
    """Raised through resolvelib to stop a resolution at MAX_ROUNDS."""


class _RoundCounter(BaseReporter[Req, Candidate, str]):
    """Counts resolvelib's rounds (the measure of wasted backtracking), and stops
    the resolution at MAX_ROUNDS: a looping graph then costs a tenth of what
    lockgen's own 2000-round limit would, which keeps shrinking affordable."""

    def __init__(self) -> None:
        self.rounds = 0

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1
        if self.rounds >= MAX_ROUNDS:
            raise _TooManyRoundsError


@dataclass
class Outcome:
    """What lockgen did with a graph: pins, a ResolutionError, another exception,
    or none of these when it was stopped at MAX_ROUNDS."""

    pins: list[Pin] | None = None
    error: ResolutionError | None = None
    crash: BaseException | None = None
    rounds: int = 0


def lock(graph: Graph) -> Outcome:
    """Resolve the graph's roots for Python 3.11 the way ``lockgen lock`` does."""
    repository = graph.repository()
    target = make_target(PYTHON, PLATFORM)
    roots = root_requirements(
        (Requirement(r) for r in graph.roots), target.environment()
    )
    policy = Policy(constraints={}, pre=False, format_control=FormatControl())
    counter = _RoundCounter()
    outcome = Outcome()
    try:
        outcome.pins = resolve(roots, repository, target, policy, reporter=counter)
    except ResolutionError as exc:
        outcome.error = exc
    except _TooManyRoundsError:
        pass
    except Exception as exc:  # noqa: BLE001 - any other exception is a finding
        outcome.crash = exc
    outcome.rounds = counter.rounds
    return outcome


def problems(graph: Graph, pins: list[Pin]) -> list[str]:
    """Why ``pins`` is not a valid, reachable lock of ``graph`` (empty if it is)."""
    chosen = {pin.name: pin.version for pin in pins}
    found: list[str] = []
    for req in _reqs(graph.roots):
        name = canonicalize_name(req.name)
        if name not in chosen:
            found.append(f"root {req} is not locked")
        elif not req.specifier.contains(chosen[name], True):
            found.append(f"root {req} is locked at {chosen[name]}")
    for pin in pins:
        found += _pin_problems(graph, pin, chosen)
    unreachable = sorted(set(chosen) - _reachable(graph, chosen))
    if unreachable:
        found.append(f"pins nobody requires: {unreachable}")
    return found


def _pin_problems(
    graph: Graph, pin: Pin, chosen: Mapping[NormalizedName, Version]
) -> list[str]:
    release = graph.release(pin.name, pin.version)
    if release is None:
        return [f"{pin.name} {pin.version} is not on the index"]
    found: list[str] = []
    if not _python_ok(release):
        needs = release.requires_python
        found.append(f"{pin.name} {pin.version} requires Python {needs}")
    for req in _reqs(release.effective_requires):
        dep = canonicalize_name(req.name)
        if dep not in chosen:
            found.append(f"{pin.name} {pin.version} needs {req}: not locked")
        elif not req.specifier.contains(chosen[dep], True):
            found.append(f"{pin.name} {pin.version} needs {req}: got {chosen[dep]}")
    declared = sorted(
        {canonicalize_name(r.name) for r in _reqs(release.effective_requires)}
    )
    if list(pin.dependencies) != declared:
        found.append(
            f"{pin.name} {pin.version} records dependencies "
            f"{list(pin.dependencies)}, declares {declared}"
        )
    return found


def _reachable(
    graph: Graph, chosen: Mapping[NormalizedName, Version]
) -> set[NormalizedName]:
    seen: set[NormalizedName] = set()
    todo = [canonicalize_name(r.name) for r in _reqs(graph.roots)]
    while todo:
        name = todo.pop()
        if name in seen or name not in chosen:
            continue
        seen.add(name)
        release = graph.release(name, chosen[name])
        if release is not None:
            todo += [
                canonicalize_name(r.name) for r in _reqs(release.effective_requires)
            ]
    return seen


def verdict(graph: Graph) -> list[str]:
    """Everything wrong with how lockgen handles ``graph`` (empty when all is well).

    Checked: no exception but ResolutionError; a lock only for a solvable graph,
    and then a valid reachable one; a ResolutionError only for an unsolvable graph;
    fewer than MAX_ROUNDS rounds either way. Each message starts with its failure
    class and a colon (see :func:`failure_classes`).
    """
    outcome = lock(graph)
    solvable = next(solutions(graph), None) is not None
    found: list[str] = []
    if outcome.crash is not None:
        crash = outcome.crash
        found.append(f"crashed with {type(crash).__name__}: {crash}")
    elif outcome.pins is not None:
        locked = {str(p.name): str(p.version) for p in outcome.pins}
        if not solvable:
            found.append(f"locked an unsolvable graph: {locked}")
        found += [f"unsound lock: {locked}: {p}" for p in problems(graph, outcome.pins)]
    elif solvable:
        found.append(f"solvable graph reported unsolvable: {outcome.error}")
    if outcome.rounds >= MAX_ROUNDS:
        found.append(f"stopped after {MAX_ROUNDS} rounds: {outcome.error}")
    return found


def failure_classes(graph: Graph) -> frozenset[str]:
    """The classes of :func:`verdict`'s messages, e.g. "crashed with RecursionError"."""
    return frozenset(message.split(":")[0] for message in verdict(graph))


def minimize(graph: Graph, fails: Callable[[Graph], bool]) -> Graph:
    """A smallest graph that still ``fails``, by greedy deletion: whole projects,
    versions, roots, dependencies, specifiers, Requires-Python, second builds."""
    assert fails(graph)
    while True:
        smaller = next((g for g in _simpler(graph) if fails(g)), None)
        if smaller is None:
            return graph
        graph = smaller


def _simpler(graph: Graph) -> Iterator[Graph]:
    """Every graph one deletion away from ``graph``, biggest deletions first."""
    yield from _without_a_project(graph)
    yield from _without_a_version(graph)
    yield from _simpler_roots(graph)
    for name, versions in graph.projects.items():
        for version, release in versions.items():
            for simpler in _simpler_releases(release):
                changed = {**versions, version: simpler}
                yield replace(graph, projects={**graph.projects, name: changed})
    if not graph.listed_requires_python:
        yield replace(graph, listed_requires_python=True)


def _without_a_project(graph: Graph) -> Iterator[Graph]:
    for name in graph.projects:
        roots = tuple(r for r in graph.roots if _name(r) != name)
        if roots:
            kept = {
                other: {v: _drop_deps_on(r, name) for v, r in versions.items()}
                for other, versions in graph.projects.items()
                if other != name
            }
            yield replace(graph, projects=kept, roots=roots)


def _without_a_version(graph: Graph) -> Iterator[Graph]:
    for name, versions in graph.projects.items():
        for version in versions if len(versions) > 1 else ():
            fewer = {v: r for v, r in versions.items() if v != version}
            yield replace(graph, projects={**graph.projects, name: fewer})


def _simpler_roots(graph: Graph) -> Iterator[Graph]:
    roots = graph.roots
    for i, root in enumerate(roots):
        if len(roots) > 1:
            yield replace(graph, roots=roots[:i] + roots[i + 1 :])
        if root != _name(root):
            yield replace(graph, roots=(*roots[:i], _name(root), *roots[i + 1 :]))


def _with_lines(release: Release, field: str, lines: tuple[str, ...]) -> Release:
    """``release`` with its ``requires`` or ``rebuilt`` lines replaced (typed, unlike
    ``replace(release, **{field: lines})``)."""
    if field == "requires":
        return replace(release, requires=lines)
    return replace(release, rebuilt=lines)


def _simpler_releases(release: Release) -> Iterator[Release]:
    for field in ("requires", "rebuilt"):
        lines: tuple[str, ...] = getattr(release, field) or ()
        for i, line in enumerate(lines):
            yield _with_lines(release, field, lines[:i] + lines[i + 1 :])
            if line != _name(line):
                bare = (*lines[:i], _name(line), *lines[i + 1 :])
                yield _with_lines(release, field, bare)
    if release.rebuilt is not None:
        yield replace(release, rebuilt=None)
    if release.requires_python is not None:
        yield replace(release, requires_python=None)


def _drop_deps_on(release: Release, name: str) -> Release:
    def keep(lines: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(line for line in lines if _name(line) != name)

    rebuilt = None if release.rebuilt is None else keep(release.rebuilt)
    return replace(release, requires=keep(release.requires), rebuilt=rebuilt)


def _name(line: str) -> str:
    return Requirement(line).name
