"""git, run as a subprocess: a revision resolved to its commit, a commit's tree
written out, and a repository cloned at a commit (``hydrate``).

git is found on PATH; without it every use is a one-line error. Each command runs
in a session of its own (no terminal: a repository asking for a password, or ssh
asking about a host key, fails instead of waiting), with the environment variables
that point git at another repository removed (``GIT_DIR``, ``GIT_INDEX_FILE``...:
set by a hook or a CI wrapper, they would make it write into the user's own
repository), and with one deadline for the whole operation; on timeout its process
group is killed. Its arguments end option parsing before any URL or revision, and
its error output is cut to one credential-free line. A fetch that says nothing for
60 s (``--progress`` makes git report while it works) is killed as stalled: a server
that accepts the connection and then never answers costs a minute, not the deadline. Repositories fetched while
locking are kept bare under the cache's ``v1/git/<digest of the URL>``, one lock at
a time (an exclusive file lock), so a second lock of the same revision costs one
fetch of what is new.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from typing import TYPE_CHECKING

from lockgen.core.direct import is_git_revision
from lockgen.core.errors import LockgenError, OfflineError
from lockgen.core.urls import redact_url

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Git", "GitError", "is_commit"]

#: Seconds one git operation (a fetch of a big repository included) may take.
_TIMEOUT = 600.0
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_SHORT_COMMIT_RE = re.compile(r"[0-9a-f]{7,40}")
#: What ``git rev-parse --local-env-vars`` lists: each points git at a repository,
#: an index or objects other than the one named on its command line.
_REPOSITORY_VARIABLES = frozenset({
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE", "GIT_COMMON_DIR",
})  # fmt: skip
#: A transfer slower than 1 KB/s for a minute is given up (a stalled server).
_SLOW = ["-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60"]
#: Seconds a fetch may go without a word of progress (a server that accepted the
#: connection and then says nothing, during a TLS or ssh handshake say).
_STALL = 60.0
#: Bytes of a command's output kept (its end).
_KEPT = 1024 * 1024
#: What git says when the server has no such ref or will not serve a commit by its
#: id: only then is every branch and tag fetched instead.
_NOT_SERVED = (
    "not our ref", "unadvertised object", "couldn't find remote ref",
    "no such remote ref", "remote did not send all necessary objects",
)  # fmt: skip


class GitError(LockgenError):
    """git is missing or one of its commands failed (one line, no secret)."""


class GitTimeoutError(GitError):
    """A git operation ran past its deadline, or stalled (and was killed)."""


def _not_served(exc: GitError) -> bool:
    return any(marker in str(exc) for marker in _NOT_SERVED)


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
        run = _Runner(url)
        with _Lock(repository):
            if not (repository / "HEAD").is_file():
                repository.mkdir(parents=True, exist_ok=True)
                run(["init", "--quiet", "--bare", str(repository)])
            if is_commit(revision) and _has(run, repository, revision):
                assert revision is not None
                return revision, repository
            if self._offline:
                try:  # what it named when it was last fetched
                    return _commit(run, repository, _fetched_ref(revision)), repository
                except GitError:
                    raise OfflineError(
                        f"offline, and {url}@{revision or 'HEAD'} is not fetched yet"
                    ) from None
            return _fetched(run, repository, given, revision), repository

    def write_tree(self, repository: Path, commit: str, dest: Path) -> None:
        """A checkout of ``commit`` in the new folder ``dest``, borrowing the cached
        repository's objects: with its ``.git`` and tags, since backends such as
        setuptools-scm read the version from them, as they do in pip's clone."""
        run = _Runner(str(repository))
        run(
            [
                "clone",
                "--quiet",
                "--shared",
                "--no-checkout",
                str(repository),
                str(dest),
            ]
        )
        run([f"--git-dir={dest / '.git'}", f"--work-tree={dest}", "checkout",
             "--quiet", "--detach", commit])  # fmt: skip

    @staticmethod
    def clone_at(url: str, commit: str, dest: Path) -> None:
        """A checkout of ``commit`` from ``url`` in the new folder ``dest``, its
        HEAD checked to be that commit."""
        run = _Runner(url)
        git = [f"--git-dir={dest / '.git'}", f"--work-tree={dest}"]
        run(["init", "--quiet", str(dest)])
        try:  # most servers serve a commit by its id; others, every branch and tag
            run.fetch([*git, *_SLOW, "fetch", "--depth=1", "--", url, commit])
        except GitError as exc:
            if not _not_served(exc):
                raise
            run.fetch([*git, *_SLOW, "fetch", "--tags", "--", url, _ALL])
        run([*git, "checkout", "--quiet", "--detach", commit])
        head = run([*git, "rev-parse", "--verify", "HEAD^{commit}"]).strip()
        if head != commit:
            raise GitError(f"{url}: checked out {head}, not the locked {commit}")


#: Every branch and tag, for a server that serves no commit by its id.
_ALL = "+refs/heads/*:refs/remotes/origin/*"


def _has(run: _Runner, repository: Path, revision: str | None) -> bool:
    try:
        run([f"--git-dir={repository}", "cat-file", "-e", f"{revision}^{{commit}}"])
    except GitTimeoutError:
        raise
    except GitError:
        return False
    return True


