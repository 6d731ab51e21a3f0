"""The resolver on every scenario file, through a fake repository (no sockets)."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from resolvelib import BaseReporter

from lockgen.core.errors import ResolutionError
from lockgen.core.req_options import FormatControl
from lockgen.resolver.resolve import resolve
from lockgen.resolver.selection import Policy
from lockgen.resolver.values import Candidate, Req, root_requirements
from tests.support.scenarios import (
    FakeRepository,
    Scenario,
    load_scenarios,
    scenario_target,
)

SCENARIOS = load_scenarios()


def _policy(scenario: Scenario) -> Policy:
    target = scenario_target(scenario)
    constraints: dict[NormalizedName, list[Req]] = {}
    for req in root_requirements(
        (Requirement(c) for c in scenario.constraints), target.environment()
    ):
        constraints.setdefault(req.name, []).append(req)
    control = FormatControl(
        only_binary=frozenset(_names(scenario.only_binary)),
        no_binary=frozenset(_names(scenario.no_binary)),
    )
    return Policy(constraints=constraints, pre=scenario.pre, format_control=control)


def _names(values: list[str]) -> list[str]:
    return [v if v.startswith(":") else canonicalize_name(v) for v in values]


class RoundCounter(BaseReporter[Req, Candidate, str]):
    """Counts resolvelib's rounds: the cost measure a scenario bounds."""

    def __init__(self) -> None:
        self.rounds = 0

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1


def run_scenario(
    scenario: Scenario,
    repository: FakeRepository,
    reporter: RoundCounter | None = None,
) -> dict[str, str]:
    target = scenario_target(scenario)
    roots: list[Req] = root_requirements(
        (Requirement(r) for r in scenario.requires), target.environment()
    )
    pins = resolve(roots, repository, target, _policy(scenario), reporter)
    return {pin.name: str(pin.version) for pin in pins}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    repository = FakeRepository(scenario)
    rounds = RoundCounter()
    if scenario.expected_conflict is not None:
        with pytest.raises(ResolutionError) as info:
            run_scenario(scenario, repository, rounds)
        message = str(info.value)
        for name in scenario.expected_conflict:
            assert name in message
        for text in scenario.expected_explanation:
            assert text in message
        assert "rounds of backtracking" not in message
    else:
        assert run_scenario(scenario, repository, rounds) == scenario.expected_pins
    assert rounds.rounds <= scenario.max_rounds
    if scenario.max_metadata is not None:
        read = [c for c in repository.calls if c[0] == "get_metadata"]
        assert len(read) <= scenario.max_metadata, read


def test_scenarios_exist() -> None:
    assert len(SCENARIOS) >= 10
