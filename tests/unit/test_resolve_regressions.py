"""The shrunk graph of every resolver failure class found by the property test.

Each graph failed before the fix for its class (the reason says what lockgen did
and which fix answers it); all must pass now. tests/support/graph_examples.py
holds the graphs.
"""

from __future__ import annotations

import pytest

from tests.support.graph_check import lock, verdict
from tests.support.graph_examples import KNOWN_FAILURES, KNOWN_GOOD
from tests.support.graphs import Graph


@pytest.mark.parametrize("graph", KNOWN_GOOD.values(), ids=KNOWN_GOOD.keys())
def test_known_good(graph: Graph) -> None:
    assert verdict(graph) == []


@pytest.mark.parametrize(
    "graph",
    [pytest.param(graph, id=name) for name, (graph, _) in KNOWN_FAILURES.items()],
)
def test_known_failure_is_fixed(graph: Graph) -> None:
    assert verdict(graph) == []


def test_rounds_are_counted() -> None:
    """The round bound in verdict() rests on this count being real."""
    outcome = lock(KNOWN_GOOD["backtrack-to-older-root"])
    assert outcome.pins is not None
    assert 3 <= outcome.rounds < 20
