"""lockgen's Python API (provisional): :func:`lock` and :func:`hydrate` for build tools
that would rather call lockgen in-process than spawn it.

Both run the very use cases the command line runs (:func:`~lockgen.app.lock.relock`,
:func:`~lockgen.app.hydrate.run_hydrate`), so a lock made here has the bytes
``lockgen lock`` writes for the same requirements and indexes. Unlike the command
line they read nothing from the environment or pip's configuration: indexes, cache
and target are arguments. Errors are :class:`~lockgen.core.errors.LockgenError`\\ s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from lockgen.app.inputs import from_values
from lockgen.app.lock import (
    DEFAULT_BUILD_TIMEOUT,
    LockOptions,
    parsed_lock,
    relock,
)
from lockgen.app.services import DEFAULT_BACKOFF, Services
from lockgen.core.environment import Target
from lockgen.lockfile.read import read_lock
from lockgen.lockfile.write import dumps
from lockgen.store.cache import Cache

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from packaging.requirements import Requirement

    from lockgen.app.hydrate import HydrateProgress, HydrateReport
    from lockgen.app.lock import Progress

__all__ = ["dumps", "hydrate", "lock"]

#: What messages call the ``previous`` lock (it has no file name).
_PREVIOUS = "the previous lock"


def lock(
    requirements: Iterable[str | Requirement],
    *,
    indexes: Sequence[str],
    constraints: Iterable[str | Requirement] = (),
    target: Target | None = None,
    previous: Pylock | str | None = None,
    upgrade: Iterable[str] = (),
    reporter: Progress | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    jobs: int = 16,
    backoff: float = DEFAULT_BACKOFF,
    no_build: bool | Iterable[str] = False,
    build_timeout: float = DEFAULT_BUILD_TIMEOUT,
    exclude_newer: datetime | None = None,
) -> Pylock:
    """Resolve ``requirements`` (PEP 508) on ``indexes`` (searched in order) into a lock.

    ``previous`` (a lock or its TOML text) is re-locked as ``lockgen lock`` re-locks
    an existing file: its pins are kept where they still fit, and when it was made
    from these very inputs it is returned as it is, without a request. ``upgrade``
    names packages (``NAME`` or ``NAME==VER``) whose pins are freed. ``cache_dir``
    ``None`` uses no cache; ``backoff`` is the seconds before a failed request's first
    retry. An sdist whose PKG-INFO is dynamic is built for its metadata (within
    ``build_timeout`` seconds) unless ``no_build`` is true or names its project.
    ``exclude_newer`` (timezone-aware) keeps out files uploaded from then on.
    A requirement may be a direct reference (``name @ URL``, a git URL, a local
    path, relative to the current folder); local paths are written relative to it.
    Render the result with :func:`dumps`.
    """
    refused = () if isinstance(no_build, bool) else tuple(no_build)
    inputs = from_values(
        requirements,
        constraints,
        indexes,
        target or Target.current(),
        exclude_newer=exclude_newer,
        no_build=[":all:"]
        if no_build is True
        else sorted({canonicalize_name(n) for n in refused}),
    )
    services = _services(cache_dir, backoff)
    existing = None if previous is None else parsed_lock(_text_of(previous), _PREVIOUS)
    result = relock(
        LockOptions(
            requirement_files=(),
            upgrade_packages=tuple(upgrade),
            jobs=jobs,
            offline=offline,
            no_build=no_build is True,
            no_build_packages=refused,
            build_timeout=build_timeout,
        ),
        inputs,
        existing,
        name=_PREVIOUS,
        lock_dir=None,
        progress=reporter or _Silent(),
        services=services,
    )
    return read_lock(result.text, "the new lock").validated()


def hydrate(
    lock: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    target: Target | None = None,
    all_files: bool = False,
    extras: Sequence[str] = (),
    groups: Sequence[str] | None = None,
    jobs: int = 8,
    verify_metadata: bool = True,
    allow_http: bool = False,
    allow_file_urls: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    reporter: HydrateProgress | None = None,
    backoff: float = DEFAULT_BACKOFF,
) -> HydrateReport:
    """Download into ``dest`` the files the lock file ``lock`` selects for ``target``
    (the running interpreter if ``None``; every file with ``all_files``), each one
    verified against the lock. Failed files are in the report's ``failures``, not
    raised; a lock that cannot be read raises :class:`~lockgen.core.errors.LockFileError`.
    """
    from lockgen.app.hydrate import HydrateOptions, run_hydrate

    if all_files and (target is not None or extras or groups):
        raise ValueError("all_files fetches everything: no target, extras or groups")
    options = HydrateOptions(
        lock_path=Path(lock),
        dest=Path(dest),
        target=target,
        extras=tuple(extras),
        groups=None if groups is None else tuple(groups),
        all_files=all_files,
        jobs=jobs,
        allow_http=allow_http,
        allow_file_urls=allow_file_urls,
        verify_metadata=verify_metadata,
        offline=offline,
    )
    return run_hydrate(options, reporter or _Silent(), _services(cache_dir, backoff))


def _services(cache_dir: str | os.PathLike[str] | None, backoff: float) -> Services:
    """The API's I/O: no network settings from the environment, the cache asked
    for (``None``: none) and the given retry backoff."""
    cache = None if cache_dir is None else Cache(Path(cache_dir))
    return Services(cache=cache, backoff=backoff)


def _text_of(previous: Pylock | str) -> str:
    """The text of a previous lock; text that is no valid lock is an error here (a
    file the command line finds unreadable is replaced, but this was handed in)."""
    if isinstance(previous, Pylock):
        return dumps(previous)
    read_lock(previous, _PREVIOUS).validated()
    return previous


class _Silent:
    """The reporter when none is given: lock's and hydrate's, saying nothing."""

    def pinned(self, name: str, version: str, requests: int) -> None:
        """Nothing to show."""

    def detail(self, message: str) -> None:
        """Nothing to show."""

    def start(self, files: int, total_bytes: int) -> None:
        """Nothing to show."""

    def advance(self, nbytes: int) -> None:
        """Nothing to show."""

    def file_done(self, filename: str, status: str) -> None:
        """Nothing to show."""
