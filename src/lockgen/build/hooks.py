"""A PEP 517 backend asked for a source tree's metadata, in an isolated subprocess.

``pyproject-hooks`` speaks the protocol; this module decides how its subprocess runs:
with the running interpreter, its own site-packages taken off the path and the build
environment put on it (as pip's build isolation does, through a ``sitecustomize``),
none of the caller's ``PYTHON*`` variables, a timeout after which the whole process
group is killed, and everything it prints kept in a log file for the error message.
"""

from __future__ import annotations

import functools
import os
import signal
import stat
import subprocess
import sys
import warnings
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from lockgen.build.environment import BuildEnvironment
    from lockgen.build.system import BuildSystem

__all__ = ["BuildError", "Hooks"]

#: Put first on the build's path: drops the running interpreter's site-packages (and
#: what their .pth files added), then adds the build environment (.pth files read).
_SITECUSTOMIZE = """\
import os, site, sys
_known = set()
_before = sys.path[:]
for _dir in site.getsitepackages() + [site.getusersitepackages()]:
    site.addsitedir(_dir, known_paths=_known)
_added = {os.path.normcase(p) for p in sys.path[len(_before):]}
_added.update(os.path.normcase(d) for d in site.getsitepackages())
sys.path[:] = [p for p in _before if os.path.normcase(p) not in _added]
site.addsitedir(os.environ["LOCKGEN_BUILD_SITE"])
"""


class BuildError(LockgenError):
    """A backend failed, timed out or could not be run; its log is kept."""


class Hooks:
    """The backend of one source tree, run in ``environment``; output to ``log``;
    ``work`` is the build's own scratch folder."""

    def __init__(
        self,
        source: Path,
        system: BuildSystem,
        environment: BuildEnvironment,
        *,
        work: Path,
        log: IO[bytes],
        timeout: float,
    ) -> None:
        from pyproject_hooks import BuildBackendHookCaller

        _quiet_backend_warnings()
        self._environment = environment
        self._log = log
        self._timeout = timeout
        self._shim = work / "shim"
        self._shim.mkdir(parents=True, exist_ok=True)
        (self._shim / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        self._caller = BuildBackendHookCaller(
            str(source),
            system.backend,
            backend_path=list(system.backend_path) or None,
            runner=self._run,
            python_executable=sys.executable,
        )

    def requires_for_wheel(self) -> list[str]:
        """What the backend says it needs besides ``build-system.requires``: a list
        of requirement strings, or the build fails."""
        from packaging.requirements import InvalidRequirement, Requirement

        asked: object = self._caller.get_requires_for_build_wheel()
        if not (isinstance(asked, list) and all(isinstance(r, str) for r in asked)):
            raise BuildError(f"get_requires_for_build_wheel returned {asked!r:.80}")
        for text in asked:
            try:
                Requirement(text)
            except InvalidRequirement:
                raise BuildError(f"the backend asked for {text!r:.80}") from None
        return asked

    def metadata(self, into: Path, limit: int) -> bytes:
        """The backend's METADATA for a wheel of the tree, at most ``limit`` bytes
        (``prepare_metadata_for_build_wheel``, or the wheel built when the backend
        lacks that hook). The folder it names must be one it made in ``into``, and
        METADATA a regular file there: never a link, a FIFO or a path elsewhere."""
        into.mkdir(parents=True, exist_ok=True)
        # what a backend returns is its own business: checked, not trusted
        name: object = self._caller.prepare_metadata_for_build_wheel(str(into))
        if not (
            isinstance(name, str)
            and name.endswith(".dist-info")
            and "/" not in name
            and "\\" not in name
            and name not in (".", "..")
        ):
            raise BuildError(f"prepare_metadata_for_build_wheel returned {name!r:.80}")
        return _read_regular(into / name / "METADATA", limit)

    def _run(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        environ.update(extra_environ or {})
        environ["PYTHONPATH"] = str(self._shim)
        environ["PYTHONNOUSERSITE"] = "1"
        environ["LOCKGEN_BUILD_SITE"] = str(self._environment.site)
        environ["PATH"] = os.pathsep.join(
            [str(self._environment.scripts), environ.get("PATH", os.defpath)]
        )
        self._log.write(f"$ {' '.join(cmd)}\n".encode())
        self._log.flush()
        with subprocess.Popen(
            cmd,
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ) as process:
            try:
                code = process.wait(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                raise BuildError(f"timed out after {self._timeout:g} s") from None
            finally:  # what the build started in its group ends with it, even on success
                _kill_group(process)
        if code != 0:
            raise BuildError(f"the backend exited with status {code}")


def _read_regular(path: Path, limit: int) -> bytes:
    """``path``'s bytes if it is a regular file (opened without following a link
    or blocking on a FIFO) of at most ``limit`` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise BuildError(f"the backend wrote no METADATA ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise BuildError("the backend's METADATA is not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise BuildError("the backend wrote a METADATA file too large to be real")
    return data


@functools.cache
def _quiet_backend_warnings() -> None:
    """pyproject-hooks repeats a backend's warnings in this process (setuptools'
    deprecation banners, 15 lines each): they are the package author's business,
    not the user's, and would fill a lock's output."""
    from pyproject_hooks import BuildBackendWarning

    warnings.filterwarnings("ignore", category=BuildBackendWarning)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End whatever the build left in its process group (a compiler, a hung
    helper). A helper that made itself a session of its own escapes this: only a
    container would hold it."""
    killpg = getattr(os, "killpg", None)  # POSIX only
    try:
        if killpg is None:
            raise OSError
        killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()
