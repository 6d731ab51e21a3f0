"""Resolution scenarios from TOML, served by a fake repository or a real index server.

One file describes an index and the lock it must produce, so the unit tests (through
:class:`FakeRepository`) and the integration tests (through the wheels
:func:`scenario_dists` builds) check the same behaviour from the same data.
"""

from __future__ import annotations

import hashlib
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockgen.core.environment import make_target
from lockgen.core.errors import MetadataError, ProjectNotFoundError
from lockgen.core.file_groups import FileGroups
from lockgen.core.models import CoreMetadata, DistFile, MetadataSource

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.core.environment import Target
    from tests.support.wheels import Dist

__all__ = [
    "PLATFORM",
    "SCENARIO_DIR",
    "FakeRepository",
    "Scenario",
    "ScenarioError",
    "VersionSpec",
    "load_scenario",
    "load_scenarios",
    "scenario_dists",
    "scenario_target",
]

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "data" / "scenarios"
#: Every scenario locks for this platform; only the Python version varies.
PLATFORM = "linux_x86_64"
DEFAULT_PYTHON = "3.11"
#: The upload time tests/support/wheels.py stamps on every file, so both agree.
UPLOAD_TIME = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

_TOP_KEYS = frozenset({"description", "root", "packages", "expected"})
_ROOT_KEYS = frozenset(
    {"requires", "constraints", "pre", "python", "only-binary", "no-binary"}
)
_VERSION_KEYS = frozenset(
    {"requires", "requires-python", "yanked", "extras", "tags", "sdist"}
)
_EXPECTED_KEYS = frozenset(
    {"pins", "conflict", "explanation", "max-rounds", "max-metadata"}
)
#: Resolver rounds a scenario may take unless it says otherwise: these graphs are
#: tiny, so a conflict that repeats until the resolver's own limit fails loudly.
DEFAULT_MAX_ROUNDS = 100


class ScenarioError(ValueError):
    """A scenario file that does not follow the format; names the file and the key."""


@dataclass(frozen=True)
class VersionSpec:
    """One release of a scenario project: its metadata and which files it has."""

    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    yanked: bool | str = False
    extras: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=lambda: ["py3-none-any"])
    sdist: bool = False

    def requires_dist(self) -> list[str]:
        """All Requires-Dist lines, extras folded in under ``extra == ...`` markers."""
        lines = list(self.requires)
        for extra, reqs in self.extras.items():
            lines += [_extra_requirement(req, extra) for req in reqs]
        return lines


@dataclass(frozen=True)
class Scenario:
    """A scenario file: root requirements, the index contents, the expected outcome.

    ``packages`` maps each project name as written to ``{version: VersionSpec}``;
    ``expected_pins`` is keyed by normalized name. Exactly one of ``expected_pins``
    and ``expected_conflict`` is set. ``expected_explanation`` lists substrings the
    conflict's message must contain; ``max_rounds`` bounds the resolver's rounds, ``max_metadata`` the metadata files it
    reads (what the complete search, which counts no rounds, would spend).
    """

    name: str
    description: str
    requires: list[str]
    constraints: list[str]
    pre: bool
    python: str
    only_binary: list[str]
    no_binary: list[str]
    packages: dict[str, dict[str, VersionSpec]]
    expected_pins: dict[str, str] | None
    expected_conflict: list[str] | None
    expected_explanation: list[str] = field(default_factory=list)
    max_rounds: int = DEFAULT_MAX_ROUNDS
    max_metadata: int | None = None


def load_scenarios() -> list[Scenario]:
    """Every scenario under ``tests/data/scenarios``, sorted by name for stable ids."""
    return [load_scenario(path) for path in sorted(SCENARIO_DIR.glob("*.toml"))]


