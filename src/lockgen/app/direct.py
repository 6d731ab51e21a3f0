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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lockgen.core.direct import DirectKind
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
    root requirements they stand for (with their extras)."""
    environment = inputs.target.environment()
    found: dict[NormalizedName, tuple[DirectReference, Direct]] = {}
    roots: list[Req] = []
    for reference in references:
        if not reference.applies(environment):
            continue
        try:
            direct = _read(reference, inputs)
        except LockgenError as exc:  # where it was written, when that is known
            if not reference.source or str(exc).startswith(reference.source):
                raise
            raise LockgenError(f"{reference.source}: {exc}") from exc
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
        roots.append(
            Req(
                name=name,
                extras=reference.extras,
                text=reference.text,
                origin=reference.source,
            )
        )
    return {name: direct for name, (_, direct) in found.items()}, roots


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
    return Direct(metadata=metadata, source=source, url=reference.url)


def _directory(reference: DirectReference, inputs: DirectInputs) -> Direct:
    """A local source tree: its static metadata, else a build in a copy."""
    path = reference.path
    assert path is not None
    if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
        raise LockgenError(
            f"{reference.text}: {path} has neither a pyproject.toml nor a setup.py"
        )
    label = reference.text.removeprefix("-e ")
    data = inputs.builds.tree_metadata(label, path, reference.name, copy=True)
    source = DirectSource(kind="directory", path=path, editable=reference.editable)
    return Direct(metadata=_parsed(data, label), source=source, url=reference.url)


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
                label, source, reference.name, copy=False
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
    return Direct(metadata=_parsed(data, label), source=source_table, url=reference.url)


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
