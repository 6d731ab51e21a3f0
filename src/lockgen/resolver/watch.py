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
from dataclasses import replace
from typing import TYPE_CHECKING

from resolvelib import BaseReporter
from resolvelib.resolvers import ResolutionImpossible
from resolvelib.structs import RequirementInformation

from lockgen.resolver.values import PYTHON, UNUSABLE, Candidate, Req

if TYPE_CHECKING:
    from collections.abc import Collection

    from packaging.version import Version
    from resolvelib.resolvers import Criterion
    from resolvelib.structs import State

    from lockgen.resolver.provider import LockgenProvider

__all__ = ["REPINS", "Final", "Stuck", "Watch"]

#: Pins of one candidate after which resolvelib is taken to be going round in circles
#: (a two-project cycle re-pins each of its candidates hundreds of times).
REPINS = 25
#: Candidates with unread metadata the finality check may read (in parallel).
_UNKNOWN = 64


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
        if self._failing is not None:
            final = _final_causes(self._failing, causes, self._provider)
            if final is not None:
                raise Final(final)


def _final_causes(
    failing: str,
    causes: Collection[RequirementInformation[Req, Candidate]],
    provider: LockgenProvider,
) -> list[RequirementInformation[Req, Candidate]] | None:
    """See :class:`Watch`: when the inputs alone rule out every candidate of a
    project every solution must hold (``failing``, or one whose candidates are
    among the ``causes``), the requirements that do."""
    fixed = _Fixed(provider)
    parents = (c.parent.identifier for c in causes if c.parent is not None)
    for identifier in dict.fromkeys([failing, *parents]):
        found = fixed.rule_out(identifier)
        if found is not None:
            return found
    return None


_Edge = tuple[Req, "Candidate | None"]


class _Fixed:
    """What every solution must satisfy, from the inputs alone, as far as the
    provider has learnt them; memoised for one question.

    *Fixed requirements* on a project are those of the user and of forced
    candidates, plus, for a project whose extra is so required, that extra's
    requirements (``X[e]`` at a version means ``X`` at it). A project is *forced*
    when its fixed requirements allow exactly one version: every solution holds it
    there (an ``==`` pin, and the pins its dependencies make). Other requirements
    can only narrow what these allow, so a candidate whose dependency no version
    allowed by the fixed requirements satisfies is in no solution, and a project
    with fixed requirements and no such candidate makes the inputs unsatisfiable.
    """

    def __init__(self, provider: LockgenProvider) -> None:
        self._provider = provider
        self._forced: dict[str, Version | None] = {}

    def rule_out(
        self, identifier: str
    ) -> list[RequirementInformation[Req, Candidate]] | None:
        """The causes, when every solution needs ``identifier`` and none of its
        candidates allowed by the fixed requirements can be in one (each known:
        only metadata already read is judged); None otherwise."""
        provider = self._provider
        fixed = self.edges(identifier)
        if not fixed:
            return None
        extras = next(
            (req.extras for req, _ in fixed if req.identifier == identifier),
            frozenset(),
        )
        candidates = provider.candidates_allowed([req for req, _ in fixed], extras)
        unknown = [c for c in candidates if not provider.known(c)]
        if len(unknown) > _UNKNOWN:
            return None
        provider.fetch_ahead(unknown)
        causes: dict[_Edge, None] = dict.fromkeys(fixed)
        for candidate in candidates:
            why = self._excluded_by(candidate)
            if why is None:
                return None
            causes.update(dict.fromkeys(why))
        return [RequirementInformation(req, parent) for req, parent in causes]

    def edges(self, identifier: str) -> list[_Edge]:
        """The fixed requirements on ``identifier``, with who asked (see above)."""
        edges = [
            (req, parent)
            for req, parent in self._provider.required_by.get(identifier, {})
            if parent is None or self.forced(parent.identifier) == parent.version
        ]
        if "[" not in identifier:
            edges += [
                edge
                for other in self._provider.required_by
                if other.startswith(identifier + "[")
                for edge in self.edges(other)
            ]
        return edges

    def forced(self, identifier: str) -> Version | None:
        """The one version every solution holds ``identifier`` at, if there is
        one; a cycle counts as not forced."""
        if identifier not in self._forced:
            self._forced[identifier] = None  # while deciding
            fixed = [req for req, _ in self.edges(identifier)]
            allowed = self._provider.versions_allowed(fixed, 2) if fixed else []
            self._forced[identifier] = allowed[0] if len(allowed) == 1 else None
        return self._forced[identifier]

    def _excluded_by(self, candidate: Candidate) -> list[_Edge] | None:
        """The dependency of ``candidate`` that cannot be met under the fixed
        requirements (with those requirements), or a Python it cannot run on, or
        its unusable metadata; None when every dependency can be met."""
        provider = self._provider
        if candidate.extras:  # X[e] at v is X at v: ruled out with it
            base = replace(candidate, extras=frozenset())
            why = self._excluded_by(base)
            if why is not None:
                return why
        for dep in provider.dependencies(candidate):
            if dep.name in (PYTHON, UNUSABLE) or dep.name in provider.missing:
                return [(dep, candidate)]
            fixed = self.edges(dep.identifier)
            if dep.extras:
                fixed += self.edges(dep.identifier.split("[")[0])
            if not provider.versions_allowed([*(req for req, _ in fixed), dep], 1):
                return [(dep, candidate), *fixed]
        return None
