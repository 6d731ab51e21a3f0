"""Selection policy, in one place: which of a project's files are usable for the
target, in what order versions are tried, and which files a lock records.

- a file is usable when its name parses and matches the project, the format control
  (``--only-binary``/``--no-binary``) allows its kind, its wheel tags fit the target,
  and its Requires-Python admits the target's Python; yanked files only when the
  version is pinned with ``==``/``===`` (PEP 592);
- among a version's usable files the best tag wins, then the highest build tag, as
  installers choose (its METADATA is the one the resolver reads); the sdist comes
  after every wheel;
- versions newest first, except that the existing lock's pin comes first when it
  still fits (pip-tools' semantics: re-locking changes only what must change);
  pre-releases by PEP 440's rule, or always with ``--pre``;
- a lock records every wheel of a pinned version the format control allows plus one
  sdist (``.tar.gz`` before ``.zip``), whatever the target: yanked ones only when
  the version has nothing else.

The provider, the prefetcher, the lock builder and the explanation of conflicts all
ask this module; none of them looks at a file name's suffix.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from packaging.specifiers import SpecifierSet

from lockgen.core.errors import ExcludeNewerError
from lockgen.core.models import DistKind, parse_filename
from lockgen.core.singleflight import SingleFlight
from lockgen.resolver.listing import Listing
from lockgen.resolver.values import applicable_requires

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.core.environment import Target
    from lockgen.core.models import CoreMetadata, DistFile, ParsedFilename
    from lockgen.core.req_options import FormatControl
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.values import Req

__all__ = ["Policy", "Selector"]


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """The user's choices that shape candidate selection."""

    constraints: Mapping[NormalizedName, Sequence[Req]]
    pre: bool
    format_control: FormatControl
    #: Versions to try first (the existing lock's pins), when they still fit.
    preferences: Mapping[NormalizedName, Version] = field(default_factory=dict)
    #: ``--exclude-newer``: only files uploaded before this (timezone-aware) time.
    exclude_newer: datetime | None = None


