"""``lockgen hydrate`` end to end: a lock in, a verified wheelhouse out.

Reads and validates the lock, plans what to fetch (:mod:`lockgen.lockfile.plan`), then fetches
on a bounded thread pool that shares one connection pool. Every failure is collected
and reported together at the end; what was fetched and verified stays. Each fetched
wheel's METADATA is compared with the lock's record (:mod:`lockgen.lockfile.verify`), closing
the gap left by range-read metadata at lock time.

A git entry is checked out at its locked commit into ``DIR/NAME-<commit>`` (a
source tree, cloned into a hidden folder and renamed when its HEAD is that
commit); a local folder the lock names is reported as local, not fetched.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lockgen.core.environment import current_target
from lockgen.core.errors import LockFileError, LockgenError, MetadataError
from lockgen.core.models import Artifact, DistKind
from lockgen.core.urls import strip_credentials
from lockgen.core.wheel_zip import read_wheel_metadata_from_file
from lockgen.lockfile.plan import Checkout, LocalTree, Plan, plan
from lockgen.lockfile.read import read_lock
from lockgen.lockfile.verify import metadata_difference
from lockgen.net.download import Fetched, fetch

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.pylock import Pylock

    from lockgen.app.services import Services
    from lockgen.core.environment import Target
    from lockgen.net.transport import HttpClient
    from lockgen.store.cache import Cache

__all__ = ["HydrateOptions", "HydrateProgress", "HydrateReport", "run_hydrate"]


class HydrateProgress(Protocol):
    """What hydrate reports while it runs; called from worker threads."""

    def start(self, files: int, total_bytes: int) -> None:
        """The plan is known: this many files, about this many bytes."""

    def advance(self, nbytes: int) -> None:
        """Bytes arrived (or were found already present)."""

    def file_done(self, filename: str, status: str) -> None:
        """A file ended ``fetched``, ``from-cache``, ``cached`` (present),
        ``checked-out`` (a git checkout), ``local`` (a local folder) or ``failed``."""


@dataclass(frozen=True, kw_only=True)
class HydrateOptions:
    """The ``hydrate`` command's inputs."""

    lock_path: Path
    dest: Path
    #: ``None``: the running interpreter (unless ``all_files``)
    target: Target | None = None
    extras: Sequence[str] = ()
    groups: Sequence[str] | None = None
    all_files: bool = False
    jobs: int = 8
    allow_http: bool = False
    allow_file_urls: bool = False
    verify_metadata: bool = True
    offline: bool = False


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How one file (or checkout, or local folder) ended."""

    artifact: Artifact | Checkout | LocalTree
    status: str
    transferred: int = 0
    error: str | None = None


@dataclass(kw_only=True)
class HydrateReport:
    """Everything hydrate did, for the summary line and ``--json``."""

    dest: Path
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        """The files that could not be fetched or verified."""
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        """How many files ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def transferred(self) -> int:
        """Bytes received over the network (or copied from local paths)."""
        return sum(o.transferred for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        """A machine-readable summary (``lockgen hydrate --json``)."""
        return {
            "directory": str(self.dest),
            "files": [
                {
                    "name": o.artifact.filename,
                    "package": o.artifact.package,
                    "size": o.artifact.size,
                    "sha256": o.artifact.sha256,
                    "status": o.status,
                    **({"error": o.error} if o.error else {}),
                    **(
                        {"commit": o.artifact.commit}
                        if isinstance(o.artifact, Checkout)
                        else {}
                    ),
                }
                for o in sorted(self.outcomes, key=lambda o: o.artifact.filename)
            ],
            "bytes": self.transferred,
            "fetched": self.count("fetched"),
            "from_cache": self.count("from-cache"),
            "cached": self.count("cached"),
            "failed": self.count("failed"),
            "checked_out": self.count("checked-out"),
            "local": self.count("local"),
        }


def run_hydrate(
    options: HydrateOptions, progress: HydrateProgress, services: Services
) -> HydrateReport:
    """Fetch what the lock selects; failures are in the report, not raised.

    The client, cache and retry backoff come from ``services``: the caller's.
    """
    selected, indexes = _plan(options)
    artifacts = selected.artifacts
    try:
        options.dest.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LockgenError(f"{options.dest} exists and is not a directory") from None
    except OSError as exc:
        raise LockgenError(f"cannot create {options.dest}: {exc.strerror}") from exc
    progress.start(
        len(artifacts) + len(selected.checkouts), sum(a.size or 0 for a in artifacts)
    )
    report = HydrateReport(dest=options.dest)
    for tree in selected.local:
        there = (options.lock_path.parent / tree.filename).is_dir()
        status = "local" if there else "failed"
        progress.file_done(tree.filename, status)
        error = None if there else "no such folder (the lock names it as local)"
        report.outcomes.append(Outcome(artifact=tree, status=status, error=error))
    client = services.open_client(maxsize=options.jobs, indexes=indexes)
    cache = services.cache
    cancelled = threading.Event()
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = [
            pool.submit(_one, client, cache, a, options, progress, cancelled)
            for a in artifacts
        ]
        futures += [
            pool.submit(_checkout, c, options, progress) for c in selected.checkouts
        ]
        try:
            for future in as_completed(futures):
                report.outcomes.append(future.result())
        except KeyboardInterrupt:
            cancelled.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return report


def _plan(options: HydrateOptions) -> tuple[Plan, list[str]]:
    """What to fetch, and the lock's index URLs (they scope credentials)."""
    try:
        text = options.lock_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LockFileError(
            str(options.lock_path), f"cannot read: {exc.strerror}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise LockFileError(
            str(options.lock_path), f"not UTF-8 text (byte {exc.start})"
        ) from exc
    lock = read_lock(text, str(options.lock_path)).validated()
    target = None if options.all_files else (options.target or current_target())
    selected = plan(
        lock,
        options.lock_path.absolute(),
        target=target,
        extras=options.extras,
        groups=options.groups,
        allow_http=options.allow_http,
        allow_file_urls=options.allow_file_urls,
    )
    return selected, _indexes(lock, options.lock_path)


def _indexes(lock: Pylock, lock_path: Path) -> list[str]:
    """The lock's index URLs, without the credentials an untrusted lock might carry
    (never used); one that is no URL at all (``http://[::1``) is refused, unechoed
    since it may hold a secret."""
    indexes: set[str] = set()
    for package in lock.packages:
        if package.index:
            try:
                indexes.add(strip_credentials(package.index)[0])
            except ValueError:
                raise LockFileError(
                    str(lock_path), f"package {package.name}: invalid index URL"
                ) from None
    return sorted(indexes)


def _one(
    client: HttpClient,
    cache: Cache | None,
    artifact: Artifact,
    options: HydrateOptions,
    progress: HydrateProgress,
    cancelled: threading.Event,
) -> Outcome:
    try:
        fetched = fetch(
            client,
            artifact,
            options.dest,
            on_bytes=progress.advance,
            cancelled=cancelled,
            cache=cache,
            offline=options.offline,
        )
        if fetched.status != "fetched":
            progress.advance(artifact.size or 0)
        if options.verify_metadata:
            _check_metadata(fetched)
    except LockgenError as exc:
        progress.file_done(artifact.filename, "failed")
        return Outcome(artifact=artifact, status="failed", error=str(exc))
    status = fetched.status
    progress.file_done(artifact.filename, status)
    return Outcome(artifact=artifact, status=status, transferred=fetched.transferred)


def _checkout(
    checkout: Checkout, options: HydrateOptions, progress: HydrateProgress
) -> Outcome:
    """``checkout`` cloned at its commit into DIR/NAME-<commit>, anew every run.

    What is in that folder already is never trusted, nor is git ever run in it:
    a folder that came with the lock (say, in the same pull request) could hold a
    ``.git`` whose config runs commands. The new checkout replaces it only once its
    HEAD is the locked commit."""
    from lockgen.app.git import Git

    final = options.dest / checkout.filename
    try:
        if options.offline:
            raise LockgenError(f"offline, and {checkout.url} cannot be fetched")
        with tempfile.TemporaryDirectory(
            prefix=f".{checkout.filename}-", dir=options.dest
        ) as tmp:
            part = Path(tmp) / "checkout"
            Git.clone_at(checkout.url, checkout.commit, part)
            if final.is_symlink() or final.is_file():
                final.unlink()
            elif final.exists():
                final.rename(Path(tmp) / "replaced")  # removed with tmp
            part.rename(final)
    except (LockgenError, OSError) as exc:
        reason = str(exc) if isinstance(exc, LockgenError) else _os_reason(exc, final)
        progress.file_done(checkout.filename, "failed")
        return Outcome(artifact=checkout, status="failed", error=reason)
    progress.file_done(checkout.filename, "checked-out")
    return Outcome(artifact=checkout, status="checked-out")


def _os_reason(exc: OSError, final: Path) -> str:
    return f"cannot check out into {final}: {exc.strerror or exc}"


def _check_metadata(fetched: Fetched) -> None:
    """Compare the wheel's own METADATA with the lock's record (if the lock has one)."""
    artifact = fetched.artifact
    if artifact.kind is not DistKind.WHEEL or artifact.metadata is None:
        return
    with fetched.path.open("rb") as fh:
        data = read_wheel_metadata_from_file(fh, artifact.filename)
    difference = metadata_difference(artifact.metadata, artifact.filename, data)
    if difference is not None:
        raise MetadataError(
            artifact.filename, f"package {artifact.package}: {difference}"
        )
