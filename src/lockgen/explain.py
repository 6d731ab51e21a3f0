"""A resolver conflict as sentences a user can act on: who asked for what, and why.

resolvelib reports a conflict as (requirement, parent) pairs. This module turns them
into lines, pip's "The conflict is caused by" made specific:

- ``you asked for X<2 (requirements.in:3)`` for the user's own lines, and
  ``constraint X<2 (constraints.txt:1)`` for every constraint on a project involved;
- ``P 2.0 to 2.6 (every candidate) depend on X>=2.7``: one line per parent project
  and dependency, however many of its versions resolvelib tried;
- an extra's link to its own project (``X[http] 1.0`` needs ``X==1.0``) is plumbing:
  it is replaced by whoever asked for the extra;
- ``P 2.0 requires Python >=3.12; the target is Python 3.11`` only for a
  Requires-Python the target does not meet;
- ``no index has a project named 'X' (needed by P 1.6)``;
- when nothing of a project fits the target at all, why: the newest matching
  release's Requires-Python, or the platforms its wheels are for.

Pure: it reads what the provider learnt during resolution and asks the repository
only for project listings the resolver already fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from lockgen.models import DistKind, parse_filename
from lockgen.provider import PYTHON, UNUSABLE

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.structs import RequirementInformation

    from lockgen.models import DistFile, ParsedFilename
    from lockgen.provider import Candidate, LockgenProvider, Policy, Req
    from lockgen.repository import Repository

__all__ = ["explain"]

_Edge = tuple["Req", "Candidate | None"]
_PSEUDO = frozenset({PYTHON, UNUSABLE})
#: Versions listed one by one up to this many; a range beyond.
_LISTED = 3
#: Links shown at most in a ``(via ...)`` chain.
_CHAIN = 4
#: Wheel platforms named when saying what a release has wheels for.
_PLATFORMS_SHOWN = 6


def explain(
    causes: Iterable[RequirementInformation[Req, Candidate]],
    provider: LockgenProvider,
    repository: Repository,
    policy: Policy,
) -> list[str]:
    """The lines of a conflict's explanation, most direct first, without repeats."""
    edges = _expand(causes, provider)
    names = sorted({req.name for req, _ in edges if req.name not in _PSEUDO})
    lines = [_user_line(req) for req, parent in edges if parent is None]
    lines += _constraint_lines(names, policy)
    lines += _dependency_lines(edges, provider)
    lines += _python_lines(edges, provider)
    for name in names:
        lines += _missing_lines(name, edges, provider)
        lines += _unusable_lines(name, edges, provider, repository)
    return list(dict.fromkeys(line for line in lines if line))


def _expand(
    causes: Iterable[RequirementInformation[Req, Candidate]],
    provider: LockgenProvider,
) -> list[_Edge]:
    """The causes, with each extra's link to its own project replaced by the
    requirements that asked for the extra (at that version)."""
    edges: list[_Edge] = []
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        if parent is not None and parent.extras and req.name == parent.name:
            askers = [
                (asked, by)
                for asked, by in provider.required_by.get(parent.identifier, {})
                if asked.specifier.contains(parent.version, prereleases=True)
            ]
            if askers:
                edges += askers
                continue
        edges.append((req, parent))
    return list(dict.fromkeys(edges))


def _user_line(req: Req) -> str:
    where = f" ({req.origin})" if req.origin else ""
    return f"you asked for {req.text}{where}"


def _constraint_lines(names: Sequence[NormalizedName], policy: Policy) -> list[str]:
    lines: list[str] = []
    for name in names:
        for constraint in policy.constraints.get(name, ()):
            where = f" ({constraint.origin})" if constraint.origin else ""
            lines.append(f"constraint {constraint.text}{where}")
    return lines


def _dependency_lines(edges: Sequence[_Edge], provider: LockgenProvider) -> list[str]:
    """One line per (parent project, dependency): its versions and specifiers.

    Versions of the parent that resolvelib tried earlier with the same requirement
    are folded in (they failed the same way). A bare ``depends on X`` is left out
    when another line constrains X: it cannot be what conflicts.
    """
    constrained = {req.name for req, p in edges if p is not None and req.specifier}
    groups: dict[tuple[str, str], tuple[set[Version], list[str]]] = {}
    for req, parent in edges:
        if parent is None or req.name in _PSEUDO or req.name in provider.missing:
            continue
        if not req.specifier and req.name in constrained:
            continue
        key = (parent.identifier, req.identifier)
        versions, texts = groups.setdefault(key, (set(), []))
        versions.add(parent.version)
        texts.append(req.text)
    lines = []
    for (parent_id, dep_id), (versions, texts) in groups.items():
        for asked, by in provider.required_by.get(dep_id, {}):
            if by is not None and by.identifier == parent_id and asked.text in texts:
                versions.add(by.version)
        every = provider.offered.get(parent_id, set())
        who = _versions(parent_id, sorted(versions), every)
        via = _via(parent_id, min(versions), provider)
        verb = "depends" if len(versions) == 1 else "depend"
        lines.append(f"{who}{via} {verb} on {' or '.join(dict.fromkeys(texts))}")
    return lines


def _via(identifier: str, version: Version, provider: LockgenProvider) -> str:
    """`` (via A 1.0, B 2.0)``: how the user's requirements lead to a parent that
    they did not ask for themselves; empty for a project the user asked for."""
    chain: list[str] = []
    seen = {identifier}
    while len(chain) < _CHAIN:
        asker = _asker(identifier, version, provider)
        if asker is None or asker.identifier in seen:
            break
        seen.add(asker.identifier)
        chain.append(f"{asker.name} {asker.version}")
        identifier, version = asker.identifier, asker.version
    return f" (via {', '.join(reversed(chain))})" if chain else ""


