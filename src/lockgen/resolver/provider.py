"""The resolvelib provider: candidate selection and dependencies for one target.

The split follows pip's: this module only adapts lockgen's policy to resolvelib's six
questions; what a requirement or a candidate *is* lives in the small value classes
below, and everything it learns from indexes comes through the Repository seam.

Policy, in one place:
- a file is usable when its name parses and matches the project, the format control
  allows its kind, its wheel tags fit the target, and its Requires-Python admits the
  target's Python; yanked files only when the version is pinned with ``==``/``===``;
- versions newest first, except that the existing lock's pin comes first when it still
  fits (pip-tools' semantics: re-locking changes only what must change); pre-releases
  by PEP 440's rule (only when asked for, named by a specifier, or nothing else fits),
  or always with ``--pre``;
- ``name[extra]`` is its own identifier whose candidate depends on ``name==version``,
  as pip does, so extras never split a project into two versions;
- a distribution whose Requires-Python excludes the target depends on the
  pseudo-project ``<python>``, which never has a candidate: the release is rejected
  and backtracked over like any conflict, and the conflict names its Requires-Python;
- a project that no index has has no candidates (the release that needs it is
  backtracked over, as pip and uv do); :attr:`LockgenProvider.missing` remembers it
  so the explanation can say so;
- among a version's wheels the best tag wins, then the highest build tag, as
  installers choose: its METADATA is the one the resolver reads.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from resolvelib import AbstractProvider

from lockgen.core.errors import MetadataError, ProjectNotFoundError, UnsupportedError
from lockgen.core.models import DistKind, parse_filename
from lockgen.core.singleflight import SingleFlight

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from packaging.requirements import Requirement
    from packaging.version import Version
    from resolvelib.structs import RequirementInformation

    from lockgen.core.environment import Target
    from lockgen.core.models import CoreMetadata, DistFile, ParsedFilename
    from lockgen.core.requirements import FormatControl
    from lockgen.resolver.repository import Repository

__all__ = [
    "PYTHON",
    "UNUSABLE",
    "Candidate",
    "LockgenProvider",
    "Lookahead",
    "Policy",
    "Req",
    "Selector",
    "root_requirements",
]

#: Identifier of the pseudo-project that carries Requires-Python constraints.
PYTHON = NormalizedName("<python>")
#: Identifier of the pseudo-project a release lockgen cannot use depends on (its
#: metadata is unreadable or dynamic): like ``<python>``, it has no candidate.
UNUSABLE = NormalizedName("<unusable>")


@dataclass(frozen=True, kw_only=True, slots=True)
class Req:
    """One requirement as the resolver sees it; ``text`` is how it was written."""

    name: NormalizedName
    extras: frozenset[NormalizedName] = frozenset()
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    text: str
    #: Where the user wrote it (``file:line``), for explanations; None for metadata.
    origin: str | None = field(default=None, compare=False)

    @property
    def identifier(self) -> str:
        """``name`` or ``name[extra1,extra2]``: what resolvelib keys its state by."""
        return _identifier(self.name, self.extras)

    @property
    def is_pinned(self) -> bool:
        """``==X`` (no wildcard) or ``===X``: the only way to select a yanked file."""
        return any(
            s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
            for s in self.specifier
        )

    @classmethod
    def from_requirement(
        cls, requirement: Requirement, origin: str | None = None
    ) -> Req:
        """Adapt a PEP 508 requirement (markers are evaluated by the caller)."""
        if requirement.url:
            raise UnsupportedError(
                f"direct URL requirements are not supported yet: {requirement.name} @ ..."
            )
        return cls(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=requirement.specifier,
            text=_requirement_text(requirement),
            origin=origin,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """A version of a project (with extras, for an extras identifier) and its files.

    ``files`` are the usable files for the target, best first: the first one is where
    the dependency metadata is read from.
    """

    name: NormalizedName
    version: Version
    extras: frozenset[NormalizedName] = frozenset()
    files: tuple[DistFile, ...] = ()

    @property
    def identifier(self) -> str:
        """The identifier this candidate answers (see :attr:`Req.identifier`)."""
        return _identifier(self.name, self.extras)


class _Ranked(NamedTuple):
    """A usable file with what orders it: tag rank, build tag, name."""

    rank: int
    build: tuple[int, str] | tuple[()]
    filename: str
    dist: DistFile


def _best_first(entries: list[_Ranked]) -> tuple[DistFile, ...]:
    """Best tag first; among equal tags the highest build tag (what an installer
    takes, so its METADATA is what the lock must describe); then by name, for a
    stable order. Three stable sorts, least significant key first."""
    entries = sorted(entries, key=operator.attrgetter("filename"))
    entries.sort(key=operator.attrgetter("build"), reverse=True)
    entries.sort(key=operator.attrgetter("rank"))
    return tuple(entry.dist for entry in entries)


def _identifier(name: str, extras: frozenset[NormalizedName]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _requirement_text(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """The user's choices that shape candidate selection."""

    constraints: Mapping[NormalizedName, Sequence[Req]]
    pre: bool
    format_control: FormatControl
    #: Versions to try first (the existing lock's pins), when they still fit.
    preferences: Mapping[NormalizedName, Version] = field(default_factory=dict)


