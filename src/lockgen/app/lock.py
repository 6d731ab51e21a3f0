"""``lockgen lock`` end to end: inputs to a written, validated pylock.toml.

This is where the layers meet (requirements, target, HTTP client, index, resolver, lock
writer), so that each of them stays ignorant of the others and the CLI only handles
options and printing.

Re-locking follows pip-tools: an existing lock's pins are preferences, so a re-run
changes only what the inputs force to change (``upgrade`` and ``upgrade_packages``
free them). A lock resolved before from the same inputs and pins is used again when
the index pages it was resolved from are unchanged (:mod:`lockgen.app.replay`).
The lock records a digest of the normalised inputs and of its own text in
``[tool.lockgen]``; when both match, the lock is up to date and the run makes no
request and writes nothing. ``--check`` resolves again and compares the bytes (uv's
``--locked``), so a lock edited by hand or by an attacker never passes it. The output is written to a temporary
file beside the target and renamed over it, so a failed run never leaves a
half-written or missing lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lockgen.app.atomic import write_atomically
from lockgen.core.errors import LockFileError, LockgenError
from lockgen.lockfile.read import LockDocument, read_lock
from lockgen.lockfile.relock import (
    EDITED,
    first_difference,
    known_hashes,
    locked_commits,
    pinned_versions,
    stale_reason,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from packaging.pylock import Pylock

    from lockgen.app.input_memo import InputMemo
    from lockgen.app.inputs import Inputs
    from lockgen.app.services import Services
    from lockgen.core.environment import Target
    from lockgen.lockfile.relock import LockedCommit

__all__ = [
    "DEFAULT_BUILD_TIMEOUT",
    "LockOptions",
    "LockResult",
    "OutOfDateError",
    "Progress",
    "parsed_lock",
    "relock",
    "run_lock",
]


#: Seconds a build (of an sdist, for its metadata) may take before it is killed:
#: reading metadata runs no compiler for most backends; a ``build_wheel`` fallback may.
DEFAULT_BUILD_TIMEOUT = 600.0


class Progress(Protocol):
    """What the lock reports while it runs (the CLI prints it)."""

    def pinned(self, name: str, version: str, requests: int) -> None:
        """The resolver settled on ``name`` at ``version``."""

    def detail(self, message: str) -> None:
        """A verbose-only line (how metadata was read, a fallback taken)."""


class OutOfDateError(LockgenError):
    """``--check``: the lock does not match the inputs (the message says why)."""


@dataclass(frozen=True, kw_only=True)
class LockOptions:
    """The ``lock`` command's inputs, as the user gave them."""

    requirement_files: Sequence[str]
    constraint_files: Sequence[str] = ()
    output: str = "pylock.toml"
    index_url: str | None = None
    extra_index_urls: Sequence[str] = ()
    find_links: Sequence[str] = ()
    no_index: bool = False
    pre: bool = False
    only_binary: Sequence[str] = ()
    no_binary: Sequence[str] = ()
    #: ``None``: the running interpreter, or the one ``target_spec`` names
    target: Target | None = None
    #: ``(--python-version, --platform)`` as given (each ``None`` when left out),
    #: made into a target only when the inputs are read: an up-to-date run whose
    #: inputs are remembered never builds it (:mod:`lockgen.app.input_memo`)
    target_spec: tuple[str | None, str | None] | None = None
    upgrade: bool = False
    upgrade_packages: Sequence[str] = ()
    check: bool = False
    jobs: int = 16
    refresh: bool = False
    offline: bool = False
    #: ``--no-build``: no sdist is built for its metadata (only static PKG-INFO)
    no_build: bool = False
    #: ``--no-build-package``: these projects' sdists are not built
    no_build_packages: Sequence[str] = ()
    #: ``--build-timeout``: seconds a build may take
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    #: ``--exclude-newer``: only files uploaded before this (timezone-aware) time
    exclude_newer: datetime | None = None
    #: From a pyproject.toml: the extras and groups to lock (``None``: all of them),
    #: and whether the default groups (``dev``) are locked (``--no-default-groups``)
    extras: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    default_groups: bool = True

    @property
    def resolves_anyway(self) -> bool:
        """``--check``, ``--refresh``, ``-U`` or ``-P``: this run resolves even when
        nothing changed (no up-to-date lock, no replay stands for it)."""
        return bool(self.check or self.refresh or self.upgrade or self.upgrade_packages)


