"""What an existing lock says about the next run: pure functions of the read lock.

A lock records a digest of the normalised inputs it was made from and a digest of its
own text (``body``); when a new run's inputs digest matches and the text still hashes
to ``body``, the lock is as lockgen wrote it for these inputs, so the run makes no
request and writes nothing. Any edit of the lock (a URL, a hash, a deleted package)
breaks ``body`` and the lock is resolved again. ``--check`` goes further and resolves
anyway, comparing the bytes. Otherwise the pins become preferences and the hashes are
reused for unchanged file URLs, so re-locking changes only what it must and
downloads nothing twice. The lock arrives read (:mod:`lockgen.lockfile.read`);
preferences and hashes come only from one that is valid PEP 751.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lockgen import __version__
from lockgen.lockfile.seal import seal

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from packaging.pylock import Pylock
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.core.environment import Target
    from lockgen.core.requirements import RequirementsInput
    from lockgen.lockfile.read import LockDocument

__all__ = [
    "EDITED",
    "LockedCommit",
    "first_difference",
    "inputs_digest",
    "known_hashes",
    "locked_commits",
    "pinned_versions",
    "seal",
    "stale_reason",
]

#: Bump when what lockgen writes for the same inputs changes (invalidates no-op runs).
_LOCK_FORMAT = 3

#: :func:`stale_reason`'s reason for a lock whose text no longer hashes to ``body``.
EDITED = "it was edited since lockgen wrote it"


def inputs_digest(
    inputs: RequirementsInput,
    target: Target,
    indexes: list[str],
    *,
    find_links: Sequence[str] = (),
    no_index: bool = False,
    exclude_newer: datetime | None = None,
    no_build: Sequence[str] = (),
    directs: Sequence[str] = (),
) -> str:
    """A digest of everything that decides the lock's content, normalised.

    Order of requirement lines, comments and spelling do not matter; credentials are
    not included (the URLs are credential-free). Find-links locations count as
    written (relative paths stay relative, so the digest does not depend on where the
    project is checked out); what a location holds does not count, as a new upload
    to an index does not. Without find-links or ``--no-index`` the digest is what it
    was before they existed, so older locks stay up to date; so with
    ``--exclude-newer`` and ``no_build`` (``:all:`` for ``--no-build``, else the
    ``--no-build-package`` names); so with direct references (``directs``: each
    one's normalised line, a local one's content digest included).
    """
    control = inputs.format_control
    fields: dict[str, Any] = {
        "format": _LOCK_FORMAT,
        "lockgen": __version__,
        "requirements": sorted(
            str(r.requirement)
            if r.needed_by is None
            else f"{r.needed_by}: {r.requirement}"
            for r in inputs.requirements
        ),
        "constraints": sorted(str(c.requirement) for c in inputs.constraints),
        "indexes": indexes,
        "pre": inputs.pre,
        "only-binary": sorted(control.only_binary),
        "no-binary": sorted(control.no_binary),
        "markers": target.markers,
        "tags": [str(t) for t in target.tags],
    }
    if find_links:
        fields["find-links"] = list(find_links)
    if no_index:
        fields["no-index"] = True
    if exclude_newer is not None:
        fields["exclude-newer"] = exclude_newer.isoformat()
    if no_build:
        fields["no-build"] = sorted(no_build)
    if directs:
        fields["directs"] = sorted(directs)
    if inputs.extras or inputs.groups:
        fields["extras"] = list(inputs.extras)
        fields["groups"] = list(inputs.groups)
        fields["default-groups"] = list(inputs.default_groups)
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def stale_reason(existing: LockDocument | None, digest: str, output: str) -> str | None:
    """Why the existing lock is not the one lockgen wrote for these inputs; ``None``
    if it is (the inputs digest matches and the text is unedited)."""
    if output == "-":
        return "the lock goes to stdout"
    if existing is None:
        return "it does not exist or is not readable TOML"
    if existing.inputs is None:
        return "it records no lockgen input digest"
    if existing.inputs != digest:
        return "the inputs or options changed since it was written"
    if not existing.sealed:
        return EDITED
    return None


def first_difference(old: Any, new: Any) -> str | None:
    """Where two parsed locks first differ, as ``package NAME: FIELD`` when a package
    does (``None`` if they are equal): the one-line reason ``--check`` gives. Names
    and keys from the old lock are untrusted: control characters are escaped."""
    found = _difference(old, new, "")
    if found is None:
        return None
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in found)


def _difference(old: Any, new: Any, where: str) -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            if key not in old or key not in new:
                missing = "missing" if key not in old else "unexpected"
                return f"{_join(where, str(key))} is {missing}"
            found = _difference(old[key], new[key], _join(where, str(key)))
            if found is not None:
                return found
        return None
    if where == "packages" and isinstance(old, list) and isinstance(new, list):
        return _package_difference(old, new)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _difference(a, b, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    return None if old == new and type(old) is type(new) else f"{where} differs"


def _package_difference(old: list[Any], new: list[Any]) -> str | None:
    """Packages are compared by name, so a deleted one is named, not its neighbours."""

    def by_name(packages: list[Any]) -> dict[str, Any]:
        return {str(p.get("name")): p for p in packages if isinstance(p, dict)} | {
            f"<entry {i}>": p for i, p in enumerate(packages) if not isinstance(p, dict)
        }

    before, after = by_name(old), by_name(new)
    for name in [*after, *(n for n in before if n not in after)]:
        if name not in before:
            return f"package {name} is missing"
        if name not in after:
            return f"package {name} is not in the resolution"
        found = _difference(before[name], after[name], "")
        if found is not None:
            return f"package {name}: {found}"
    return None if len(old) == len(new) else "packages differ"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def pinned_versions(lock: Pylock) -> dict[NormalizedName, Version]:
    """The existing lock's versions, to prefer when they still fit (PEP 751 makes a
    package's version optional; resolving does not need the ones left out)."""
    return {p.name: p.version for p in lock.packages if p.version is not None}


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedCommit:
    """A git reference a lock resolved: kept by a re-lock while it is unchanged."""

    name: NormalizedName
    url: str
    revision: str | None
    subdirectory: str | None
    commit: str


def locked_commits(lock: Pylock) -> list[LockedCommit]:
    """The lock's git references, each with the commit it resolved to."""
    return [
        LockedCommit(
            name=p.name,
            url=p.vcs.url,
            revision=p.vcs.requested_revision,
            subdirectory=p.vcs.subdirectory,
            commit=p.vcs.commit_id,
        )
        for p in lock.packages
        if p.vcs is not None and p.vcs.url is not None and p.vcs.type == "git"
    ]


def known_hashes(lock: Pylock) -> dict[str, tuple[str, int | None]]:
    """URL -> (sha256, size or ``None``) from the previous lock: an index's files never
    change, so re-locking against an index without hashes need not download them
    again. ``size`` is optional in PEP 751, so an entry without one still counts.

    ``file://`` URLs are left out: a local file (a find-links directory's) can be
    replaced under the same name, and hashing it again costs no download."""
    known: dict[str, tuple[str, int | None]] = {}
    for package in lock.packages:
        for artifact in [*(package.wheels or ()), package.sdist, package.archive]:
            if artifact is None or artifact.url is None:
                continue
            sha256 = artifact.hashes.get("sha256")
            size = artifact.size
            if sha256 is None or (size is not None and size < 0):
                continue
            if not artifact.url.startswith("file:"):
                known[artifact.url] = (sha256, size)
    return known
