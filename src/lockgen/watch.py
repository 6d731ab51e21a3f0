"""What lockgen watches while resolvelib works: final conflicts, and being stuck.

resolvelib backtracks over the last pins even when a conflict involves none of them,
and on some cyclic graphs it re-pins the same candidates round after round until its
round limit. :class:`Watch` sits between resolvelib and the caller's reporter and
stops both: a conflict the inputs alone decide raises :class:`Final`; a candidate
pinned again and again raises :class:`Stuck`, and the caller asks the complete
search instead.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from resolvelib import BaseReporter
from resolvelib.resolvers import ResolutionImpossible

from lockgen.provider import Candidate, Req

if TYPE_CHECKING:
    from collections.abc import Collection

    from packaging.version import Version
    from resolvelib.resolvers import Criterion
    from resolvelib.structs import RequirementInformation, State

    from lockgen.provider import LockgenProvider

__all__ = ["REPINS", "Final", "Stuck", "Watch"]

#: Pins of one candidate after which resolvelib is taken to be going round in circles
#: (a two-project cycle re-pins each of its candidates hundreds of times).
REPINS = 25


class Final(ResolutionImpossible[Req, Candidate]):
    """A conflict the inputs alone decide (see :class:`Watch`): no second opinion."""


class Stuck(Exception):  # noqa: N818 - a state of the search, not an error
    """resolvelib keeps pinning the same candidate: it is going round in circles."""


class Watch(BaseReporter[Req, Candidate, str]):
    """Forwards resolvelib's events, tells the provider about rejected candidates
    (so their successors' metadata is fetched ahead), ends the search at a conflict
    no backtracking can change, and notices resolvelib going round in circles.

    resolvelib backtracks over the last pins even when a conflict involves none of
    them: with ``django<4`` and ``djangorestframework>=3.16`` (every release needs
    ``django>=4.2``), it re-pins each of hundreds of Django releases and retries every
    DRF release against each. A project is *forced* when every solution must hold
    it at the one version ever offered: the user asked for it (or only forced
    candidates did) and it was never narrowed by backtracking, like an ``==`` pin
    and its dependencies. When every candidate of a project F was just rejected,
    every cause comes from the user, from forced candidates or from F's candidates,
    only the user or forced candidates ever asked for F, and no project involved
    was ever narrowed by backtracking, then F's candidates and the requirements they
    clash with are fixed by the inputs alone: no other choice of pins changes them, so
    the conflict is final (apache-airflow==2.10.5, whose python-nvd3 is an sdist
    lockgen cannot read yet, gave up after 20000 rounds; now it says so at once).
    """

    def __init__(
        self,
        provider: LockgenProvider,
        inner: BaseReporter[Req, Candidate, str],
        stuck_after: int | None = REPINS,
    ) -> None:
        self._provider = provider
        self._inner = inner
        self._stuck_after = stuck_after
        self._pins: Counter[tuple[str, Version]] = Counter()
        #: The project whose candidates were rejected in this round.
        self._failing: str | None = None

    def starting(self) -> None:
        self._inner.starting()

    def starting_round(self, index: int) -> None:
        self._failing = None
        self._inner.starting_round(index)

    def ending_round(self, index: int, state: State[Req, Candidate, str]) -> None:
        self._inner.ending_round(index, state)

    def ending(self, state: State[Req, Candidate, str]) -> None:
        self._inner.ending(state)

    def adding_requirement(self, requirement: Req, parent: Candidate | None) -> None:
        self._inner.adding_requirement(requirement, parent)

    def rejecting_candidate(
        self, criterion: Criterion[Req, Candidate], candidate: Candidate
    ) -> None:
        self._inner.rejecting_candidate(criterion, candidate)
        self._failing = candidate.identifier
        self._provider.rejected(candidate)

    def pinning(self, candidate: Candidate) -> None:
        self._inner.pinning(candidate)
        key = (candidate.identifier, candidate.version)
        self._pins[key] += 1
        if self._stuck_after is not None and self._pins[key] > self._stuck_after:
            raise Stuck

    def resolving_conflicts(
        self, causes: Collection[RequirementInformation[Req, Candidate]]
    ) -> None:
        self._inner.resolving_conflicts(causes)
        if self._failing is not None and _is_final(
            causes, self._failing, self._provider
        ):
            raise Final(list(causes))


def _is_final(
    causes: Collection[RequirementInformation[Req, Candidate]],
    failing: str,
    provider: LockgenProvider,
) -> bool:
    """See :class:`Watch`: whether the inputs alone decide this conflict, in
    which every candidate of ``failing`` was rejected."""
    if failing in provider.backtracked or any(
        c.requirement.identifier in provider.backtracked for c in causes
    ):
        return False
    forced = _Forced(provider)
    parents = {c.parent.identifier for c in causes if c.parent is not None}
    return all(forced(parent) for parent in parents - {failing}) and all(
        parent is None or forced(parent.identifier)
        for _, parent in provider.required_by.get(failing, {})
    )


class _Forced:
    """Whether every solution must hold a project at one version: the user (or
    forced candidates) asked for it with requirements that, alone, allow exactly
    one version (an ``==`` pin, and its dependencies' pins), and backtracking
    never narrowed it. Other askers can only take that version away. Memoised for
    one question; a cycle counts as not forced."""

    def __init__(self, provider: LockgenProvider) -> None:
        self._provider = provider
        self._known: dict[str, bool] = {}

    def __call__(self, identifier: str) -> bool:
        known = self._known.get(identifier)
        if known is None:
            self._known[identifier] = False  # while deciding: a cycle is not forced
            known = self._known[identifier] = self._decide(identifier)
        return known

    def _decide(self, identifier: str) -> bool:
        provider = self._provider
        if identifier in provider.backtracked:
            return False
        fixed = [
            req
            for req, parent in provider.required_by.get(identifier, {})
            if parent is None or self(parent.identifier)
        ]
        return bool(fixed) and len(provider.versions_allowed(fixed)) == 1