def load_scenario(path: Path) -> Scenario:
    """Read and check one scenario file, so a typo fails loudly instead of passing."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    where = path.name
    _check_keys(data, _TOP_KEYS, where)
    root = data.get("root", {})
    _check_keys(root, _ROOT_KEYS, f"{where} [root]")
    expected = data.get("expected", {})
    pins, conflict = _expected(expected, where)
    return Scenario(
        name=path.stem,
        description=data.get("description", ""),
        requires=list(root.get("requires", [])),
        constraints=list(root.get("constraints", [])),
        pre=bool(root.get("pre", False)),
        python=str(root.get("python", DEFAULT_PYTHON)),
        only_binary=list(root.get("only-binary", [])),
        no_binary=list(root.get("no-binary", [])),
        packages=_packages(data.get("packages", {}), where),
        expected_pins=pins,
        expected_conflict=conflict,
        expected_explanation=[str(x) for x in expected.get("explanation", [])],
        max_rounds=int(expected.get("max-rounds", DEFAULT_MAX_ROUNDS)),
        max_metadata=(
            int(expected["max-metadata"]) if "max-metadata" in expected else None
        ),
    )


def scenario_target(scenario: Scenario) -> Target:
    """The target a scenario locks for: its Python on manylinux x86_64."""
    return make_target(scenario.python, PLATFORM)


def scenario_dists(scenario: Scenario) -> list[Dist]:
    """Build every wheel and sdist of a scenario, in a stable order, for an index."""
    from tests.support.wheels import make_sdist, make_wheel

    dists: list[Dist] = []
    for name, version, spec in _releases(scenario):
        common: dict[str, Any] = {
            "requires_python": spec.requires_python,
            "yanked": spec.yanked,
        }
        for tag in spec.tags:
            dists.append(
                make_wheel(
                    name,
                    version,
                    requires_dist=spec.requires,
                    extras=spec.extras,
                    tag=tag,
                    **common,
                )
            )
        if spec.sdist:
            dists.append(
                make_sdist(name, version, requires_dist=spec.requires_dist(), **common)
            )
    return dists


@dataclass(frozen=True)
class _File:
    """What the fake index knows about one file it lists."""

    name: str
    version: str
    spec: VersionSpec
    tag: str | None  # None for the sdist

    @property
    def is_sdist(self) -> bool:
        return self.tag is None


class FakeRepository:
    """A :class:`lockgen.resolver.repository.Repository` over a scenario: plain values, no I/O.

    Hashes and sizes are fake but deterministic (from the file name); ``calls``
    records each question asked, so tests can check what the resolver needed.
    With ``listed_requires_python=False`` the listing omits each file's
    Requires-Python (PEP 503 makes it optional), so only the metadata carries it.
    """

    def __init__(
        self,
        scenario: Scenario,
        index: str = "https://example.invalid/simple/",
        *,
        listed_requires_python: bool = True,
    ) -> None:
        self.scenario = scenario
        self.index = index
        self.listed_requires_python = listed_requires_python
        self.calls: list[tuple[str, str]] = []
        self._projects: dict[str, list[DistFile]] = {}
        self._files: dict[str, _File] = {}
        for name, version, spec in _releases(scenario):
            for entry in _release_files(name, version, spec):
                self._add(entry)

    def add_wheel(self, name: str, version: str, tag: str, spec: VersionSpec) -> None:
        """List one more wheel with its own metadata, e.g. another build of a version
        (``tag="2-py3-none-any"`` names build 2) that declares other dependencies."""
        self._add(_File(name, version, spec, tag))

    def _add(self, entry: _File) -> None:
        filename = _filename(entry)
        self._files[filename] = entry
        dist = DistFile(
            filename=filename,
            url=urllib.parse.urljoin(
                self.index, "../files/" + urllib.parse.quote(filename)
            ),
            index=self.index,
            sha256=_fake_sha256(filename),
            size=_fake_size(filename),
            upload_time=UPLOAD_TIME,
            requires_python=entry.spec.requires_python
            if self.listed_requires_python
            else None,
            yanked=entry.spec.yanked is not False,
            yanked_reason=entry.spec.yanked
            if isinstance(entry.spec.yanked, str)
            else None,
            core_metadata=None if entry.is_sdist else "",
        )
        self._projects.setdefault(canonicalize_name(entry.name), []).append(dist)

    def list_files(self, name: NormalizedName) -> FileGroups:
        """The project's files, oldest version first as an index lists them."""
        self.calls.append(("list_files", name))
        try:
            return FileGroups.of(self._projects[canonicalize_name(name)])
        except KeyError:
            raise ProjectNotFoundError(name, [self.index]) from None

    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        """Metadata built straight from the scenario; wheels via PEP 658, sdists PKG-INFO."""
        self.calls.append(("get_metadata", dist.filename))
        entry = self._entry(dist)
        text = _metadata_text(entry)
        return CoreMetadata(
            name=canonicalize_name(entry.name),
            version=Version(entry.version),
            requires_dist=tuple(Requirement(r) for r in entry.spec.requires_dist()),
            requires_python=_specifier(entry.spec.requires_python),
            source=MetadataSource.SDIST if entry.is_sdist else MetadataSource.PEP658,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            filename=dist.filename,
        )

    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        """The same fake digest and size the listing gives."""
        self.calls.append(("get_sha256", dist.filename))
        self._entry(dist)
        return _fake_sha256(dist.filename), _fake_size(dist.filename)

    def _entry(self, dist: DistFile) -> _File:
        try:
            return self._files[dist.filename]
        except KeyError:
            msg = f"not a file of scenario {self.scenario.name!r}"
            raise MetadataError(dist.filename, msg) from None


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})"
        raise ScenarioError(msg)


