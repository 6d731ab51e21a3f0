"""An sdist built for its metadata: unpacked, its environment made, its backend asked.

The resolution and download of the build requirements are injected
(``requirement_wheels``): the application resolves them with lockgen's own resolver
against the lock's indexes and reads the wheels through its cache, so no pip runs.
A build's output goes to a log file that is kept, and named in the error, when the
build fails; one that succeeds leaves nothing behind but its environment.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lockgen.build.environment import BuildEnvironment, make_environment
from lockgen.build.hooks import BuildError, Hooks
from lockgen.build.static import static_metadata
from lockgen.build.system import build_system
from lockgen.build.unpack import unpack_sdist
from lockgen.core.errors import LockgenError, first_line
from lockgen.core.limits import METADATA_LIMIT
from lockgen.core.singleflight import SingleFlight
from lockgen.core.toml_input import parse_toml

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lockgen.build.environment import Wheel
    from lockgen.build.system import BuildSystem

__all__ = ["Builder"]

#: A pyproject.toml larger than this is no real project's.
_PYPROJECT_LIMIT = 1024 * 1024
#: What a copy of a local source tree leaves out: version control, environments,
#: caches and earlier build output, none of which a metadata build reads.
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules",
    "__pycache__", "*.egg-info", "build", "dist",
)  # fmt: skip


class Builder:
    """Builds sdists for their METADATA; environments go under ``environments``,
    scratch folders under ``scratch`` and kept logs under ``logs``."""

    def __init__(
        self,
        *,
        requirement_wheels: Callable[[Sequence[str]], Sequence[Wheel]],
        environments: Path,
        scratch: Path,
        logs: Path,
        timeout: float,
        on_event: Callable[[str], None],
    ) -> None:
        self._wheels = requirement_wheels
        # absolute: the backend runs in the source tree, and is told these paths
        self._environments = environments.absolute()
        self._scratch = scratch.absolute()
        self._logs = logs.absolute()
        self._timeout = timeout
        self._event = on_event
        self._made: SingleFlight[tuple[str, ...], BuildEnvironment] = SingleFlight()

    def metadata(self, filename: str, sdist: IO[bytes]) -> bytes:
        """The METADATA the sdist ``filename`` (read from ``sdist``) builds to: what
        its ``[project]`` table fixes, when it does, else what its backend says."""
        self._scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=self._scratch) as tmp:
            work = Path(tmp)
            source = unpack_sdist(sdist, filename, work / "unpacked")
            return self._tree(filename, source, work, _pyproject(source, filename))

    def tree_metadata(
        self, label: str, source: Path, *, user: bool, refusal: str | None = None
    ) -> bytes:
        """The METADATA of the source tree ``source`` (a local folder, a checkout),
        called ``label`` in messages. ``refusal``: what forbids a build (only static
        metadata is read then).

        ``user``: the tree is the user's own. A backend writes into the tree it
        builds (egg-info, build folders), so the build runs in a copy of it; but
        inside a git work tree the copy would lose what setuptools-scm and
        hatch-vcs read the version from, so there it runs in place, as pip's and
        uv's do, and what it added to the tree is removed afterwards."""
        if not (
            (source / "pyproject.toml").is_file() or (source / "setup.py").is_file()
        ):
            raise LockgenError(
                f"{label}: not a Python project (neither a pyproject.toml nor a "
                "setup.py)"
            )
        self._scratch.mkdir(parents=True, exist_ok=True)
        pyproject = _pyproject(source, label)
        static = static_metadata(pyproject) is not None
        if not static and refusal is not None:
            raise LockgenError(
                f"{label}: its metadata is not static (pyproject.toml [project]), "
                f"and {refusal} forbids building it"
            )
        if static or not user:
            return self._in(label, source, pyproject)
        if _in_git_work_tree(source):
            before = _entries(source)
            try:
                return self._in(label, source, pyproject)
            finally:
                _remove_added(source, before)
        with tempfile.TemporaryDirectory(prefix="build-", dir=self._scratch) as tmp:
            tree = Path(tmp) / "tree"
            shutil.copytree(source, tree, symlinks=True, ignore=_NOT_COPIED)
            return self._tree(label, tree, Path(tmp), pyproject)

    def _in(self, label: str, source: Path, pyproject: dict[str, Any] | None) -> bytes:
        """The tree's metadata, built where it is."""
        with tempfile.TemporaryDirectory(prefix="build-", dir=self._scratch) as tmp:
            return self._tree(label, source, Path(tmp), pyproject)

    def _tree(
        self,
        filename: str,
        source: Path,
        work: Path,
        pyproject: dict[str, Any] | None,
    ) -> bytes:
        """Static metadata when ``[project]`` fixes it, else the backend's."""
        started = time.monotonic()
        static = static_metadata(pyproject)
        if static is not None:
            self._event(f"{filename}: metadata from its static pyproject.toml")
            return static
        system = build_system(pyproject, filename)
        data = self._logged(filename, system, source, work)
        self._event(
            f"{filename}: built for its metadata by {system.backend} "
            f"in {time.monotonic() - started:.1f} s"
        )
        return data

    def _logged(
        self, filename: str, system: BuildSystem, source: Path, work: Path
    ) -> bytes:
        """The build, its output in a log kept only if it fails."""
        self._logs.mkdir(parents=True, exist_ok=True)
        # a source tree's label is a path or URL: only its safe characters name a file
        safe = re.sub(r"[^A-Za-z0-9._+-]+", "_", filename).strip("._")[:100]
        fd, name = tempfile.mkstemp(prefix=f"{safe}-", suffix=".log", dir=self._logs)
        log_path = Path(name)
        try:
            with os.fdopen(fd, "wb") as log:
                data = self._build(filename, system, source, work, log)
        except BuildError as exc:
            raise LockgenError(
                f"{filename}: building it for its metadata failed ({system.backend}: "
                f"{exc}); its log is {log_path}"
            ) from None
        except LockgenError:
            log_path.unlink(missing_ok=True)
            raise
        except Exception as exc:  # noqa: BLE001 - the backend's doing, whatever it is
            raise LockgenError(
                f"{filename}: building it for its metadata failed ({system.backend}: "
                f"{_hooks_reason(exc)}); its log is {log_path}"
            ) from None
        log_path.unlink(missing_ok=True)
        return data

    def _build(
        self,
        filename: str,
        system: BuildSystem,
        source: Path,
        work: Path,
        log: IO[bytes],
    ) -> bytes:
        environment = self._environment(filename, system.requires)
        hooks = Hooks(
            source, system, environment, work=work, log=log, timeout=self._timeout
        )
        extra = hooks.requires_for_wheel()
        if extra:  # PEP 517: what the backend asks for joins the environment
            environment = self._environment(filename, (*system.requires, *extra))
            hooks = Hooks(
                source, system, environment, work=work, log=log, timeout=self._timeout
            )
        return hooks.metadata(work / "metadata", METADATA_LIMIT)

    def _environment(
        self, filename: str, requirements: Sequence[str]
    ) -> BuildEnvironment:
        key = tuple(sorted(set(requirements)))

        def make() -> BuildEnvironment:
            try:
                wheels = self._wheels(key)
                return make_environment(wheels, self._environments, self._scratch)
            except LockgenError as exc:
                raise LockgenError(
                    f"{filename}: its build requirements ({', '.join(key)}) cannot "
                    f"be installed: {exc}"
                ) from None

        return self._made.get(key, make)


