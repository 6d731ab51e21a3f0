"""Regression graphs: the shrunk example of every failure class found so far.

Shared by the regression tests (tests/unit/test_resolve_regressions.py), which
check that each known failure stays fixed, and by the property test,
which replays them all as explicit examples before it generates its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from tests.support.graphs import MISSING, Graph, Release

__all__ = ["KNOWN_FAILURES", "KNOWN_GOOD", "graph"]

_Releases = Mapping[str, tuple[str, ...] | Release]


def graph(
    roots: tuple[str, ...],
    *,
    listed_requires_python: bool = True,
    **projects: _Releases,
) -> Graph:
    """``graph(("a",), a={"1.0": ("b",)}, b={"1.0": ()})``: a graph from literals.

    A version maps to its requires, or to a Release for anything more.
    """
    return Graph(
        projects={
            name: {
                version: r if isinstance(r, Release) else Release(requires=r)
                for version, r in releases.items()
            }
            for name, releases in projects.items()
        },
        roots=roots,
        listed_requires_python=listed_requires_python,
    )


#: Graphs lockgen handles correctly today, by name.
KNOWN_GOOD: dict[str, Graph] = {
    "backtrack-to-older-root": graph(
        ("a", "b"),
        a={"1.0": ("c>=2.0",), "2.0": ("c<2.0",)},
        b={"1.0": ("c>=2.0",)},
        c={"1.0": (), "2.0": ()},
    ),
    "cycle": graph(("a",), a={"1.0": ("b",)}, b={"1.0": ("a==1.0",)}),
    "conflict-is-an-error": graph(
        ("a", "b"), a={"1.0": ("c<2.0",)}, b={"1.0": ("c>=2.0",)}, c={"1.0": ()}
    ),
    "requires-python-in-listing": graph(
        ("a",), a={"1.0": (), "2.0": Release(requires_python=">=3.12")}
    ),
    "requires-python-in-metadata-only": graph(
        ("a",),
        listed_requires_python=False,
        a={"1.0": (), "2.0": Release(requires_python=">=3.12")},
    ),
}

#: These reproduce with a textbook provider on resolvelib 1.0.1, 1.1.0 and 1.2.1.
_BACKJUMP = "resolvelib 1.2.1's backjumping (sarugaku/resolvelib#206)"
_BUILD = "metadata read from build 1, not the highest build"

#: Graphs lockgen got wrong before issue 7: name -> (graph, what went wrong and why).
KNOWN_FAILURES: dict[str, tuple[Graph, str]] = {
    # d 2.0 -> c; c 2.0 -> d<2.0 conflicts, c 1.0 fits; the lock is {d: 2.0}.
    # (uv locks {c 1.0, d 2.0}; pip, whose preferences differ, installs d 1.0.)
    "lock-misses-a-dependency": (
        graph(
            ("d",),
            a={"1.0": ("c<2.0",)},
            c={"1.0": (), "2.0": ("a", "d<2.0")},
            d={"1.0": (), "2.0": ("c",)},
        ),
        f"a pin's dependency is left out of the lock: {_BACKJUMP}",
    ),
    # Unsolvable, yet locked as {a: 3.0, d: 3.0} although d 3.0 needs a<2.5.
    # (pip installs that same broken set; uv finds no solution.)
    "lock-for-unsolvable-graph": (
        graph(
            ("a",),
            a={"1.0": ("d==1.0", "b==4.0"), "3.0": ("d==3.0",)},
            b={"4.0": ("a!=1.0",)},
            d={"1.0": (), "3.0": ("a<2.5",)},
        ),
        f"a lock that breaks a dependency's specifier: {_BACKJUMP}",
    ),
    # The only solution is {a: 2.0, c: 1.0}; lockgen says c<1.0 cannot be met.
    # (pip fails the same way; uv finds the solution.)
    "solvable-reported-unsolvable": (
        graph(
            ("a",),
            a={"1.0": ("c<1.0",), "2.0": ("c",)},
            c={"1.0": (), "2.0": ("d",)},
            d={"1.0": ("a<2.0",)},
        ),
        f"ResolutionError on a solvable graph: {_BACKJUMP}",
    ),
    # Unsolvable (a 3.0 -> b 4.0 -> a==2.0; a 2.0 -> b 3.0 -> a==3.0): two
    # projects, yet resolvelib goes round until lockgen's 2000-round limit.
    # (pip: "resolution too deep"; uv: no solution, at once.)
    "unsolvable-pair-goes-round": (
        graph(
            ("a",),
            a={"2.0": ("b!=4.0",), "3.0": ("b>=4.0",)},
            b={"3.0": ("a==3.0",), "4.0": ("a==2.0",)},
        ),
        f"2000 rounds on two projects: {_BACKJUMP}",
    ),
    # After backtracking a to 1.0, the b -> c -> d -> b cycle is left with no
    # route to a root, and resolvelib's recursive walk never ends.
    # (pip crashes with the same RecursionError; uv locks a 1.0.)
    "recursion-error-on-orphaned-cycle": (
        graph(
            ("a",),
            a={"1.0": (), "2.0": ("b",)},
            b={"1.0": ("c",)},
            c={"2.0": ("d",)},
            d={"1.0": ("a<2.0", "b")},
        ),
        "RecursionError from resolvelib's _has_route_to_root",
    ),
    # Solvable: {a 4.0, f 1.0, b 1.0, d 4.0}. d's Requires-Python makes it depend
    # on <python>, which find_matches offers again after backtracking marked it
    # incompatible, so one conflict repeats until the 2000-round limit.
    # (pip and uv both find the solution: this one is lockgen's own.)
    "python-candidate-reoffered": (
        graph(
            ("a", "b"),
            a={"4.0": ("f",)},
            b={"1.0": ("d",), "2.0": ("c",), "3.0": ("d", "f>=4.0")},
            c={"3.0": ("f==2.5",)},
            d={"4.0": Release(requires_python=">=3.8")},
            e={"4.0": ("a<2.0",)},
            f={"1.0": (), "4.0": ("e",)},
        ),
        "<python> ignores incompatibilities: 2000 rounds on a solvable graph",
    ),
    # Unsolvable (c needs a>=3.0): the same <python> loop, where a quick
    # ResolutionError is due.
    "python-candidate-reoffered-unsolvable": (
        graph(
            ("a",),
            a={"2.0": ("b",)},
            b={"1.0": Release(requires=("c",), requires_python=">=3.8")},
            c={"3.0": ("a>=3.0",)},
        ),
        "<python> ignores incompatibilities: 2000 rounds",
    ),
    # pip and uv both take a 1.0.
    "missing-project-backtracked-over": (
        graph(("a",), a={"1.0": (), "2.0": (MISSING,)}),
        "ProjectNotFoundError is fatal instead of backtracked over",
    ),
    "missing-project-is-a-resolution-error": (
        graph(("a",), a={"1.0": (MISSING,)}),
        "ProjectNotFoundError escapes instead of ResolutionError",
    ),
    # bt-1.0-1-py3-none-any.whl has no deps, bt-1.0-2-py3-none-any.whl needs w:
    # an installer takes build 2, so the lock must hold w.
    "build-tag-adds-dependency": (
        graph(("bt",), bt={"1.0": Release(rebuilt=("w",))}, w={"1.0": ()}),
        _BUILD,
    ),
    # Build 2 dropped the dependency on b: the lock holds a b nobody needs.
    "build-tag-drops-dependency": (
        graph(("a",), a={"1.0": Release(requires=("b",), rebuilt=())}, b={"1.0": ()}),
        _BUILD,
    ),
    # Build 2 needs w==2.0, which does not exist: no solution, yet a lock.
    "build-tag-lock-for-unsolvable-graph": (
        graph(("bt",), bt={"1.0": Release(rebuilt=("w==2.0",))}, w={"1.0": ()}),
        _BUILD,
    ),
}
