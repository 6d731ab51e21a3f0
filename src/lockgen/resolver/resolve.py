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

from lockgen.core.errors import ResolutionError
from lockgen.resolver.explain import explain
from lockgen.resolver.provider import LockgenProvider
from lockgen.resolver.search import Exhausted, NoSolution, search
from lockgen.resolver.selection import Selector
from lockgen.resolver.watch import REPINS, Final, Stuck, Watch

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.structs import RequirementInformation

    from lockgen.core.environment import Target
    from lockgen.core.models import CoreMetadata, DirectSource, DistFile
    from lockgen.resolver.provider import Lookahead
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.selection import Policy
    from lockgen.resolver.values import Candidate, Direct, Req

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
    #: Where a direct reference's distribution is (``files`` is then empty).
    direct: DirectSource | None = None


def resolve(
    roots: Sequence[Req],
    repository: Repository,
    target: Target,
    policy: Policy,
    reporter: BaseReporter[Req, Candidate, str] | None = None,
    lookahead: Lookahead | None = None,
    selector: Selector | None = None,
    direct: Mapping[NormalizedName, Direct] | None = None,
) -> list[Pin]:
    """Resolve ``roots`` for ``target``; pins sorted by name.

    ``lookahead`` hears every requirement as soon as it is known (roots first), for
    prefetching; it must not change any answer. A prefetcher passes its own
    ``selector`` (same target and policy) so the two share one memo of ranked files.
    ``direct``: the user's direct references, read already, by project.

    resolvelib's own result builder walks the graph recursively and matches parents
    by object identity (a cycle overflows the stack; a re-created candidate loses
    its children), so the pins are rebuilt here from the final mapping: the
    closure of the roots over each pin's dependencies, every edge checked.
    """
    direct = direct or {}
    if lookahead is not None:
        lookahead.requirements([r for r in roots if r.name not in direct])
    provider = LockgenProvider(
        repository, selector or Selector(target, policy), lookahead, direct
    )
    provider.note_roots(roots)
    run = _Run(roots, provider, repository, reporter or BaseReporter())
    try:
        found = _closure(run.mapping(), roots, provider)
    except _UnsoundError:
        # resolvelib can drop a pinned candidate's requirement when it re-pins a
        # project that candidate asked for, and answer with pins that break it;
        # the complete search answers instead (its own answer is checked too)
        found = _closure(run.searched_instead(), roots, provider)
    return _pins(found, provider, repository)


@dataclass(frozen=True)
class _Run:
    """One resolution: resolvelib first, the complete search where it may be wrong."""

    roots: Sequence[Req]
    provider: LockgenProvider
    repository: Repository
    reporter: BaseReporter[Req, Candidate, str]

    def mapping(self) -> Mapping[str, Candidate]:
        """identifier -> candidate for a solution, or a ResolutionError saying why
        there is none. resolvelib stuck re-pinning the same candidates hands over to
        the search; if the search's budget runs out, resolvelib runs to its end."""
        try:
            return self._resolvelib(stuck_after=REPINS)
        except Stuck:
            try:
                return self._searched(None)
            except Exhausted:
                return self._resolvelib(stuck_after=None)

    def searched_instead(self) -> Mapping[str, Candidate]:
        """The complete search's answer, when resolvelib's failed its check; if
        the search's budget runs out, that failure is the error."""
        try:
            return self._searched(None)
        except Exhausted:
            reason = (
                "the resolver's answer failed its consistency check and the "
                f"complete search gave up after {_SEARCH_BUDGET} candidates; "
                "no lock was written"
            )
            raise ResolutionError([reason]) from None

    def _resolvelib(self, stuck_after: int | None) -> Mapping[str, Candidate]:
        watch = Watch(self.provider, self.reporter, stuck_after)
        resolution: Resolution[Req, Candidate, str] = Resolution(self.provider, watch)
        try:
            return resolution.resolve(self.roots, max_rounds=_MAX_ROUNDS).mapping
        except ResolutionImpossible as exc:
            causes: Collection[RequirementInformation[Req, Candidate]] = exc.causes
            for cause in causes:  # a project you named that no index has: just that
                missing = self.provider.missing.get(cause.requirement.name)
                if cause.parent is None and missing is not None:
                    raise missing from exc
            if isinstance(exc, Final) or self._root_unmet(causes):
                raise self._error(causes) from exc
            try:
                return self._searched(causes)
            except Exhausted:
                raise self._error(causes) from exc
        except ResolutionTooDeep as exc:
            try:
                return self._searched(None)
            except Exhausted:
                causes = resolution.state.backtrack_causes
                gave_up = f"gave up after {exc.round_count} rounds of backtracking"
                raise self._error(causes, gave_up) from exc

    def _root_unmet(
        self, causes: Collection[RequirementInformation[Req, Candidate]]
    ) -> bool:
        """Whether a project you named has no version your requirements on it (and
        the constraints) allow, whatever else is pinned: then no search can help
        (``rich==99`` beside ``requests``: the search would try every requests)."""
        for cause in causes:
            if cause.parent is not None:
                continue
            identifier = self.provider.identify(cause.requirement)
            mine = [r for r in self.roots if self.provider.identify(r) == identifier]
            matches = self.provider.find_matches(
                identifier, {identifier: iter(mine)}, {identifier: iter(())}
            )
            if next(matches(), None) is None:
                return True
        return False

    def _searched(
        self, causes: Collection[RequirementInformation[Req, Candidate]] | None
    ) -> dict[str, Candidate]:
        """The complete search's solution. When there is none, a ResolutionError
        explaining ``causes`` (resolvelib's, usually the clearest) or else the
        conflicts the search met; :class:`Exhausted` past its budget."""
        try:
            return search(self.roots, self.provider, _SEARCH_BUDGET)
        except NoSolution as none:
            raise self._error(causes or none.causes) from None

    def _error(
        self, causes: Collection[RequirementInformation[Req, Candidate]], *first: str
    ) -> ResolutionError:
        lines = explain(causes, self.provider, self.repository)
        return ResolutionError([*first, *lines])


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


class _UnsoundError(ResolutionError):
    """Pins that do not meet a requirement: never written, answered again."""


def _unsound(
    req: Req, parent: Candidate | None, pin: Candidate | None
) -> _UnsoundError:
    who = "the inputs" if parent is None else f"{parent.name} {parent.version}"
    got = "nothing" if pin is None else f"{pin.name} {pin.version}"
    reason = (
        f"internal error: the answer does not satisfy {req.text} "
        f"(required by {who}; pinned: {got}); no lock was written"
    )
    return _UnsoundError([reason])


def _pins(
    found: Mapping[NormalizedName, tuple[Candidate, set[NormalizedName]]],
    provider: LockgenProvider,
    repository: Repository,
) -> list[Pin]:
    pins = []
    for name, (pin, deps) in sorted(found.items()):
        direct = provider.direct(name)
        pins.append(
            Pin(
                name=name,
                version=pin.version,
                files=()
                if direct is not None
                else provider.selector.lock_files(repository, name, pin.version),
                metadata=provider.metadata[(name, pin.version)],
                dependencies=tuple(sorted(deps)),
                direct=None if direct is None else direct.source,
            )
        )
    return pins
