"""A lock's inputs, gathered and normalised before any request: the requirements, the
target, the index and find-links locations and the digest that says whether an
existing lock is up to date.

Two front doors share one normalisation: the command line's (requirements files,
index options, pip's configuration, read from the ``environ`` its caller passes) and
the API's (requirement strings and index URLs as given). Either way a lock made from
the same requirements and indexes records the same inputs digest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.app.pipconfig import builtin_index_url, read_pip_settings
from lockgen.core._reqsyntax import LineError, parse_requirement
from lockgen.core.direct import DirectKind, DirectReference
from lockgen.core.environment import Target, current_target
from lockgen.core.errors import LockgenError
from lockgen.core.pyproject import is_pyproject, read_pyproject
from lockgen.core.requirements import (
    InputRequirement,
    RequirementsInput,
    parse_requirements,
)
from lockgen.core.urls import local_path, strip_credentials, unencoded_userinfo
from lockgen.lockfile.relock import inputs_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from packaging.requirements import Requirement

    from lockgen.app.lock import LockOptions

__all__ = ["Inputs", "from_files", "from_values"]

_COMMAND_LINE = "<command line>"


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Everything a lock depends on, parsed and normalised, before any request."""

    requirements: RequirementsInput
    target: Target
    indexes: list[str]
    find_links: list[str]
    #: index and find-links URLs as the user wrote them: credentials included
    given_indexes: list[str]
    digest: str
    #: ``--exclude-newer``: only files uploaded before this time
    exclude_newer: datetime | None = None


def from_files(
    options: LockOptions, read_text: Callable[[str], str], environ: Mapping[str, str]
) -> Inputs:
    """The command line's inputs: its files and options, then pip's configuration."""
    requirements = _read_requirements(options, read_text, environ)
    no_index = options.no_index or requirements.no_index
    urls = [] if no_index else _index_urls(options, requirements, environ)
    # command-line paths are relative to the current directory; the files' are
    # already joined to their file's directory
    written = [p if "://" in p else os.path.normpath(p) for p in options.find_links]
    return _normalised(
        requirements,
        options.target or _target(options.target_spec),
        urls,
        [*written, *requirements.find_links],
        no_index=no_index,
        exclude_newer=options.exclude_newer,
        no_build=_no_build(options),
        lock_dir=Path(options.output).parent if options.output != "-" else Path(),
    )


def _target(spec: tuple[str | None, str | None] | None) -> Target:
    """The target ``--python-version``/``--platform`` name (the running one if
    neither); a bad spelling is an :class:`~lockgen.core.errors.InvalidTargetError`."""
    if spec is None or spec == (None, None):
        return current_target()
    python_version, platform = spec
    return Target.from_spec(python_version=python_version, platform=platform)


def from_values(
    requirements: Iterable[str | Requirement],
    constraints: Iterable[str | Requirement],
    indexes: Sequence[str],
    target: Target,
    exclude_newer: datetime | None = None,
    no_build: Sequence[str] = (),
) -> Inputs:
    """The API's inputs: requirement strings (or objects) and index URLs, as given."""
    if isinstance(indexes, str):
        raise TypeError("indexes is a sequence of URLs, not one string")
    if not indexes:
        raise LockgenError("no index given: pass indexes=[URL, ...]")
    if "" in indexes:
        raise LockgenError("an index URL given is empty")
    wanted, directs = _requirements(requirements, "requirement")
    limits, constraint_directs = _requirements(constraints, "constraint")
    if constraint_directs:
        raise LockgenError(
            f"a constraint cannot be a direct reference: {constraint_directs[0].text}"
        )
    given = RequirementsInput(requirements=wanted, constraints=limits, directs=directs)
    return _normalised(
        given,
        target,
        list(indexes),
        [],
        no_index=False,
        exclude_newer=exclude_newer,
        no_build=no_build,
    )


def _requirements(
    values: Iterable[str | Requirement], what: str
) -> tuple[tuple[InputRequirement, ...], tuple[DirectReference, ...]]:
    """Each value checked as a requirements file line is, named by its position;
    direct references apart (local paths relative to the current folder)."""
    if isinstance(values, str):
        raise TypeError(f"{what}s is a sequence of requirements, not one string")
    parsed = []
    directs = []
    for number, value in enumerate(values, 1):
        source = f"{what} {number}"
        try:
            found = parse_requirement(str(value), cwd=Path.cwd())
        except LineError as exc:
            raise LockgenError(f"{source}: {exc}") from None
        if isinstance(found, DirectReference):
            directs.append(replace(found, source=source))
        else:
            parsed.append(InputRequirement(requirement=found, source=source))
    return tuple(parsed), tuple(directs)