def _pyproject(source: Path, filename: str) -> dict[str, Any] | None:
    """The tree's pyproject.toml, parsed (once, for the static metadata and the
    build system both); ``None`` when it has none."""
    path = source / "pyproject.toml"
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        data = fh.read(_PYPROJECT_LIMIT + 1)
    if len(data) > _PYPROJECT_LIMIT:
        raise LockgenError(f"{filename}: cannot build it: its pyproject.toml is huge")
    try:
        return parse_toml(data.decode())
    except UnicodeDecodeError:
        raise LockgenError(
            f"{filename}: cannot build it: its pyproject.toml is not UTF-8"
        ) from None
    except ValueError as exc:
        raise LockgenError(
            f"{filename}: cannot build it: its pyproject.toml is {exc}"
        ) from None


def _in_git_work_tree(folder: Path) -> bool:
    """Whether ``folder`` or a folder above it holds a ``.git``."""
    return any((f / ".git").exists() for f in (folder, *folder.parents))


def _entries(root: Path) -> set[Path]:
    """Every path under ``root`` but version control's, links not followed."""
    found: set[Path] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".hg", ".svn")]
        found.update(Path(folder, name) for name in (*dirs, *files))
    return found


def _remove_added(root: Path, before: set[Path]) -> None:
    """Remove what appeared under ``root`` since ``before`` (a build's egg-info and
    build folders), outermost first; never what was there."""
    for path in sorted(_entries(root) - before, key=lambda p: len(p.parts)):
        if not (path.exists() or path.is_symlink()):
            continue  # inside a folder removed already
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _hooks_reason(exc: Exception) -> str:
    """A failure pyproject-hooks (or a backend that answered nothing) left, in a
    few words on one line."""
    name = type(exc).__name__
    if name == "BackendUnavailable":
        return "the backend could not be imported"
    if name == "HookMissing":
        return f"the backend has no {exc} hook"
    if isinstance(exc, FileNotFoundError):  # pyproject-hooks' output.json
        return "the backend exited without an answer"
    reason = first_line(exc, "")
    return f"{name}: {reason:.200}" if reason else name
