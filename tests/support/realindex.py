"""A seeded index shaped like the public one, so lock benchmarks measure realistic work.

bigindex.py is sized for tests (48 projects, small files). A benchmark needs the shape
that decides what a lock costs out there: 100+ projects of 3-6 releases, a dependency
graph 7 edges deep with shared "hub" projects, METADATA with a README in it (the
``.metadata`` file a locker reads is kilobytes, not a few lines), wheels of 20 KB to
500 KB with some of a few MB and two or three of tens of MB, projects with 16 platform
wheels per release, sdists beside most wheels, and the traps every resolver must get
right: a newest release that needs Python 3.12, a yanked one, an upper bound, markers
that drop an edge, an extra. The generator also returns the pins a correct lock holds.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import zipfile
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from tests.support import wheels
from tests.support.wheels import Dist, escape_name, make_sdist, normalize

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["FULL", "QUICK", "RealIndex", "Shape", "build_real_index", "prehashed"]


@dataclass(frozen=True)
class Shape:
    """How big the generated index is; every count and size is drawn from ``seed``.

    ``layers`` are projects per depth (layer 0 are the roots; every project has a
    parent one layer up, so the graph is ``len(layers) - 1`` edges deep). ``side`` more
    projects are never locked. ``native`` projects ship 16 platform wheels per release;
    ``medium`` and ``huge`` projects have wheels of ``medium_bytes`` and ``huge_bytes``
    (huge ones: 3 releases, 2 platform wheels each, to bound memory); the rest draw
    from ``small_bytes``, log-uniformly.
    """

    layers: tuple[int, ...]
    side: int
    native: int
    medium: int
    huge: int
    versions: tuple[int, int] = (3, 6)
    small_bytes: tuple[int, int] = (20_000, 500_000)
    medium_bytes: tuple[int, int] = (1_000_000, 5_000_000)
    huge_bytes: tuple[int, int] = (20_000_000, 40_000_000)
    description_bytes: tuple[int, int] = (1_000, 40_000)
    seed: int = 751


FULL = Shape(layers=(4, 8, 13, 17, 17, 14, 10, 6), side=16, native=14, medium=9, huge=3)
QUICK = Shape(
    layers=(3, 5, 7, 7, 5, 3),
    side=4,
    native=4,
    medium=2,
    huge=1,
    versions=(3, 4),
    huge_bytes=(5_000_000, 8_000_000),
)

_PYTHONS = ("cp310", "cp311", "cp312", "cp313")
_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "macosx_11_0_arm64",
    "win_amd64",
)
_NATIVE_TAGS = tuple(f"{p}-{p}-{plat}" for p in _PYTHONS for plat in _PLATFORMS)
_HUGE_TAGS = (
    "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp39-abi3-win_amd64",
)
_PREFIXES = (
    "acme", "bolt", "cobalt", "delta", "ember", "flux", "garnet", "helix", "ion",
    "jade", "krill", "lumen", "mosaic", "nimbus", "orbit", "prism", "quartz", "rune",
    "sable", "tidal",
)  # fmt: skip
_SUFFIXES = (
    "core", "http", "io", "cli", "schema", "cache", "auth", "db", "utils", "async",
    "config", "log",
)  # fmt: skip
_WORDS = (
    "the", "a", "fast", "small", "library", "for", "parsing", "data", "with", "and",
    "support", "of", "async", "streams", "install", "usage", "example", "returns",
    "configuration", "python", "api", "client", "server", "license", "see", "docs",
)  # fmt: skip
_TRUE_MARKERS = ('python_version >= "3.8"', 'platform_machine == "x86_64"')
_FALSE_MARKERS = ('sys_platform == "win32"', 'python_version < "3.10"')
_MODULE = b'"""Generated module."""\n\n' + b"def f(x):\n    return x * 2\n" * 40


@dataclass(frozen=True)
class RealIndex:
    """The files to serve, the roots to lock, and the pins a correct lock holds."""

    dists: tuple[Dist, ...]
    roots: tuple[str, ...]
    expected_pins: dict[str, str]
    projects: tuple[str, ...]


@dataclass
class _Project:
    """One project while the graph is built."""

    name: str
    versions: list[str]
    chosen: int
    kind: str = "small"  # small | native | medium | huge
    requires: list[str] = field(default_factory=list)
    children: set[str] = field(default_factory=set)
    extras: dict[str, list[str]] = field(default_factory=dict)
    cap: str = ""  # an upper bound every parent adds
    too_new: bool = False
    yanked: bool = False
    sdist: bool = False
    size: int = 0
    description: bytes = b""


# --- the graph -----------------------------------------------------------------------


def _versions(rng: random.Random, count: int) -> list[str]:
    """``count`` increasing releases mixing major, minor and patch bumps."""
    major, minor, patch = rng.randint(0, 3), rng.randint(0, 9), 0
    versions = [f"{major}.{minor}"]
    while len(versions) < count:
        bump = rng.choice(("major", "minor", "minor", "patch", "patch"))
        if bump == "major":
            major, minor, patch = major + 1, 0, 0
        elif bump == "minor":
            minor, patch = minor + 1, 0
        else:
            patch += 1
        versions.append(f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}")
    return versions


def _trap(rng: random.Random, project: _Project) -> None:
    """Make a few projects' newest release unfit, so a resolver must skip it."""
    roll = rng.random()
    if roll < 0.08:
        project.too_new = True
    elif roll < 0.13:
        project.yanked = True
    elif roll < 0.19:
        project.cap = f"<{project.versions[-1]}"
    else:
        return
    project.chosen -= 1


