"""Small dependency graphs, an exhaustive solver for them, and a checker for lockgen.

The property test (tests/unit/test_resolve_property.py) draws graphs here, lets
lockgen's resolver lock each one through :class:`FakeRepository`, and compares the
outcome with what brute force says: a graph is solvable iff some assignment of one
version (or nothing) per project satisfies every requirement reachable from the roots.
Graphs are plain data (their ``repr`` is the regression example to paste into a test).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter

from lockgen.environment import make_target
from lockgen.errors import ResolutionError
from lockgen.provider import Candidate, Policy, Req, root_requirements
from lockgen.requirements import FormatControl
from lockgen.resolve import Pin, resolve
from tests.support.scenarios import PLATFORM, FakeRepository, Scenario, VersionSpec

__all__ = [
    "MAX_ROUNDS",
    "MISSING",
    "Graph",
    "Outcome",
    "Release",
    "graphs",
    "lock",
    "problems",
    "solutions",
    "verdict",
]

PYTHON = "3.11"
NAMES = ("a", "b", "c", "d", "e", "f")
VERSIONS = ("1.0", "2.0", "3.0", "4.0")
OPERATORS = ("", ">=", "<", "==", "!=")
#: A project that no index has.
MISSING = "nowhere"
#: Requires-Python values: one the target (3.11) meets, one it does not.
PYTHON_OK, PYTHON_TOO_OLD = ">=3.8", ">=3.12"
#: Far above what a tiny graph needs (lockgen itself gives up at 2000 rounds).
MAX_ROUNDS = 200
#: The tag of a release's first wheel when it has a second build (see Release).
BUILD_1, BUILD_2 = "1-py3-none-any", "2-py3-none-any"


@dataclass(frozen=True)
class Release:
    """One version of a project.

    ``rebuilt``, when set, adds a second wheel of the same version with build tag 2
    whose METADATA declares ``rebuilt`` instead of ``requires``: an installer picks
    the highest build among equally ranked wheels, so those are the real deps.
    """

    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    rebuilt: tuple[str, ...] | None = None

    @property
    def effective_requires(self) -> tuple[str, ...]:
        """What an installer of this version would install alongside it."""
        return self.requires if self.rebuilt is None else self.rebuilt


@dataclass(frozen=True)
class Graph:
    """An index (project -> version -> Release) and the root requirements.

    ``listed_requires_python=False`` keeps Requires-Python out of the index listing,
    so only the metadata says it (lockgen then checks it through ``<python>``).
    """

    projects: Mapping[str, Mapping[str, Release]]
    roots: tuple[str, ...]
    listed_requires_python: bool = True

    def repository(self) -> FakeRepository:
        """A fake index serving exactly this graph."""
        packages = {
            name: {
                version: VersionSpec(
                    requires=list(release.requires),
                    requires_python=release.requires_python,
                    tags=["py3-none-any" if release.rebuilt is None else BUILD_1],
                )
                for version, release in versions.items()
            }
            for name, versions in self.projects.items()
        }
        scenario = Scenario(
            name="graph",
            description=repr(self),
            requires=list(self.roots),
            constraints=[],
            pre=False,
            python=PYTHON,
            only_binary=[],
            no_binary=[],
            packages=packages,
            expected_pins=None,
            expected_conflict=None,
        )
        repository = FakeRepository(
            scenario, listed_requires_python=self.listed_requires_python
        )
        for name, versions in self.projects.items():
            for version, release in versions.items():
                if release.rebuilt is not None:
                    spec = VersionSpec(
                        requires=list(release.rebuilt),
                        requires_python=release.requires_python,
                        tags=[BUILD_2],
                    )
                    repository.add_wheel(name, version, BUILD_2, spec)
        return repository

    def release(self, name: str, version: Version) -> Release | None:
        """The release ``name`` ``version``, or None when the index has no such thing."""
        for project, versions in self.projects.items():
            if canonicalize_name(project) == name:
                for text, release in versions.items():
                    if Version(text) == version:
                        return release
        return None

    def versions(self, name: str) -> list[tuple[Version, Release]]:
        """Every release of ``name`` (none for a project no index has)."""
        return [
            (Version(text), release)
            for project, versions in self.projects.items()
            if canonicalize_name(project) == name
            for text, release in versions.items()
        ]


# -- generating ---------------------------------------------------------------
#
# Uniformly random graphs are mostly trivial: in 2000 of them the resolvelib
# backjumping bugs showed up 2-5 times. The weights below (more versions, 3-5
# projects, about one dependency per version, edges leaning back towards the root
# "a") raise that to about 1 in 70 while keeping every shape possible; each table
# is ordered so that Hypothesis shrinks towards its first entry, the simplest.

#: Version sets, smallest first; sets of 3 or 4 versions weigh five times more.
VERSION_SETS = tuple(
    subset
    for size in range(1, len(VERSIONS) + 1)
    for subset in itertools.combinations(VERSIONS, size)
    for _ in range(1 if size < 3 else 5)
)
#: How many projects a graph has.
PROJECT_COUNTS = (2, 3, 3, 4, 4, 5, 5, 6)
#: How many dependencies a version has.
DEPENDENCY_COUNTS = (0, 1, 1, 1, 2, 2, 3)


def _rare(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


def _specifier(draw: st.DrawFn, versions: Sequence[str]) -> str:
    """An operator and an operand: one of the target's own versions (so that the
    specifier tends to matter) or one that no project has."""
    operator = draw(st.sampled_from(OPERATORS))
    if not operator:
        return ""
    return operator + draw(st.sampled_from((*versions, "2.5")))


def _requires(
    draw: st.DrawFn,
    own: str,
    versions: Mapping[str, Sequence[str]],
    *,
    missing: bool,
) -> tuple[str, ...]:
    """0-3 dependencies of a release of ``own``; projects before ``own`` (nearer
    the root) count twice as targets, which makes cycles through the root common."""
    names = list(versions)
    others = [n for n in names if n != own]
    targets = (*others, *names[: names.index(own)])
    requires: list[str] = []
    for _ in range(draw(st.sampled_from(DEPENDENCY_COUNTS))):
        target = (
            MISSING if missing and _rare(draw, 12) else draw(st.sampled_from(targets))
        )
        requires.append(target + _specifier(draw, versions.get(target, ())))
    return tuple(requires)


@st.composite
def graphs(
    draw: st.DrawFn,
    *,
    missing: bool = True,
    python: bool = True,
    rebuilds: bool = True,
) -> Graph:
    """2-6 projects of 1-4 versions, each depending on 0-3 others (cycles allowed),
    and 1-3 roots, the first always on project "a" (names are interchangeable).

    Rarely (each can be turned off, to tell failure classes apart): dependencies on
    a project no index has, Requires-Python (met or not by 3.11, listed on the
    index or only in the metadata), or a second build of a wheel declaring other
    dependencies.
    """
    # Each feature in about a quarter of the graphs: a missing project, above all,
    # makes most versions uninstallable and hides the other bugs.
    missing, python, rebuilds = (
        on and _rare(draw, 4) for on in (missing, python, rebuilds)
    )
    names = NAMES[: draw(st.sampled_from(PROJECT_COUNTS))]
    versions = {name: draw(st.sampled_from(VERSION_SETS)) for name in names}
    projects: dict[str, dict[str, Release]] = {}
    for name in names:
        releases: dict[str, Release] = {}
        for version in versions[name]:
            requires_python = None
            if python and _rare(draw, 4):
                requires_python = draw(st.sampled_from((PYTHON_TOO_OLD, PYTHON_OK)))
            rebuilt = None
            if rebuilds and _rare(draw, 4):
                rebuilt = _requires(draw, name, versions, missing=missing)
            releases[version] = Release(
                requires=_requires(draw, name, versions, missing=missing),
                requires_python=requires_python,
                rebuilt=rebuilt,
            )
        projects[name] = releases
    roots = ["a" + _specifier(draw, versions["a"])]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(names))
        roots.append(name + _specifier(draw, versions[name]))
    listed = not (python and _rare(draw, 3))
    return Graph(projects=projects, roots=tuple(roots), listed_requires_python=listed)


# -- the exhaustive answer ----------------------------------------------------


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
        found.append(f"{pin.name} {pin.version} requires Python {PYTHON_TOO_OLD}")
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
    fewer than MAX_ROUNDS rounds either way.
    """
    outcome = lock(graph)
    solvable = next(solutions(graph), None) is not None
    found: list[str] = []
    if outcome.crash is not None:
        found.append(f"crashed: {type(outcome.crash).__name__}: {outcome.crash}")
    elif outcome.pins is not None:
        locked = {str(p.name): str(p.version) for p in outcome.pins}
        if not solvable:
            found.append(f"locked an unsolvable graph: {locked}")
        found += [f"unsound lock {locked}: {p}" for p in problems(graph, outcome.pins)]
    elif solvable:
        found.append(f"solvable graph reported unsolvable: {outcome.error}")
    if outcome.rounds >= MAX_ROUNDS:
        found.append(f"stopped after {outcome.rounds} rounds")
    return found
