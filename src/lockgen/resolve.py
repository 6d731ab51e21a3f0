"""Run resolvelib over the provider and turn its answer into pins or a readable error.

A pin is one project at one version with everything the lock needs about it: all of
that version's files on the index (not only the target's), the metadata the resolver
used, and the names it depends on. Conflicts become sentences naming each conflicting
requirement and who asked for it, the way pip's "The conflict is caused by" does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvelib import BaseReporter
from resolvelib.resolvers import Resolution, ResolutionImpossible, ResolutionTooDeep

from lockgen.errors import ResolutionError
from lockgen.explain import explain
from lockgen.models import DistKind, parse_filename
from lockgen.provider import (
    Candidate,
    LockgenProvider,
    Lookahead,
    Policy,
    Req,
    Selector,
)
from lockgen.search import Exhausted, search

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.resolvers import Criterion
    from resolvelib.structs import RequirementInformation, State

    from lockgen.environment import Target
    from lockgen.models import CoreMetadata, DistFile
    from lockgen.repository import Repository

__all__ = ["Pin", "resolve"]

#: A bound on resolvelib's rounds, so a pathological graph ends with an explanation.
#: Real conflicts end in far fewer: each round pins or rejects one candidate.
_MAX_ROUNDS = 20000
#: Candidate attempts the complete search may make to double-check "impossible".
_SEARCH_BUDGET = 5000


@dataclass(frozen=True, kw_only=True, slots=True)
class Pin:
    """A resolved project: what the lock records for it."""

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]
    metadata: CoreMetadata
    dependencies: tuple[NormalizedName, ...]


def resolve(
    roots: Sequence[Req],
    repository: Repository,
    target: Target,
    policy: Policy,
    reporter: BaseReporter[Req, Candidate, str] | None = None,
    lookahead: Lookahead | None = None,
    selector: Selector | None = None,
) -> list[Pin]:
    """Resolve ``roots`` for ``target``; pins sorted by name.

    ``lookahead`` hears every requirement as soon as it is known (roots first), for
    prefetching; it must not change any answer. A prefetcher passes its own
    ``selector`` (same target and policy) so the two share one memo of ranked files.

    resolvelib's own result builder walks the graph recursively and matches parents
    by object identity (a cycle overflows the stack; a re-created candidate loses
    its children), so the pins are rebuilt here from the final mapping: the
    closure of the roots over each pin's dependencies, every edge checked.
    """
    if lookahead is not None:
        lookahead.requirements(roots)
    provider = LockgenProvider(
        repository, selector or Selector(target, policy), lookahead
    )
    provider.note_roots(roots)
    resolution: Resolution[Req, Candidate, str] = Resolution(
        provider, _Watch(provider, reporter or BaseReporter())
    )
    try:
        mapping: Mapping[str, Candidate] = resolution.resolve(
            roots, max_rounds=_MAX_ROUNDS
        ).mapping
    except ResolutionImpossible as exc:
        causes: Collection[RequirementInformation[Req, Candidate]] = exc.causes
        for cause in causes:  # a project you named that no index has: say just that
            missing = provider.missing.get(cause.requirement.name)
            if cause.parent is None and missing is not None:
                raise missing from exc
        found = None if isinstance(exc, _Final) else _second_opinion(roots, provider)
        if found is None:
            lines = explain(causes, provider, repository, policy)
            raise ResolutionError(lines) from exc
        mapping = found
    except ResolutionTooDeep as exc:
        found = _second_opinion(roots, provider)
        if found is None:
            causes = resolution.state.backtrack_causes
            last = explain(causes, provider, repository, policy)
            gave_up = f"gave up after {exc.round_count} rounds of backtracking"
            raise ResolutionError([gave_up, *last]) from exc
        mapping = found
    return _pins(_closure(mapping, roots, provider), provider, repository, policy)


def _second_opinion(
    roots: Sequence[Req], provider: LockgenProvider
) -> dict[str, Candidate] | None:
    """A solution resolvelib missed, from the complete bounded search (None when
    there is none, or the budget ran out: then resolvelib's answer stands)."""
    try:
        return search(roots, provider, _SEARCH_BUDGET)
    except Exhausted:
        return None


class _Final(ResolutionImpossible[Req, Candidate]):
    """A conflict the inputs alone decide (see :class:`_Watch`): no second opinion."""


def _closure(
    mapping: Mapping[str, Candidate], roots: Sequence[Req], provider: LockgenProvider
) -> dict[NormalizedName, tuple[Candidate, set[NormalizedName]]]:
    """Every project the roots need through the pins, with its dependencies' names.

    A requirement the pins do not meet is an error, never a lock: resolvelib's
    answer is checked, not trusted.
    """
    found: dict[NormalizedName, tuple[Candidate, set[NormalizedName]]] = {}
    seen: set[str] = set()
    stack: list[tuple[Req, Candidate | None]] = [(r, None) for r in roots]
    while stack:
        req, parent = stack.pop()
        pin = mapping.get(req.identifier)
        if pin is None or not req.specifier.contains(pin.version, prereleases=True):
            raise _unsound(req, parent, pin)
        if parent is not None and pin.name != parent.name:
            found[parent.name][1].add(pin.name)
        if req.identifier in seen:
            continue
        seen.add(req.identifier)
        if found.setdefault(pin.name, (pin, set()))[0].version != pin.version:
            raise _unsound(req, parent, pin)
        stack += [(dep, pin) for dep in provider.dependencies(pin)]
    for name, (pin, _) in found.items():
        for constraint in provider.selector.policy.constraints.get(name, ()):
            if not constraint.specifier.contains(pin.version, prereleases=True):
                raise _unsound(constraint, None, pin)
    return found


def _unsound(
    req: Req, parent: Candidate | None, pin: Candidate | None
) -> ResolutionError:
    who = "the inputs" if parent is None else f"{parent.name} {parent.version}"
    got = "nothing" if pin is None else f"{pin.name} {pin.version}"
    reason = (
        f"internal error: the resolver's answer does not satisfy {req.text} "
        f"(required by {who}; pinned: {got}); no lock was written"
    )
    return ResolutionError([reason])


def _pins(
    found: Mapping[NormalizedName, tuple[Candidate, set[NormalizedName]]],
    provider: LockgenProvider,
    repository: Repository,
    policy: Policy,
) -> list[Pin]:
    return [
        Pin(
            name=name,
            version=pin.version,
            files=_lock_files(repository, name, pin.version, policy),
            metadata=provider.metadata[(name, pin.version)],
            dependencies=tuple(sorted(deps)),
        )
        for name, (pin, deps) in sorted(found.items())
    ]


def _lock_files(
    repository: Repository, name: NormalizedName, version: Version, policy: Policy
) -> tuple[DistFile, ...]:
    """Every wheel of the version plus one sdist, as the format control allows.

    Yanked files only when the version has nothing else (it was pinned with ``==``).
    """
    control = policy.format_control
    files: list[DistFile] = []
    for dist in repository.list_files(name):
        parsed = parse_filename(dist.filename)
        if parsed is None or parsed.name != name or parsed.version != version:
            continue
        wheel = parsed.kind is DistKind.WHEEL
        if control.allows_wheel(name) if wheel else control.allows_sdist(name):
            files.append(dist)
    live = [d for d in files if not d.yanked] or files
    wheels = sorted((d for d in live if d.filename.endswith(".whl")), key=_by_name)
    sdists = sorted((d for d in live if _is_sdist(d)), key=_sdist_preference)
    return (*wheels, *sdists[:1])


def _by_name(dist: DistFile) -> str:
    return dist.filename


def _is_sdist(dist: DistFile) -> bool:
    parsed = parse_filename(dist.filename)
    return parsed is not None and parsed.kind is DistKind.SDIST


def _sdist_preference(dist: DistFile) -> tuple[bool, str]:
    return (not dist.filename.endswith(".tar.gz"), dist.filename)


class _Watch(BaseReporter["Req", "Candidate", str]):
    """Forwards resolvelib's events, tells the provider about rejected candidates
    (so their successors' metadata is fetched ahead), and ends the search at a
    conflict no backtracking can change.

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
        self, provider: LockgenProvider, inner: BaseReporter[Req, Candidate, str]
    ) -> None:
        self._provider = provider
        self._inner = inner
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

    def resolving_conflicts(
        self, causes: Collection[RequirementInformation[Req, Candidate]]
    ) -> None:
        self._inner.resolving_conflicts(causes)
        if self._failing is not None and _is_final(
            causes, self._failing, self._provider
        ):
            raise _Final(list(causes))


def _is_final(
    causes: Collection[RequirementInformation[Req, Candidate]],
    failing: str,
    provider: LockgenProvider,
) -> bool:
    """See :class:`_Watch`: whether the inputs alone decide this conflict, in
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
