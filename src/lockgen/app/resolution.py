"""One resolution, from gathered inputs to the sealed text of a lock (not written).

The index client is opened here on the injected services (client, cache), unless
replaying opened it already (:mod:`lockgen.app.replay`), the prefetcher runs ahead
of the resolver, the files the index gave no hash for are hashed, and the lock is
rendered. Imported only when a lock must be resolved: an
up-to-date lock never loads the resolver or urllib3.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from resolvelib import BaseReporter

from lockgen.app.direct import DirectInputs, read_directs
from lockgen.app.index_access import open_index
from lockgen.app.lock import LockResult
from lockgen.core.errors import LockgenError
from lockgen.lockfile.relock import seal
from lockgen.lockfile.selections import Selections, package_markers
from lockgen.lockfile.write import lock_tables, render
from lockgen.resolver.prefetch import Prefetcher
from lockgen.resolver.resolve import resolve
from lockgen.resolver.selection import Policy, Selector
from lockgen.resolver.values import Req, root_requirements

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.app.inputs import Inputs
    from lockgen.app.lock import LockOptions, Progress
    from lockgen.app.replay import Replay
    from lockgen.app.services import Services
    from lockgen.core.models import DistFile
    from lockgen.core.requirements import InputRequirement
    from lockgen.lockfile.relock import LockedCommit
    from lockgen.net.index import IndexClient
    from lockgen.net.transport import HttpClient
    from lockgen.resolver.resolve import Pin
    from lockgen.resolver.values import Candidate, Direct

__all__ = ["resolve_lock"]


def resolve_lock(
    options: LockOptions,
    inputs: Inputs,
    preferences: dict[NormalizedName, Version],
    known: Mapping[str, tuple[str, int | None]],
    *,
    name: str,
    lock_dir: Path | None,
    progress: Progress,
    services: Services,
    replay: Replay | None = None,
    commits: Sequence[LockedCommit] = (),
) -> LockResult:
    """Resolve and render the lock (not written: the caller decides), recorded for
    ``replay`` (with the index it opened already, if it did). ``commits``: the
    previous lock's git commits, kept for unchanged git references."""
    services.before_resolving()
    opened = None if replay is None else replay.opened
    client, repository, builds = opened or open_index(
        options, inputs, progress, services
    )
    previous = dict(preferences)  # _policy frees the -P names from it
    policy = _policy(options, inputs, preferences)
    direct: dict[NormalizedName, Direct] = {}
    direct_roots: list[Req] = []
    if inputs.requirements.directs:
        direct, direct_roots = read_directs(
            inputs.requirements.directs,
            DirectInputs(
                target=inputs.target,
                repository=repository,
                builds=builds,
                cache=services.cache,
                offline=options.offline,
                known=known,
                commits=commits,
                upgrade=_freed(options.upgrade_packages),
            ),
        )
    pins = _resolve_pins(
        options,
        inputs,
        policy,
        repository,
        _Reporter(progress, client),
        (direct, direct_roots),
    )
    _check_upgrades(options.upgrade_packages, pins, previous)

    def sha256_of(dist: DistFile) -> tuple[str, int | None]:
        return known.get(dist.url) or repository.get_sha256(dist)

    _hash_unhashed(pins, sha256_of, known, options.jobs)
    tables = lock_tables(
        pins,
        inputs.target,
        sha256_of,
        tool={"inputs": inputs.digest, "body": ""},
        lock_dir=lock_dir,
        selections=_selections(inputs, pins),
    )
    result = LockResult(
        text=seal(render(tables)),
        output=name,
        packages=len(pins),
        requests=client.stats.requests,
        bytes=client.stats.bytes,
        warnings=(
            *(
                f"{index} had none of the {asked} "
                f"{'project' if asked == 1 else 'projects'} asked of it (they came "
                "from the other indexes): is its URL right?"
                for index, asked in repository.unused_indexes()
            ),
            *builds.notes,
        ),
        digest=inputs.digest,
    )
    if replay is not None and services.cache is not None:
        files = (dist for pin in pins for dist in pin.files)
        replay.record(result, repository, services.cache, files)
    return result


def _selections(inputs: Inputs, pins: Sequence[Pin]) -> Selections | None:
    """What a pyproject.toml's lock covers, and which extras or groups need each
    package; ``None`` for requirements files."""
    given = inputs.requirements
    if not (given.extras or given.groups):
        return None
    environment = inputs.target.environment()
    tagged = [
        (r.needed_by, req)
        for r in given.requirements
        for req in root_requirements([r.requirement], environment)
    ]
    return Selections(
        extras=given.extras,
        groups=given.groups,
        default_groups=given.default_groups,
        markers=package_markers(pins, tagged, environment),
    )


