"""The resolvelib provider: answers resolvelib's six questions for one target.

The split follows pip's: this module only adapts lockgen's policy to resolvelib.
What a requirement or a candidate *is* lives in :mod:`lockgen.resolver.values`;
which files are usable and in what order versions are tried is
:mod:`lockgen.resolver.selection`'s; everything learnt from indexes comes through
the Repository seam. What this module adds:

- a distribution whose Requires-Python excludes the target depends on the
  pseudo-project ``<python>``, which never has a candidate: the release is rejected
  and backtracked over like any conflict, and the conflict names its Requires-Python;
- a release whose metadata lockgen cannot use depends on ``<unusable>``, likewise;
- a project that no index has has no candidates (the release that needs it is
  backtracked over, as pip and uv do); :attr:`LockgenProvider.missing` remembers it
  so the explanation can say so;
- pinned requirements are decided first, then the causes of the last backtrack;
- a project the user gave a direct reference for has that one candidate, read
  before resolving (pip's precedence): no index is asked about it.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Protocol

from packaging.specifiers import SpecifierSet
from resolvelib import AbstractProvider

from lockgen.core.errors import MetadataError, ProjectNotFoundError, UnsupportedError
from lockgen.resolver.offers import Offer
from lockgen.resolver.values import PYTHON, UNUSABLE, Candidate, Direct, Req

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.structs import RequirementInformation

    from lockgen.core.models import CoreMetadata, DistFile
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.selection import Selector

__all__ = ["LockgenProvider", "Lookahead"]


#: Candidates whose metadata is fetched ahead once the resolver rejects or
#: backtracks over one of a project's candidates: it would otherwise read them one
#: by one, each a round trip, while they keep failing (sphinx with docutils>=0.23
#: walks 80 releases).
_AHEAD = 8


class Lookahead(Protocol):
    """What an I/O layer hears so it can fetch ahead; it must not change answers."""

    def requirements(self, reqs: Sequence[Req]) -> None:
        """Requirements just learnt (their projects' pages will be needed)."""

    def candidates(self, files: Sequence[DistFile]) -> None:
        """Files whose metadata the resolver will probably read next."""


class LockgenProvider(AbstractProvider[Req, Candidate, str]):
    """Answers resolvelib's questions from a Repository, for one Target.

    ``lookahead`` (optional) hears about every requirement as soon as it is known,
    and about the next candidates of a project being backtracked over, so an I/O
    layer can start fetching what the resolver will ask for next. What it learns
    on the way (who required what, which versions it offered, which projects no index
    has) is kept for :mod:`lockgen.resolver.explain`, which turns a conflict into sentences.
    """

    def __init__(
        self,
        repository: Repository,
        selector: Selector,
        lookahead: Lookahead | None = None,
        direct: Mapping[NormalizedName, Direct] | None = None,
    ) -> None:
        self._repository = repository
        self._direct = direct or {}
        self._selector = selector
        self._lookahead = lookahead
        self.metadata: dict[tuple[NormalizedName, Version], CoreMetadata] = {}
        self._satisfied: dict[tuple[SpecifierSet, Version], bool] = {}
        #: Projects no index has, with the error that said so.
        self.missing: dict[NormalizedName, ProjectNotFoundError] = {}
        #: identifier -> {(requirement, parent): None}, in the order first seen.
        self.required_by: dict[str, dict[tuple[Req, Candidate | None], None]] = {}
        #: identifier -> every offer find_matches made for it, and the latest.
        self._offered: dict[str, list[Offer]] = {}
        self._offers: dict[str, Offer] = {}
        self._unusable: set[tuple[NormalizedName, Version]] = set()

    @property
    def selector(self) -> Selector:
        """The selection policy (shared with the explanation of conflicts)."""
        return self._selector

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        """Key requirements and candidates by name plus extras."""
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> tuple[bool, bool, str]:
        """Pinned first, then backtrack causes; ties broken by name."""
        pinned = any(info.requirement.is_pinned for info in information[identifier])
        causes = {info.requirement.identifier for info in backtrack_causes}
        return (not pinned, identifier not in causes, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        """Usable versions satisfying every requirement and constraint, best first,
        minus those resolvelib has found incompatible; none for ``<python>`` (only an
        unmet Requires-Python is ever required of it) or a project no index has.

        The candidates are made as resolvelib reaches them (see
        :mod:`lockgen.resolver.offers`); the project's page is read now, so a project
        no index has is known at once.
        """
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        try:
            allowed = self._allowed(reqs, reqs[0].extras) if reqs else iter(())
        except ProjectNotFoundError as exc:
            self.missing[reqs[0].name] = exc
            allowed = iter(())
        offer = Offer(c for c in allowed if c.version not in bad)
        self._offered.setdefault(identifier, []).append(offer)
        self._offers[identifier] = offer
        if bad:
            self._ahead(offer.first(_AHEAD))
        return offer.__iter__

    def offered(self, identifier: str) -> set[Version]:
        """Every version :meth:`find_matches` offered for ``identifier`` (for
        explanations: makes every candidate of those offers)."""
        return {c.version for offer in self._offered.get(identifier, ()) for c in offer}

    def offered_identifiers(self) -> list[str]:
        """The identifiers :meth:`find_matches` was asked about."""
        return list(self._offered)

    def candidates_allowed(
        self, reqs: Sequence[Req], extras: frozenset[NormalizedName]
    ) -> list[Candidate]:
        """The candidates with ``extras`` that ``reqs`` (all on one project) and
        the constraints allow, best first (as :meth:`find_matches`, recording
        nothing); none for a project no index has."""
        try:
            return list(self._allowed(reqs, extras))
        except ProjectNotFoundError:
            return []

    def versions_allowed(
        self, reqs: Sequence[Req], limit: int | None = None
    ) -> list[Version]:
        """The versions :meth:`candidates_allowed` would offer (the first ``limit``)."""
        try:
            allowed = self._allowed(reqs, frozenset())
        except ProjectNotFoundError:
            return []
        return [c.version for c in islice(allowed, limit)]

    def _allowed(
        self, reqs: Sequence[Req], extras: frozenset[NormalizedName]
    ) -> Iterator[Candidate]:
        """Candidates fitting ``reqs`` and the constraints, best first, made as
        iterated; raises ProjectNotFoundError (at once) for a project no index has."""
        name = reqs[0].name
        if name in (PYTHON, UNUSABLE):
            return iter(())
        if name in self._direct or any(r.url for r in reqs):
            return self._direct_candidate(name, reqs, extras)
        usable = self._selector.usable_versions(self._repository, name, reqs)
        return (
            Candidate(name=name, version=version, extras=extras, files=files)
            for version, files in usable
        )

    def _direct_candidate(
        self,
        name: NormalizedName,
        reqs: Sequence[Req],
        extras: frozenset[NormalizedName],
    ) -> Iterator[Candidate]:
        """The direct reference's one candidate, when every requirement and
        constraint admits its version; none otherwise (and none for a
        Requires-Dist's URL when no direct reference was read for the name)."""
        direct = self._direct.get(name)
        if direct is None:
            return iter(())
        version = direct.metadata.version
        constraints = self._selector.policy.constraints.get(name, ())
        fits = all(
            r.specifier.contains(version, prereleases=True)
            for r in (*reqs, *constraints)
        )
        candidate = Candidate(name=name, version=version, extras=extras)
        return iter((candidate,) if fits else ())

    def direct(self, name: NormalizedName) -> Direct | None:
        """The direct reference given for ``name``, if any."""
        return self._direct.get(name)

    def known(self, candidate: Candidate) -> bool:
        """Whether ``candidate``'s metadata was read already (or found unusable):
        its dependencies then cost no request."""
        key = (candidate.name, candidate.version)
        return key in self.metadata or key in self._unusable

    def rejected(self, candidate: Candidate) -> None:
        """resolvelib rejected ``candidate``: its successors will be tried next."""
        offer = self._offers.get(candidate.identifier)
        if offer is not None:
            self._ahead(offer.after(candidate, _AHEAD))

    def fetch_ahead(self, candidates: Sequence[Candidate]) -> None:
        """Have the lookahead read these candidates' metadata, all at once."""
        if self._lookahead is not None:
            self._lookahead.candidates([c.files[0] for c in candidates if c.files])

    def _ahead(self, candidates: Sequence[Candidate]) -> None:
        if self._lookahead is not None:
            ahead = candidates[:_AHEAD]
            self._lookahead.candidates([c.files[0] for c in ahead if c.files])

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        """Whether ``candidate``'s version fits ``requirement`` (pre-releases allowed).

        Memoised: resolvelib re-checks every pin against every requirement each round.
        """
        key = (requirement.specifier, candidate.version)
        known = self._satisfied.get(key)
        if known is None:
            known = requirement.specifier.contains(candidate.version, prereleases=True)
            self._satisfied[key] = known
        return known

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        """The candidate's Requires-Dist for the target (see :meth:`dependencies`)."""
        deps = self.dependencies(candidate)
        for dep in deps:
            self.required_by.setdefault(dep.identifier, {})[(dep, candidate)] = None
        if self._lookahead is not None:
            self._lookahead.requirements(
                [d for d in deps if d.name not in self._direct]
            )
        return deps

    def dependencies(self, candidate: Candidate) -> list[Req]:
        """What ``candidate`` needs: its base version for an extras candidate, then
        its Requires-Dist for the target; or, when its Requires-Python excludes the
        target, only that (a ``<python>`` requirement nothing can satisfy); or, when
        its metadata cannot be used, an ``<unusable>`` requirement saying why."""
        try:
            metadata = self._metadata(candidate)
            spec = metadata.requires_python
            if spec is not None and not self._selector.python_ok(spec):
                return [Req(name=PYTHON, specifier=spec, text=f"Python{spec}")]
            requires = self._selector.requires(metadata, candidate.extras)
        except (MetadataError, UnsupportedError) as exc:
            self._unusable.add((candidate.name, candidate.version))
            # the reason without the file name, so releases failing alike group
            label = candidate.files[0].filename if candidate.files else candidate.name
            reason = str(exc).removeprefix(f"{label}: ")
            return [Req(name=UNUSABLE, text=reason)]
        if candidate.extras:
            base = Req(
                name=candidate.name,
                specifier=SpecifierSet(f"=={candidate.version}"),
                text=f"{candidate.name}=={candidate.version}",
            )
            requires.insert(0, base)
        return requires

    def note_roots(self, roots: Iterable[Req]) -> None:
        """Record the user's requirements as required by nobody (for explanations)."""
        for root in roots:
            self.required_by.setdefault(root.identifier, {})[(root, None)] = None

    def _metadata(self, candidate: Candidate) -> CoreMetadata:
        key = (candidate.name, candidate.version)
        if key not in self.metadata:
            direct = self._direct.get(candidate.name)
            self.metadata[key] = (
                direct.metadata
                if direct is not None
                else self._repository.get_metadata(candidate.files[0])
            )
        return self.metadata[key]
