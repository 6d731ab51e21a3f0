"""Build environments: a build's requirements, as wheels, installed into one folder.

``installer`` unpacks each wheel into ``site`` (pure and platform files alike) and
``bin``; nothing else is installed and nothing is run. An environment is named by
what it holds (the interpreter it is for, and each wheel's name and sha256), so one
made by an earlier run is used again as it is: a second lock that builds the same
kind of sdist installs nothing. It is made in a scratch folder and renamed into
place, so a half-made one is never used.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

__all__ = ["BuildEnvironment", "Wheel", "environment_key", "make_environment"]

#: Written last into a finished environment: what it holds.
_MARK = "lockgen-environment.json"


@dataclass(frozen=True, slots=True)
class Wheel:
    """One wheel of a build environment: its file name, sha256, and how to read it."""

    filename: str
    sha256: str
    open: Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True, slots=True)
class BuildEnvironment:
    """An environment's folders: ``site`` goes on the build's path, ``bin`` on PATH."""

    root: Path

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def scripts(self) -> Path:
        return self.root / "bin"


def environment_key(wheels: Sequence[Wheel]) -> str:
    """The name of the environment holding ``wheels`` for this interpreter."""
    lines = [sys.implementation.cache_tag or "", sys.version, sys.platform]
    lines += sorted(f"{w.filename} {w.sha256}" for w in wheels)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def make_environment(
    wheels: Sequence[Wheel], parent: Path, scratch: Path
) -> BuildEnvironment:
    """The environment holding ``wheels`` under ``parent``: the one there already, or
    one installed now in ``scratch`` (on the same file system) and moved there."""
    final = parent / environment_key(wheels)
    if (final / _MARK).is_file():
        return BuildEnvironment(final)
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(_fresh_folder(scratch))
    try:
        _install(wheels, work)
        (work / _MARK).write_text(
            json.dumps(sorted(f"{w.filename} {w.sha256}" for w in wheels)) + "\n"
        )
        parent.mkdir(parents=True, exist_ok=True)
        try:
            work.replace(final)
        except OSError:  # another run made it meanwhile (or left a broken one)
            if not (final / _MARK).is_file():
                shutil.rmtree(final, ignore_errors=True)
                work.replace(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildEnvironment(final)


def _fresh_folder(scratch: Path) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="env-", dir=scratch)


def _install(wheels: Sequence[Wheel], root: Path) -> None:
    """Unpack every wheel into ``root`` (installer refuses a path leaving it; the
    wheels' sha256 were checked against the index when they were read)."""
    import zipfile

    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile
    from installer.utils import get_launcher_kind

    environment = BuildEnvironment(root)
    scheme = {
        "purelib": str(environment.site),
        "platlib": str(environment.site),
        "headers": str(root / "include"),
        "scripts": str(environment.scripts),
        "data": str(root / "data"),
    }
    destination = SchemeDictionaryDestination(
        scheme, interpreter=sys.executable, script_kind=get_launcher_kind()
    )
    for wheel in wheels:
        # installer reads the project's name and version from the file's own name
        named = root / ".wheels" / wheel.filename
        named.parent.mkdir(exist_ok=True)
        with wheel.open() as source, named.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        try:
            with WheelFile.open(named) as opened:
                install(opened, destination, {})
        except (InstallerError, zipfile.BadZipFile, ValueError, KeyError) as exc:
            raise LockgenError(
                f"cannot install {wheel.filename} into a build environment: {exc}"
            ) from exc
        named.unlink()
    if wheels:
        (root / ".wheels").rmdir()
