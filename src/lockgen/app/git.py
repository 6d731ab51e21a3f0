"""git, run as a subprocess: a revision resolved to its commit, a commit's tree
written out, and a repository cloned at a commit (``hydrate``).

git is found on PATH; without it every use is a one-line error. Each run has a
timeout and no terminal prompt (a repository asking for a password fails instead of
hanging), its arguments end option parsing before any URL or revision, and its
error output is cut to one credential-free line. Repositories fetched while locking
are kept bare under the cache's ``v1/git/<digest of the URL>``, one lock at a time
(an exclusive file lock), so a second lock of the same revision costs one fetch of
what is new.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from typing import TYPE_CHECKING

from lockgen.core.direct import is_git_revision
from lockgen.core.errors import LockgenError, OfflineError
from lockgen.core.urls import redact_url

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Git", "GitError", "is_commit"]

#: Seconds one git command may take (a fetch of a big repository included).
_TIMEOUT = 600.0
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")


class GitError(LockgenError):
    """git is missing or one of its commands failed (one line, no secret)."""


def is_commit(revision: str | None) -> bool:
    """Whether ``revision`` is a full commit id (it then names its content)."""
    return revision is not None and _COMMIT_RE.fullmatch(revision) is not None


class Git:
    """git commands for one run; ``base`` holds the bare repositories (a temporary
    folder without a cache), ``offline`` forbids fetching."""

    def __init__(self, base: Path, *, offline: bool = False) -> None:
        self._base = base
        self._offline = offline

    def resolve(self, url: str, given: str, revision: str | None) -> tuple[str, Path]:
        """The commit ``revision`` (``None``: the default branch) names in the
        repository at ``url`` (``given``: the same URL with its credentials), and the
        bare repository holding it."""
        _check_revision(revision)
        repository = self._base / hashlib.sha256(url.encode()).hexdigest()[:32]
        with _Lock(repository):
            if not (repository / "HEAD").is_file():
                repository.mkdir(parents=True, exist_ok=True)
                _run(["init", "--quiet", "--bare", str(repository)], url)
            if is_commit(revision) and self._has(repository, revision):
                assert revision is not None
                return revision, repository
            if self._offline:
                raise OfflineError(
                    f"offline, and {url}@{revision or 'HEAD'} is not fetched yet"
                )
            return self._fetched(repository, url, given, revision), repository

    def write_tree(self, repository: Path, commit: str, dest: Path) -> None:
        """A checkout of ``commit`` in the new folder ``dest``, borrowing the cached
        repository's objects: with its ``.git`` and tags, since backends such as
        setuptools-scm read the version from them, as they do in pip's clone."""
        where = str(repository)
        _run(["clone", "--quiet", "--shared", "--no-checkout", where, str(dest)], where)
        _run(["-C", str(dest), "checkout", "--quiet", "--detach", commit], where)

    @staticmethod
    def clone_at(url: str, commit: str, dest: Path) -> None:
        """A checkout of ``commit`` from ``url`` in the new folder ``dest``, its
        HEAD checked to be that commit."""
        _run(["init", "--quiet", str(dest)], url)
        try:  # most servers serve a commit by its id; others, every branch and tag
            _run(
                ["-C", str(dest), "fetch", "--quiet", "--depth=1", "--", url, commit],
                url,
            )
        except GitError:
            _run(["-C", str(dest), "fetch", "--quiet", "--tags", "--", url, _ALL], url)
        _run(["-C", str(dest), "checkout", "--quiet", "--detach", commit], url)
        head = Git.head(dest, url)
        if head != commit:
            raise GitError(f"{url}: checked out {head}, not the locked {commit}")

    @staticmethod
    def head(checkout: Path, url: str) -> str:
        """The commit checked out in ``checkout``."""
        return _run(["-C", str(checkout), "rev-parse", "HEAD"], url).strip()

    def _has(self, repository: Path, revision: str | None) -> bool:
        try:
            _run(
                [f"--git-dir={repository}", "cat-file", "-e", f"{revision}^{{commit}}"],
                str(repository),
            )
        except GitError:
            return False
        return True

    def _fetched(
        self, repository: Path, url: str, given: str, revision: str | None
    ) -> str:
        """Fetch ``revision`` (a branch, a tag or a commit id); when the server
        will not serve it by that name, every branch and tag, then look it up."""
        git_dir = f"--git-dir={repository}"
        wanted = revision or "HEAD"
        try:  # tags too: a backend may read the version from them
            _run([git_dir, "fetch", "--quiet", "--tags", "--", given, wanted], url)
            return _kept(repository, _commit(repository, "FETCH_HEAD", url), url)
        except GitError:
            if revision is None:
                raise
        _run([git_dir, "fetch", "--quiet", "--tags", "--", given, _ALL], url)
        for name in (revision, f"origin/{revision}"):
            try:
                return _kept(repository, _commit(repository, name, url), url)
            except GitError:
                continue
        raise GitError(f"{url}: no branch, tag or commit {revision!r}")


#: Every branch and tag, for a server that serves no commit by its id.
_ALL = "+refs/heads/*:refs/remotes/origin/*"


def _commit(repository: Path, name: str, url: str) -> str:
    out = _run(
        [
            f"--git-dir={repository}",
            "rev-parse",
            "--verify",
            "--quiet",
            f"{name}^{{commit}}",
        ],
        url,
    ).strip()
    if not _COMMIT_RE.fullmatch(out):
        raise GitError(f"{url}: {name} is no commit")
    return out


def _kept(repository: Path, commit: str, url: str) -> str:
    """``commit``, given a ref of its own in ``repository``: later fetches and
    clones see it, and no garbage collection drops it."""
    ref = f"refs/lockgen/{commit}"
    _run([f"--git-dir={repository}", "update-ref", ref, commit], url)
    return commit


def _check_revision(revision: str | None) -> None:
    if revision is not None and not is_git_revision(revision):
        raise GitError(f"{revision!r} is not a git revision lockgen accepts")


class _Lock:
    """An exclusive lock on a repository while it is fetched and read."""

    def __init__(self, repository: Path) -> None:
        self._path = repository.with_name(repository.name + ".lock")

    def __enter__(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _run(args: list[str], url: str, env: dict[str, str] | None = None) -> str:
    """git ``args``; its output, or a GitError naming ``url`` with git's last
    line of error output, credential-free."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError(f"{redact_url(url)}: git is needed, and it is not on PATH")
    environment = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GCM_INTERACTIVE": "never",
        **(env or {}),
    }
    try:
        done = subprocess.run(
            [executable, *args],
            capture_output=True,
            timeout=_TIMEOUT,
            env=environment,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(
            f"{redact_url(url)}: git {args[0]} took more than {_TIMEOUT:.0f} s"
        ) from None
    if done.returncode != 0:
        raise GitError(f"{redact_url(url)}: git failed: {_last_line(done.stderr)}")
    return done.stdout.decode(errors="replace")


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines()]
    found = [ln for ln in lines if ln]
    text = found[-1] if found else "no error output"
    return redact_url(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text))[:300]
