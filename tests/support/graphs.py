"""Small dependency graphs as plain data, served by a fake index, and generated.

The property test (tests/unit/test_resolve_property.py) draws graphs here and
checks lockgen's answer on each against brute force (tests/support/graph_check.py).
A graph's ``repr`` is the regression example to paste into a test.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.scenarios import FakeRepository, Scenario, VersionSpec

__all__ = [
    "BUILD_1",
    "BUILD_2",
    "MISSING",
    "PYTHON",
    "Graph",
    "Pick",
    "Release",
    "build_graph",
    "graphs",
    "random_graph",
]

PYTHON = "3.11"
NAMES = ("a", "b", "c", "d", "e", "f")
VERSIONS = ("1.0", "2.0", "3.0", "4.0")
OPERATORS = ("", ">=", "<", "==", "!=")
#: A project that no index has.
MISSING = "nowhere"
#: Requires-Python values: one the target (3.11) meets, one it does not.
PYTHON_OK, PYTHON_TOO_OLD = ">=3.8", ">=3.12"
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
# Uniformly random graphs are mostly trivial: the resolvelib backjumping bugs show
# up in about 1 graph in 700. The weights below (3-4 versions, 3-5 projects, about
# one dependency per version, edges leaning back towards the root "a") raise that
# to about 1 in 120 while keeping every shape possible. Each table is ordered so
# that Hypothesis shrinks towards its first entry, the simplest.

#: Version sets, smallest first; sets of 3 or 4 versions weigh much more.
VERSION_SETS = tuple(
    subset
    for size in range(1, len(VERSIONS) + 1)
    for subset in itertools.combinations(VERSIONS, size)
    for _ in range(1 if size < 3 else 8 if size == 3 else 24)
)
#: How many projects a graph has.
PROJECT_COUNTS = (2, 3, 3, 4, 4, 4, 5, 5, 6)
#: How many dependencies a version has.
DEPENDENCY_COUNTS = (0, 1, 1, 1, 2, 2, 3)

_T = TypeVar("_T")


class Pick(Protocol):
    """Chooses one of ``options``: Hypothesis's ``sampled_from`` or ``Random.choice``."""

    def __call__(self, options: Sequence[_T], /) -> _T: ...


def build_graph(
    pick: Pick, *, missing: bool = True, python: bool = True, rebuilds: bool = True
) -> Graph:
    """2-6 projects of 1-4 versions, each depending on 0-3 others (cycles allowed),
    and 1-3 roots, the first always on project "a" (names are interchangeable).

    In about a quarter of the graphs each (and each can be turned off, to tell
    failure classes apart): dependencies on a project no index has; Requires-Python
    (met or not by 3.11, listed on the index or only in the metadata); second wheel
    builds that declare other dependencies. A missing project in every graph would
    make most versions uninstallable and hide the other bugs.
    """
    draw = _Draw(pick)
    missing, python, rebuilds = (
        on and draw.rare(4) for on in (missing, python, rebuilds)
    )
    names = NAMES[: pick(PROJECT_COUNTS)]
    versions = {name: pick(VERSION_SETS) for name in names}
    projects: dict[str, dict[str, Release]] = {}
    for name in names:
        releases: dict[str, Release] = {}
        for version in versions[name]:
            requires_python = None
            if python and draw.rare(4):
                requires_python = pick((PYTHON_TOO_OLD, PYTHON_OK))
            rebuilt = None
            if rebuilds and draw.rare(4):
                rebuilt = draw.requires(name, versions, missing=missing)
            releases[version] = Release(
                requires=draw.requires(name, versions, missing=missing),
                requires_python=requires_python,
                rebuilt=rebuilt,
            )
        projects[name] = releases
    roots = ["a" + draw.specifier(versions["a"])]
    for _ in range(pick((0, 1, 2))):
        name = pick(names)
        roots.append(name + draw.specifier(versions[name]))
    listed = not (python and draw.rare(3))
    return Graph(projects=projects, roots=tuple(roots), listed_requires_python=listed)


@dataclass(frozen=True)
class _Draw:
    """The pieces of a graph, from one Pick."""

    pick: Pick

    def rare(self, one_in: int) -> bool:
        """True about once in ``one_in``; False is the simpler choice."""
        return self.pick(range(one_in)) == one_in - 1

    def specifier(self, versions: Sequence[str]) -> str:
        """An operator and an operand: one of the target's own versions (so that
        the specifier tends to matter) or one that no project has."""
        operator = self.pick(OPERATORS)
        return operator + self.pick((*versions, "2.5")) if operator else ""

    def requires(
        self, own: str, versions: Mapping[str, Sequence[str]], *, missing: bool
    ) -> tuple[str, ...]:
        """0-3 dependencies of a release of ``own``; projects before ``own`` (nearer
        the root) count twice as targets, which makes cycles through "a" common."""
        names = list(versions)
        targets = (*(n for n in names if n != own), *names[: names.index(own)])
        requires: list[str] = []
        for _ in range(self.pick(DEPENDENCY_COUNTS)):
            target = MISSING if missing and self.rare(12) else self.pick(targets)
            requires.append(target + self.specifier(versions.get(target, ())))
        return tuple(requires)


@st.composite
def graphs(
    draw: st.DrawFn, *, missing: bool = True, python: bool = True, rebuilds: bool = True
) -> Graph:
    """Hypothesis strategy for :func:`build_graph`'s graphs (shrinkable)."""

    def pick(options: Sequence[_T]) -> _T:
        return draw(st.sampled_from(options))

    return build_graph(pick, missing=missing, python=python, rebuilds=rebuilds)


def random_graph(rng: random.Random) -> Graph:
    """One of :func:`build_graph`'s graphs from plain ``random``: about three times
    cheaper per graph than Hypothesis, and nearer to its intended weights."""
    return build_graph(rng.choice)