def _fetched(run: _Runner, repository: Path, given: str, revision: str | None) -> str:
    """Fetch ``revision`` (a branch, a tag or a commit id); when the server will not
    serve it by that name, every branch and tag, then look it up among them (never
    among names of lockgen's own making, such as FETCH_HEAD)."""
    git_dir = f"--git-dir={repository}"
    wanted = revision or "HEAD"
    try:  # tags too: a backend may read the version from them
        run.fetch([git_dir, *_SLOW, "fetch", "--tags", "--", given, wanted])
        commit = _kept(run, repository, _commit(run, repository, "FETCH_HEAD"))
        run([git_dir, "update-ref", _fetched_ref(revision), commit])
        return commit
    except GitError as exc:
        if revision is None or not _not_served(exc):
            raise
    run.fetch([git_dir, *_SLOW, "fetch", "--tags", "--", given, _ALL])
    names = [f"refs/remotes/origin/{revision}", f"refs/tags/{revision}"]
    if _SHORT_COMMIT_RE.fullmatch(revision):
        names.append(revision)
    for name in names:
        try:
            return _kept(run, repository, _commit(run, repository, name))
        except GitTimeoutError:
            raise
        except GitError:
            continue
    raise GitError(f"{run.url}: no branch, tag or commit {revision!r}")


def _fetched_ref(revision: str | None) -> str:
    """Where the commit ``revision`` named at its last fetch is kept (for
    ``--offline``): a ref of lockgen's own, beside those of the commits."""
    return f"refs/lockgen-revision/{revision or 'HEAD'}"


def _commit(run: _Runner, repository: Path, name: str) -> str:
    git_dir = f"--git-dir={repository}"
    out = run([git_dir, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"])
    if not _COMMIT_RE.fullmatch(out.strip()):
        raise GitError(f"{run.url}: {name} is no commit")
    return out.strip()


def _kept(run: _Runner, repository: Path, commit: str) -> str:
    """``commit``, given a ref of its own in ``repository``: later fetches and
    clones see it, and no garbage collection drops it."""
    run([f"--git-dir={repository}", "update-ref", f"refs/lockgen/{commit}", commit])
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


class _Runner:
    """Runs git commands for one operation on ``url`` (named in its errors), all
    within one deadline."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._deadline = time.monotonic() + _TIMEOUT

    def __call__(self, args: list[str]) -> str:
        """git ``args``; its output, or a GitError naming the URL with git's reason
        on one line, credential-free."""
        return self._run(args, stall=None)

    def fetch(self, args: list[str]) -> str:
        """A ``git fetch`` (``args`` holds it), killed when it says nothing for
        :data:`_STALL` seconds: ``--progress`` makes it report while it works."""
        at = args.index("fetch") + 1
        return self._run([*args[:at], "--progress", *args[at:]], stall=_STALL)

    def _run(self, args: list[str], stall: float | None) -> str:
        shown = redact_url(self.url)
        executable = shutil.which("git")
        if executable is None:
            raise GitError(f"{shown}: git is needed, and it is not on PATH")
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in _REPOSITORY_VARIABLES
        }
        environment |= {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
        with subprocess.Popen(
            [executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            start_new_session=True,  # no terminal to prompt on; one group to kill
        ) as process:
            out, err, why = _collect(process, self._deadline, stall)
            if why is not None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise GitTimeoutError(f"{shown}: git {why}")
        if process.returncode != 0:
            raise GitError(f"{shown}: git failed: {_reason(err)}")
        return out.decode(errors="replace")


def _collect(
    process: subprocess.Popen[bytes], deadline: float, stall: float | None
) -> tuple[bytes, bytes, str | None]:
    """``process``'s output and error output as it ends, or why it must be killed:
    past ``deadline``, or silent on both for ``stall`` seconds."""
    assert process.stdout is not None and process.stderr is not None
    streams = {process.stdout: bytearray(), process.stderr: bytearray()}
    heard = time.monotonic()
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                return (
                    b"",
                    bytes(streams[process.stderr]),
                    f"took more than {_TIMEOUT:.0f} s",
                )
            if stall is not None and now - heard >= stall:
                return (
                    b"",
                    bytes(streams[process.stderr]),
                    f"said nothing for {stall:.0f} s",
                )
            wait = deadline - now if stall is None else min(deadline - now, stall)
            for key, _ in selector.select(timeout=wait):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    kept = streams[key.fileobj]  # type: ignore[index]
                    kept.extend(chunk)
                    del kept[:-_KEPT]  # progress lines add up; the end says why
                    heard = time.monotonic()
                else:
                    selector.unregister(key.fileobj)
    process.wait()
    return bytes(streams[process.stdout]), bytes(streams[process.stderr]), None


def _reason(stderr: bytes) -> str:
    """git's reason: its first ``fatal:``/``error:`` line (the lines after it are
    advice), else its last line."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines()]
    found = [ln for ln in lines if ln]
    fatal = [ln for ln in found if ln.startswith(("fatal:", "error:"))]
    text = (fatal or found or ["no error output"])[0 if fatal else -1]
    return redact_url(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text))[:300]