class Selector:
    """The candidate-selection policy as pure functions of a project's files.

    Shared by the provider (which memoises per project) and the prefetcher (which
    guesses, from one requirement, the file the resolver will most likely want).
    """

    def __init__(self, target: Target, policy: Policy) -> None:
        self.target = target
        self.policy = policy
        self._requires_python: dict[str, bool] = {}
        self._listings: SingleFlight[NormalizedName, Listing] = SingleFlight()
        self._usable: SingleFlight[
            tuple[NormalizedName, Version, bool], dict[Version, tuple[DistFile, ...]]
        ] = SingleFlight()

    def usable_versions(
        self, repository: Repository, name: NormalizedName, reqs: Sequence[Req]
    ) -> Iterator[tuple[Version, tuple[DistFile, ...]]]:
        """Versions fitting ``reqs`` and the constraints that have usable files, with
        those files best first, in the order to try them.

        The project's files are listed now (a project no index has raises
        ProjectNotFoundError here); ranking a popular project's thousands of files
        was the resolver's main CPU cost, and it looks at a few versions: only the
        files of the versions the returned iterator reaches are read, parsed and
        ranked, once per run (the prefetcher and the provider share the memo,
        thread-safe).
        """
        listing = self._listings.get(name, lambda: Listing(repository.list_files(name)))
        allow_yanked = self.allows_yanked(name, reqs)
        versions = self.ordered_versions(name, listing.texts_by_version, reqs)
        return (
            item
            for version in versions
            for item in self._usable_of(listing, name, version, allow_yanked).items()
        )

    def _usable_of(
        self,
        listing: Listing,
        name: NormalizedName,
        version: Version,
        allow_yanked: bool,
    ) -> dict[Version, tuple[DistFile, ...]]:
        """:meth:`usable_files` of one version's files (memoised)."""
        return self._usable.get(
            (name, version, allow_yanked),
            lambda: self.usable_files(
                name, listing.files_of(version), allow_yanked=allow_yanked
            ),
        )

    def usable_files(
        self, name: NormalizedName, files: Iterable[DistFile], *, allow_yanked: bool
    ) -> dict[Version, tuple[DistFile, ...]]:
        """Usable files by version, best first (see the module docstring)."""
        ranked: dict[Version, list[_Ranked]] = {}
        for dist in files:
            if (dist.yanked and not allow_yanked) or not self.in_time(dist):
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
        for _version, files in self.usable_versions(repository, req.name, [req]):
            return files[0]
        return None

    def requires(
        self, metadata: CoreMetadata, extras: frozenset[NormalizedName]
    ) -> list[Req]:
        """The Requires-Dist entries that apply to the target, for the base
        distribution (no ``extras``) or for the given extras only."""
        return applicable_requires(metadata, extras, self.target.environment())

    def python_ok(self, specifier: SpecifierSet) -> bool:
        """Whether the target's Python satisfies ``specifier``."""
        return self.target.supports_python(specifier)

    def _rank(self, parsed: ParsedFilename, dist: DistFile) -> int | None:
        """Lower is better; wheels by tag preference, then the sdist; None if unusable."""
        if dist.requires_python and not self.file_python_ok(dist.requires_python):
            return None
        if not self.allows_kind(parsed):
            return None
        if parsed.kind is DistKind.SDIST:
            return len(self.target.tags)
        return self.target.wheel_rank(parsed.tags)

    def in_time(self, dist: DistFile) -> bool:
        """Whether ``dist`` was uploaded before ``--exclude-newer``'s time; a file
        whose index gives no upload time cannot say, and is an error, not a guess."""
        cutoff = self.policy.exclude_newer
        if cutoff is None:
            return True
        if dist.upload_time is None:
            raise ExcludeNewerError(
                f"--exclude-newer: {dist.filename} has no upload time (its index "
                "gives none: only PEP 691 JSON pages carry them), so the cutoff "
                "cannot be applied"
            )
        return dist.upload_time < cutoff

    def allows_kind(self, parsed: ParsedFilename) -> bool:
        """Whether the format control lets a file of this kind of ``parsed.name`` in."""
        control = self.policy.format_control
        if parsed.kind is DistKind.WHEEL:
            return control.allows_wheel(parsed.name)
        return control.allows_sdist(parsed.name)

    def file_python_ok(self, value: str) -> bool:
        """Whether a file's Requires-Python (as an index gives it) admits the target;
        an invalid one admits nothing. Memoised per string: thousands of files share
        a handful of values."""
        known = self._requires_python.get(value)
        if known is None:
            known = self.target.supports_python(value)
            self._requires_python[value] = known
        return known

    def lock_files(
        self, repository: Repository, name: NormalizedName, version: Version
    ) -> tuple[DistFile, ...]:
        """What the lock records for a pin: every wheel of the version plus one
        sdist, as the format control allows, whatever the target (a lock is read on
        other machines too). Yanked files only when the version has nothing else
        (it was pinned with ``==``)."""
        files: list[tuple[ParsedFilename, DistFile]] = []
        listing = self._listings.get(name, lambda: Listing(repository.list_files(name)))
        for dist in listing.files_of(version):
            parsed = parse_filename(dist.filename)
            if parsed is None or parsed.name != name or parsed.version != version:
                continue
            if self.allows_kind(parsed) and self.in_time(dist):
                files.append((parsed, dist))
        live = [(p, d) for p, d in files if not d.yanked] or files
        wheels = sorted(
            (d for p, d in live if p.kind is DistKind.WHEEL),
            key=operator.attrgetter("filename"),
        )
        sdists = sorted(
            (d for p, d in live if p.kind is DistKind.SDIST), key=_sdist_preference
        )
        return (*wheels, *sdists[:1])


def _sdist_preference(dist: DistFile) -> tuple[bool, str]:
    """``.tar.gz`` (the standard format, PEP 625) before ``.zip``; then by name."""
    return (not dist.filename.endswith(".tar.gz"), dist.filename)