def _normalised(
    requirements: RequirementsInput,
    target: Target,
    index_urls: Sequence[str],
    find_links: Sequence[str],
    *,
    no_index: bool,
    exclude_newer: datetime | None,
    no_build: Sequence[str] = (),
    lock_dir: Path | None = None,
) -> Inputs:
    indexes, found, given = _locations(index_urls, find_links)
    # a remote archive's credentials go to the client, as an index's do
    given += [
        d.given
        for d in requirements.directs
        if d.kind is DirectKind.ARCHIVE and d.given != d.url
    ]
    digest = inputs_digest(
        requirements,
        target,
        indexes,
        find_links=found,
        no_index=no_index,
        exclude_newer=exclude_newer,
        no_build=no_build,
        directs=_direct_lines(requirements.directs, lock_dir or Path()),
    )
    return Inputs(
        requirements=requirements,
        target=target,
        indexes=indexes,
        find_links=found,
        given_indexes=given,
        digest=digest,
        exclude_newer=exclude_newer,
    )


def _direct_lines(directs: Sequence[DirectReference], lock_dir: Path) -> list[str]:
    """Each direct reference as the digest counts it: where it is (a local one
    relative to the lock's folder, as the lock writes it, so the digest does not
    depend on where the project is checked out) and what in it decides the lock."""
    lines = []
    base = lock_dir.resolve()
    for d in directs:
        where = d.url if d.path is None else os.path.relpath(d.path, base)
        extras = ",".join(sorted(d.extras))
        lines.append(
            f"{d.kind.value} {where} [{extras}] editable={d.editable} "
            f"revision={d.revision} subdirectory={d.subdirectory} sha256={d.sha256} "
            f"marker={d.marker} content={_content_digest(d)}"
        )
    return lines


def _content_digest(reference: DirectReference) -> str:
    """What in a local reference decides the lock: an archive's bytes; a folder's
    pyproject.toml, setup.cfg and setup.py, its ``requirements*.txt`` and the files
    ``[tool.setuptools.dynamic]`` reads dependencies from (a remote one: nothing,
    as an index's)."""
    import hashlib

    from lockgen.core.hashing import hash_file

    path = reference.path
    if path is None:
        return ""
    if reference.kind is DirectKind.ARCHIVE:
        return hash_file(path)[0]
    digest = hashlib.sha256()
    names = ["pyproject.toml", "setup.cfg", "setup.py"]
    names += sorted(p.name for p in path.glob("requirements*.txt"))
    names += _dynamic_files(path / "pyproject.toml")
    for name in names:
        try:
            digest.update(name.encode() + b"\0" + (path / name).read_bytes() + b"\0")
        except (OSError, ValueError):
            digest.update(name.encode() + b"\0-\0")
    return digest.hexdigest()


