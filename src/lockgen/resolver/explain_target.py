"""Why a project's releases do not fit the target: the part of a conflict's
explanation that compares files with the target rather than requirements.

A user locking for ``macosx_11_0_arm64`` and Python 3.13 needs to hear "its wheels
for cp313 are for macosx_14_0_arm64; the target is macosx_11_0_arm64" or "its
wheels are for cp39, cp310, cp311 and cp312; the target is cp313", not "no usable
version". Pure: it reads project listings the resolver already fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet

from lockgen.core.models import DistKind, parse_filename

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.core.environment import Target
    from lockgen.core.models import DistFile, ParsedFilename
    from lockgen.resolver.provider import LockgenProvider
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.values import Candidate

__all__ = ["sdist_only", "unfit"]

#: Tags named at most when saying what a release's wheels are for.
_SHOWN = 6


def unfit(
    name: NormalizedName,
    asked: Sequence[SpecifierSet],
    provider: LockgenProvider,
    repository: Repository,
) -> str | None:
    """Why the resolver could never offer a release of ``name`` matching every
    specifier ``asked``; ``None`` when it did, when the project is missing, or when
    no release matches because several requirements exclude each other (their
    lines say so)."""
    specifier = SpecifierSet()
    for one in asked:
        specifier &= one
    if name in provider.missing or any(
        identifier.split("[")[0] == name and provider.offered(identifier)
        for identifier in provider.offered_identifiers()
    ):
        return None
    files = _listing(name, repository)
    releases: dict[Version, list[DistFile]] = {}
    for dist in files:
        parsed = parse_filename(dist.filename)
        if (
            parsed is not None
            and parsed.name == name
            and specifier.contains(parsed.version, prereleases=True)
        ):
            releases.setdefault(parsed.version, []).append(dist)
    if not releases:
        if len(asked) > 1:  # requirements that exclude each other: said already
            return None
        newest = max(_versions(files, name), default=None)
        suffix = f" (the newest is {newest})" if newest else ""
        return f"no release of {name} matches {specifier or 'any version'}{suffix}"
    version = max(releases)
    return _why(name, version, releases[version], provider)


def sdist_only(
    candidate: Candidate, provider: LockgenProvider, repository: Repository
) -> str:
    """``; no wheel fits: ...`` when ``candidate`` had to use its sdist because its
    wheels do not fit the target (so the sdist's failure is not the whole story)."""
    if not candidate.files:  # a direct reference's
        return ""
    parsed = parse_filename(candidate.files[0].filename)
    if parsed is None or parsed.kind is not DistKind.SDIST:
        return ""
    wheels = [
        w
        for w in (
            parse_filename(d.filename) for d in _listing(candidate.name, repository)
        )
        if w is not None
        and w.kind is DistKind.WHEEL
        and w.name == candidate.name
        and w.version == candidate.version
    ]
    if not wheels:
        return ""
    return "; no wheel fits: " + _wheels_for(wheels, provider.selector.target)


def _listing(name: NormalizedName, repository: Repository) -> Sequence[DistFile]:
    try:
        return tuple(repository.list_files(name))
    except Exception:  # noqa: BLE001 - an explanation must not fail on its own
        return ()


def _versions(files: Sequence[DistFile], name: NormalizedName) -> list[Version]:
    return [
        parsed.version
        for parsed in (parse_filename(d.filename) for d in files)
        if parsed is not None and parsed.name == name
    ]


def _why(
    name: NormalizedName,
    version: Version,
    files: list[DistFile],
    provider: LockgenProvider,
) -> str:
    """The newest matching release's files, and what about them the target refuses."""
    selector = provider.selector
    target = selector.target
    python = [d.requires_python for d in files if d.requires_python]
    if python and not any(selector.file_python_ok(spec) for spec in python):
        return (
            f"{name} {version} requires Python {python[0]}; "
            f"the target is Python {target.python_version}"
        )
    if all(d.yanked for d in files):
        return f"{name} {version} is yanked (pin it with == to use it)"
    wheels: list[ParsedFilename] = []
    sdists: list[ParsedFilename] = []
    for dist in files:
        parsed = parse_filename(dist.filename)
        if parsed is not None:
            (wheels if parsed.kind is DistKind.WHEEL else sdists).append(parsed)
    have = _wheels_for(wheels, target) if wheels else "it has no wheels"
    if sdists and not selector.allows_kind(sdists[0]):
        have += "; its sdist is excluded by --only-binary"
    elif wheels and not selector.allows_kind(wheels[0]):
        have += "; its wheels are excluded by --no-binary"
    elif not sdists:
        have += "; it has no sdist"
    return f"{name} {version} has no file for the target: {have}"


def _wheels_for(wheels: Sequence[ParsedFilename], target: Target) -> str:
    """What wheels are for, against the target: their Python tags when none fits
    the target's Python, else the platforms of those that do."""
    best = target.tags[0]
    pythons = {(tag.interpreter, tag.abi) for tag in target.tags}
    fitting = [
        w for w in wheels if any((t.interpreter, t.abi) in pythons for t in w.tags)
    ]
    if not fitting:
        interpreters = {tag.interpreter for w in wheels for tag in w.tags}
        shown = _shown(sorted(interpreters, key=_natural))
        return f"its wheels are for {shown}; the target is {best.interpreter}"
    near = _nearness(best.platform)
    platforms = _shown(
        sorted({tag.platform for w in fitting for tag in w.tags}, key=near)
    )
    return (
        f"its wheels for {best.interpreter} are for {platforms}; "
        f"the target is {best.platform}"
    )


def _nearness(target: str) -> Callable[[str], tuple[bool, bool, str]]:
    """A sort key putting the platforms of the target's OS and architecture first
    (``macosx_14_0_arm64`` before ``win_amd64`` for ``macosx_11_0_arm64``)."""

    def split(platform: str) -> tuple[str, str]:
        system = platform.split("_", 1)[0]
        versioned = system in ("macosx", "manylinux", "musllinux")
        return system, platform.split("_", 3 if versioned else 1)[-1]

    system, arch = split(target)

    def key(platform: str) -> tuple[bool, bool, str]:
        other_system, other_arch = split(platform)
        return (other_system != system, other_arch != arch, platform)

    return key


def _shown(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    if len(items) > _SHOWN:
        shown += f" and {len(items) - _SHOWN} more"
    return shown


def _natural(tag: str) -> tuple[str, int, str]:
    """cp39 before cp310: letters, then the number, then anything else."""
    letters = tag.rstrip("0123456789")
    digits = tag[len(letters) :]
    return (letters, int(digits) if digits else -1, tag)
