"""A complete, bounded backtracking search: the second opinion on "impossible".

resolvelib's backjumping can skip the one decision that would resolve a conflict and
report a solvable graph as impossible (sarugaku/resolvelib#206, open: it happens
under every preference and every optimistic-backjumping ratio). When resolvelib says
impossible and the conflict was not proven final by the inputs alone, lockgen asks
this search: plain depth-first search with chronological backtracking and no learnt
shortcuts, so it misses no solution, over the same provider (the same candidates,
the same metadata, already fetched). It is bounded by a number of candidate
attempts; past that, resolvelib's answer stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resolvelib.structs import RequirementInformation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lockgen.resolver.provider import LockgenProvider
    from lockgen.resolver.values import Candidate, Req

__all__ = ["Exhausted", "NoSolution", "search"]

#: Conflicts kept for the explanation when there is no solution (the latest).
_KEPT = 12


class Exhausted(Exception):  # noqa: N818 - a budget running out, not an error
    """The search used its budget without an answer."""


class NoSolution(Exception):  # noqa: N818 - an answer, not an error
    """Every combination was tried; ``causes`` are the latest conflicts met, as
    (requirement, candidate that required it) pairs, for the explanation."""

    def __init__(self, causes: list[RequirementInformation[Req, Candidate]]) -> None:
        super().__init__(len(causes))
        self.causes = causes


@dataclass
class _Search:
    provider: LockgenProvider
    budget: int
    pins: dict[str, Candidate] = field(default_factory=dict)
    #: identifier -> requirements on it, in the order they were added
    reqs: dict[str, list[Req]] = field(default_factory=dict)
    conflicts: dict[RequirementInformation[Req, Candidate], None] = field(
        default_factory=dict
    )

    def run(self) -> bool:
        """Extend the pins until every requirement is met; False if none can."""
        open_ids = [i for i in self.reqs if i not in self.pins]
        if not open_ids:
            return True
        identifier = open_ids[0]
        reqs = self.reqs[identifier]
        matches = self.provider.find_matches(
            identifier, {identifier: iter(reqs)}, {identifier: iter(())}
        )
        for candidate in matches():
            self.budget -= 1
            if self.budget < 0:
                raise Exhausted
            added = self._pin(identifier, candidate)
            if added is not None:
                if self.run():
                    return True
                self._unpin(identifier, added)
        return False

    def _pin(self, identifier: str, candidate: Candidate) -> list[str] | None:
        """Pin ``candidate`` if its dependencies fit the pins so far; returns the
        identifiers whose requirement lists grew (to undo), or None."""
        deps = self.provider.dependencies(candidate)
        for dep in deps:
            pinned = self.pins.get(dep.identifier)
            if pinned is not None:
                fits = dep.specifier.contains(pinned.version, prereleases=True)
            else:
                others = self.reqs.get(dep.identifier, [])
                fits = bool(self.provider.versions_allowed([*others, dep], 1))
            if not fits:
                self.conflicts.pop(RequirementInformation(dep, candidate), None)
                self.conflicts[RequirementInformation(dep, candidate)] = None
                return None
        self.pins[identifier] = candidate
        grown = []
        for dep in deps:
            self.reqs.setdefault(dep.identifier, []).append(dep)
            grown.append(dep.identifier)
        return grown

    def _unpin(self, identifier: str, grown: list[str]) -> None:
        del self.pins[identifier]
        for dep_id in reversed(grown):
            self.reqs[dep_id].pop()
            if not self.reqs[dep_id]:
                del self.reqs[dep_id]


def search(
    roots: Sequence[Req], provider: LockgenProvider, budget: int
) -> dict[str, Candidate]:
    """A mapping identifier -> candidate meeting every requirement; raises
    :class:`NoSolution` when there is none, :class:`Exhausted` after ``budget``
    candidate attempts."""
    state = _Search(provider, budget)
    for root in roots:
        state.reqs.setdefault(root.identifier, []).append(root)
    try:
        solved = state.run()
    except RecursionError:  # one frame per pin: a graph deeper than Python allows
        raise Exhausted from None
    if not solved:
        raise NoSolution(list(state.conflicts)[-_KEPT:])
    return dict(state.pins)
