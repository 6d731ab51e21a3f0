"""``lockgen lock`` end to end: inputs to a written, validated pylock.toml.

This is where the layers meet (requirements, target, HTTP client, index, resolver, lock
writer), so that each of them stays ignorant of the others and the CLI only handles
options and printing.

Re-locking follows pip-tools: an existing lock's pins are preferences, so a re-run
changes only what the inputs force to change (``upgrade`` and ``upgrade_packages``
free them). The lock records a digest of the normalised inputs and of its own text in
``[tool.lockgen]``; when both match, the lock is up to date and the run makes no
request and writes nothing. ``--check`` resolves again and compares the bytes (uv's
``--locked``), so a lock edited by hand or by an attacker never passes it. The output is written to a temporary
file beside the target and renamed over it, so a failed run never leaves a
half-written or missing lock.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit
from urllib.request import url2pathname

from packaging.requirements import InvalidRequirement, Requirement
from resolvelib import BaseReporter

from lockgen.app.pipconfig import builtin_index_url, read_pip_settings
from lockgen.core.environment import make_target
from lockgen.core.errors import LockFileError, LockgenError
from lockgen.core.requirements import parse_requirements
from lockgen.core.urls import strip_credentials
from lockgen.lockfile.read import LockDocument, read_lock
from lockgen.lockfile.relock import (
    EDITED,
    first_difference,
    inputs_digest,
    known_hashes,
    pinned_versions,
    seal,
    stale_reason,
)
from lockgen.net.access import Network
from lockgen.resolver.selection import Policy, Selector
from lockgen.resolver.values import Req, root_requirements

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from lockgen.core.environment import Target
    from lockgen.core.models import DistFile
    from lockgen.core.requirements import InputRequirement, RequirementsInput
    from lockgen.net.index import IndexClient
    from lockgen.net.transport import HttpClient
    from lockgen.resolver.resolve import Pin
    from lockgen.resolver.values import Candidate

__all__ = ["LockOptions", "LockResult", "OutOfDateError", "Progress", "run_lock"]

_COMMAND_LINE = "<command line>"


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
    python_version: str | None = None
    platform: str | None = None
    upgrade: bool = False
    upgrade_packages: Sequence[str] = ()
    check: bool = False
    jobs: int = 16
    cache_dir: Path | None = None
    no_cache: bool = False
    refresh: bool = False
    offline: bool = False
    network: Network = field(default_factory=Network)


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


@dataclass(frozen=True, kw_only=True)
class _Inputs:
    """Everything a lock depends on, parsed and normalised, before any request."""

    requirements: RequirementsInput
    target: Target
    indexes: list[str]
    find_links: list[str]
    #: index and find-links URLs as the user wrote them: credentials included
    given_indexes: list[str]
    digest: str


def run_lock(
    options: LockOptions,
    *,
    progress: Progress,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
) -> LockResult:
    """Resolve ``options`` and write the lock; raises LockgenError on any failure."""
    inputs = _gather(options, read_text, environ)
    _check_output_folder(options)
    existing = _existing(options.output)
    reason = stale_reason(existing, inputs.digest, options.output)
    if options.check:
        return _check(options, inputs, existing, reason, progress, environ)
    if (
        reason is None
        and not options.upgrade
        and not options.upgrade_packages
        and not options.refresh
    ):
        assert existing is not None
        return _unchanged(options, existing, requests=0, nbytes=0)
    usable = None if existing is None else existing.lock
    preferences = {} if options.upgrade or usable is None else pinned_versions(usable)
    # A lock edited since lockgen wrote it for these very inputs may carry a swapped
    # hash; re-locking must not launder it into a freshly sealed lock.
    known = {} if usable is None or reason == EDITED else known_hashes(usable)
    lock = _resolve(options, inputs, preferences, known, progress, environ)
    if options.output != "-":
        write_atomically(Path(options.output), lock.text)
    return lock


def _check(
    options: LockOptions,
    inputs: _Inputs,
    existing: LockDocument | None,
    reason: str | None,
    progress: Progress,
    environ: Mapping[str, str],
) -> LockResult:
    """``--check``: the lock must be, byte for byte, what lockgen would write now.

    A lock made from other inputs fails without a request; otherwise the inputs are
    resolved again (its pins as preferences, as a re-lock would) and the texts
    compared. The lock's own hashes are not reused: they are what is being checked.
    """
    if existing is None or reason not in (None, EDITED):
        raise OutOfDateError(f"{options.output} is out of date: {reason}")
    preferences = {} if existing.lock is None else pinned_versions(existing.lock)
    fresh = _resolve(options, inputs, preferences, {}, progress, environ)
    if fresh.text != existing.text:
        new = read_lock(fresh.text, options.output).data
        difference = first_difference(existing.data, new)
        raise OutOfDateError(
            f"{options.output} is not what lockgen would write now: "
            f"{difference or 'its formatting differs'}"
        )
    return _unchanged(options, existing, requests=fresh.requests, nbytes=fresh.bytes)


def _unchanged(
    options: LockOptions,
    existing: LockDocument,
    *,
    requests: int,
    nbytes: int,
) -> LockResult:
    return LockResult(
        text=existing.text,
        output=options.output,
        packages=existing.packages,
        requests=requests,
        bytes=nbytes,
        unchanged=True,
    )


def _resolve(
    options: LockOptions,
    inputs: _Inputs,
    preferences: dict[NormalizedName, Version],
    known: Mapping[str, tuple[str, int | None]],
    progress: Progress,
    environ: Mapping[str, str],
) -> LockResult:
    """Resolve and render the lock (not written: the caller decides)."""
    # Imported here so that an up-to-date run never loads the resolver or urllib3.
    from lockgen.lockfile.write import build_lock, dumps

    client, repository = _open_index(options, inputs, progress, environ)
    previous = dict(preferences)  # _policy frees the -P names from it
    policy = _policy(options, inputs, preferences)
    pins = _resolve_pins(
        options, inputs, policy, repository, _Reporter(progress, client)
    )
    _check_upgrades(options.upgrade_packages, pins, previous)

    def sha256_of(dist: DistFile) -> tuple[str, int | None]:
        return known.get(dist.url) or repository.get_sha256(dist)

    _hash_unhashed(pins, sha256_of, known, options.jobs)
    lock_dir = None if options.output == "-" else Path(options.output).parent
    lock = build_lock(
        pins,
        inputs.target,
        sha256_of,
        tool={"inputs": inputs.digest, "body": ""},
        lock_dir=lock_dir,
    )
    return LockResult(
        text=seal(dumps(lock)),
        output=options.output,
        packages=len(pins),
        requests=client.stats.requests,
        bytes=client.stats.bytes,
        warnings=tuple(
            f"{index} had none of the {asked} "
            f"{'project' if asked == 1 else 'projects'} asked of it (they came from "
            "the other indexes): is its URL right?"
            for index, asked in repository.unused_indexes()
        ),
    )


def _open_index(
    options: LockOptions,
    inputs: _Inputs,
    progress: Progress,
    environ: Mapping[str, str],
) -> tuple[HttpClient, IndexClient]:
    """One connection pool (with the indexes' credentials) and the cached index."""
    from lockgen.net.credentials import Credentials
    from lockgen.net.index import CacheMode, IndexClient
    from lockgen.net.transport import HttpClient
    from lockgen.store.cache import Cache, default_cache_dir

    client = HttpClient(
        maxsize=options.jobs + 1,
        network=options.network,
        credentials=Credentials(options.network, inputs.given_indexes),
    )
    cache = None
    if not options.no_cache:
        cache = Cache(options.cache_dir or default_cache_dir(environ))
    mode = CacheMode.NORMAL
    if options.offline:
        mode = CacheMode.OFFLINE
    elif options.refresh:
        mode = CacheMode.REFRESH
    repository = IndexClient(
        client,
        inputs.indexes,
        cache=cache,
        mode=mode,
        on_event=progress.detail,
        find_links=inputs.find_links,
    )
    return client, repository


def _policy(
    options: LockOptions, inputs: _Inputs, preferences: dict[NormalizedName, Version]
) -> Policy:
    """Constraints (``-P NAME==VER`` included), pre-releases, formats, preferences."""
    environment = inputs.target.environment()
    constraints = _constraints(inputs.requirements.constraints, environment)
    for name in _upgrade_constraints(options.upgrade_packages, constraints):
        preferences.pop(name, None)
    return Policy(
        constraints=constraints,
        pre=options.pre or inputs.requirements.pre,
        format_control=inputs.requirements.format_control,
        preferences=preferences,
    )


def _resolve_pins(
    options: LockOptions,
    inputs: _Inputs,
    policy: Policy,
    repository: IndexClient,
    reporter: _Reporter,
) -> list[Pin]:
    """Resolve the roots, with the prefetcher running ahead unless ``-j 1``."""
    from lockgen.resolver.prefetch import Prefetcher
    from lockgen.resolver.resolve import resolve

    given = inputs.requirements.requirements
    roots = root_requirements(
        (r.requirement for r in given),
        inputs.target.environment(),
        (r.source for r in given),
    )
    selector = Selector(inputs.target, policy)  # one memo for prefetcher and resolver
    prefetcher = None
    if options.jobs > 1:
        prefetcher = Prefetcher(repository, selector, options.jobs)
    try:
        return resolve(
            roots,
            repository,
            inputs.target,
            policy,
            reporter,
            lookahead=prefetcher,
            selector=selector,
        )
    finally:
        if prefetcher is not None:
            prefetcher.close()


def _hash_unhashed(
    pins: Sequence[Pin],
    sha256_of: Callable[[DistFile], tuple[str, int | None]],
    known: Mapping[str, tuple[str, int | None]],
    jobs: int,
) -> None:
    """Download, in parallel, the locked files the index gave no sha256 for (and that
    the previous lock does not already record). A missing size is no reason: PEP 751
    makes it optional, and the lock records it only when it comes for free."""
    missing = [
        d for pin in pins for d in pin.files if d.sha256 is None and d.url not in known
    ]
    if missing:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(sha256_of, missing))


