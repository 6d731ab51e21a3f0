"""The scenario loader and FakeRepository: the test data itself must be right."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockgen.core.errors import MetadataError, ProjectNotFoundError
from lockgen.core.models import DistFile, DistKind, MetadataSource, parse_filename
from tests.support.scenarios import (
    PLATFORM,
    SCENARIO_DIR,
    UPLOAD_TIME,
    FakeRepository,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenarios,
    scenario_dists,
    scenario_target,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lockgen.resolver.repository import Repository

SCENARIOS = load_scenarios()
BY_NAME = {s.name: s for s in SCENARIOS}


def by_name(name: str) -> Scenario:
    return BY_NAME[name]


def files_of(repo: FakeRepository, name: str) -> dict[str, DistFile]:
    return {d.filename: d for d in repo.list_files(canonicalize_name(name))}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
[root]
requires = ["a"]
[packages.a.versions."1.0"]
[expected]
pins = { a = "1.0" }
"""


class TestShippedScenarios:
    def test_there_are_enough_and_sorted(self) -> None:
        names = [s.name for s in SCENARIOS]
        assert len(names) >= 14
        assert names == sorted(names)
        assert len(set(names)) == len(names)

    @pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
    def test_is_consistent(self, scenario: Scenario) -> None:
        assert scenario.description
        assert (scenario.expected_pins is None) != (scenario.expected_conflict is None)
        known: dict[str, set[str]] = {
            canonicalize_name(n): set(v) for n, v in scenario.packages.items()
        }
        for name, version in (scenario.expected_pins or {}).items():
            assert version in known[name], (name, version)
        for name in scenario.expected_conflict or []:
            assert canonicalize_name(name) in known, name
        for line in scenario.requires:
            assert canonicalize_name(Requirement(line).name) in known, line

    @pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
    def test_target_is_linux_x86_64(self, scenario: Scenario) -> None:
        env = scenario_target(scenario).environment()
        assert PLATFORM == "linux_x86_64"
        assert env["sys_platform"] == "linux"
        assert env["platform_machine"] == "x86_64"
        assert env["python_version"] == scenario.python

    def test_covers_the_briefed_behaviours(self) -> None:
        assert any(s.expected_conflict for s in SCENARIOS)
        assert any(s.pre for s in SCENARIOS)
        assert any(s.constraints for s in SCENARIOS)
        assert any(":all:" in s.only_binary for s in SCENARIOS)
        assert any(s.no_binary for s in SCENARIOS)
        assert any(s.python != "3.11" for s in SCENARIOS)

    def test_parsed_fields(self) -> None:
        scenario = by_name("yanked")
        assert scenario.requires == ["parser", "renderer==2.0"]
        assert scenario.python == "3.11"
        assert scenario.pre is False
        assert scenario.expected_pins == {"parser": "1.1", "renderer": "2.0"}
        spec = scenario.packages["parser"]["2.0"]
        assert spec.yanked == "broken wheel, use 1.1"
        assert spec.tags == ["py3-none-any"]
        assert spec.sdist is False
        assert scenario.packages["renderer"]["2.0"].yanked is True

    def test_expected_pins_are_normalized(self) -> None:
        scenario = by_name("transitive_chain")
        assert scenario.expected_pins is not None
        assert "http-client" in scenario.expected_pins


class TestLoaderErrors:
    def test_minimal_file_defaults(self, tmp_path: Path) -> None:
        scenario = load_scenario(write(tmp_path, MINIMAL))
        assert scenario.name == "case"
        assert scenario.description == ""
        assert scenario.constraints == []
        assert scenario.python == "3.11"
        assert (scenario.only_binary, scenario.no_binary) == ([], [])
        assert scenario.expected_conflict is None

    @pytest.mark.parametrize(
        ("text", "match"),
        [
            (MINIMAL.replace("[root]", "[root]\nrequire = []"), "unknown keys"),
            (MINIMAL.replace('."1.0"]', '."1.0"]\nrequire = []'), "unknown keys"),
            (MINIMAL + "conflict = ['a']\n", "exactly one"),
            (MINIMAL.replace('pins = { a = "1.0" }', ""), "exactly one"),
            (MINIMAL.replace('"1.0"]', '"1.0.0-beta"]'), "write the version"),
            (MINIMAL.replace('."1.0"]', '."1.0"]\nrequires = ["a >>= 1"]'), "invalid"),
            (MINIMAL.replace('."1.0"]', '."1.0"]\ntags = []'), "no files"),
        ],
    )
    def test_rejected(self, tmp_path: Path, text: str, match: str) -> None:
        with pytest.raises(ScenarioError, match=match):
            load_scenario(write(tmp_path, text))

    def test_directory_is_the_shipped_one(self) -> None:
        assert SCENARIO_DIR.name == "scenarios"
        assert len(list(SCENARIO_DIR.glob("*.toml"))) == len(SCENARIOS)