def _policy(
    options: LockOptions, inputs: Inputs, preferences: dict[NormalizedName, Version]
) -> Policy:
    """Constraints (``-P NAME==VER`` included), pre-releases, formats, preferences."""
    environment = inputs.target.environment()
    constraints = _constraints(inputs.requirements.constraints, environment)
    for name in _upgrade_constraints(options.upgrade_packages, constraints):
        preferences.pop(name, None)
    return Policy(
        constraints=constraints,
        pre=options.pre or inputs.requirements.pre,
        format_control=inputs.requirements.format_control,
        preferences=preferences,
        exclude_newer=inputs.exclude_newer,
    )


def _resolve_pins(
    options: LockOptions,
    inputs: Inputs,
    policy: Policy,
    repository: IndexClient,
    reporter: _Reporter,
    directs: tuple[Mapping[NormalizedName, Direct], Sequence[Req]],
) -> list[Pin]:
    """Resolve the roots, with the prefetcher running ahead unless ``-j 1`` or
    ``--offline``: offline every answer is on disk, there is no round trip to hide,
    and its threads only contend with the resolver for the GIL (web-service's
    offline lock: 1.47 s with them, 1.29 s without). ``directs``: the direct
    references read, and the roots they stand for."""
    given = inputs.requirements.requirements
    direct, direct_roots = directs
    roots = root_requirements(
        (r.requirement for r in given),
        inputs.target.environment(),
        (r.source for r in given),
    )
    roots += direct_roots
    selector = Selector(inputs.target, policy)  # one memo for prefetcher and resolver
    prefetcher = None
    if options.jobs > 1 and not options.offline:
        prefetcher = Prefetcher(repository, selector, options.jobs, frozenset(direct))
    try:
        return resolve(
            roots,
            repository,
            inputs.target,
            policy,
            reporter,
            lookahead=prefetcher,
            selector=selector,
            direct=direct,
        )
    finally:
        if prefetcher is not None:
            prefetcher.close()


def _hash_unhashed(
    pins: Sequence[Pin],
    sha256_of: Callable[[DistFile], tuple[str, int | None]],
    known: Mapping[str, tuple[str, int | None]],
    jobs: int,
) -> None:
    """Download, in parallel, the locked files the index gave no sha256 for (and that
    the previous lock does not already record). A missing size is no reason: PEP 751
    makes it optional, and the lock records it only when it comes for free."""
    missing = [
        d for pin in pins for d in pin.files if d.sha256 is None and d.url not in known
    ]
    if missing:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(sha256_of, missing))


def _check_upgrades(
    specs: Sequence[str],
    pins: Sequence[Pin],
    previous: Mapping[NormalizedName, Version],
) -> None:
    """``-P NAME[==VER]`` must name a package of the old or the new lock, and
    the new lock must hold VER: a constraint alone would let the resolver drop
    the package instead (``-P urllib3==9.9`` downgraded requests to a release
    without urllib3). Checked before anything is written."""
    locked = {pin.name: pin.version for pin in pins}
    for spec in specs:
        req = Req.from_requirement(Requirement(spec))
        if req.name not in locked and req.name not in previous:
            raise LockgenError(
                f"--upgrade-package {spec}: {req.name} is neither in the lock nor "
                "needed by the requirements"
            )
        version = locked.get(req.name)
        if req.specifier and (
            version is None or not req.specifier.contains(version, prereleases=True)
        ):
            got = "drops it" if version is None else f"has {version}"
            raise LockgenError(
                f"--upgrade-package {spec}: no resolution holds it (the best one "
                f"{got}); nothing was written"
            )


def _freed(specs: Sequence[str]) -> set[NormalizedName]:
    """The names ``-P NAME[==VER]`` frees (checked already by :func:`_policy`)."""
    from packaging.utils import canonicalize_name

    return {canonicalize_name(Requirement(spec).name) for spec in specs}


def _upgrade_constraints(
    specs: Sequence[str], constraints: dict[NormalizedName, list[Req]]
) -> list[NormalizedName]:
    """Parse ``-P NAME[==VER]``: the names freed; a version becomes a constraint."""
    names: list[NormalizedName] = []
    for spec in specs:
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            raise LockgenError(f"--upgrade-package {spec!r}: {exc}") from exc
        req = Req.from_requirement(requirement)
        names.append(req.name)
        if req.specifier:
            constraints.setdefault(req.name, []).append(req)
    return names


def _constraints(
    constraints: Sequence[InputRequirement], environment: Mapping[str, str]
) -> dict[NormalizedName, list[Req]]:
    by_name: dict[NormalizedName, list[Req]] = {}
    requirements = (c.requirement for c in constraints)
    origins = (c.source for c in constraints)
    for req in root_requirements(requirements, environment, origins):
        by_name.setdefault(req.name, []).append(req)  # Req names are normalised
    return by_name


class _Reporter(BaseReporter["Req", "Candidate", str]):
    """Forwards resolvelib's pins to the progress display."""

    def __init__(self, progress: Progress, client: HttpClient) -> None:
        self._progress = progress
        self._client = client

    def pinning(self, candidate: Candidate) -> None:
        if candidate.name != "<python>":
            self._progress.pinned(
                candidate.name, str(candidate.version), self._client.stats.requests
            )
