"""Real build backends as wheels, and sdists that only a build can read.

The suite needs no network, yet sdist builds must run real backends (setuptools,
flit_core, hatchling). They are test dependencies, installed in the test
environment; :func:`installed_wheel` packs an installed distribution back into a
wheel (its files as RECORD lists them, a fresh RECORD), which the test index then
serves like any other. Pure-Python distributions only: that is what backends are.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from tests.support.wheels import (
    Dist,
    _record_hash,
    _tar_gz,
    escape_name,
    normalize,
)

__all__ = ["BACKENDS", "backend_wheels", "buildable_sdist", "installed_wheel"]

#: The distributions each backend is built with (and what they need, found below).
BACKENDS = {
    "setuptools": ("setuptools", "wheel"),
    "flit_core": ("flit_core",),
    "hatchling": ("hatchling",),
}


@functools.cache
def installed_wheel(name: str) -> Dist:
    """The installed distribution ``name`` as a ``py3-none-any`` wheel."""
    dist = importlib.metadata.distribution(name)
    project, version = dist.metadata["Name"], dist.version
    info = f"{escape_name(project)}-{version}.dist-info"
    members: list[tuple[str, bytes]] = []
    for file in dist.files or ():
        path = file.as_posix()
        if (
            "__pycache__" in path
            or path.startswith(("..", "/"))
            or path.endswith(
                ("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")
            )
        ):
            continue  # outside site-packages (scripts), or made by the installer
        located = Path(str(file.locate()))
        if located.is_file():
            members.append((path, located.read_bytes()))
    record = (
        "".join(f"{p},{_record_hash(c)},{len(c)}\n" for p, c in members)
        + f"{info}/RECORD,,\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in members:
            archive.writestr(path, content)
        archive.writestr(f"{info}/RECORD", record)
    metadata = dist.read_text("METADATA") or ""
    return Dist(
        filename=f"{escape_name(project)}-{version}-py3-none-any.whl",
        data=buffer.getvalue(),
        project=normalize(project),
        version=version,
        metadata=metadata.encode(),
    )


def backend_wheels(*backends: str) -> list[Dist]:
    """The wheels the given backends (keys of :data:`BACKENDS`) need: theirs, and
    those of what they require here, as installed (the newest releases)."""
    names: set[str] = set()
    todo = [name for backend in backends for name in BACKENDS[backend]]
    while todo:
        name = normalize(todo.pop())
        if name in names:
            continue
        names.add(name)
        for text in importlib.metadata.requires(name) or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return [installed_wheel(name) for name in sorted(names)]


def buildable_sdist(
    name: str,
    version: str,
    backend: str,
    *,
    requires_dist: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    pyproject: str | None = None,
) -> Dist:
    """An sdist whose PKG-INFO is dynamic (Metadata-Version 2.1, no Requires-Dist),
    built with ``backend`` (``setuptools``, ``setup.py`` (no pyproject.toml),
    ``flit_core`` or ``hatchling``) to METADATA requiring ``requires_dist``.

    ``setuptools`` computes its dependencies in ``setup.py`` (as many real sdists
    do), so only a build can tell them; ``files`` are added as they are, and
    ``pyproject`` replaces the generated pyproject.toml.
    """
    top = f"{escape_name(name)}-{version}"
    module = escape_name(name).lower()
    deps = ", ".join(f'"{r}"' for r in requires_dist)
    members = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{module}/__init__.py": f'"""{name}, for lockgen\'s tests."""\n\n'
        f'__version__ = "{version}"\n',
    }
    if backend in ("setuptools", "setup.py"):
        members["setup.py"] = (
            "from setuptools import setup\n\n"
            f"DEPENDENCIES = [{deps}]\n"
            f"setup(name={name!r}, version={version!r}, packages=[{module!r}],\n"
            "      install_requires=list(DEPENDENCIES))\n"
        )
        if backend == "setuptools":
            members["pyproject.toml"] = (
                '[build-system]\nrequires = ["setuptools"]\n'
                'build-backend = "setuptools.build_meta"\n'
            )
    elif backend in ("flit_core", "hatchling"):
        build = {
            "flit_core": ('"flit_core>=3.2"', "flit_core.buildapi"),
            "hatchling": ('"hatchling"', "hatchling.build"),
        }[backend]
        # the version is dynamic: read from the module (flit) or a file (hatch)
        members["pyproject.toml"] = (
            f"[build-system]\nrequires = [{build[0]}]\n"
            f'build-backend = "{build[1]}"\n\n'
            f'[project]\nname = "{name}"\ndynamic = ["version", "description"]\n'
            f"dependencies = [{deps}]\n"
        )
        if backend == "hatchling":
            members["pyproject.toml"] = (
                members["pyproject.toml"].replace(', "description"', "")
                + f'\n[tool.hatch.version]\npath = "{module}/__init__.py"\n'
            )
    else:
        raise ValueError(backend)
    if pyproject is not None:
        members["pyproject.toml"] = pyproject
    members.update(files or {})
    data = _tar_gz(top, [(f"{top}/{p}", c.encode()) for p, c in members.items()])
    return Dist(
        filename=f"{top}.tar.gz",
        data=data,
        project=normalize(name),
        version=version,
        metadata=members["PKG-INFO"].encode(),
    )