@dataclass(frozen=True, kw_only=True)
class LockResult:
    """What a lock run produced: the text, and the counts for the summary line.

    ``unchanged`` means the existing lock was already up to date and nothing was
    resolved or written (``text`` is then the existing file's text).
    """

    text: str
    output: str
    packages: int
    requests: int
    bytes: int
    unchanged: bool = False
    warnings: tuple[str, ...] = ()
    #: The inputs digest the lock is sealed for (``None``: not known).
    digest: str | None = None


def run_lock(
    options: LockOptions,
    *,
    progress: Progress,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
    services: Callable[[], Services],
    memo: InputMemo | None = None,
) -> LockResult:
    """Resolve ``options`` and write the lock; raises LockgenError on any failure.

    ``read_text`` reads a requirements file (``-`` is stdin), ``environ`` gives pip's
    settings and the variables requirements files may name: the caller's, never
    ``os.environ`` read here. ``services`` is called only when the lock is not up
    to date: an up-to-date run needs no network settings and no cache. ``memo``
    remembers what these inputs normalised to (:mod:`lockgen.app.input_memo`): with
    it, an up-to-date run does not parse them again.
    """
    existing = _existing(options.output)
    remembered = None if memo is None else memo.recalled(read_text, environ)
    if remembered is not None and existing is not None:
        if _up_to_date(options, existing, remembered):
            return _unchanged(options.output, existing, requests=0, nbytes=0)
    elif remembered is not None and options.offline:
        replayed = _replayed_offline(options, remembered, progress, services)
        if replayed is not None:
            return replayed
    inputs = _inputs(options, read_text, environ, memo)
    _check_output_folder(options)
    stdout = options.output == "-"
    if existing is not None and _up_to_date(options, existing, inputs.digest):
        return _unchanged(options.output, existing, requests=0, nbytes=0)
    lock = relock(
        options,
        inputs,
        existing,
        name=options.output,
        lock_dir=None if stdout else Path(options.output).parent,
        progress=progress,
        services=services(),
    )
    if not stdout and not lock.unchanged:
        write_atomically(Path(options.output), lock.text)
    return lock


def _replayed_offline(
    options: LockOptions,
    digest: str,
    progress: Progress,
    services: Callable[[], Services],
) -> LockResult | None:
    """The recorded lock for these (remembered) inputs, written, when ``--offline``
    finds every page it read unchanged in the cache (:mod:`lockgen.app.replay`)."""
    from lockgen.app.replay import replayed_offline

    _check_output_folder(options)
    result = replayed_offline(digest, options, progress=progress, services=services())
    if result is not None and options.output != "-":
        write_atomically(Path(options.output), result.text)
    return result


def _inputs(
    options: LockOptions,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
    memo: InputMemo | None,
) -> Inputs:
    """The inputs read in full (packaging parses them), remembered in ``memo``."""
    from lockgen.app.inputs import from_files

    if memo is None:
        return from_files(options, read_text, environ)
    from lockgen.app.input_memo import Recording
    from lockgen.core.urls import is_local, local_path

    recording = Recording(read_text, environ)
    inputs = from_files(options, recording.read_text, recording.environ)
    if inputs.requirements.directs:
        return inputs  # a local one's content counts: read again every run
    folders = [str(local_path(url)) for url in inputs.indexes if is_local(url)]
    memo.remember(recording, inputs.digest, folders)
    return inputs