class TestFakeRepositoryFiles:
    def test_is_a_repository(self) -> None:
        repo: Repository = FakeRepository(by_name("diamond"))
        assert repo.list_files(canonicalize_name("markup"))

    def test_one_file_per_tag_plus_sdist(self) -> None:
        repo = FakeRepository(by_name("wheel_tags"))
        assert sorted(files_of(repo, "winonly")) == [
            "winonly-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "winonly-1.0-cp311-cp311-win_amd64.whl",
            "winonly-2.0-cp311-cp311-win_amd64.whl",
        ]
        mixed = FakeRepository(by_name("only_binary"))
        assert sorted(files_of(mixed, "native")) == [
            "native-1.0-py3-none-any.whl",
            "native-2.0.tar.gz",
        ]

    def test_oldest_first_and_parseable(self) -> None:
        repo = FakeRepository(by_name("backtracking_deep"))
        dists = repo.list_files(canonicalize_name("driver"))
        parsed = [parse_filename(d.filename) for d in dists]
        assert all(p is not None and p.name == "driver" for p in parsed)
        versions = [p.version for p in parsed if p is not None]
        assert versions == sorted(versions)
        assert versions[0] == Version("1.0")

    def test_file_fields(self) -> None:
        repo = FakeRepository(by_name("yanked"))
        dist = files_of(repo, "parser")["parser-2.0-py3-none-any.whl"]
        assert dist.url == ("https://example.invalid/files/parser-2.0-py3-none-any.whl")
        assert dist.index == "https://example.invalid/simple/"
        assert dist.sha256 == hashlib.sha256(dist.filename.encode()).hexdigest()
        assert dist.size is not None
        assert dist.size > 0
        assert dist.upload_time == UPLOAD_TIME
        assert dist.yanked is True
        assert dist.yanked_reason == "broken wheel, use 1.1"
        assert dist.core_metadata == ""
        plain = files_of(repo, "renderer")["renderer-2.0-py3-none-any.whl"]
        assert (plain.yanked, plain.yanked_reason) == (True, None)
        older = files_of(repo, "parser")["parser-1.1-py3-none-any.whl"]
        assert (older.yanked, older.yanked_reason) == (False, None)

    def test_custom_index_and_sdist_fields(self) -> None:
        index = "http://127.0.0.1:8000/root/simple/"
        repo = FakeRepository(by_name("no_binary"), index=index)
        sdist = files_of(repo, "sdist-only")["sdist_only-0.6.tar.gz"]
        assert sdist.url == "http://127.0.0.1:8000/root/files/sdist_only-0.6.tar.gz"
        assert sdist.index == index
        assert sdist.core_metadata is None

    def test_requires_python_is_listed(self) -> None:
        repo = FakeRepository(by_name("requires_python"))
        listed = {
            d.filename: d.requires_python
            for d in repo.list_files(NormalizedName("asynckit"))
        }
        assert listed == {
            "asynckit-1.0-py3-none-any.whl": ">=3.7",
            "asynckit-1.5-py3-none-any.whl": ">=3.9",
            "asynckit-2.0-py3-none-any.whl": ">=3.12",
        }

    def test_names_are_normalized(self) -> None:
        repo = FakeRepository(by_name("transitive_chain"))
        listed = repo.list_files(NormalizedName("http-client"))
        assert list(repo.list_files(NormalizedName("HTTP_Client"))) == list(listed)
        assert all(d.filename.startswith("http_client-") for d in listed)

    def test_unknown_project(self) -> None:
        repo = FakeRepository(by_name("diamond"))
        with pytest.raises(ProjectNotFoundError) as info:
            repo.list_files(canonicalize_name("nope"))
        assert info.value.indexes == ("https://example.invalid/simple/",)
        assert "'nope'" in str(info.value)

    def test_calls_are_logged(self) -> None:
        repo = FakeRepository(by_name("diamond"))
        (dist,) = repo.list_files(canonicalize_name("webapp"))
        repo.get_metadata(dist)
        repo.get_sha256(dist)
        assert repo.calls == [
            ("list_files", "webapp"),
            ("get_metadata", "webapp-1.0-py3-none-any.whl"),
            ("get_sha256", "webapp-1.0-py3-none-any.whl"),
        ]

    def test_get_sha256_matches_listing(self) -> None:
        repo = FakeRepository(by_name("diamond"))
        for dist in repo.list_files(canonicalize_name("markup")):
            assert repo.get_sha256(dist) == (dist.sha256, dist.size)


