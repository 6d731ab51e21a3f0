"""lockgen's resolver against brute force, on small generated dependency graphs.

Every graph (tests/support/graphs.py) is locked through the fake repository and
solved exhaustively (tests/support/graph_check.py): lockgen must lock exactly the
solvable ones, with a valid lock holding only what the roots reach, raise nothing
but ResolutionError, and take fewer than MAX_ROUNDS resolver rounds.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable

from hypothesis import HealthCheck, example, given, settings
from packaging.utils import NormalizedName

from tests.support.graph_check import (
    MAX_ROUNDS,
    failure_classes,
    lock,
    minimize,
    problems,
    solutions,
)
from tests.support.graph_examples import KNOWN_FAILURES, graph
from tests.support.graphs import (
    BUILD_1,
    BUILD_2,
    MISSING,
    Graph,
    Release,
    graphs,
    random_graph,
)

#: Graphs per run of the property test: about 3-4 s on one core once it passes.
EXAMPLES = 500
#: Graphs in the seeded sweep: about 5 s on one core.
SWEEP = 2000


def _with_known_failures(
    test: Callable[[Graph], None],
) -> Callable[[Graph], None]:
    """Replay every known failure's graph before generating new ones."""
    for known, _ in KNOWN_FAILURES.values():
        test = example(known)(test)
    return test


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The suite's autouse _hermetic fixture only sets environment variables that
    # the resolver never reads, so sharing it across examples is harmless.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(graphs())
@_with_known_failures
def test_resolver_agrees_with_exhaustive_search(graph: Graph) -> None:
    """500 graphs (derandomized: the same 500 every run) plus the known failures.

    One assertion per failure class, each on its own line, and any unexpected
    exception re-raised with its own traceback: Hypothesis then shrinks and reports
    every distinct class it meets in one run.
    """
    outcome = lock(graph)
    if outcome.crash is not None:
        raise outcome.crash
    assert outcome.rounds < MAX_ROUNDS, "stopped: resolvelib keeps going round"
    solvable = next(solutions(graph), None) is not None
    if outcome.pins is None:
        assert not solvable, f"solvable graph reported unsolvable: {outcome.error}"
    else:
        assert solvable, f"a lock for an unsolvable graph: {outcome.pins}"
        assert problems(graph, outcome.pins) == []


def _fails_with(name: str) -> Callable[[Graph], bool]:
    """What minimize() must keep true: the graph still fails in class ``name``."""
    return lambda graph: name in failure_classes(graph)


def test_seeded_sweep_agrees_with_exhaustive_search() -> None:
    """2000 graphs from a fixed seed, checked the same way; on failure, each
    failure class with its count and its first graph, minimized.

    Hypothesis's generator leans towards simple choices, so the resolvelib bugs
    that need deep backtracking show up about three times less often under it:
    this cheaper sweep over the intended weights is what catches them reliably.
    """
    rng = random.Random(20261201)
    failing: defaultdict[str, list[Graph]] = defaultdict(list)
    for _ in range(SWEEP):
        drawn = random_graph(rng)
        for name in failure_classes(drawn):
            failing[name].append(drawn)
    report = [
        f"{name} ({len(found)} of {SWEEP}), e.g. "
        f"{minimize(found[0], _fails_with(name))!r}"
        for name, found in sorted(failing.items())
    ]
    assert not report, "\n".join(report)


# -- the oracle itself ----------------------------------------------------------


def _solutions(graph: Graph) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in s.items()} for s in solutions(graph)]


def test_oracle_lists_every_reachable_solution() -> None:
    g = graph(
        ("a",),
        a={"1.0": (), "2.0": ("b<2.0",)},
        b={"1.0": (), "2.0": ()},
        c={"1.0": ()},
    )
    assert _solutions(g) == [{"a": "1.0"}, {"a": "2.0", "b": "1.0"}]


def test_oracle_honours_requires_python_and_missing_projects() -> None:
    g = graph(
        ("a",),
        a={"1.0": (), "2.0": (MISSING,), "3.0": Release(requires_python=">=3.12")},
    )
    assert _solutions(g) == [{"a": "1.0"}]


def test_oracle_reads_the_highest_build() -> None:
    g = graph(("a",), a={"1.0": Release(rebuilt=("b",))}, b={"1.0": ()})
    assert _solutions(g) == [{"a": "1.0", "b": "1.0"}]


def test_oracle_finds_no_solution_for_a_conflict() -> None:
    g = graph(("a", "b"), a={"1.0": ("c<2.0",)}, b={"1.0": ("c>=2.0",)}, c={})
    assert _solutions(g) == []


def test_oracle_accepts_a_cycle() -> None:
    g = graph(("a",), a={"1.0": ("b",)}, b={"1.0": ("a",)})
    assert _solutions(g) == [{"a": "1.0", "b": "1.0"}]


def test_the_fake_index_hides_requires_python_and_lists_a_second_build() -> None:
    g = graph(
        ("a",),
        listed_requires_python=False,
        a={"1.0": Release(requires=("b",), requires_python=">=3.12", rebuilt=())},
    )
    files = g.repository().list_files(NormalizedName("a"))
    assert [f.filename for f in files] == [
        f"a-1.0-{BUILD_1}.whl",
        f"a-1.0-{BUILD_2}.whl",
    ]
    assert [f.requires_python for f in files] == [None, None]
    metadata = [g.repository().get_metadata(f) for f in files]
    assert [[str(r) for r in m.requires_dist] for m in metadata] == [["b"], []]
    assert {str(m.requires_python) for m in metadata} == {">=3.12"}


def test_problems_name_a_missing_dependency_and_an_unreachable_pin() -> None:
    g = graph(("a",), a={"1.0": ("b",)}, b={"1.0": ()}, c={"1.0": ()})
    pins = lock(graph(("a", "c"), a={"1.0": ()}, c={"1.0": ()})).pins
    assert pins is not None
    assert problems(g, pins) == [
        "a 1.0 needs b: not locked",
        "a 1.0 records dependencies [], declares ['b']",
        "pins nobody requires: ['c']",
    ]


def test_minimize_keeps_only_what_the_failure_needs() -> None:
    big = graph(
        ("a", "b>=1.0"),
        a={"1.0": ("b",), "2.0": ("c<3.0", "b")},
        b={"1.0": ("c",)},
        c={"1.0": (), "3.0": ()},
    )

    def fails(g: Graph) -> bool:
        return any(
            "c<3.0" in r.requires for v in g.projects.values() for r in v.values()
        )

    small = minimize(big, fails)
    assert small == graph(("a",), a={"2.0": ("c<3.0",)}, c={"3.0": ()})
