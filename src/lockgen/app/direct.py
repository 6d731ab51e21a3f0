"""The user's direct references, read before resolving: each one's distribution
found and its metadata read, so that the resolver sees it as its project's only
candidate (pip's precedence over every index).

- an archive is a file like any index's: its metadata is read the cheapest way the
  index client knows (a range read of a remote wheel, an sdist built), and it is
  hashed once when its URL gives no ``#sha256=`` (or the previous lock had it);
  a local one is read in place and hashed every time (it may change);
- a local folder's metadata is its static ``[project]`` table, else a build in a
  copy of the folder (the user's tree is never written to);
- a git reference's revision is resolved to a commit (the previous lock's commit is
  kept for the same URL and revision unless ``-U``/``-P NAME``), and the metadata of
  that commit's tree is cached under the commit: a re-lock runs no git at all.

A reference whose marker excludes the target is left out; one naming a project its
metadata does not name, or two different ones for one project, are errors.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lockgen.core.direct import DirectError, DirectKind, direct_from_requirement
from lockgen.core.errors import LockgenError
from lockgen.core.hashing import hash_file
from lockgen.core.models import (
    DirectSource,
    DistFile,
    DistKind,
    MetadataSource,
    parse_filename,
)
from lockgen.core.wheel_metadata import parse_core_metadata
from lockgen.resolver.values import Direct, Req

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.app.builds import Builds
    from lockgen.core.direct import DirectReference
    from lockgen.core.environment import Target
    from lockgen.core.models import CoreMetadata
    from lockgen.lockfile.relock import LockedCommit
    from lockgen.net.index import IndexClient
    from lockgen.store.cache import Cache

__all__ = ["DirectInputs", "read_directs"]


@dataclass(frozen=True, kw_only=True)
class DirectInputs:
    """What reading the direct references needs besides the references."""

    target: Target
    repository: IndexClient
    builds: Builds
    cache: Cache | None
    offline: bool
    #: URL -> (sha256, size) the previous lock recorded for remote archives.
    known: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)
    #: The previous lock's git commits, and the projects whose commits are freed.
    commits: Sequence[LockedCommit] = ()
    upgrade: Collection[NormalizedName] = ()


def read_directs(
    references: Sequence[DirectReference], inputs: DirectInputs
) -> tuple[dict[NormalizedName, Direct], list[Req]]:
    """Each reference (whose marker holds) read: the directs by project, and the
    root requirements they stand for (with their extras).

    A direct reference's own Requires-Dist may name direct references too (a
    local project needing a sibling folder, a git library): those are read as
    well, relative to the project's folder, and stand for no root requirement.
    One reference spelled twice (``./libs/a``, ``libs/a/``) is read once."""
    environment = inputs.target.environment()
    found: dict[NormalizedName, tuple[DirectReference, Direct]] = {}
    read: dict[tuple[object, ...], Direct] = {}
    roots: list[Req] = []
    queue = [(r, True) for r in references if r.applies(environment)]
    while queue:
        reference, is_root = queue.pop(0)
        direct = read.get(_identity(reference))
        if direct is None:
            direct = _located(reference, inputs)
            read[_identity(reference)] = direct
            queue += [(r, False) for r in _needed(reference, direct, environment)]
        name = direct.metadata.name
        if reference.name is not None and reference.name != name:
            raise LockgenError(
                f"{reference.source}: {reference.text} is {name} "
                f"{direct.metadata.version}, not {reference.name}"
            )
        earlier = found.get(name)
        if earlier is not None and _identity(earlier[0]) != _identity(reference):
            raise LockgenError(
                f"two direct references for {name}: {earlier[0].text} "
                f"({earlier[0].source}) and {reference.text} ({reference.source})"
            )
        found[name] = (reference, direct)
        if is_root:
            roots.append(
                Req(
                    name=name,
                    extras=reference.extras,
                    text=reference.text,
                    origin=reference.source,
                )
            )
    return {name: direct for name, (_, direct) in found.items()}, roots


def _located(reference: DirectReference, inputs: DirectInputs) -> Direct:
    """The reference read; an error says where it was written, when that is known."""
    try:
        return _read(reference, inputs)
    except LockgenError as exc:
        if not reference.source or str(exc).startswith(reference.source):
            raise
        raise LockgenError(f"{reference.source}: {exc}") from exc


def _needed(
    reference: DirectReference, direct: Direct, environment: dict[str, str]
) -> list[DirectReference]:
    """The direct references among ``direct``'s Requires-Dist that apply (for the
    base or the extras asked of it), a relative path taken from its folder."""
    base = reference.path if reference.kind is DirectKind.DIRECTORY else None
    extras = ["", *sorted(reference.extras)]
    name = direct.metadata.name
    needed = []
    for requirement in direct.metadata.requires_dist:
        marker = requirement.marker
        if requirement.url is None or not (
            marker is None
            or any(marker.evaluate({**environment, "extra": e}) for e in extras)
        ):
            continue
        try:
            found = direct_from_requirement(
                requirement, cwd=base or Path.cwd(), text=str(requirement)
            )
        except DirectError as exc:
            raise LockgenError(f"{name} (a direct reference) requires {exc}") from None
        needed.append(replace(found, source=f"required by {name}"))
    return needed


def _identity(reference: DirectReference) -> tuple[object, ...]:
    return (
        reference.kind,
        reference.url,
        reference.revision,
        reference.subdirectory,
        reference.editable,
    )


def _read(reference: DirectReference, inputs: DirectInputs) -> Direct:
    if reference.kind is DirectKind.ARCHIVE:
        return _archive(reference, inputs)
    if reference.kind is DirectKind.DIRECTORY:
        return _directory(reference, inputs)
    return _vcs(reference, inputs)


def _archive(reference: DirectReference, inputs: DirectInputs) -> Direct:
    """A wheel or sdist at a URL or path, read as an index's file is."""
    path = reference.path
    filename = (
        path.name if path else unquote(urlsplit(reference.url).path.rpartition("/")[2])
    )
    parsed = parse_filename(filename)
    if parsed is None:
        raise LockgenError(f"{reference.text}: {filename} is not a wheel or sdist name")
    if parsed.kind is DistKind.WHEEL and not parsed.tags & set(inputs.target.tags):
        tags = ", ".join(sorted(map(str, parsed.tags)))
        raise LockgenError(
            f"{reference.text}: the wheel does not fit the target ({tags})"
        )
    dist = DistFile(
        filename=filename, url=reference.url, index="", sha256=reference.sha256
    )
    metadata = inputs.repository.get_metadata(dist)
    if path is not None:
        sha256, size = hash_file(path)
        if reference.sha256 is not None and reference.sha256 != sha256:
            raise LockgenError(
                f"{reference.text}: the file's sha256 is {sha256}, not the one given"
            )
        size_or_none: int | None = size
    elif reference.sha256 is not None:
        sha256, size_or_none = reference.sha256, metadata.artifact_size
    else:
        known = inputs.known.get(reference.url)
        sha256, size_or_none = known or inputs.repository.get_sha256(dist)
    source = DirectSource(
        kind="archive",
        url=None if path else reference.url,
        path=path,
        sha256=sha256,
        size=size_or_none,
    )
    return Direct(metadata=metadata, source=source)


