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

from lockgen.resolver.explain_target import sdist_only, unfit
from lockgen.resolver.values import PYTHON, UNUSABLE

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName
    from packaging.version import Version
    from resolvelib.structs import RequirementInformation

    from lockgen.resolver.provider import LockgenProvider
    from lockgen.resolver.repository import Repository
    from lockgen.resolver.selection import Policy
    from lockgen.resolver.values import Candidate, Req

__all__ = ["explain"]

_Edge = tuple["Req", "Candidate | None"]
_PSEUDO = frozenset({PYTHON, UNUSABLE})
#: Versions listed one by one up to this many; a range beyond.
_LISTED = 3
#: Links shown at most in a ``(via ...)`` chain.
_CHAIN = 4


def explain(
    causes: Iterable[RequirementInformation[Req, Candidate]],
    provider: LockgenProvider,
    repository: Repository,
) -> list[str]:
    """The lines of a conflict's explanation, most direct first, without repeats."""
    policy = provider.selector.policy
    edges = _expand(causes, provider)
    names = sorted({req.name for req, _ in edges if req.name not in _PSEUDO})
    lines = [_user_line(req) for req, parent in edges if parent is None]
    lines += [_user_line(req) for req in _asked_parents(edges, provider)]
    lines += [_user_line(req) for req in _asked_projects(names, provider)]
    lines += _constraint_lines(names, policy)
    lines += _dependency_lines(edges, provider)
    lines += _python_lines(edges, provider, repository)
    for name in names:
        direct = provider.direct(name)
        if direct is not None:  # its one candidate; no index was asked
            version = direct.metadata.version
            lines.append(f"{name}'s direct reference is {name} {version}")
            continue
        lines += _missing_lines(name, edges, provider)
        why = unfit(name, _requested(name, edges, policy), provider, repository)
        lines += [why] if why else []
    return list(dict.fromkeys(line for line in lines if line))


def _asked_parents(edges: Sequence[_Edge], provider: LockgenProvider) -> list[Req]:
    """Your requirements on the projects whose releases failed, so a conflict
    among one project's own releases still says what you asked for."""
    return [
        req
        for _, parent in edges
        if parent is not None
        for req, by in provider.required_by.get(parent.identifier, {})
        if by is None
    ]


def _asked_projects(
    names: Sequence[NormalizedName], provider: LockgenProvider
) -> list[Req]:
    """Your requirements on the projects the conflict names, extras included
    (``pydantic[email]<2`` is what clashes with ``pydantic>=2``)."""
    return [
        req
        for identifier, askers in provider.required_by.items()
        if identifier.split("[")[0] in names
        for req, by in askers
        if by is None
    ]


def _requested(
    name: NormalizedName, edges: Sequence[_Edge], policy: Policy
) -> list[SpecifierSet]:
    """The distinct specifiers on ``name`` among the causes and constraints."""
    specifiers = [req.specifier for req, _ in edges if req.name == name]
    specifiers += [c.specifier for c in policy.constraints.get(name, ())]
    return list(dict.fromkeys(specifiers))


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
    edges += _askers_of_unusable(edges, provider)
    return list(dict.fromkeys(edges))


def _askers_of_unusable(
    edges: Sequence[_Edge], provider: LockgenProvider
) -> list[_Edge]:
    """Who required the releases that cannot be used (their own line says why not):
    without it, "X 2.0 cannot be used" leaves out why X was needed at all."""
    found: list[_Edge] = []
    for req, parent in edges:
        if parent is None or req.name not in _PSEUDO:
            continue
        found += [
            (asked, by)
            for asked, by in provider.required_by.get(parent.identifier, {})
            if asked.specifier.contains(parent.version, prereleases=True)
        ]
    return found


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
    are folded in (they failed the same way). A few versions that ask for different
    things get a line each; many share one line listing what they ask for. A bare
    ``depends on X`` is left out when another line constrains X: it cannot be what
    conflicts.
    """
    constrained = {req.name for req, p in edges if p is not None and req.specifier}
    groups: dict[tuple[str, str], dict[str, set[Version]]] = {}
    for req, parent in edges:
        if parent is None or req.name in _PSEUDO or req.name in provider.missing:
            continue
        if not req.specifier and req.name in constrained:
            continue
        by_text = groups.setdefault((parent.identifier, req.identifier), {})
        by_text.setdefault(req.text, set()).add(parent.version)
    lines = []
    for (parent_id, dep_id), by_text in groups.items():
        for asked, by in provider.required_by.get(dep_id, {}):
            if by is not None and by.identifier == parent_id and asked.text in by_text:
                by_text[asked.text].add(by.version)
        versions = sorted(set().union(*by_text.values()))
        who = _versions(parent_id, versions, provider.offered(parent_id))
        via = _via(parent_id, versions[0], provider)
        verb = "depends" if len(versions) == 1 else "depend"
        lines.append(f"{who}{via} {verb} on {_asked(by_text, versions)}")
    return lines


def _asked(by_text: dict[str, set[Version]], versions: list[Version]) -> str:
    """What the versions ask for: one requirement, ``X<2 and X<3 respectively``
    for a few versions asking one thing each, else ``X<2 or X<3``."""
    if len(by_text) == 1:
        return next(iter(by_text))
    one_each = all(len(v) == 1 for v in by_text.values())
    if one_each and len(by_text) == len(versions) <= _LISTED:
        text_of = {next(iter(v)): text for text, v in by_text.items()}
        ordered = [text_of[v] for v in versions]
        return f"{', '.join(ordered[:-1])} and {ordered[-1]} respectively"
    texts = list(by_text)
    if len(texts) > _LISTED + 1:  # boto3's hundreds of botocore ranges
        shown = " or ".join(texts[:_LISTED])
        return f"{shown} or {len(texts) - _LISTED} other ranges"
    return " or ".join(texts)


def _via(identifier: str, version: Version, provider: LockgenProvider) -> str:
    """`` (via A 1.0, B 2.0)``: how the user's requirements lead to a parent that
    they did not ask for themselves; empty for a project the user asked for."""
    chain: list[str] = []
    seen = {identifier}
    name = identifier.split("[")[0]
    while len(chain) < _CHAIN:
        asker = _asker(identifier, version, provider)
        if asker is None or asker.identifier in seen:
            break
        seen.add(asker.identifier)
        if asker.name != name:  # an extra's link to its own project is plumbing
            chain.append(f"{asker.name} {asker.version}")
        identifier, version, name = asker.identifier, asker.version, asker.name
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


def _python_lines(
    edges: Sequence[_Edge], provider: LockgenProvider, repository: Repository
) -> list[str]:
    """Releases the target cannot use: an unmet Requires-Python, or metadata that
    cannot be read (the requirement's text is the reason, with why no wheel was
    used instead); one line per project and reason, however many releases share it."""
    target = provider.selector.target.python_version
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for req, parent in edges:
        if parent is None or req.name not in _PSEUDO:
            continue
        if req.name == PYTHON:
            reason = f"Python {req.specifier}; the target is Python {target}"
        else:
            reason = req.text + sdist_only(parent, provider, repository)
        groups.setdefault((parent.identifier, reason), []).append(parent)
    lines = []
    for (identifier, reason), parents in groups.items():
        versions = sorted({p.version for p in parents})
        who = _versions(identifier, versions, provider.offered(identifier))
        verb = "cannot be used:"
        if reason.startswith("Python "):
            verb = "requires" if len(versions) == 1 else "require"
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