def _gather(
    options: LockOptions, read_text: Callable[[str], str], environ: Mapping[str, str]
) -> _Inputs:
    requirements = _read_requirements(options, read_text, environ)
    target = make_target(options.python_version, options.platform)
    indexes, find_links, given = _locations(options, requirements, environ)
    no_index = options.no_index or requirements.no_index
    digest = inputs_digest(
        requirements, target, indexes, find_links=find_links, no_index=no_index
    )
    return _Inputs(
        requirements=requirements,
        target=target,
        indexes=indexes,
        find_links=find_links,
        given_indexes=given,
        digest=digest,
    )


def _read_requirements(
    options: LockOptions, read_text: Callable[[str], str], environ: Mapping[str, str]
) -> RequirementsInput:
    """Parse the files; command-line format options count as a last, extra file."""
    lines = [f"--only-binary {v}" for v in options.only_binary]
    lines += [f"--no-binary {v}" for v in options.no_binary]
    lines += ["--pre"] if options.pre else []

    def read(path: str) -> str:
        return "\n".join(lines) if path == _COMMAND_LINE else read_text(path)

    files = [*options.requirement_files, *([_COMMAND_LINE] if lines else [])]
    return parse_requirements(
        files, options.constraint_files, read_text=read, environ=environ
    )