def _directory(reference: DirectReference, inputs: DirectInputs) -> Direct:
    """A local source tree: its static metadata, else a build in a copy."""
    path = reference.path
    assert path is not None
    label = reference.text.removeprefix("-e ")
    data = inputs.builds.tree_metadata(label, path, reference.name, user=True)
    source = DirectSource(kind="directory", path=path, editable=reference.editable)
    return Direct(metadata=_parsed(data, label), source=source)


def _vcs(reference: DirectReference, inputs: DirectInputs) -> Direct:
    """A git reference: its commit, and the metadata of that commit's tree."""
    from lockgen.app.git import Git

    cache = inputs.cache
    scratch = None if cache is None else cache.root / "v1" / "tmp"
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lockgen-git-", dir=scratch) as tmp:
        base = Path(tmp) / "repos" if cache is None else cache.root / "v1" / "git"
        git = Git(base, offline=inputs.offline)
        commit = _locked_commit(reference, inputs)
        repository = None
        if commit is None:
            commit, repository = git.resolve(
                reference.url, reference.given, reference.revision
            )
        label = f"{reference.url}@{commit[:12]}"
        if reference.subdirectory:
            label += f"#subdirectory={reference.subdirectory}"
        key = None
        if cache is not None and inputs.builds.tree_refusal(reference.name) is None:
            key = cache.vcs_metadata_key(reference.url, commit, reference.subdirectory)
        hit = None if key is None or cache is None else cache.get_metadata(key)
        if hit is not None:
            data = hit.data
        else:
            if repository is None:
                _, repository = git.resolve(reference.url, reference.given, commit)
            tree = Path(tmp) / "tree"
            git.write_tree(repository, commit, tree)
            source = (tree / (reference.subdirectory or "")).resolve()
            if not source.is_relative_to(tree.resolve()) or not source.is_dir():
                raise LockgenError(f"{label}: no such subdirectory in the checkout")
            data = inputs.builds.tree_metadata(
                label, source, reference.name, user=False
            )
            if key is not None and cache is not None:
                cache.put_metadata(key, data, MetadataSource.BUILT.value)
    source_table = DirectSource(
        kind="vcs",
        url=reference.url,
        revision=reference.revision,
        commit=commit,
        subdirectory=reference.subdirectory,
    )
    return Direct(metadata=_parsed(data, label), source=source_table)


def _locked_commit(reference: DirectReference, inputs: DirectInputs) -> str | None:
    """The commit the previous lock resolved this same reference to, unless freed
    (or not a full commit id: a lock edited by hand names no content)."""
    from lockgen.app.git import is_commit

    for locked in inputs.commits:
        if (
            is_commit(locked.commit)
            and (locked.url, locked.revision, locked.subdirectory)
            == (reference.url, reference.revision, reference.subdirectory)
            and locked.name not in inputs.upgrade
            and reference.name in (None, locked.name)
        ):
            return locked.commit
    return None


def _parsed(data: bytes, label: str) -> CoreMetadata:
    return parse_core_metadata(data, label, MetadataSource.BUILT, named=False)