def _expected(
    table: Mapping[str, Any], where: str
) -> tuple[dict[str, str] | None, list[str] | None]:
    _check_keys(table, _EXPECTED_KEYS, f"{where} [expected]")
    if ("pins" in table) == ("conflict" in table):
        msg = f"{where} [expected]: give exactly one of 'pins' and 'conflict'"
        raise ScenarioError(msg)
    if "conflict" in table:
        return None, [str(name) for name in table["conflict"]]
    pins: dict[str, str] = {
        canonicalize_name(k): str(Version(v)) for k, v in table["pins"].items()
    }
    return pins, None


def _packages(
    table: Mapping[str, Any], where: str
) -> dict[str, dict[str, VersionSpec]]:
    packages: dict[str, dict[str, VersionSpec]] = {}
    for name, project in table.items():
        _check_keys(project, frozenset({"versions"}), f"{where} [packages.{name}]")
        versions: dict[str, VersionSpec] = {}
        for version, spec in project.get("versions", {}).items():
            context = f"{where} [packages.{name}.versions.{version!r}]"
            if str(Version(version)) != version:
                msg = f"{context}: write the version as {str(Version(version))!r}"
                raise ScenarioError(msg)
            versions[version] = _version_spec(spec, context)
        packages[name] = versions
    return packages


def _version_spec(table: Mapping[str, Any], where: str) -> VersionSpec:
    _check_keys(table, _VERSION_KEYS, where)
    requires = _requirements(table.get("requires", []), where)
    extras = {
        str(extra): _requirements(reqs, f"{where} extra {extra!r}")
        for extra, reqs in table.get("extras", {}).items()
    }
    spec = VersionSpec(
        requires=requires,
        requires_python=table.get("requires-python"),
        yanked=table.get("yanked", False),
        extras=extras,
        tags=list(table.get("tags", ["py3-none-any"])),
        sdist=bool(table.get("sdist", False)),
    )
    if not spec.tags and not spec.sdist:
        msg = f"{where}: a release with no wheel and no sdist has no files"
        raise ScenarioError(msg)
    return spec


def _requirements(lines: Sequence[str], where: str) -> list[str]:
    """Check each PEP 508 line parses, keeping it as written."""
    for line in lines:
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            msg = f"{where}: invalid requirement {line!r}: {exc}"
            raise ScenarioError(msg) from None
    return list(lines)


def _releases(scenario: Scenario) -> list[tuple[str, str, VersionSpec]]:
    """(name, version, spec) in a stable order: by name, then oldest version first."""
    releases = [
        (name, version, spec)
        for name, versions in scenario.packages.items()
        for version, spec in versions.items()
    ]
    return sorted(releases, key=lambda r: (canonicalize_name(r[0]), Version(r[1])))


def _release_files(name: str, version: str, spec: VersionSpec) -> list[_File]:
    files = [_File(name, version, spec, tag) for tag in spec.tags]
    if spec.sdist:
        files.append(_File(name, version, spec, None))
    return files


def _escape(name: str) -> str:
    """File-name form of a project name, as wheels.escape_name spells it."""
    return canonicalize_name(name).replace("-", "_")


def _filename(entry: _File) -> str:
    stem = f"{_escape(entry.name)}-{entry.version}"
    return f"{stem}.tar.gz" if entry.tag is None else f"{stem}-{entry.tag}.whl"


def _extra_requirement(requirement: str, extra: str) -> str:
    """Guard a requirement by its extra, keeping its own marker (wheels.py's spelling)."""
    base, sep, marker = requirement.partition(";")
    condition = f'extra == "{extra}"'
    if sep and marker.strip():
        return f"{base.strip()} ; ({marker.strip()}) and {condition}"
    return f"{base.strip()} ; {condition}"


def _metadata_text(entry: _File) -> str:
    """The METADATA (or PKG-INFO) the real test wheel carries, for a stable digest."""
    spec = entry.spec
    fields = [
        ("Metadata-Version", "2.2" if entry.is_sdist else "2.1"),
        ("Name", entry.name),
        ("Version", entry.version),
    ]
    if spec.requires_python is not None:
        fields.append(("Requires-Python", spec.requires_python))
    if not entry.is_sdist:
        fields += [("Provides-Extra", extra) for extra in spec.extras]
    fields += [("Requires-Dist", req) for req in spec.requires_dist()]
    return "".join(f"{key}: {value}\n" for key, value in fields)


def _specifier(text: str | None) -> SpecifierSet | None:
    return None if text is None else SpecifierSet(text)


def _fake_sha256(filename: str) -> str:
    return hashlib.sha256(filename.encode()).hexdigest()


def _fake_size(filename: str) -> int:
    return 1024 + int(_fake_sha256(filename)[:4], 16)