def _locations(
    options: LockOptions, inputs: RequirementsInput, environ: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """Index URLs in search order and find-links locations, credential-free, and
    every URL as given (its credentials go to the client, never to the lock).

    pip's configured extra indexes are searched after the ones given here, as the
    defaults they are; ``--no-index`` (here or in a file) drops every index.
    """
    given: list[str] = []
    indexes: list[str] = []
    if not (options.no_index or inputs.no_index):
        for url in _index_urls(options, inputs, environ):
            _check_userinfo(url)
            given.append(url)
            clean = _checked_index(strip_credentials(url)[0])
            clean = clean if clean.endswith("/") else clean + "/"
            if clean not in indexes:
                indexes.append(clean)
    find_links: list[str] = []
    # command-line paths are relative to the current directory; the files' are
    # already joined to their file's directory
    written = [p if "://" in p else os.path.normpath(p) for p in options.find_links]
    for location in [*written, *inputs.find_links]:
        clean = strip_credentials(location)[0]
        if "://" in location:
            _check_userinfo(location)
            given.append(location)
        if clean not in find_links:
            find_links.append(clean)
    return indexes, find_links, given


def _check_userinfo(url: str) -> None:
    """Refuse, without echoing it, an index or find-links URL whose password holds
    an unencoded ``#``, ``/`` or ``?``: URL parsing ends the host there, so the
    secret would become the host, path or fragment and reach requests and messages.
    """
    _, sep, rest = url.partition("://")
    before_at, at, _ = rest.partition("@")
    if sep and at and ":" in before_at and any(c in before_at for c in "#/?"):
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
        folder = Path(url2pathname(parts.path))
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
    """The command line's, the files', then pip's configured ones (or its default)."""
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


def _existing(output: str) -> LockDocument | None:
    """The current lock, if there is a readable one (its ``lock`` is ``None`` when
    it is not PEP 751: a re-lock then takes no pins or hashes from it)."""
    if output == "-":
        return None
    try:
        return read_lock(Path(output).read_text(encoding="utf-8"), output)
    except (OSError, UnicodeDecodeError, LockFileError):
        return None  # not a lock lockgen can read: resolve and write a new one


def _check_upgrades(
    specs: Sequence[str],
    pins: Sequence[Pin],
    previous: Mapping[NormalizedName, Version],
) -> None:
    """``-P NAME[==VER]`` must name a package of the old or the new lock, and
    the new lock must hold VER: a constraint alone would let the resolver drop
    the package instead (``-P urllib3==9.9`` downgraded requests to a release
    without urllib3). Checked before anything is written."""
    locked = {pin.name: pin.version for pin in pins}
    for spec in specs:
        req = Req.from_requirement(Requirement(spec))
        if req.name not in locked and req.name not in previous:
            raise LockgenError(
                f"--upgrade-package {spec}: {req.name} is neither in the lock nor "
                "needed by the requirements"
            )
        version = locked.get(req.name)
        if req.specifier and (
            version is None or not req.specifier.contains(version, prereleases=True)
        ):
            got = "drops it" if version is None else f"has {version}"
            raise LockgenError(
                f"--upgrade-package {spec}: no resolution holds it (the best one "
                f"{got}); nothing was written"
            )


def _upgrade_constraints(
    specs: Sequence[str], constraints: dict[NormalizedName, list[Req]]
) -> list[NormalizedName]:
    """Parse ``-P NAME[==VER]``: the names freed; a version becomes a constraint."""
    names: list[NormalizedName] = []
    for spec in specs:
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            raise LockgenError(f"--upgrade-package {spec!r}: {exc}") from exc
        req = Req.from_requirement(requirement)
        names.append(req.name)
        if req.specifier:
            constraints.setdefault(req.name, []).append(req)
    return names


def _constraints(
    constraints: Sequence[InputRequirement], environment: Mapping[str, str]
) -> dict[NormalizedName, list[Req]]:
    by_name: dict[NormalizedName, list[Req]] = {}
    requirements = (c.requirement for c in constraints)
    origins = (c.source for c in constraints)
    for req in root_requirements(requirements, environment, origins):
        by_name.setdefault(req.name, []).append(req)  # Req names are normalised
    return by_name


def _check_output_folder(options: LockOptions) -> None:
    """A lock that could not be written is found out before the resolution, not
    after it (the write itself still reports any other failure)."""
    if options.output == "-" or options.check:
        return
    folder = Path(options.output).parent
    if not folder.is_dir():
        raise LockFileError(options.output, f"cannot write: no folder {folder}")


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename; on failure the old file stays.

    A new lock gets the mode the user's umask gives a new file (the temporary file is
    opened with 0o666, which the kernel masks; ``mkstemp``'s 0o600 would hide a
    committed lock from a group); an existing lock keeps its mode. Whatever stops
    the write, Ctrl-C included, removes the temporary file.
    """
    folder = path.parent if str(path.parent) else Path()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    try:
        fd, tmp = _create_temporary(folder, path.name)
    except OSError as exc:
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(text)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new file ``.NAME.RANDOM.tmp`` in ``folder``, created with the umask's mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


class _Reporter(BaseReporter["Req", "Candidate", str]):
    """Forwards resolvelib's pins to the progress display."""

    def __init__(self, progress: Progress, client: HttpClient) -> None:
        self._progress = progress
        self._client = client

    def pinning(self, candidate: Candidate) -> None:
        if candidate.name != "<python>":
            self._progress.pinned(
                candidate.name, str(candidate.version), self._client.stats.requests
            )
