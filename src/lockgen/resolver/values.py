"""What a requirement and a candidate *are* to the resolver, and which of a
distribution's Requires-Dist apply to a target.

Small frozen value classes shared by the provider, the selection policy, the search,
the watch and the explanation of conflicts; kept apart from the provider so that the
selection policy can use them without importing resolvelib's adapter.

- ``name[extra]`` is its own identifier whose candidate depends on ``name==version``,
  as pip does, so extras never split a project into two versions;
- ``<python>`` and ``<unusable>`` are pseudo-projects that never have a candidate:
  a release depending on one is rejected and backtracked over like any conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from packaging.requirements import Requirement
    from packaging.version import Version

    from lockgen.core.models import CoreMetadata, DirectSource, DistFile

__all__ = [
    "PYTHON",
    "UNUSABLE",
    "Candidate",
    "Direct",
    "Req",
    "applicable_requires",
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
    #: A Requires-Dist's direct reference (``name @ URL``): only a direct reference
    #: read for ``name`` (:mod:`lockgen.app.direct` reads those too) can meet it.
    url: str | None = None

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
        text = _requirement_text(requirement)
        return cls(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=requirement.specifier,
            text=f"{text} @ {requirement.url}" if requirement.url else text,
            origin=origin,
            url=requirement.url,
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


@dataclass(frozen=True, kw_only=True, slots=True)
class Direct:
    """A direct reference's distribution, read before resolving: its metadata and
    where it is. It is its project's only candidate (pip's precedence)."""

    metadata: CoreMetadata
    source: DirectSource


def _identifier(name: str, extras: frozenset[NormalizedName]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _requirement_text(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def applicable_requires(
    metadata: CoreMetadata,
    extras: frozenset[NormalizedName],
    environment: Mapping[str, str],
) -> list[Req]:
    """The Requires-Dist entries that apply in ``environment``, for the base
    distribution (no ``extras``) or for the given extras only."""
    return [
        Req.from_requirement(requirement)
        for requirement in metadata.requires_dist
        if _applies(requirement, extras, environment)
    ]


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
