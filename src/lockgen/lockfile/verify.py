"""Compare a downloaded wheel's own METADATA with what the lock was resolved from.

A range read of METADATA at lock time is covered by no hash (only the whole wheel is),
so a lying or broken server could have fed the resolver different dependencies. Once
the wheel itself is downloaded and its sha256 verified, its METADATA is trustworthy.
The file the resolver read must match the recorded sha256 exactly; a sibling wheel of
the same version (another platform) may differ in bytes, but not in its dependencies.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from lockgen.core.models import MetadataRecord

__all__ = ["metadata_difference"]


def metadata_difference(
    record: MetadataRecord, filename: str, data: bytes
) -> str | None:
    """Why ``data`` (the METADATA inside ``filename``) disagrees with ``record``.

    ``None`` when it agrees: the same Requires-Dist and Requires-Python as the
    record, and the same bytes (unless it is a wheel other than the one the resolver
    read). Matching bytes alone are not enough: the record's Requires-Dist is lock
    text too, and an edit of it must not pass as what the resolver used.
    """
    same_bytes = hashlib.sha256(data).hexdigest() == record.sha256
    raw, _ = parse_email(data)
    actual = _normalised(raw.get("requires_dist", []))
    recorded = _normalised(list(record.requires_dist))
    lines = [f"+ Requires-Dist: {r}" for r in sorted(actual - recorded)]
    lines += [f"- Requires-Dist: {r}" for r in sorted(recorded - actual)]
    actual_python = raw.get("requires_python") or None
    if _differs(actual_python, record.requires_python):
        lines.append(f"- Requires-Python: {record.requires_python or '(none)'}")
        lines.append(f"+ Requires-Python: {actual_python or '(none)'}")
    if not lines and (same_bytes or filename != record.filename):
        return None
    detail = "; ".join(lines) if lines else "other fields differ"
    return (
        f"METADATA in {filename} differs from what the lock was resolved with "
        f"({detail})"
    )


def _normalised(lines: list[str]) -> set[str]:
    """Requirements as comparable strings: ``Foo_Bar >= 1`` equals ``foo-bar>=1``."""
    out: set[str] = set()
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            out.add(line.strip())
            continue
        requirement.name = canonicalize_name(requirement.name)
        requirement.extras = {canonicalize_name(e) for e in requirement.extras}
        out.add(str(requirement))
    return out


def _differs(actual: str | None, recorded: str | None) -> bool:
    try:
        return SpecifierSet(actual or "") != SpecifierSet(recorded or "")
    except InvalidSpecifier:
        return actual != recorded
