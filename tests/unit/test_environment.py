"""Target environments: tags and markers for the running and for foreign interpreters."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from packaging.markers import Marker, default_environment
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag, platform_tags, sys_tags
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from lockgen.core.environment import Target, current_target, make_target
from lockgen.core.errors import InvalidTargetError, LockgenError


def tag(text: str) -> Tag:
    (parsed,) = parse_tag(text)
    return parsed


def platforms(target: Target) -> list[str]:
    """The distinct platform tags of a target, in order of preference."""
    return list(dict.fromkeys(t.platform for t in target.tags if t.platform != "any"))


def wheel_tags(filename: str) -> frozenset[Tag]:
    return parse_wheel_filename(filename)[3]


RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


class TestCurrentTarget:
    def test_tags_are_sys_tags_in_order(self) -> None:
        assert current_target().tags == tuple(sys_tags())

    def test_markers_are_the_default_environment(self) -> None:
        env = {key: str(value) for key, value in default_environment().items()}
        assert current_target().environment() == env

    def test_python_version_is_the_running_one(self) -> None:
        expected = Version(".".join(map(str, sys.version_info[:3])))
        assert current_target().python_version == expected

    def test_no_arguments_means_the_running_interpreter(self) -> None:
        assert make_target() is current_target()


class TestPythonVersion:
    def test_two_parts_mean_the_first_release(self) -> None:
        target = make_target("3.12", "linux_x86_64")
        assert target.python_version == Version("3.12.0")
        env = target.environment()
        assert env["python_version"] == "3.12"
        assert env["python_full_version"] == "3.12.0"
        assert env["implementation_version"] == "3.12.0"

    def test_three_parts_are_kept(self) -> None:
        target = make_target("3.10.4", "linux_x86_64")
        assert target.python_version == Version("3.10.4")
        assert target.environment()["python_full_version"] == "3.10.4"

    @pytest.mark.parametrize(
        "text", ["3", "3.11.0rc1", "3.x", "", "three", "3.11.2.1", "2.7", "4.0"]
    )
    def test_rejected(self, text: str) -> None:
        with pytest.raises(InvalidTargetError) as info:
            make_target(text, "linux_x86_64")
        message = str(info.value)
        assert "\n" not in message
        assert repr(text) in message

    def test_only_python_keeps_the_running_platform(self) -> None:
        target = make_target("3.12")
        running = default_environment()
        env = target.environment()
        for key in ("sys_platform", "platform_machine", "os_name", "platform_system"):
            assert env[key] == running[key]
        assert env["python_version"] == "3.12"
        assert env["implementation_name"] == "cpython"
        assert env["platform_python_implementation"] == "CPython"
        assert platforms(target) == list(platform_tags())

    def test_only_python_uses_that_version_in_tags(self) -> None:
        target = make_target("3.12")
        first_platform = next(iter(platform_tags()))
        assert target.tags[0] == Tag("cp312", "cp312", first_platform)
        assert Tag("cp312", "abi3", first_platform) in target.tags
        assert Tag("cp311", "abi3", first_platform) in target.tags
        assert Tag("cp311", "cp311", first_platform) not in target.tags
        assert tag("cp312-none-any") in target.tags
        assert target.tags[-1] == tag("py30-none-any")

    @pytest.mark.skipif(
        sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"),
        reason="needs a release build of CPython",
    )
    def test_running_version_gives_the_running_tags(self) -> None:
        assert make_target(RUNNING).tags == tuple(sys_tags())

    def test_only_platform_keeps_the_running_python(self) -> None:
        target = make_target(platform="win_amd64")
        running = Version(".".join(map(str, sys.version_info[:3])))
        assert target.python_version == running
        assert target.environment()["python_full_version"] == str(running)


class TestLinuxPlatforms:
    def test_bare_linux_is_manylinux_2_28(self) -> None:
        assert make_target("3.11", "linux_x86_64") == make_target(
            "3.11", "manylinux_2_28_x86_64"
        )

    def test_manylinux_x86_64_order(self) -> None:
        plats = platforms(make_target("3.11", "manylinux_2_28_x86_64"))
        assert plats[0] == "manylinux_2_28_x86_64"
        assert plats[-2:] == ["manylinux1_x86_64", "linux_x86_64"]
        assert plats.index("manylinux2014_x86_64") == (
            plats.index("manylinux_2_17_x86_64") + 1
        )
        assert plats.index("manylinux2010_x86_64") == (
            plats.index("manylinux_2_12_x86_64") + 1
        )
        assert "manylinux_2_5_x86_64" in plats
        assert "manylinux_2_4_x86_64" not in plats
        assert "manylinux_2_29_x86_64" not in plats

    def test_manylinux_aarch64(self) -> None:
        target = make_target("3.11", "manylinux_2_28_aarch64")
        plats = platforms(target)
        assert plats[0] == "manylinux_2_28_aarch64"
        assert plats[-3:] == [
            "manylinux_2_17_aarch64",
            "manylinux2014_aarch64",
            "linux_aarch64",
        ]
        assert not any("x86_64" in p for p in plats)
        assert "manylinux2010_aarch64" not in plats
        assert tag("cp311-cp311-manylinux2014_aarch64") in target.tags
        assert tag("cp311-abi3-manylinux_2_28_aarch64") in target.tags
        assert tag("py3-none-any") in target.tags
        assert target.environment()["platform_machine"] == "aarch64"

    @pytest.mark.parametrize(
        ("spelling", "oldest"),
        [
            ("manylinux2014_x86_64", "manylinux_2_17_x86_64"),
            ("manylinux2010_i686", "manylinux_2_12_i686"),
            ("manylinux1_x86_64", "manylinux_2_5_x86_64"),
        ],
    )
    def test_legacy_aliases_start_at_their_glibc(
        self, spelling: str, oldest: str
    ) -> None:
        plats = platforms(make_target("3.11", spelling))
        assert plats[:2] == [oldest, spelling]
        assert plats[-1] == "linux_" + spelling.split("_", 1)[1]

    def test_manylinux_normalises_separators(self) -> None:
        assert make_target("3.11", "manylinux-2.17-x86_64") == make_target(
            "3.11", "manylinux_2_17_x86_64"
        )

    def test_musllinux(self) -> None:
        target = make_target("3.12", "musllinux_1_2_aarch64")
        assert platforms(target) == [
            "musllinux_1_2_aarch64",
            "musllinux_1_1_aarch64",
            "musllinux_1_0_aarch64",
            "linux_aarch64",
        ]
        assert tag("cp312-cp312-musllinux_1_1_aarch64") in target.tags
        assert tag("cp312-cp312-manylinux_2_17_aarch64") not in target.tags
        assert target.environment()["sys_platform"] == "linux"

    def test_linux_markers(self) -> None:
        env = make_target("3.11", "linux_ppc64le").environment()
        assert env["sys_platform"] == "linux"
        assert env["platform_system"] == "Linux"
        assert env["os_name"] == "posix"
        assert env["platform_machine"] == "ppc64le"
        assert env["platform_release"] == ""
        assert env["platform_version"] == ""
        assert env["implementation_name"] == "cpython"
        assert env["platform_python_implementation"] == "CPython"

    def test_markers_cover_every_pep508_key(self) -> None:
        env = make_target("3.11", "linux_x86_64").environment()
        assert set(env) == set(default_environment())


class TestOtherPlatforms:
    def test_macos_arm64(self) -> None:
        target = make_target("3.12", "macosx_14_0_arm64")
        plats = platforms(target)
        assert plats[:2] == ["macosx_14_0_arm64", "macosx_14_0_universal2"]
        assert "macosx_11_0_arm64" in plats
        assert "macosx_10_9_universal2" in plats
        assert "macosx_10_9_x86_64" not in plats
        env = target.environment()
        assert (env["sys_platform"], env["platform_system"]) == ("darwin", "Darwin")
        assert (env["os_name"], env["platform_machine"]) == ("posix", "arm64")

    def test_macos_x86_64_reaches_older_releases(self) -> None:
        target = make_target("3.11", "macosx_10_13_x86_64")
        plats = platforms(target)
        assert plats[0] == "macosx_10_13_x86_64"
        assert "macosx_10_9_x86_64" in plats
        assert "macosx_10_14_x86_64" not in plats
        assert target.environment()["platform_machine"] == "x86_64"

    def test_macos_universal2_machine(self) -> None:
        target = make_target("3.11", "macosx_11_0_universal2")
        assert target.environment()["platform_machine"] == "x86_64"

    @pytest.mark.parametrize(
        ("spelling", "machine"),
        [("win_amd64", "AMD64"), ("win32", "x86"), ("win_arm64", "ARM64")],
    )
    def test_windows(self, spelling: str, machine: str) -> None:
        target = make_target("3.11", spelling)
        assert platforms(target) == [spelling]
        assert target.tags[0] == Tag("cp311", "cp311", spelling)
        env = target.environment()
        assert env["sys_platform"] == "win32"
        assert env["platform_system"] == "Windows"
        assert env["os_name"] == "nt"
        assert env["platform_machine"] == machine

    def test_case_is_ignored(self) -> None:
        assert make_target("3.11", "WIN_AMD64") == make_target("3.11", "win_amd64")


class TestTagSets:
    def test_stable_abi_and_pure_tags(self) -> None:
        target = make_target("3.11", "linux_x86_64")
        for text in (
            "cp311-abi3-manylinux_2_17_x86_64",
            "cp38-abi3-manylinux2014_x86_64",
            "cp311-none-linux_x86_64",
            "py3-none-manylinux1_x86_64",
            "cp311-none-any",
            "py3-none-any",
            "py311-none-any",
            "py2.py3-none-any",
        ):
            assert any(t in target.tags for t in parse_tag(text)), text

    def test_other_interpreters_excluded(self) -> None:
        target = make_target("3.12", "linux_x86_64")
        assert tag("cp311-cp311-manylinux_2_17_x86_64") not in target.tags
        assert tag("cp313-abi3-manylinux_2_17_x86_64") not in target.tags
        assert tag("pp310-pypy310_pp73-manylinux_2_17_x86_64") not in target.tags
        assert tag("py313-none-any") not in target.tags
        assert tag("cp312d-cp312d-manylinux_2_17_x86_64") not in target.tags

    def test_order_interpreter_then_platform_then_abi(self) -> None:
        target = make_target("3.11", "linux_x86_64")
        assert target.tags[0] == tag("cp311-cp311-manylinux_2_28_x86_64")
        assert target.tags.index(tag("cp311-cp311-linux_x86_64")) < target.tags.index(
            tag("cp311-abi3-manylinux_2_28_x86_64")
        )
        assert target.tags[-1] == tag("py30-none-any")

    def test_no_duplicate_tags(self) -> None:
        target = make_target("3.11", "linux_x86_64")
        assert len(set(target.tags)) == len(target.tags)


class TestPlatformErrors:
    @pytest.mark.parametrize(
        "spelling",
        ["freebsd_13_amd64", "linux", "manylinux_x86_64", "win_ia64", "any", ""],
    )
    def test_unknown_platform(self, spelling: str) -> None:
        with pytest.raises(InvalidTargetError) as info:
            make_target("3.11", spelling)
        message = str(info.value)
        assert "\n" not in message
        assert "manylinux_2_<minor>_<arch>" in message
        assert "win_amd64" in message

    @pytest.mark.parametrize(
        "spelling", ["linux_riscv64", "musllinux_1_2_sparc", "macosx_14_0_ppc"]
    )
    def test_unknown_architecture(self, spelling: str) -> None:
        with pytest.raises(InvalidTargetError, match="unsupported architecture"):
            make_target("3.11", spelling)

    def test_glibc_older_than_the_architecture(self) -> None:
        with pytest.raises(InvalidTargetError, match=r"2\.17"):
            make_target("3.11", "manylinux1_aarch64")

    def test_macos_version_too_old(self) -> None:
        with pytest.raises(InvalidTargetError, match="macOS"):
            make_target("3.11", "macosx_9_0_x86_64")

    def test_is_a_lockgen_error_and_value_error(self) -> None:
        with pytest.raises(LockgenError):
            make_target("3.11", "nowhere")
        with pytest.raises(ValueError, match="nowhere"):
            make_target("3.11", "nowhere")


class TestWheelRank:
    target = make_target("3.11", "manylinux_2_28_x86_64")

    def test_binary_wheel_beats_pure(self) -> None:
        binary = self.target.wheel_rank(
            wheel_tags("a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
        )
        pure = self.target.wheel_rank(wheel_tags("a-1.0-py3-none-any.whl"))
        assert binary is not None
        assert pure is not None
        assert binary < pure

    def test_newer_glibc_beats_older(self) -> None:
        newer = self.target.wheel_rank(
            wheel_tags("a-1.0-cp311-cp311-manylinux_2_28_x86_64.whl")
        )
        older = self.target.wheel_rank(
            wheel_tags("a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
        )
        assert newer == 0
        assert older is not None
        assert older > newer

    def test_specific_abi_beats_abi3(self) -> None:
        specific = self.target.wheel_rank(
            wheel_tags("a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
        )
        stable = self.target.wheel_rank(
            wheel_tags("a-1.0-cp39-abi3-manylinux_2_17_x86_64.whl")
        )
        assert specific is not None
        assert stable is not None
        assert specific < stable

    def test_compressed_tag_set_takes_the_best(self) -> None:
        rank = self.target.wheel_rank(
            wheel_tags(
                "a-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            )
        )
        assert rank == self.target.tags.index(tag("cp311-cp311-manylinux_2_17_x86_64"))

    @pytest.mark.parametrize(
        "filename",
        [
            "a-1.0-cp311-cp311-win_amd64.whl",
            "a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "a-1.0-cp311-cp311-manylinux_2_31_x86_64.whl",
            "a-1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
            "a-1.0-py2-none-any.whl",
        ],
    )
    def test_incompatible(self, filename: str) -> None:
        assert self.target.wheel_rank(wheel_tags(filename)) is None

    def test_empty_set(self) -> None:
        assert self.target.wheel_rank(frozenset()) is None


class TestSupportsPython:
    target = make_target("3.11.4", "linux_x86_64")

    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (None, True),
            ("", True),
            (">=3.8", True),
            (">=3.12", False),
            ("<3.11", False),
            ("==3.11.*", True),
            (">=3.11.5", False),
            ("~=3.10", True),
            (">=3.8,!=3.11.4", False),
            ("not a specifier", False),
            (">=3.12.0a1", False),
            (">=3.11.0b1", True),
        ],
    )
    def test_specifiers(self, spec: str | None, expected: bool) -> None:
        assert self.target.supports_python(spec) is expected

    def test_accepts_a_specifier_set(self) -> None:
        assert self.target.supports_python(SpecifierSet(">=3.9")) is True
        assert self.target.supports_python(SpecifierSet(">=3.12")) is False

    def test_prerelease_target(self) -> None:
        target = dataclasses.replace(self.target, python_version=Version("3.13.0rc1"))
        assert target.supports_python(">=3.13") is False
        assert target.supports_python(">=3.12") is True


class TestLockEntries:
    def test_environment_marker(self) -> None:
        marker = make_target("3.11", "linux_x86_64").environment_marker()
        assert marker == (
            "python_version == '3.11' and sys_platform == 'linux' and "
            "platform_machine == 'x86_64' and implementation_name == 'cpython'"
        )

    def test_environment_marker_parses_and_matches_its_target(self) -> None:
        windows = make_target("3.12", "win_arm64")
        mac = make_target("3.12", "macosx_14_0_arm64")
        marker = Marker(windows.environment_marker())
        assert marker.evaluate(windows.environment())
        assert not marker.evaluate(mac.environment())

    def test_environment_marker_of_running_target(self) -> None:
        assert Marker(current_target().environment_marker()).evaluate()

    @pytest.mark.parametrize(
        ("version", "expected"), [("3.11", "==3.11.*"), ("3.13.2", "==3.13.*")]
    )
    def test_requires_python(self, version: str, expected: str) -> None:
        assert make_target(version, "win_amd64").requires_python() == expected


class TestTargetValue:
    def test_equal_targets_hash_equal(self) -> None:
        first = make_target("3.11", "linux_x86_64")
        second = make_target("3.11", "linux_x86_64")
        assert first == second
        assert hash(first) == hash(second)
        assert len({first, second, make_target("3.12", "linux_x86_64")}) == 2

    def test_markers_are_sorted_items(self) -> None:
        target = make_target("3.11", "win32")
        assert list(target.markers) == sorted(target.environment().items())

    def test_environment_is_built_once(self) -> None:
        target = make_target("3.11", "win32")
        assert target.environment() is target.environment()

    def test_is_frozen(self) -> None:
        target = make_target("3.11", "win32")
        with pytest.raises(dataclasses.FrozenInstanceError):
            target.tags = ()  # type: ignore[misc]  # the assignment is what is tested

    def test_built_by_hand(self) -> None:
        target = Target(
            python_version=Version("3.11.0"),
            markers=(("sys_platform", "linux"),),
            tags=(tag("py3-none-any"), tag("py3-none-any")),
        )
        assert target.wheel_rank(frozenset({tag("py3-none-any")})) == 0
        assert Marker("sys_platform == 'linux'").evaluate(target.environment())
