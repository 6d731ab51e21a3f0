"""Pins to a PEP 751 lock: its tables, then its TOML text.

packaging owns the schema (one model for writing, reading and install-time
selection): the tables are exactly what ``packaging.pylock.Pylock.to_dict`` gives for
the lock (the tests hold them equal, and every reader validates them with
packaging), built straight from the pins; this module only decides what goes in. Output is deterministic: packages sorted by
name, wheels by file name, no timestamps beyond the index's upload times, and nothing
that depends on how a fetch went (which read won a race, what the cache held), so the
same inputs and index state give the same bytes.

``size`` is optional in PEP 751 and recorded only when it costs nothing: the index
lists it, the file was downloaded anyway (no sha256 on the index), or reading the
locked metadata went through the file (a range read's ``Content-Range`` total, a
whole download). A file is never downloaded to learn its size.

A file found in a local find-links location is written as a ``path`` relative to the
lock's directory when it lies inside that directory (a wheelhouse committed beside the
lock stays portable); otherwise as its absolute ``file://`` URL, which is what pip and
uv write for every find-links file.

A direct reference is written as PEP 751's ``archive`` (url or path, size, sha256),
``vcs`` (the repository, the revision asked for and the commit it resolved to) or
``directory`` (its path, ``editable``) table. A local path is relative to the lock's
folder (to the current one for a lock written to stdout), ``..`` included, as uv
writes it. A source tree's version is left out: PEP 751 forbids one that the code
may not match.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from lockgen.core.models import is_wheel
from lockgen.core.urls import local_file
from lockgen.lockfile.selections import Selections
from lockgen.lockfile.toml_data import toml_data
from lockgen.lockfile.toml_text import dumps as toml_dumps

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.pylock import Pylock

    from lockgen.core.environment import Target
    from lockgen.core.models import CoreMetadata, DirectSource, DistFile
    from lockgen.resolver.resolve import Pin

__all__ = ["dumps", "lock_tables", "render"]

CREATED_BY = "lockgen"


def lock_tables(
    pins: Sequence[Pin],
    target: Target,
    sha256_of: Callable[[DistFile], tuple[str, int | None]],
    *,
    tool: Mapping[str, Any] | None = None,
    lock_dir: Path | None = None,
    selections: Selections | None = None,
) -> dict[str, Any]:
    """The lock for ``pins`` resolved for ``target``, as its TOML tables: what
    ``Pylock.to_dict`` gives for the same lock, keys in the same order, built
    straight from the pins (packaging's objects, then their tables, were 50-70 ms
    of a 106-package lock; ``test_lockfile`` holds the two equal).

    ``sha256_of`` gives the sha256 (and size, if known) of a file the index lists
    without a sha256. ``tool`` becomes the top-level ``[tool.lockgen]`` table (the
    input digest); ``lock_dir`` is where the lock goes (``None``: stdout), for
    relative paths. ``selections``: the extras and groups a pyproject.toml's lock
    covers, and each package's marker (:mod:`lockgen.lockfile.selections`).
    """
    chosen = selections or Selections()
    tables: dict[str, Any] = {
        "lock-version": "1.0",
        "environments": [str(Marker(target.environment_marker()))],
        "requires-python": str(SpecifierSet(target.requires_python())),
        "extras": list(chosen.extras),
        "dependency-groups": list(chosen.groups),
        "default-groups": list(chosen.default_groups),
        "created-by": CREATED_BY,
        "packages": [
            _package(pin, sha256_of, lock_dir, chosen.markers.get(pin.name))
            for pin in pins
        ],
    }
    if tool:
        tables["tool"] = {"lockgen": dict(tool)}
    return tables


#: C1 controls as TOML escapes. The writer (tomli-w's rules) escapes C0 and DEL, as
#: TOML requires, but TOML lets C1 stand raw in a string, and U+009B starts a
#: terminal sequence by itself: escaped, a lock from a hostile index is inert under
#: ``cat`` and ``-o -``.
_C1_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x80, 0xA0)}


def render(tables: Mapping[str, Any]) -> str:
    """The TOML text of a lock's tables; no control character but tab and newline
    stands raw in it (:mod:`lockgen.lockfile.toml_text` writes only basic strings,
    where a ``\\uXXXX`` escape means the character itself).

    It is not validated again on the way out: that was 70 ms of a 106-package cold
    lock's 2.8 s here, for a check only a bug in this module could fail. The tests
    validate what it renders, and every reader of a lock (``hydrate``, a re-lock,
    pip, uv) validates it on the way in."""
    return toml_dumps(tables).translate(_C1_ESCAPES)


def dumps(lock: Pylock) -> str:
    """The TOML text of packaging's ``lock`` (a lock handed to the API)."""
    return render(toml_data(lock))


