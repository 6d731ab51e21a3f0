"""Every resolution scenario through the real CLI and a real index server, not the fake repository.

tests/unit/test_resolve_scenarios.py checks the resolver on plain values; this checks that
the same files, served over HTTP as wheels and sdists, give the same pins end to end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.lockcheck import check_lock
from tests.support.scenarios import (
    PLATFORM,
    Scenario,
    load_scenarios,
    scenario_dists,
)
from tests.support.wheels import Dist

Run = Callable[..., Result]

SCENARIOS = {scenario.name: scenario for scenario in load_scenarios()}
#: Also run on the range-request path: extras, deep backtracking, sdists and tags.
RANGE_TOO = ("backtracking_deep", "extras", "no_binary", "wheel_tags")
CASES = [pytest.param(name, True, id=f"{name}-pep658") for name in SCENARIOS] + [
    pytest.param(name, False, id=f"{name}-range") for name in RANGE_TOO
]


@functools.cache
def _dists(name: str) -> tuple[Dist, ...]:
    """Build a scenario's files once per session (both parametrizations share them)."""
    return tuple(scenario_dists(SCENARIOS[name]))


def _lines(path: Path, lines: list[str]) -> str:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path.name


def _args(scenario: Scenario, tmp_path: Path, index_url: str) -> list[str]:
    """The command line a user would type for this scenario."""
    args = ["lock", _lines(tmp_path / "requirements.in", scenario.requires)]
    if scenario.constraints:
        args += ["-c", _lines(tmp_path / "constraints.txt", scenario.constraints)]
    args += ["-i", index_url, "--python-version", scenario.python]
    args += ["--platform", PLATFORM]
    if scenario.pre:
        args.append("--pre")
    if scenario.only_binary:
        args += ["--only-binary", ",".join(scenario.only_binary)]
    if scenario.no_binary:
        args += ["--no-binary", ",".join(scenario.no_binary)]
    return args


def _expected_source(package: dict[str, Any], pep658: bool) -> str:
    """How lockgen must have read this package's metadata, given its files (as ``-v``
    says it: the lock does not record it, since it may depend on timing)."""
    if "wheels" not in package:
        return "metadata from the sdist's PKG-INFO"
    return "metadata from PEP 658 file" if pep658 else "metadata by range requests"


@pytest.mark.parametrize(("name", "pep658"), CASES)
def test_scenario_through_cli(
    name: str, pep658: bool, make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    scenario = SCENARIOS[name]
    server = make_server(_dists(name), pep658=pep658)
    result = lockgen(*_args(scenario, tmp_path, server.index_url), "-v")
    if scenario.expected_conflict is not None:
        assert result.exit_code == 1, result.output
        missing = [n for n in scenario.expected_conflict if n not in result.stderr]
        assert missing == [], result.stderr
        assert not (tmp_path / "pylock.toml").exists()
        return
    assert result.exit_code == 0, result.output
    lock = check_lock(tmp_path / "pylock.toml")
    pins = {p["name"]: p["version"] for p in lock["packages"]}
    assert pins == scenario.expected_pins
    for package in lock["packages"]:
        read = f"{package['tool']['lockgen']['metadata-file']}: "
        assert read + _expected_source(package, pep658) in result.stderr
    assert server.errors == []