class Selector:
    """The candidate-selection policy as pure functions of a project's files.

    Shared by the provider (which memoises per project) and the prefetcher (which
    guesses, from one requirement, the file the resolver will most likely want).
    """

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target = target
        self.policy = policy
        self._requires_python: dict[str, bool] = {}
        self._usable: SingleFlight[
            tuple[NormalizedName, bool], dict[Version, tuple[DistFile, ...]]
        ] = SingleFlight()

    def usable_files_of(
        self, repository: Repository, name: NormalizedName, *, allow_yanked: bool
    ) -> dict[Version, tuple[DistFile, ...]]:
        """:meth:`usable_files` of the project's listing, computed once per run.

        Ranking a popular project's thousands of files is the resolver's main CPU
        cost; the prefetcher and the provider share this memo (thread-safe).
        """
        return self._usable.get(
            (name, allow_yanked),
            lambda: self.usable_files(
                name, repository.list_files(name), allow_yanked=allow_yanked
            ),
        )

    def usable_files(
        self, name: NormalizedName, files: Iterable[DistFile], *, allow_yanked: bool
    ) -> dict[Version, tuple[DistFile, ...]]:
        """Usable files by version, best first (see the module docstring)."""
        ranked: dict[Version, list[_Ranked]] = {}
        for dist in files:
            if dist.yanked and not allow_yanked:
                continue
            parsed = parse_filename(dist.filename)
            if parsed is None or parsed.name != name:
                continue
            rank = self._rank(parsed, dist)
            if rank is not None:
                entry = _Ranked(rank, parsed.build, dist.filename, dist)
                ranked.setdefault(parsed.version, []).append(entry)
        return {version: _best_first(entries) for version, entries in ranked.items()}

    def ordered_versions(
        self, name: NormalizedName, versions: Iterable[Version], reqs: Sequence[Req]
    ) -> list[Version]:
        """Versions fitting ``reqs`` and the constraints, in the order to try them."""
        specifier = SpecifierSet()
        for r in (*reqs, *self.policy.constraints.get(name, ())):
            specifier &= r.specifier
        prereleases = True if self.policy.pre else None
        preferred = self.policy.preferences.get(name)
        return sorted(
            specifier.filter(versions, prereleases=prereleases),
            key=lambda v: (v == preferred, v),
            reverse=True,
        )

    def allows_yanked(self, name: NormalizedName, reqs: Sequence[Req]) -> bool:
        """Yanked files are candidates only under an exact pin (PEP 592)."""
        every = (*reqs, *self.policy.constraints.get(name, ()))
        return any(r.is_pinned for r in every)

    def likely_file(self, req: Req, repository: Repository) -> DistFile | None:
        """The file whose metadata the resolver will most likely read for ``req``."""
        allow_yanked = self.allows_yanked(req.name, [req])
        by_version = self.usable_files_of(
            repository, req.name, allow_yanked=allow_yanked
        )
        versions = self.ordered_versions(req.name, by_version, [req])
        return by_version[versions[0]][0] if versions else None

    def requires(
        self, metadata: CoreMetadata, extras: frozenset[NormalizedName]
    ) -> list[Req]:
        """The Requires-Dist entries that apply to the target, for the base
        distribution (no ``extras``) or for the given extras only."""
        environment = self.target.environment()
        return [
            Req.from_requirement(requirement)
            for requirement in metadata.requires_dist
            if _applies(requirement, extras, environment)
        ]

    def python_ok(self, specifier: SpecifierSet) -> bool:
        """Whether the target's Python satisfies ``specifier``."""
        return specifier.contains(self.target.python_version, prereleases=True)

    def _rank(self, parsed: ParsedFilename, dist: DistFile) -> int | None:
        """Lower is better; wheels by tag preference, then the sdist; None if unusable."""
        if dist.requires_python and not self._requires_python_ok(dist.requires_python):
            return None
        control = self.policy.format_control
        if parsed.kind is DistKind.SDIST:
            return len(self.target.tags) if control.allows_sdist(parsed.name) else None
        if not control.allows_wheel(parsed.name):
            return None
        return self.target.wheel_rank(parsed.tags)

    def _requires_python_ok(self, value: str) -> bool:
        """Whether a file's Requires-Python admits the target (memoised per string:
        thousands of files share a handful of values)."""
        known = self._requires_python.get(value)
        if known is None:
            try:
                known = self.python_ok(SpecifierSet(value))
            except InvalidSpecifier:
                known = False
            self._requires_python[value] = known
        return known


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
    ) -> None:
        self._repository = repository
        self._selector = selector
        self._lookahead = lookahead
        self.metadata: dict[tuple[NormalizedName, Version], CoreMetadata] = {}
        self._satisfied: dict[tuple[SpecifierSet, Version], bool] = {}
        #: Projects no index has, with the error that said so.
        self.missing: dict[NormalizedName, ProjectNotFoundError] = {}
        #: identifier -> {(requirement, parent): None}, in the order first seen.
        self.required_by: dict[str, dict[tuple[Req, Candidate | None], None]] = {}
        #: identifier -> every version find_matches offered for it.
        self.offered: dict[str, set[Version]] = {}
        self._offers: dict[str, list[Candidate]] = {}
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
    ) -> list[Candidate]:
        """Usable versions satisfying every requirement and constraint, best first,
        minus those resolvelib has found incompatible; none for ``<python>`` (only an
        unmet Requires-Python is ever required of it) or a project no index has."""
        reqs = list(requirements[identifier])
        if not reqs:
            return []
        bad = {c.version for c in incompatibilities[identifier]}
        try:
            allowed = self._allowed(reqs, reqs[0].extras)
        except ProjectNotFoundError as exc:
            self.missing[reqs[0].name] = exc
            return []
        found = [c for c in allowed if c.version not in bad]
        self.offered.setdefault(identifier, set()).update(c.version for c in found)
        self._offers[identifier] = found
        if bad:
            self._ahead(found)
        return found

    def candidates_allowed(
        self, reqs: Sequence[Req], extras: frozenset[NormalizedName]
    ) -> list[Candidate]:
        """The candidates with ``extras`` that ``reqs`` (all on one project) and
        the constraints allow, best first (as :meth:`find_matches`, recording
        nothing); none for a project no index has."""
        try:
            return self._allowed(reqs, extras)
        except ProjectNotFoundError:
            return []

    def versions_allowed(self, reqs: Sequence[Req]) -> list[Version]:
        """The versions :meth:`candidates_allowed` would offer."""
        return [c.version for c in self.candidates_allowed(reqs, frozenset())]

    def _allowed(
        self, reqs: Sequence[Req], extras: frozenset[NormalizedName]
    ) -> list[Candidate]:
        """Candidates fitting ``reqs`` and the constraints, best first; raises
        ProjectNotFoundError for a project no index has."""
        name = reqs[0].name
        if name in (PYTHON, UNUSABLE):
            return []
        by_version = self._usable_files(name, self._selector.allows_yanked(name, reqs))
        return [
            Candidate(name=name, version=v, extras=extras, files=by_version[v])
            for v in self._selector.ordered_versions(name, by_version, reqs)
        ]

    def known(self, candidate: Candidate) -> bool:
        """Whether ``candidate``'s metadata was read already (or found unusable):
        its dependencies then cost no request."""
        key = (candidate.name, candidate.version)
        return key in self.metadata or key in self._unusable

    def rejected(self, candidate: Candidate) -> None:
        """resolvelib rejected ``candidate``: its successors will be tried next."""
        offer = self._offers.get(candidate.identifier, [])
        for index, offered in enumerate(offer):
            if offered.version == candidate.version:
                self._ahead(offer[index + 1 :])
                return

    def fetch_ahead(self, candidates: Sequence[Candidate]) -> None:
        """Have the lookahead read these candidates' metadata, all at once."""
        if self._lookahead is not None:
            self._lookahead.candidates([c.files[0] for c in candidates])

    def _ahead(self, candidates: Sequence[Candidate]) -> None:
        if self._lookahead is not None:
            self._lookahead.candidates([c.files[0] for c in candidates[:_AHEAD]])

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
            self._lookahead.requirements(deps)
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
            reason = str(exc).removeprefix(f"{candidate.files[0].filename}: ")
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
            self.metadata[key] = self._repository.get_metadata(candidate.files[0])
        return self.metadata[key]

    def _usable_files(
        self, name: NormalizedName, allow_yanked: bool
    ) -> dict[Version, tuple[DistFile, ...]]:
        """Usable files by version, best first (memoised in the selector)."""
        return self._selector.usable_files_of(
            self._repository, name, allow_yanked=allow_yanked
        )


def _applies(
    requirement: Requirement,
    extras: frozenset[NormalizedName],
    environment: Mapping[str, str],
) -> bool:
    """Whether a Requires-Dist entry applies to the base (no extras) or to ``extras``."""
    marker = requirement.marker
    if not extras:
        return marker is None or marker.evaluate({**environment, "extra": ""})
    if marker is None:
        return False
    return any(marker.evaluate({**environment, "extra": e}) for e in extras)


def root_requirements(
    requirements: Iterable[Requirement],
    environment: Mapping[str, str],
    origins: Iterable[str | None] | None = None,
) -> list[Req]:
    """The user's requirements whose markers hold for the target; ``origins`` says
    where each was written (``file:line``), for explanations."""
    requirements = list(requirements)
    where = list(origins) if origins is not None else [None] * len(requirements)
    return [
        Req.from_requirement(r, origin)
        for r, origin in zip(requirements, where, strict=True)
        if r.marker is None or r.marker.evaluate({**environment, "extra": ""})
    ]
