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

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lockgen.provider import Candidate, LockgenProvider, Req

__all__ = ["Exhausted", "search"]


class Exhausted(Exception):  # noqa: N818 - a budget running out, not an error
    """The search used its budget without an answer."""


@dataclass
class _Search:
    provider: LockgenProvider
    budget: int
    pins: dict[str, Candidate] = field(default_factory=dict)
    #: identifier -> requirements on it, in the order they were added
    reqs: dict[str, list[Req]] = field(default_factory=dict)

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
        for candidate in matches:
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
                if not dep.specifier.contains(pinned.version, prereleases=True):
                    return None
            elif not self.provider.versions_allowed(
                [*self.reqs.get(dep.identifier, ()), dep]
            ):
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
) -> dict[str, Candidate] | None:
    """A mapping identifier -> candidate meeting every requirement, or None when
    there is none; raises :class:`Exhausted` after ``budget`` candidate attempts."""
    state = _Search(provider, budget)
    for root in roots:
        state.reqs.setdefault(root.identifier, []).append(root)
    try:
        return dict(state.pins) if state.run() else None
    except RecursionError:  # one frame per pin: a graph deeper than Python allows
        raise Exhausted from None
