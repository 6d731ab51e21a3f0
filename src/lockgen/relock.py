"""What an existing lock says about the next run: pure functions of its parsed TOML.

A lock records a digest of the normalised inputs it was made from; when a new run's
digest matches, the lock is up to date (no request, no write, ``--check`` passes).
Otherwise its pins become preferences and its hashes are reused for unchanged file
URLs, so re-locking changes only what it must and downloads nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lockgen import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.utils import NormalizedName

    from lockgen.environment import Target
    from lockgen.requirements import RequirementsInput

__all__ = ["inputs_digest", "known_hashes", "pinned_versions", "stale_reason"]

#: Bump when what lockgen writes for the same inputs changes (invalidates no-op runs).
_LOCK_FORMAT = 2


def inputs_digest(
    inputs: RequirementsInput,
    target: Target,
    indexes: list[str],
    *,
    find_links: Sequence[str] = (),
    no_index: bool = False,
) -> str:
    """A digest of everything that decides the lock's content, normalised.

    Order of requirement lines, comments and spelling do not matter; credentials are
    not included (the URLs are credential-free). Find-links locations count as
    written (relative paths stay relative, so the digest does not depend on where the
    project is checked out); what a location holds does not count, as a new upload
    to an index does not. Without find-links or ``--no-index`` the digest is what it
    was before they existed, so older locks stay up to date.
    """
    control = inputs.format_control
    fields: dict[str, Any] = {
        "format": _LOCK_FORMAT,
        "lockgen": __version__,
        "requirements": sorted(str(r.requirement) for r in inputs.requirements),
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
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def stale_reason(
    existing: tuple[str, dict[str, Any]] | None, digest: str, output: str
) -> str | None:
    """Why the existing lock does not match the inputs; ``None`` if it does."""
    if output == "-":
        return "the lock goes to stdout"
    if existing is None:
        return "it does not exist or cannot be read"
    tool = existing[1].get("tool", {}).get("lockgen", {})
    recorded = tool.get("inputs") if isinstance(tool, dict) else None
    if recorded is None:
        return "it records no lockgen input digest"
    if recorded != digest:
        return "the inputs or options changed since it was written"
    return None


def pinned_versions(data: dict[str, Any]) -> dict[NormalizedName, Version]:
    """The existing lock's versions, to prefer when they still fit."""
    pins: dict[NormalizedName, Version] = {}
    for package in data.get("packages", []):
        try:
            pins[canonicalize_name(package["name"])] = Version(package["version"])
        except (KeyError, TypeError, InvalidVersion):
            continue
    return pins


def known_hashes(data: dict[str, Any]) -> dict[str, tuple[str, int | None]]:
    """URL -> (sha256, size or ``None``) from the previous lock: an index's files never
    change, so re-locking against an index without hashes need not download them
    again. ``size`` is optional in PEP 751, so an entry without one still counts.

    ``file://`` URLs are left out: a local file (a find-links directory's) can be
    replaced under the same name, and hashing it again costs no download."""
    known: dict[str, tuple[str, int | None]] = {}
    for package in data.get("packages", []):
        if not isinstance(package, dict):
            continue
        sdist = package.get("sdist")
        for artifact in [*package.get("wheels", []), *([sdist] if sdist else [])]:
            if not isinstance(artifact, dict):
                continue
            url, size = artifact.get("url"), artifact.get("size")
            sha256 = (artifact.get("hashes") or {}).get("sha256")
            if size is not None and (type(size) is not int or size < 0):
                continue
            if (
                isinstance(url, str)
                and not url.startswith("file:")
                and isinstance(sha256, str)
            ):
                known[url] = (sha256, size)
    return known
