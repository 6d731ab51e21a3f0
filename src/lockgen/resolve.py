"""Run resolvelib over the provider and turn its answer into pins or a readable error.

A pin is one project at one version with everything the lock needs about it: all of
that version's files on the index (not only the target's), the metadata the resolver
used, and the names it depends on. Conflicts become sentences naming each conflicting
requirement and who asked for it, the way pip's "The conflict is caused by" does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvelib import BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from lockgen.errors import ResolutionError
from lockgen.models import DistKind, parse_filename
from lockgen.provider import PYTHON, LockgenProvider, Policy, Req, Selector

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.resolvers import Result
    from resolvelib.structs import RequirementInformation

    from lockgen.environment import Target
    from lockgen.models import CoreMetadata, DistFile
    from lockgen.provider import Candidate
    from lockgen.repository import Repository

__all__ = ["Pin", "resolve"]

_MAX_ROUNDS = 2000


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
    hint: Callable[[Sequence[Req]], None] | None = None,
    selector: Selector | None = None,
) -> list[Pin]:
    """Resolve ``roots`` for ``target``; pins sorted by name.

    ``hint`` hears every requirement as soon as it is known (roots first), for
    prefetching; it must not change any answer. A prefetcher passes its own
    ``selector`` (same target and policy) so the two share one memo of ranked files.
    """
    if hint is not None:
        hint(roots)
    provider = LockgenProvider(repository, selector or Selector(target, policy), hint)
    resolver = Resolver(provider, reporter or BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=_MAX_ROUNDS)
    except ResolutionImpossible as exc:
        causes: Collection[RequirementInformation[Req, Candidate]] = exc.causes
        raise ResolutionError(_explain(causes, target)) from exc
    except ResolutionTooDeep as exc:
        raise ResolutionError(
            [f"gave up after {exc.round_count} rounds of backtracking"]
        ) from exc
    return _pins(result, provider, repository, policy)


def _pins(
    result: Result[Req, Candidate, str],
    provider: LockgenProvider,
    repository: Repository,
    policy: Policy,
) -> list[Pin]:
    versions: dict[NormalizedName, Version] = {}
    deps: defaultdict[NormalizedName, set[NormalizedName]] = defaultdict(set)
    for identifier, candidate in result.mapping.items():
        if candidate.name == PYTHON:
            continue
        versions[candidate.name] = candidate.version
        for child in result.graph.iter_children(identifier):
            if child is None:
                continue
            child_name = result.mapping[child].name
            if child_name not in (PYTHON, candidate.name):
                deps[candidate.name].add(child_name)
    return [
        Pin(
            name=name,
            version=version,
            files=_lock_files(repository, name, version, policy),
            metadata=provider.metadata[(name, version)],
            dependencies=tuple(sorted(deps[name])),
        )
        for name, version in sorted(versions.items())
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


def _explain(
    causes: Collection[RequirementInformation[Req, Candidate]], target: Target
) -> list[str]:
    """One sentence per conflicting requirement, saying who asked for it."""
    lines: list[str] = []
    for cause in causes:
        requirement, parent = cause.requirement, cause.parent
        if requirement.name == PYTHON:
            assert parent is not None  # only distributions require a Python
            lines.append(
                f"{parent.name} {parent.version} requires Python "
                f"{requirement.specifier}, but the target is Python "
                f"{target.python_version}"
            )
        elif parent is None:
            lines.append(f"you asked for {requirement.text}")
        else:
            lines.append(
                f"{parent.name} {parent.version} depends on {requirement.text}"
            )
    names = sorted({c.requirement.name for c in causes if c.requirement.name != PYTHON})
    if len(names) == 1 and len(lines) == 1:
        lines.append(f"no usable version of {names[0]} satisfies it for this target")
    return list(dict.fromkeys(lines))