class TestFakeRepositoryMetadata:
    def test_plain_requirements(self) -> None:
        repo = FakeRepository(by_name("backtracking"))
        dist = files_of(repo, "dataframe")["dataframe-2.0-py3-none-any.whl"]
        meta = repo.get_metadata(dist)
        assert meta.name == "dataframe"
        assert meta.version == Version("2.0")
        assert [str(r) for r in meta.requires_dist] == ["numcore<1"]
        assert meta.requires_python is None
        assert meta.source is MetadataSource.PEP658
        assert meta.filename == dist.filename
        assert len(meta.sha256) == 64

    def test_extras_become_guarded_requirements(self) -> None:
        repo = FakeRepository(by_name("extras"))
        (dist,) = repo.list_files(canonicalize_name("web"))
        reqs = {r.name: r for r in repo.get_metadata(dist).requires_dist}
        assert set(reqs) == {"core", "speedups", "sphinxish"}
        assert reqs["core"].marker is None
        fast = reqs["speedups"].marker
        assert isinstance(fast, Marker)
        assert fast.evaluate({"extra": "fast"})
        assert not fast.evaluate({"extra": "docs"})
        assert not fast.evaluate({"extra": ""})

    def test_extra_keeps_its_own_marker(self, tmp_path: Path) -> None:
        text = MINIMAL.replace(
            '."1.0"]',
            '."1.0"]\nextras = { win = ["pywin ; sys_platform == \'win32\'"] }',
        )
        repo = FakeRepository(load_scenario(write(tmp_path, text)))
        (dist,) = repo.list_files(canonicalize_name("a"))
        (req,) = repo.get_metadata(dist).requires_dist
        assert req.marker is not None
        env = {"sys_platform": "win32", "extra": "win"}
        assert req.marker.evaluate(env)
        assert not req.marker.evaluate({**env, "sys_platform": "linux"})
        assert not req.marker.evaluate({**env, "extra": ""})

    def test_requires_python_and_sdist_source(self) -> None:
        repo = FakeRepository(by_name("requires_python"))
        dist = files_of(repo, "compat")["compat-1.1-py3-none-any.whl"]
        meta = repo.get_metadata(dist)
        assert str(meta.requires_python) == "<3.11,>=3.8"
        sdist_repo = FakeRepository(by_name("no_binary"))
        sdist = files_of(sdist_repo, "source-built")["source_built-1.0.tar.gz"]
        assert sdist_repo.get_metadata(sdist).source is MetadataSource.SDIST

    def test_digest_is_stable_and_distinct(self) -> None:
        repo = FakeRepository(by_name("diamond"))
        markup = repo.list_files(NormalizedName("markup"))
        first = [repo.get_metadata(d).sha256 for d in markup]
        again = [repo.get_metadata(d).sha256 for d in markup]
        assert first == again
        assert len(set(first)) == len(first)

    def test_unknown_file(self) -> None:
        repo = FakeRepository(by_name("diamond"))
        stranger = DistFile(
            filename="other-1.0-py3-none-any.whl",
            url="https://example.invalid/files/other-1.0-py3-none-any.whl",
            index="https://example.invalid/simple/",
        )
        with pytest.raises(MetadataError, match=r"other-1\.0-py3-none-any\.whl"):
            repo.get_metadata(stranger)
        with pytest.raises(MetadataError):
            repo.get_sha256(stranger)


class TestScenarioDists:
    """The real files for the index server agree with what FakeRepository lists."""

    @pytest.mark.parametrize(
        "name", ["extras", "no_binary", "wheel_tags", "yanked", "requires_python"]
    )
    def test_same_files_and_metadata_digests(self, name: str) -> None:
        scenario = by_name(name)
        dists = scenario_dists(scenario)
        repo = FakeRepository(scenario)
        listed = {
            d.filename: d
            for project in scenario.packages
            for d in repo.list_files(canonicalize_name(project))
        }
        assert sorted(d.filename for d in dists) == sorted(listed)
        for dist in dists:
            fake = listed[dist.filename]
            assert dist.requires_python == fake.requires_python
            assert (dist.yanked is not False) == fake.yanked
            meta = repo.get_metadata(fake)
            assert dist.metadata_sha256 == meta.sha256, dist.filename

    def test_wheels_and_sdists(self) -> None:
        dists = scenario_dists(by_name("no_binary"))
        kinds: dict[str, DistKind] = {}
        for dist in dists:
            parsed = parse_filename(dist.filename)
            assert parsed is not None
            kinds[dist.filename] = parsed.kind
        assert kinds["source_built-1.0.tar.gz"] is DistKind.SDIST
        assert kinds["source_built-1.0-py3-none-any.whl"] is DistKind.WHEEL
        assert "sdist_only-0.6-py3-none-any.whl" not in kinds