def relock(
    options: LockOptions,
    inputs: Inputs,
    existing: LockDocument | None,
    *,
    name: str,
    lock_dir: Path | None,
    progress: Progress,
    services: Services,
) -> LockResult:
    """The lock for ``inputs``, given the ``existing`` one (called ``name``): that one
    unchanged when it is up to date, else resolved again with its pins preferred."""
    reason = stale_reason(existing, inputs.digest, name)
    if options.check:
        return _check(
            options, inputs, existing, reason, name, lock_dir, progress, services
        )
    if existing is not None and _up_to_date(options, existing, inputs.digest, name):
        return _unchanged(name, existing, requests=0, nbytes=0)
    usable = None if existing is None else existing.lock
    preferences = {} if options.upgrade or usable is None else pinned_versions(usable)
    # A lock edited since lockgen wrote it for these very inputs may carry a swapped
    # hash; re-locking must not launder it into a freshly sealed lock.
    known = {} if usable is None or reason == EDITED else known_hashes(usable)
    if not options.offline and any(i.startswith("https:") for i in inputs.indexes):
        services.start_tls()  # overlaps the imports below (OpenSSL frees the GIL)
    # Imported here so that an up-to-date run never loads the resolver or urllib3
    # (and a replayed one not the resolver).
    from lockgen.app.replay import replay

    going_on = None
    if not inputs.requirements.directs:  # a replay knows pages, not direct sources
        replayed, going_on = replay(
            options,
            inputs,
            preferences,
            known,
            name=name,
            progress=progress,
            services=services,
        )
        if replayed is not None:
            return replayed
    from lockgen.app.resolution import resolve_lock

    return resolve_lock(
        options,
        inputs,
        preferences,
        known,
        name=name,
        lock_dir=lock_dir,
        progress=progress,
        services=services,
        replay=going_on,
        commits=_commits(usable, options.upgrade),
    )


def _up_to_date(
    options: LockOptions, existing: LockDocument, digest: str, name: str | None = None
) -> bool:
    """Whether this run leaves ``existing`` as it is, without a request: it is the
    lock lockgen wrote for these inputs, and nothing asks to resolve anyway."""
    return (
        not options.resolves_anyway
        and stale_reason(existing, digest, name or options.output) is None
    )


def _check(
    options: LockOptions,
    inputs: Inputs,
    existing: LockDocument | None,
    reason: str | None,
    name: str,
    lock_dir: Path | None,
    progress: Progress,
    services: Services,
) -> LockResult:
    """``--check``: the lock must be, byte for byte, what lockgen would write now.

    A lock made from other inputs fails without a request; otherwise the inputs are
    resolved again (its pins as preferences, as a re-lock would) and the texts
    compared. The lock's own hashes are not reused: they are what is being checked.
    """
    from lockgen.app.resolution import resolve_lock

    if existing is None or reason not in (None, EDITED):
        raise OutOfDateError(f"{name} is out of date: {reason}")
    preferences = {} if existing.lock is None else pinned_versions(existing.lock)
    fresh = resolve_lock(
        options,
        inputs,
        preferences,
        {},
        name=name,
        lock_dir=lock_dir,
        progress=progress,
        services=services,
        commits=_commits(existing.lock, upgrade=False),
    )
    if fresh.text != existing.text:
        difference = first_difference(existing.data, read_lock(fresh.text, name).data)
        raise OutOfDateError(
            f"{name} is not what lockgen would write now: "
            f"{difference or 'its formatting differs'}"
        )
    return _unchanged(name, existing, requests=fresh.requests, nbytes=fresh.bytes)


def _commits(lock: Pylock | None, upgrade: bool) -> list[LockedCommit]:
    """The previous lock's git commits, kept for unchanged references (not
    under ``--upgrade``)."""
    return [] if lock is None or upgrade else locked_commits(lock)


def _unchanged(
    name: str,
    existing: LockDocument,
    *,
    requests: int,
    nbytes: int,
) -> LockResult:
    return LockResult(
        text=existing.text,
        output=name,
        packages=existing.packages,
        requests=requests,
        bytes=nbytes,
        unchanged=True,
        digest=existing.inputs,
    )


def _existing(output: str) -> LockDocument | None:
    """The current lock's text and data, if there is a readable one."""
    if output == "-":
        return None
    try:
        text = Path(output).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # not a lock lockgen can read: resolve and write a new one
    return parsed_lock(text, output)


def parsed_lock(text: str, name: str) -> LockDocument | None:
    """A lock read back, if it is TOML (else it is resolved anew): the current file,
    or the API's ``previous``."""
    try:
        return read_lock(text, name)
    except LockFileError:
        return None


def _check_output_folder(options: LockOptions) -> None:
    """A lock that could not be written is found out before the resolution, not
    after it (the write itself still reports any other failure)."""
    if options.output == "-" or options.check:
        return
    folder = Path(options.output).parent
    if not folder.is_dir():
        raise LockFileError(options.output, f"cannot write: no folder {folder}")