def _package(
    pin: Pin,
    sha256_of: Callable[[DistFile], tuple[str, int | None]],
    lock_dir: Path | None,
    marker: str | None = None,
) -> dict[str, Any]:
    """One ``[[packages]]`` entry, its keys in ``Package``'s field order.

    ``[packages.tool.lockgen]`` records the file the dependency metadata was read from,
    the sha256 of the exact bytes and its Requires-Dist: a range read is covered by no
    hash, so ``hydrate`` compares the real wheel's METADATA with this record and can
    say which dependency lines differ. How the bytes were fetched is not recorded: it
    can depend on timing and on the cache, and the lock must not. ``index`` is the
    index that listed the files, if one did (find-links files have none).
    """
    metadata = pin.metadata
    table: dict[str, Any] = {"name": pin.name, "version": str(pin.version)}
    if pin.direct is not None and pin.direct.kind != "archive":
        del table["version"]  # a source tree's code may not be this version
    if marker is not None:
        table["marker"] = str(Marker(marker))
    if metadata.requires_python is not None:
        table["requires-python"] = str(metadata.requires_python)
    table["dependencies"] = [{"name": name} for name in pin.dependencies]
    if pin.direct is not None:
        table[pin.direct.kind] = _direct_fields(pin.direct, lock_dir)
    index = next((d.index for d in pin.files if d.index), None)
    if index is not None:
        table["index"] = index
    wheels = [
        _artifact_fields(d, sha256_of, metadata, lock_dir)
        for d in pin.files
        if is_wheel(d)
    ]
    sdists = [
        _artifact_fields(d, sha256_of, metadata, lock_dir)
        for d in pin.files
        if not is_wheel(d)
    ]
    if sdists:
        table["sdist"] = sdists[0]
    if wheels:
        table["wheels"] = wheels
    table["tool"] = {
        "lockgen": {
            "metadata-file": metadata.filename,
            "metadata-sha256": metadata.sha256,
            "requires-dist": [str(r) for r in metadata.requires_dist],
        }
    }
    return table


def _artifact_fields(
    dist: DistFile,
    sha256_of: Callable[[DistFile], tuple[str, int | None]],
    metadata: CoreMetadata,
    lock_dir: Path | None,
) -> dict[str, Any]:
    """A file's table (keys in ``PackageWheel``'s field order, those without a value
    left out): its size only when known for free (see the module docstring)."""
    sha256, size = dist.sha256, dist.size
    if sha256 is None:
        sha256, downloaded = sha256_of(dist)
        size = downloaded if size is None else size
    if size is None and dist.filename == metadata.filename:
        size = metadata.artifact_size
    path = _relative_path(dist, lock_dir)
    basename = posixpath.basename(path or urlsplit(dist.url).path)
    fields = {
        "name": None if basename == dist.filename else dist.filename,
        "upload-time": dist.upload_time,
        "url": None if path else dist.url,
        "path": path,
        "size": size,
        "hashes": {"sha256": sha256},
    }
    return {key: value for key, value in fields.items() if value is not None}


def _direct_fields(source: DirectSource, lock_dir: Path | None) -> dict[str, Any]:
    """A direct reference's table, keys in ``PackageArchive``'s, ``PackageVcs``'s
    or ``PackageDirectory``'s field order."""
    path = None if source.path is None else _path_from(source.path, lock_dir)
    if source.kind == "archive":
        fields: dict[str, Any] = {
            "url": source.url if path is None else None,
            "path": path,
            "size": source.size,
            "hashes": {"sha256": source.sha256},
        }
    elif source.kind == "vcs":
        fields = {
            "type": "git",
            "url": source.url,
            "requested-revision": source.revision,
            "commit-id": source.commit,
            "subdirectory": source.subdirectory,
        }
    else:
        fields = {"path": path, "editable": source.editable or None}
    return {key: value for key, value in fields.items() if value is not None}


def _path_from(path: Path, lock_dir: Path | None) -> str:
    """``path`` relative to the lock's folder (``..`` allowed), in POSIX form."""
    base = (lock_dir or Path()).resolve()
    return Path(os.path.relpath(path, base)).as_posix()


def _relative_path(dist: DistFile, lock_dir: Path | None) -> str | None:
    """A local find-links file's path relative to ``lock_dir``, if it lies inside."""
    local = local_file(dist)
    if local is None or lock_dir is None:
        return None
    try:
        return local.resolve().relative_to(lock_dir.resolve()).as_posix()
    except ValueError:
        return None
