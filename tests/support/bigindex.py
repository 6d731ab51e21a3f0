"""A seeded, realistic 48-project index, for the wire-cost tests and bench/lock_metrics.py.

Small scenario files prove resolver rules; this proves the cost model at a size where
mistakes add up: a deep DAG with extras and markers, big wheels, native wheels for three
platforms, sdists, yanked and too-new releases. The generator also says which pins the
lock must hold, so a test can check the answer as well as the traffic.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.support.wheels import make_sdist, make_wheel

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tests.support.index_server import RequestRecord
    from tests.support.wheels import Dist

__all__ = [
    "LAYERS",
    "NATIVE_TAGS",
    "BigIndex",
    "WireStats",
    "build_big_index",
    "wire_stats",
]

#: Projects per DAG layer; layer 0 are the roots, every layer has a parent above it.
LAYERS = (4, 6, 8, 9, 9, 8)
NATIVE_TAGS = (
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-macosx_11_0_arm64",
    "cp311-cp311-win_amd64",
)
_PREFIXES = (
    "acme", "bolt", "cobalt", "delta", "ember", "flux", "garnet", "helix", "ion",
    "jade", "krill", "lumen", "mosaic", "nimbus", "orbit", "prism",
)  # fmt: skip
_SUFFIXES = ("core", "http", "io", "cli", "schema", "cache", "auth", "db", "utils")
# Projects off the main DAG: one the roots reach only through a requested extra (so it
# is locked), three reached only through an unrequested extra or a false marker (not).
_EXTRA_ONLY = "turbo-speedups"
_UNLOCKED = {
    "sphinx-theme-x": "docs",  # under an extra nobody asks for
    "win-shim": 'sys_platform == "win32"',
    "legacy-backport": 'python_version < "3.8"',
}
_TRUE_MARKERS = ('python_version >= "3.8"', 'platform_machine == "x86_64"')
_MODULE = b'"""Generated module."""\n\n' + b"def f(x):\n    return x * 2\n" * 40


@dataclass
class _Project:
    """One generated project while the DAG is built."""

    name: str
    versions: list[str]
    chosen: int  # index into versions of the release the target must get
    requires: list[str] = field(default_factory=list)
    children: set[str] = field(default_factory=set)
    extras: dict[str, list[str]] = field(default_factory=dict)
    native: bool = False
    padded: bool = False
    metadata_first: bool = False
    sdist: bool = False
    newest_too_new: bool = False  # newest needs Python 3.12, the target is 3.11
    newest_yanked: bool = False


@dataclass(frozen=True)
class BigIndex:
    """The files to serve, the requirements to lock, and the answer."""

    dists: tuple[Dist, ...]
    roots: tuple[str, ...]
    expected_pins: dict[str, str]
    projects: tuple[str, ...]


@dataclass(frozen=True)
class WireStats:
    """What one lock cost on the wire, from an IndexServer request log."""

    requests: int
    bytes: int
    metadata_files: int  # distinct wheels (or .metadata files) read for metadata
    metadata_requests: int
    metadata_bytes: int

    @property
    def requests_per_wheel(self) -> float:
        return self.metadata_requests / max(self.metadata_files, 1)

    @property
    def bytes_per_wheel(self) -> float:
        return self.metadata_bytes / max(self.metadata_files, 1)


def wire_stats(requests: Iterable[RequestRecord]) -> WireStats:
    """Totals, and the part spent on wheel metadata (wheel or ``.whl.metadata`` GETs)."""
    records = list(requests)
    meta = [r for r in records if r.path.endswith((".whl", ".whl.metadata"))]
    return WireStats(
        requests=len(records),
        bytes=sum(r.bytes_sent for r in records),
        metadata_files=len({r.path for r in meta}),
        metadata_requests=len(meta),
        metadata_bytes=sum(r.bytes_sent for r in meta),
    )


def _versions(rng: random.Random) -> list[str]:
    """2-4 increasing releases, mixing minor, patch and major bumps."""
    major, minor, patch = rng.randint(0, 3), rng.randint(0, 9), 0
    versions = [f"{major}.{minor}"]
    for _ in range(rng.randint(1, 3)):
        bump = rng.choice(("major", "minor", "minor", "patch"))
        if bump == "major":
            major, minor, patch = major + 1, 0, 0
        elif bump == "minor":
            minor, patch = minor + 1, 0
        else:
            patch += 1
        versions.append(f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}")
    return versions


def _spelling(rng: random.Random, name: str) -> str:
    """How a requirement spells a name: usually as normalized, sometimes not."""
    return rng.choice((name, name, name, name.replace("-", "_"), name.title()))


def _specifier(rng: random.Random, project: _Project) -> str:
    """A range every release up to the chosen one... or at least the chosen one meets."""
    oldest, chosen = project.versions[0], project.versions[project.chosen]
    major = int(chosen.split(".")[0])
    return rng.choice(
        ("", f">={oldest}", f">={oldest},<{major + 1}", f">={chosen}", f"!={oldest}")
    )


def _requirement(rng: random.Random, child: _Project, extra: str = "") -> str:
    extras = f"[{extra}]" if extra else ""
    text = f"{_spelling(rng, child.name)}{extras}{_specifier(rng, child)}"
    if rng.random() < 0.15:
        text += f" ; {rng.choice(_TRUE_MARKERS)}"
    return text


def _names(rng: random.Random, count: int) -> list[str]:
    pool = [f"{p}-{s}" for p in _PREFIXES for s in _SUFFIXES]
    return rng.sample(pool, count)


def _new_project(rng: random.Random, name: str) -> _Project:
    versions = _versions(rng)
    project = _Project(name=name, versions=versions, chosen=len(versions) - 1)
    if len(versions) >= 3 and rng.random() < 0.25:
        project.chosen -= 1
        if rng.random() < 0.5:
            project.newest_too_new = True
        else:
            project.newest_yanked = True
    return project


def _layers(rng: random.Random) -> list[list[_Project]]:
    names = iter(_names(rng, sum(LAYERS)))
    return [[_new_project(rng, next(names)) for _ in range(size)] for size in LAYERS]


def _wire(rng: random.Random, layers: list[list[_Project]]) -> None:
    """Plain edges so each project has a parent one layer up, then random extra edges."""
    for depth in range(len(layers) - 1):
        parents, children = layers[depth], layers[depth + 1]
        for index, child in enumerate(children):
            _depend(rng, parents[index % len(parents)], child)
        deeper = [p for layer in layers[depth + 1 :] for p in layer]
        for parent in parents:
            for child in rng.sample(deeper, rng.randint(0, 2)):
                if child.name not in parent.children:
                    _depend(rng, parent, child)


def _depend(rng: random.Random, parent: _Project, child: _Project) -> None:
    parent.requires.append(_requirement(rng, child))
    parent.children.add(child.name)


def _decorate(rng: random.Random, projects: list[_Project]) -> None:
    """Big wheels, native wheels, sdists and metadata-first archives, on a seeded few."""
    for project in rng.sample(projects, 12):
        project.padded = True
    for project in rng.sample(projects, 8):
        project.native = True
    for project in rng.sample(projects, 6):
        project.sdist = True
    for project in rng.sample([p for p in projects if p.padded], 2):
        project.metadata_first = True


def _side_projects(rng: random.Random, layers: list[list[_Project]]) -> list[_Project]:
    """The extra-only and never-locked projects, hung off the DAG."""
    side = [_new_project(rng, name) for name in (_EXTRA_ONLY, *_UNLOCKED)]
    by_name = {p.name: p for p in side}
    root, middle = layers[0][0], layers[2][0]
    root.extras["speed"] = [_requirement(rng, by_name[_EXTRA_ONLY])]
    middle.extras["docs"] = [_requirement(rng, by_name["sphinx-theme-x"])]
    for name in ("win-shim", "legacy-backport"):
        base = _requirement(rng, by_name[name]).partition(" ;")[0]
        layers[1][1].requires.append(f"{base} ; {_UNLOCKED[name]}")
    return side


def _padding(rng: random.Random, project: _Project, index: int) -> int:
    """Big wheels only where the resolver looks: unread old releases stay small."""
    if project.padded and index == project.chosen:
        return rng.randint(200 * 1024, 2 * 1024 * 1024)
    return 0


def _release_dists(
    rng: random.Random, project: _Project, index: int, *, full: bool
) -> list[Dist]:
    """The files of one release; older ones get a reduced dependency list."""
    version = project.versions[index]
    too_new = project.newest_too_new and index == len(project.versions) - 1
    yanked = project.newest_yanked and index == len(project.versions) - 1
    requires_python = ">=3.12" if too_new else rng.choice((None, ">=3.8"))
    reason: str | bool = "regression, use the previous release" if yanked else False
    requires = project.requires if full else project.requires[:1]
    tags = NATIVE_TAGS if project.native else ("py3-none-any",)
    module = f"{project.name.replace('-', '_')}/core.py"
    dists = [
        make_wheel(
            project.name, version, requires_dist=requires, extras=project.extras,
            tag=tag, padding=_padding(rng, project, index), files={module: _MODULE},
            metadata_first=project.metadata_first,
            requires_python=requires_python, yanked=reason,
        )
        for tag in tags
    ]  # fmt: skip
    if project.sdist:
        dists.append(
            make_sdist(
                project.name,
                version,
                requires_dist=requires,
                requires_python=requires_python,
                yanked=reason,
            )
        )
    return dists


def _dists(rng: random.Random, projects: Sequence[_Project]) -> list[Dist]:
    dists: list[Dist] = []
    for project in projects:
        for index in range(len(project.versions)):
            full = index >= project.chosen
            dists += _release_dists(rng, project, index, full=full)
    return dists


@functools.cache
def build_big_index(seed: int = 751) -> BigIndex:
    """The same index for the same seed (cached: the padded wheels take a moment)."""
    rng = random.Random(seed)
    layers = _layers(rng)
    _wire(rng, layers)
    main = [p for layer in layers for p in layer]
    _decorate(rng, main)
    side = _side_projects(rng, layers)
    roots = [p.name for p in layers[0]]
    roots[0] += "[speed]"
    locked = [*main, side[0]]
    return BigIndex(
        dists=tuple(_dists(rng, [*main, *side])),
        roots=tuple(roots),
        expected_pins={p.name: p.versions[p.chosen] for p in locked},
        projects=tuple(sorted(p.name for p in [*main, *side])),
    )