def _new_project(rng: random.Random, name: str, shape: Shape) -> _Project:
    versions = _versions(rng, rng.randint(*shape.versions))
    project = _Project(name=name, versions=versions, chosen=len(versions) - 1)
    _trap(rng, project)
    project.sdist = rng.random() < 0.6
    return project


def _specifier(rng: random.Random, child: _Project) -> str:
    """A range the chosen release meets, plus the child's cap if it has one."""
    oldest, chosen = child.versions[0], child.versions[child.chosen]
    major = int(chosen.split(".")[0])
    spec = rng.choice(
        (
            "",
            "",
            f">={oldest}",
            f">={oldest},<{major + 1}",
            f">={chosen}",
            f"!={oldest}",
        )
    )
    return ",".join(s for s in (spec, child.cap) if s)


def _requirement(rng: random.Random, child: _Project, marker: str = "") -> str:
    text = child.name + _specifier(rng, child)
    if not marker and rng.random() < 0.15:
        marker = rng.choice(_TRUE_MARKERS)
    return f"{text} ; {marker}" if marker else text


def _depend(rng: random.Random, parent: _Project, child: _Project) -> None:
    if child.name not in parent.children:
        parent.requires.append(_requirement(rng, child))
        parent.children.add(child.name)


def _wire(rng: random.Random, layers: list[list[_Project]]) -> None:
    """A parent one layer up for everyone, random deeper edges, and popular hubs."""
    hubs = rng.sample([p for layer in layers[-2:] for p in layer], 4)
    for depth in range(len(layers) - 1):
        parents, children = layers[depth], layers[depth + 1]
        for index, child in enumerate(children):
            _depend(rng, parents[index % len(parents)], child)
        deeper = [p for layer in layers[depth + 1 :] for p in layer]
        for parent in parents:
            for child in rng.sample(deeper, rng.randint(0, 3)):
                _depend(rng, parent, child)
            for hub in hubs:
                if hub not in layers[depth] and rng.random() < 0.3:
                    _depend(rng, parent, hub)


def _side(
    rng: random.Random, layers: list[list[_Project]], side: list[_Project]
) -> None:
    """Hang side projects off the graph where no lock of the roots reaches them...

    except the first, which a root's requested extra pulls in. Two more sit behind
    a false marker and one behind an extra nobody asks for; the rest are unreferenced.
    """
    root, middle = layers[0][0], layers[len(layers) // 2][0]
    root.extras["speed"] = [_requirement(rng, side[0])]
    middle.extras["docs"] = [_requirement(rng, side[1])]
    for project, marker in zip(side[2:], _FALSE_MARKERS, strict=False):
        layers[1][0].requires.append(_requirement(rng, project, marker))


# --- sizes and descriptions ----------------------------------------------------------


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _description(rng: random.Random, size: int) -> bytes:
    """A README of about ``size`` bytes, as METADATA carries it after the headers."""
    lines, total = [], 0
    while total < size:
        line = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14)))
        lines.append(line.capitalize() + ".")
        total += len(line) + 2
    return "\n".join(lines).encode() + b"\n"


def _dress(
    rng: random.Random, graph: list[_Project], side: list[_Project], shape: Shape
) -> None:
    """Kinds, sizes and READMEs: huge and medium on a seeded few of the locked
    projects (so a lock pulls them), native on a few of any."""
    pool = list(graph)
    rng.shuffle(pool)
    huge = pool[: shape.huge]
    medium = pool[shape.huge : shape.huge + shape.medium]
    rest = pool[shape.huge + shape.medium :] + side
    native = rng.sample(rest, shape.native)
    for kind, group in (("huge", huge), ("medium", medium), ("native", native)):
        for project in group:
            project.kind = kind
    for project in huge:
        drop = len(project.versions) - 3
        project.versions = project.versions[drop:]
        project.chosen -= drop
    bounds = {
        "huge": shape.huge_bytes,
        "medium": shape.medium_bytes,
        "native": shape.small_bytes,
        "small": shape.small_bytes,
    }
    for project in graph + side:
        project.size = _log_uniform(rng, *bounds[project.kind])
        project.description = _description(
            rng, _log_uniform(rng, *shape.description_bytes)
        )


# --- the files -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Release:
    """What the files of one release say."""

    project: _Project
    version: str
    requires: Sequence[str]
    requires_python: str | None
    yanked: str | bool