def _asker(
    identifier: str, version: Version, provider: LockgenProvider
) -> Candidate | None:
    """Who required ``identifier`` at ``version``: ``None`` when the user did."""
    askers = [
        by
        for req, by in provider.required_by.get(identifier, {})
        if req.specifier.contains(version, prereleases=True)
    ]
    if not askers or None in askers:
        return None
    return askers[0]


def _versions(name: str, versions: list[Version], offered: set[Version]) -> str:
    """``P 1.0``, ``P 1.0, 1.1 and 2.0``, or ``P 1.0 to 3.2 (12 versions)``;
    ``(every candidate)`` when these are all the versions the resolver could use."""
    if len(versions) == 1:
        return f"{name} {versions[0]}"
    if len(versions) <= _LISTED:
        listed = ", ".join(str(v) for v in versions[:-1])
        text = f"{name} {listed} and {versions[-1]}"
    else:
        text = f"{name} {versions[0]} to {versions[-1]} ({len(versions)} versions)"
    if set(versions) >= offered:
        text += " (every candidate)"
    return text.replace(") (", ", ")


def _python_lines(edges: Sequence[_Edge], provider: LockgenProvider) -> list[str]:
    """Releases the target cannot use: an unmet Requires-Python, or metadata that
    cannot be read (the requirement's text is the reason); one line per project
    and reason, however many of its releases share it."""
    target = provider.selector.target.python_version
    groups: dict[tuple[str, str], set[Version]] = {}
    for req, parent in edges:
        if parent is None or req.name not in _PSEUDO:
            continue
        if req.name == PYTHON:
            reason = f"Python {req.specifier}; the target is Python {target}"
        else:
            reason = req.text
        groups.setdefault((parent.identifier, reason), set()).add(parent.version)
    lines = []
    for (identifier, reason), versions in groups.items():
        every = provider.offered.get(identifier, set())
        who = _versions(identifier, sorted(versions), every)
        if reason.startswith("Python "):
            verb = "requires" if len(versions) == 1 else "require"
        else:
            verb = "cannot be used:"
        lines.append(f"{who} {verb} {reason}")
    return lines


def _missing_lines(
    name: NormalizedName, edges: Sequence[_Edge], provider: LockgenProvider
) -> list[str]:
    error = provider.missing.get(name)
    if error is None:
        return []
    parents = sorted(
        {f"{p.name} {p.version}" for req, p in edges if req.name == name and p}
    )
    if not parents:
        return [str(error)]
    where = ", ".join(error.indexes)
    needed = ", ".join(parents)
    return [
        f"no index has a project named {name!r} (needed by {needed}; searched {where})"
    ]


def _unusable_lines(
    name: NormalizedName,
    edges: Sequence[_Edge],
    provider: LockgenProvider,
    repository: Repository,
) -> list[str]:
    """Why a project the resolver could never offer a version of has none."""
    if name in provider.missing or any(
        identifier.split("[")[0] == name and versions
        for identifier, versions in provider.offered.items()
    ):
        return []
    specifier = SpecifierSet()
    for req, _ in edges:
        if req.name == name:
            specifier &= req.specifier
    for constraint in provider.selector.policy.constraints.get(name, ()):
        specifier &= constraint.specifier
    try:
        files = repository.list_files(name)
    except Exception:  # noqa: BLE001 - an explanation never fails the explanation
        return []
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
        newest = _newest(files, name)
        suffix = f" (the newest is {newest})" if newest else ""
        return [f"no release of {name} matches {specifier or 'any version'}{suffix}"]
    version = max(releases)
    return [_why_unusable(name, version, releases[version], provider)]


def _newest(files: Sequence[DistFile], name: NormalizedName) -> Version | None:
    versions = [
        parsed.version
        for parsed in (parse_filename(d.filename) for d in files)
        if parsed is not None and parsed.name == name
    ]
    return max(versions, default=None)


def _why_unusable(
    name: NormalizedName,
    version: Version,
    files: list[DistFile],
    provider: LockgenProvider,
) -> str:
    """The newest matching release's files, and what about each the target refuses."""
    selector = provider.selector
    target = selector.target
    control = selector.policy.format_control
    python = [d.requires_python for d in files if d.requires_python]
    if python and all(not _python_ok(provider, spec) for spec in python):
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
    platforms = sorted({tag.platform for w in wheels for tag in w.tags})
    shown = ", ".join(platforms[:_PLATFORMS_SHOWN])
    if len(platforms) > _PLATFORMS_SHOWN:
        shown += f" and {len(platforms) - _PLATFORMS_SHOWN} more"
    have = f"its wheels are for {shown}" if wheels else "it has no wheels"
    if sdists and not control.allows_sdist(name):
        have += "; its sdist is excluded by --only-binary"
    elif wheels and not control.allows_wheel(name):
        have += "; its wheels are excluded by --no-binary"
    elif not sdists:
        have += " and it has no sdist"
    return f"{name} {version} has no file for the target {target.tags[0]}: {have}"


def _python_ok(provider: LockgenProvider, spec: str) -> bool:
    try:
        return provider.selector.python_ok(SpecifierSet(spec))
    except InvalidSpecifier:
        return False