def _dynamic_files(pyproject: Path) -> list[str]:
    """The files ``[tool.setuptools.dynamic]`` takes dependencies from."""
    from lockgen.core.toml_input import parse_toml

    try:
        dynamic = parse_toml(pyproject.read_text())["tool"]["setuptools"]["dynamic"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(dynamic, dict):
        return []
    tables = [dynamic.get("dependencies")]
    extras = dynamic.get("optional-dependencies")
    tables += list(extras.values()) if isinstance(extras, dict) else []
    files = []
    for table in tables:
        named = table.get("file") if isinstance(table, dict) else None
        named = [named] if isinstance(named, str) else named
        if isinstance(named, list):
            files += [f for f in named if isinstance(f, str)]
    return files


def _no_build(options: LockOptions) -> list[str]:
    """``--no-build`` as ``:all:``, else the ``--no-build-package`` names: what they
    keep out changes the lock, so they are part of the inputs."""
    from packaging.utils import canonicalize_name  # on use: only a full read needs it

    if options.no_build:
        return [":all:"]
    return sorted({canonicalize_name(n) for n in options.no_build_packages})


def _read_requirements(
    options: LockOptions, read_text: Callable[[str], str], environ: Mapping[str, str]
) -> RequirementsInput:
    """Parse the files; command-line format options count as a last, extra file."""
    lines = [f"--only-binary {v}" for v in options.only_binary]
    lines += [f"--no-binary {v}" for v in options.no_binary]
    lines += ["--pre"] if options.pre else []

    def read(path: str) -> str:
        return "\n".join(lines) if path == _COMMAND_LINE else read_text(path)

    projects = [p for p in options.requirement_files if is_pyproject(p)]
    if projects:
        return _read_project(options, projects, read, environ, lines)
    files = [*options.requirement_files, *([_COMMAND_LINE] if lines else [])]
    return parse_requirements(
        files, options.constraint_files, read_text=read, environ=environ, cwd=Path.cwd()
    )


def _read_project(
    options: LockOptions,
    projects: list[str],
    read: Callable[[str], str],
    environ: Mapping[str, str],
    lines: list[str],
) -> RequirementsInput:
    """A pyproject.toml's requirements (the only requirements input), with the
    constraint files and command-line options read as pip reads them."""
    if len(options.requirement_files) != 1:
        raise LockgenError(
            f"{projects[0]} is locked on its own: give no other requirements file"
        )
    project = read_pyproject(
        read(projects[0]),
        projects[0],
        extras=options.extras,
        groups=options.groups,
        default_groups=options.default_groups,
    )
    files = [_COMMAND_LINE] if lines else []
    options_only = parse_requirements(
        files, options.constraint_files, read_text=read, environ=environ
    )
    return replace(
        options_only,
        requirements=project.requirements,
        extras=project.extras,
        groups=project.groups,
        default_groups=project.default_groups,
    )


def _locations(
    index_urls: Sequence[str], find_links: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """Index URLs in search order and find-links locations, credential-free, and
    every URL as given (its credentials go to the client, never to the lock)."""
    given: list[str] = []
    indexes: list[str] = []
    for url in index_urls:
        _check_userinfo(url)
        given.append(url)
        clean = _checked_index(strip_credentials(url)[0])
        clean = clean if clean.endswith("/") else clean + "/"
        if clean not in indexes:
            indexes.append(clean)
    found: list[str] = []
    for location in find_links:
        clean = strip_credentials(location)[0]
        if "://" in location:
            _check_userinfo(location)
            given.append(location)
        if clean not in found:
            found.append(clean)
    return indexes, found, given


def _check_userinfo(url: str) -> None:
    """Refuse, without echoing it, an index or find-links URL whose password holds
    an unencoded ``#``, ``/`` or ``?``: URL parsing ends the host there, so the
    secret would become the host, path or fragment and reach requests and messages.
    """
    if unencoded_userinfo(url):
        raise LockgenError(
            "an index URL's credentials contain '#', '/' or '?': percent-encode them "
            "(%23, %2F, %3F); the URL is not shown because it holds a secret"
        )


def _checked_index(url: str) -> str:
    """``url`` if it can be an index: http(s) with a host, or a file:// folder that
    exists (a mistyped one would silently hand every project to the next index)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise LockgenError(f"index URL {url!r} is not a valid URL: {exc}") from None
    if parts.scheme in ("http", "https") and parts.hostname:
        return url
    if parts.scheme == "file":
        folder = local_path(url)
        if not folder.is_dir():
            raise LockgenError(f"index {url} is not a folder on this machine")
        return url
    hint = (
        f"; for a local folder use {Path(url).absolute().as_uri()}"
        if (not parts.scheme and url.startswith(("/", ".")))
        else ""
    )
    raise LockgenError(
        f"index URL {url!r} must be http(s)://HOST/... or file:///FOLDER{hint}"
    )


def _index_urls(
    options: LockOptions, inputs: RequirementsInput, environ: Mapping[str, str]
) -> list[str]:
    """The command line's, the files', then pip's configured ones (or its default):
    pip's configured extra indexes are searched after the ones given here, as the
    defaults they are."""
    pip = read_pip_settings(environ)
    if options.index_url == "" or "" in options.extra_index_urls:
        # not "use the default": an unset variable in a CI script (-i "$INDEX")
        raise LockgenError("an index URL given on the command line is empty")
    first = (
        options.index_url or inputs.index_url or pip.index_url or builtin_index_url()
    )
    if first is None:
        raise LockgenError(
            "no index configured and no pip to ask for its default: pass --index-url URL"
        )
    return [
        first,
        *options.extra_index_urls,
        *inputs.extra_index_urls,
        *pip.extra_index_urls,
    ]