def _metadata(release: _Release) -> bytes:
    """Core metadata with a Summary and the README as its body, as real wheels have."""
    project = release.project
    head = [
        ("Metadata-Version", "2.1"),
        ("Name", project.name),
        ("Version", release.version),
        ("Summary", f"{project.name}: generated for lockgen benchmarks"),
        ("Description-Content-Type", "text/markdown"),
    ]
    head += wheels._requirement_fields(
        release.requires, release.requires_python, project.extras
    )
    return wheels._core_metadata(head) + b"\n" + project.description


def _wheel(release: _Release, tag: str, padding: int) -> Dist:
    """make_wheel's archive, with ``_metadata`` (a README) as its METADATA."""
    project, version = release.project, release.version
    escaped = escape_name(project.name)
    dist_info = f"{escaped}-{version}.dist-info"
    metadata = _metadata(release)
    deflate = zipfile.ZIP_DEFLATED
    files = {f"{escaped}/core.py": _MODULE}
    members = wheels._package_members(
        escaped, project.name, version, files, padding, deflate
    )
    members.append((f"{dist_info}/METADATA", metadata, deflate))
    members.append((f"{dist_info}/WHEEL", wheels._wheel_file(tag), deflate))
    record = f"{dist_info}/RECORD"
    members.append((record, wheels._record(members, record), deflate))
    return Dist(
        filename=f"{escaped}-{version}-{tag}.whl",
        data=wheels._zip(members),
        project=normalize(project.name),
        version=version,
        metadata=metadata,
        requires_python=release.requires_python,
        yanked=release.yanked,
    )


def _tags(project: _Project) -> tuple[str, ...]:
    if project.kind == "huge":
        return _HUGE_TAGS
    return _NATIVE_TAGS if project.kind == "native" else ("py3-none-any",)


def _release(rng: random.Random, project: _Project, index: int) -> _Release:
    """Releases from the chosen one up carry every edge; older ones one fewer."""
    newest = index == len(project.versions) - 1
    requires = project.requires if index >= project.chosen else project.requires[:-1]
    return _Release(
        project=project,
        version=project.versions[index],
        requires=requires,
        requires_python=">=3.12"
        if project.too_new and newest
        else rng.choice((None, ">=3.8", ">=3.9")),
        yanked="broken build, use the previous release"
        if project.yanked and newest
        else False,
    )


def _release_dists(rng: random.Random, project: _Project, index: int) -> list[Dist]:
    release = _release(rng, project, index)
    padding = max(0, round(project.size * rng.uniform(0.85, 1.15)) - 4_000)
    dists = [_wheel(release, tag, padding) for tag in _tags(project)]
    if project.sdist:
        dists.append(
            make_sdist(
                project.name,
                release.version,
                requires_dist=release.requires,
                requires_python=release.requires_python,
                yanked=release.yanked,
            )
        )
    return dists


# --- entry points --------------------------------------------------------------------


def prehashed(dists: Sequence[Dist]) -> list[Dist]:
    """The same dists with sha256 computed once: ``Dist.sha256`` hashes the whole file
    on every call, and a server renders every page from it (tens of MB per page)."""

    @dataclass(frozen=True)
    class Prehashed(Dist):
        digest: str = ""

        @property
        def sha256(self) -> str:
            return self.digest

    return [
        Prehashed(
            **{f.name: getattr(d, f.name) for f in fields(d)},
            digest=hashlib.sha256(d.data).hexdigest(),
        )
        for d in dists
    ]


def _names(rng: random.Random, count: int) -> list[str]:
    pool = [f"{p}-{s}" for p in _PREFIXES for s in _SUFFIXES]
    if count > len(pool):
        raise ValueError(f"at most {len(pool)} projects, not {count}")
    return rng.sample(pool, count)


@functools.cache
def build_real_index(shape: Shape = FULL) -> RealIndex:
    """The same index for the same shape (cached: the big wheels take seconds)."""
    rng = random.Random(shape.seed)
    names = iter(_names(rng, sum(shape.layers) + shape.side))
    layers = [
        [_new_project(rng, next(names), shape) for _ in range(size)]
        for size in shape.layers
    ]
    side = [_new_project(rng, next(names), shape) for _ in range(shape.side)]
    graph = [p for layer in layers for p in layer]
    _dress(rng, graph, side, shape)
    _wire(rng, layers)
    _side(rng, layers, side)
    roots = [
        p.name + ("[speed]" if not i else "") + p.cap for i, p in enumerate(layers[0])
    ]
    locked = [*graph, side[0]]
    dists = [
        dist
        for project in graph + side
        for index in range(len(project.versions))
        for dist in _release_dists(rng, project, index)
    ]
    return RealIndex(
        dists=tuple(prehashed(dists)),
        roots=tuple(roots),
        expected_pins={p.name: p.versions[p.chosen] for p in locked},
        projects=tuple(sorted(p.name for p in graph + side)),
    )
