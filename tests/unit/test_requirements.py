"""Tests for lockgen.core.requirements: pip's requirements-file rules, text in via read_text."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lockgen.core.errors import RequirementsFileError
from lockgen.core.req_options import FormatControl
from lockgen.core.requirements import (
    RequirementsInput,
    parse_requirements,
)
from lockgen.core.urls import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from collections.abc import Set as AbstractSet

DATA = Path(__file__).parent.parent / "data" / "requirements"


def dict_reader(files: Mapping[str, str]) -> Callable[[str], str]:
    """read_text over a dict; a missing key fails as a missing file would."""

    def read(path: str) -> str:
        if path not in files:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return files[path]

    return read


def data_reader(path: str) -> str:
    return (DATA / path).read_text(encoding="utf-8")


def parse(
    text: str,
    *,
    environ: Mapping[str, str] | None = None,
    others: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> RequirementsInput:
    """Parse one file "r.txt" holding ``text``, with ``others`` readable beside it;
    direct references only with a ``cwd`` for their paths."""
    files = {"r.txt": text, **(others or {})}
    return parse_requirements(
        ["r.txt"], read_text=dict_reader(files), environ=environ or {}, cwd=cwd
    )


def fails(
    text: str,
    *,
    environ: Mapping[str, str] | None = None,
    others: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> RequirementsFileError:
    with pytest.raises(RequirementsFileError) as info:
        parse(text, environ=environ, others=others, cwd=cwd)
    return info.value


def parse_fails_as_constraint(text: str, cwd: Path) -> RequirementsFileError:
    with pytest.raises(RequirementsFileError) as info:
        parse_requirements(
            [], ["c.txt"], read_text=dict_reader({"c.txt": text}), environ={}, cwd=cwd
        )
    return info.value


def reqs(result: RequirementsInput) -> list[tuple[str, str]]:
    return [(str(r.requirement), r.source) for r in result.requirements]


def constraints(result: RequirementsInput) -> list[tuple[str, str]]:
    return [(str(r.requirement), r.source) for r in result.constraints]


class TestSampleFiles:
    """The files under tests/data/requirements, read from disk."""

    def parse_main(self) -> RequirementsInput:
        return parse_requirements(["main.txt"], read_text=data_reader, environ={})

    def test_requirements_in_order_with_sources(self) -> None:
        assert reqs(self.parse_main()) == [
            ("requests[security,socks]<3,>=2.31", "main.txt:5"),
            ('attrs; python_version >= "3.8"', "main.txt:7"),
            ("click>=8", "nested/common.txt:1"),
            ('tomli; python_version < "3.11"', "nested/deeper/extra.txt:2"),
        ]

    def test_constraints_from_nested_c_and_r_inside_c(self) -> None:
        assert constraints(self.parse_main()) == [
            ("idna==3.7", "more-constraints.txt:1"),
            ("urllib3<3", "constraints.txt:1"),
            ("idna==3.7", "more-constraints.txt:1"),
        ]

    def test_index_options(self) -> None:
        result = self.parse_main()
        assert result.index_url == "https://pypi.example/simple/"
        assert result.extra_index_urls == ("https://mirror.example/simple/",)
        assert result.pre is False
        assert result.format_control == FormatControl()

    def test_cycle_names_the_file(self) -> None:
        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(["cycle-a.txt"], read_text=data_reader, environ={})
        err = info.value
        assert (err.path, err.lineno) == ("cycle-b.txt", 2)
        assert "cycle-a.txt recursively includes itself" in err.reason
        assert "cycle-a.txt -> cycle-b.txt -> cycle-a.txt" in err.reason


class TestLogicalLines:
    def test_continuation_takes_first_line_number(self) -> None:
        result = parse("a\nb>=1,\\\n  <2\\\n  ,!=1.5\nc\n")
        assert reqs(result) == [
            ("a", "r.txt:1"),
            ("b!=1.5,<2,>=1", "r.txt:2"),
            ("c", "r.txt:5"),
        ]

    def test_continuation_at_end_of_file(self) -> None:
        assert reqs(parse("a\nb\\")) == [("a", "r.txt:1"), ("b", "r.txt:2")]

    def test_comment_line_ends_a_continuation(self) -> None:
        assert reqs(parse("foo \\\n# note\nbar")) == [
            ("foo", "r.txt:1"),
            ("bar", "r.txt:3"),
        ]

    def test_comment_line_ending_in_backslash_does_not_continue(self) -> None:
        assert reqs(parse("# note \\\nfoo\n")) == [("foo", "r.txt:2")]

    def test_inline_comment_is_stripped(self) -> None:
        assert reqs(parse("pkg # note\npkg2\t# tab note\n")) == [
            ("pkg", "r.txt:1"),
            ("pkg2", "r.txt:2"),
        ]

    def test_hash_without_whitespace_is_not_a_comment(self, tmp_path: Path) -> None:
        line = f"foo @ https://files.example/foo-1.0.whl#sha256={'ab' * 32} # real\n"
        (direct,) = parse(line, cwd=tmp_path).directs
        assert direct.sha256 == "ab" * 32
        assert direct.text.endswith(f"#sha256={'ab' * 32}")

    def test_blank_and_comment_lines_are_skipped(self) -> None:
        assert reqs(parse("\n   \n# a\n   # b\n\tfoo\n")) == [("foo", "r.txt:5")]

    def test_crlf_and_bom(self) -> None:
        assert reqs(parse("\ufefffoo\r\nbar>=1,\\\r\n<2\r\n")) == [
            ("foo", "r.txt:1"),
            ("bar<2,>=1", "r.txt:2"),
        ]

    def test_error_line_number_is_the_logical_line_start(self) -> None:
        err = fails("ok\n# c\nbad \\\n  [x\n")
        assert (err.path, err.lineno) == ("r.txt", 3)
        assert str(err).startswith("r.txt:3: invalid requirement")

    def test_matches_pips_own_preprocessing(self) -> None:
        req_file = pytest.importorskip("pip._internal.req.req_file")
        text = (
            "a # c\n\n  # x \\\nb>=1,\\\n<2 \\\n# tail\n"
            "c;\\\npython_version>'3'\n\td[x]  \\\n\n"
        )
        theirs = [(n, str(Requirement(line))) for n, line in req_file.preprocess(text)]
        ours = [
            (int(r.source.rsplit(":", 1)[1]), str(r.requirement))
            for r in parse(text).requirements
        ]
        assert ours == theirs
        assert [n for n, _ in ours] == [1, 4, 7, 9]


class TestEnvironmentVariables:
    def test_defined_variables_are_expanded(self) -> None:
        env = {"INDEX": "https://idx.example/simple", "VER": "2.0"}
        result = parse("-i ${INDEX}\nfoo==${VER}\n", environ=env)
        assert result.index_url == "https://idx.example/simple"
        assert reqs(result) == [("foo==2.0", "r.txt:2")]

    def test_undefined_variables_are_left_as_written(self) -> None:
        result = parse("--extra-index-url https://${HOST}/simple\n")
        assert result.extra_index_urls == ("https://${HOST}/simple",)

    def test_empty_value_counts_as_undefined(self) -> None:
        result = parse("-i https://${HOST}/simple\n", environ={"HOST": ""})
        assert result.index_url == "https://${HOST}/simple"

    def test_only_braced_upper_case_names(self) -> None:
        env = {"lower": "x", "HOST": "h"}
        result = parse("-i https://${lower}.$HOST/${HOST}\n", environ=env)
        assert result.index_url == "https://${lower}.$HOST/h"

    def test_expansion_happens_after_comments_are_stripped(self) -> None:
        err = fails("foo${SPEC}\n", environ={"SPEC": " #x"})
        assert err.reason.startswith("invalid requirement 'foo #x'")


class TestIndexOptions:
    @pytest.mark.parametrize(
        "line",
        [
            "-i https://a.example/simple",
            "-ihttps://a.example/simple",
            "--index-url https://a.example/simple",
            "--index-url=https://a.example/simple",
            "--pypi-url https://a.example/simple",
            "--index=https://a.example/simple",
        ],
    )
    def test_index_url_spellings(self, line: str) -> None:
        assert parse(line).index_url == "https://a.example/simple"

    def test_last_index_url_wins(self) -> None:
        result = parse("-i https://a.example/\nfoo\n--index-url=https://b.example/\n")
        assert result.index_url == "https://b.example/"

    def test_extra_index_urls_in_order_without_duplicates(self) -> None:
        result = parse(
            "--extra-index-url https://b.example/\n"
            "--extra-index-url=https://a.example/\n"
            "--extra-index=https://b.example/\n"
        )
        assert result.extra_index_urls == ("https://b.example/", "https://a.example/")

    def test_pre(self) -> None:
        assert parse("--pre\n").pre is True
        assert parse("foo\n").pre is False

    def test_several_options_on_one_line(self) -> None:
        result = parse("--pre --index-url https://a.example/ --only-binary=:all:\n")
        assert result.pre is True
        assert result.index_url == "https://a.example/"
        assert result.format_control.only_binary == {":all:"}

    @pytest.mark.parametrize(
        "line", ["-f wheels", "-fwheels", "--find-links wheels", "--find-links=wheels"]
    )
    def test_find_links_spellings(self, line: str) -> None:
        assert parse(line).find_links == ("wheels",)

    def test_find_links_paths_are_relative_to_the_file(self) -> None:
        files = {
            "reqs/main.txt": "-r sub/more.txt\n-f ../wheels\n",
            "reqs/sub/more.txt": "-f local\n-f /abs/wheels\n-f ../../wheels\n",
        }
        result = parse_requirements(
            ["reqs/main.txt"], read_text=dict_reader(files), environ={}
        )
        assert result.find_links == ("reqs/sub/local", "/abs/wheels", "wheels")

    def test_find_links_urls_are_kept_as_written(self) -> None:
        result = parse("-f https://f.example/links.html\n-f file:///srv/wheels\n")
        assert result.find_links == (
            "https://f.example/links.html",
            "file:///srv/wheels",
        )

    def test_find_links_in_the_home_directory_stay_as_written(self) -> None:
        files = {"reqs/r.txt": "-f ~/wheels\n"}
        result = parse_requirements(
            ["reqs/r.txt"], read_text=dict_reader(files), environ={}
        )
        assert result.find_links == ("~/wheels",)

    def test_no_index(self) -> None:
        assert parse("--no-index\n").no_index is True
        assert parse("foo\n").no_index is False

    def test_credentials_are_kept_in_the_result(self) -> None:
        # The transport needs them; only messages are redacted.
        assert (
            parse("-i https://u:pw@a.example/\n").index_url == "https://u:pw@a.example/"
        )


class TestOptionErrors:
    @pytest.mark.parametrize("line", ["--frobnicate", "--frobnicate=1", "-x foo"])
    def test_unknown_option(self, line: str) -> None:
        err = fails(f"foo\n{line}\n")
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert err.reason == f"unknown option {line.split()[0].split('=')[0]}"

    @pytest.mark.parametrize(
        ("line", "name"),
        [
            ("--prefer-binary", "--prefer-binary"),
            ("--require-hashes", "--require-hashes"),
            ("--trusted-host h.example", "--trusted-host"),
            ("--use-feature=x", "--use-feature"),
            ("--all-releases :all:", "--all-releases"),
            ("--only-final foo", "--only-final"),
        ],
    )
    def test_options_pip_knows_but_lockgen_does_not(self, line: str, name: str) -> None:
        assert fails(line).reason == f"option {name} is not supported"

    def test_ambiguous_abbreviation(self) -> None:
        reason = fails("--p\n").reason
        assert reason.startswith("ambiguous option --p")
        assert "--pre" in reason and "--prefer-binary" in reason

    def test_flag_given_a_value(self) -> None:
        assert fails("--pre=yes\n").reason == "option --pre does not take a value"

    @pytest.mark.parametrize("line", ["-i", "--index-url", "--only-binary", "-r"])
    def test_missing_value(self, line: str) -> None:
        assert fails(line).reason.endswith("requires a value")

    def test_stray_argument_after_options(self) -> None:
        assert fails("--pre foo\n").reason == "unexpected argument 'foo'"

    def test_include_must_be_alone(self) -> None:
        err = fails("--pre -r other.txt\n", others={"other.txt": "x\n"})
        assert err.reason == "option --requirement must be alone on its line"

    def test_global_option_after_requirement(self) -> None:
        assert "must be on a line of its own" in fails("foo --pre\n").reason

    def test_unbalanced_quote(self) -> None:
        assert fails("--index-url 'https://a\n").reason.startswith(
            "cannot split options"
        )


class TestIncludes:
    @pytest.mark.parametrize(
        "line",
        [
            "-r sub/b.txt",
            "-rsub/b.txt",
            "--requirement sub/b.txt",
            "--requirement=sub/b.txt",
        ],
    )
    def test_requirement_spellings(self, line: str) -> None:
        result = parse(f"a\n{line}\n", others={"sub/b.txt": "b\n"})
        assert reqs(result) == [("a", "r.txt:1"), ("b", "sub/b.txt:1")]

    @pytest.mark.parametrize(
        "line", ["-c c.txt", "-cc.txt", "--constraint c.txt", "--constraint=c.txt"]
    )
    def test_constraint_spellings(self, line: str) -> None:
        result = parse(f"a\n{line}\n", others={"c.txt": "b<2\n"})
        assert reqs(result) == [("a", "r.txt:1")]
        assert constraints(result) == [("b<2", "c.txt:1")]

    def test_nested_paths_are_relative_to_the_including_file(self) -> None:
        files = {
            "top/r.txt": "-r sub/a.txt\n",
            "top/sub/a.txt": "-r ../b.txt\n-r more/c.txt\n",
            "top/b.txt": "b\n",
            "top/sub/more/c.txt": "c\n",
        }
        result = parse_requirements(
            ["top/r.txt"], read_text=dict_reader(files), environ={}
        )
        assert reqs(result) == [("b", "top/b.txt:1"), ("c", "top/sub/more/c.txt:1")]

    def test_absolute_paths_stay_absolute(self) -> None:
        files = {
            "dir/r.txt": "-r /abs/x.txt\n",
            "/abs/x.txt": "-c y.txt\nx\n",
            "/abs/y.txt": "y\n",
        }
        result = parse_requirements(
            ["dir/r.txt"], read_text=dict_reader(files), environ={}
        )
        assert reqs(result) == [("x", "/abs/x.txt:2")]
        assert constraints(result) == [("y", "/abs/y.txt:1")]

    def test_stdin_includes_are_relative_to_the_current_directory(self) -> None:
        files = {"-": "-r sub/x.txt\n", "sub/x.txt": "x\n"}
        result = parse_requirements(["-"], read_text=dict_reader(files), environ={})
        assert reqs(result) == [("x", "sub/x.txt:1")]

    def test_constraint_files_argument_and_r_inside_them(self) -> None:
        files = {"r.txt": "a\n", "c.txt": "b<2\n-r more.txt\n", "more.txt": "c<3\n"}
        result = parse_requirements(
            ["r.txt"], ["c.txt"], read_text=dict_reader(files), environ={}
        )
        assert reqs(result) == [("a", "r.txt:1")]
        assert constraints(result) == [("b<2", "c.txt:1"), ("c<3", "more.txt:1")]

    def test_constraint_files_are_read_first_as_pip_does(self) -> None:
        files = {"r.txt": "-i https://r.example/\n", "c.txt": "-i https://c.example/\n"}
        result = parse_requirements(
            ["r.txt"], ["c.txt"], read_text=dict_reader(files), environ={}
        )
        assert result.index_url == "https://r.example/"

    def test_options_in_included_files_apply(self) -> None:
        result = parse("-c c.txt\n", others={"c.txt": "--pre\n--no-binary foo\n"})
        assert result.pre is True
        assert result.format_control.no_binary == {"foo"}

    def test_the_same_file_twice_is_not_a_cycle(self) -> None:
        others = {"a.txt": "-r common.txt\n", "common.txt": "x\n"}
        result = parse("-r a.txt\n-r common.txt\n", others=others)
        assert [s for _, s in reqs(result)] == ["common.txt:1", "common.txt:1"]

    def test_self_include(self) -> None:
        err = fails("a\n-r ./r.txt\n")
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert err.reason == "r.txt recursively includes itself (r.txt -> r.txt)"

    def test_cycle_through_parent_directory(self) -> None:
        files = {"d/a.txt": "-r ../d/b.txt\n", "d/b.txt": "-c a.txt\n"}
        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(["d/a.txt"], read_text=dict_reader(files), environ={})
        assert (info.value.path, info.value.lineno) == ("d/b.txt", 1)
        assert "d/a.txt recursively includes itself" in info.value.reason

    def test_runaway_nesting_is_cut_off(self) -> None:
        # Distinct names, so no cycle is seen (as with a directory symlink loop).
        files = {f"f{i}.txt": f"-r f{i + 1}.txt\n" for i in range(150)}
        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(["f0.txt"], read_text=dict_reader(files), environ={})
        assert (info.value.path, info.value.lineno) == ("f99.txt", 1)
        assert info.value.reason == "f100.txt: includes nested more than 100 deep"

    def test_errors_name_the_nested_file(self) -> None:
        err = fails("ok\n-r sub/b.txt\n", others={"sub/b.txt": "fine\n\n--frob\n"})
        assert (err.path, err.lineno) == ("sub/b.txt", 3)


class TestUnreadableFiles:
    def test_top_level(self) -> None:
        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(["missing.txt"], read_text=dict_reader({}), environ={})
        assert (info.value.path, info.value.lineno) == ("missing.txt", None)
        assert info.value.reason == "cannot read: No such file or directory"

    def test_nested_names_the_including_line(self) -> None:
        err = fails("a\n-c sub/missing.txt\n")
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert err.reason == "cannot read sub/missing.txt: No such file or directory"

    def test_undecodable_file(self) -> None:
        def read(path: str) -> str:
            return b"\xff".decode("utf-8")

        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(["bin.txt"], read_text=read, environ={})
        assert info.value.reason.startswith("cannot read: ")

    def test_nul_byte_in_an_included_name(self, tmp_path: Path) -> None:
        # Found by the property tests: open() raises ValueError, not OSError.
        main = tmp_path / "r.txt"
        main.write_text("-r a\x00b.txt\n")
        with pytest.raises(RequirementsFileError) as info:
            parse_requirements(
                [str(main)], read_text=lambda p: Path(p).read_text(), environ={}
            )
        assert (info.value.path, info.value.lineno) == (str(main), 1)
        assert info.value.reason.endswith(": embedded null byte")


class TestRequirementLines:
    def test_markers_and_extras_are_kept(self) -> None:
        (only,) = parse(
            'Foo_Bar[Extra1, extra2] >= 1.0 ; sys_platform == "linux"\n'
        ).requirements
        req = only.requirement
        assert req.name == "Foo_Bar"
        assert req.extras == {"Extra1", "extra2"}
        assert str(req.specifier) == ">=1.0"
        assert req.marker is not None
        assert str(req.marker) == 'sys_platform == "linux"'
        assert req.url is None

    def test_marker_without_space(self) -> None:
        (only,) = parse("foo;python_version<'3.12'\n").requirements
        assert str(only.requirement.marker) == 'python_version < "3.12"'

    def test_malformed_requirement_names_file_line_and_reason(self) -> None:
        err = fails("ok\nfoo[bar\n")
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert err.reason.startswith("invalid requirement 'foo[bar': Expected matching")
        assert "\n" not in err.reason

    def test_broken_direct_url_is_reported_as_invalid(self) -> None:
        reason = fails("foo @ https://files.example/foo.whl ; bogus\n").reason
        assert reason.startswith("invalid requirement 'foo @ https://files.example")

    def test_single_equals_hint(self) -> None:
        assert "did you mean ==?" in fails("foo=1.0\n").reason

    @pytest.mark.parametrize(
        ("line", "kind", "name"),
        [
            ("foo @ https://files.example/foo-1.0.tar.gz", "archive", "foo"),
            ("foo[x] @ file://{root}/foo-1.0-py3-none-any.whl", "archive", "foo"),
            ("https://files.example/foo-1.0-py3-none-any.whl", "archive", None),
            ("http://files.example/foo.zip ; python_version > '3'", "archive", None),
            ("git+https://github.example/o/foo.git@v1#egg=foo", "vcs", "foo"),
            ("foo @ git+ssh://git@github.example/o/foo.git", "vcs", "foo"),
            ("./pkg", "directory", None),
            ("pkg/", "directory", None),
            (".", "directory", None),
            ("./pkg[extra]", "directory", None),
            ("foo @ ./pkg", "directory", "foo"),
            ("foo-1.0-py3-none-any.whl", "archive", None),
            ("dist/foo-1.0.zip[extra]", "archive", None),
        ],
    )
    def test_direct_references(
        self, tmp_path: Path, line: str, kind: str, name: str | None
    ) -> None:
        (tmp_path / "pkg").mkdir()
        (tmp_path / "dist").mkdir()
        for archive in ("foo-1.0-py3-none-any.whl", "dist/foo-1.0.zip"):
            (tmp_path / archive).write_bytes(b"")
        line = line.replace("{root}", str(tmp_path))
        result = parse(f"ok\n{line}\n", cwd=tmp_path)
        assert reqs(result) == [("ok", "r.txt:1")]
        (direct,) = result.directs
        assert (direct.kind.value, direct.name, direct.source) == (
            kind,
            name,
            "r.txt:2",
        )

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            ("hg+https://hg.example/foo", "only git repositories are supported"),
            ("svn://svn.example/foo/trunk", "only git repositories are supported"),
            ("s3://bucket/foo-1.0.tar.gz", "URL scheme 's3' is not supported"),
            ("./missing", "no such file or folder"),
            ("/abs/missing/pkg", "no such file or folder"),
        ],
    )
    def test_unusable_direct_references(
        self, tmp_path: Path, line: str, reason: str
    ) -> None:
        err = fails(f"ok\n{line}\n", cwd=tmp_path)
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert reason in err.reason

    def test_direct_references_need_a_place(self) -> None:
        """A reader given no folder to place paths in refuses every kind."""
        err = fails("https://files.example/foo-1.0-py3-none-any.whl\n")
        assert err.reason.startswith("a direct reference is not allowed here")

    def test_a_constraint_cannot_be_a_direct_reference(self, tmp_path: Path) -> None:
        err = parse_fails_as_constraint(
            "foo @ https://files.example/foo-1.0.tar.gz\n", tmp_path
        )
        assert err.reason.startswith("a constraint cannot be a direct reference")

    @pytest.mark.parametrize(
        "line", ["-e ./pkg", "--editable ./pkg", "--editable=./pkg"]
    )
    def test_editable(self, tmp_path: Path, line: str) -> None:
        (tmp_path / "pkg").mkdir()
        (direct,) = parse(line, cwd=tmp_path).directs
        assert direct.editable
        assert direct.path == tmp_path / "pkg"

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            (
                "-e git+https://g.example/o/p#egg=p",
                "only a local folder can be editable",
            ),
            ("-e foo", "-e needs a local folder"),
            ("-e ./pkg --pre", "option -e must be alone on its line"),
        ],
    )
    def test_editable_misuse(self, tmp_path: Path, line: str, reason: str) -> None:
        (tmp_path / "pkg").mkdir()
        assert reason in fails(line, cwd=tmp_path).reason

    @pytest.mark.parametrize(
        ("line", "name"),
        [
            ("foo==1.0 --hash=sha256:" + "a" * 64, "--hash"),
            ("foo==1.0 --hash sha256:abc --hash sha256:def", "--hash"),
            ("foo -C key=value", "--config-settings"),
            ("foo --config-settings=key=value", "--config-settings"),
            ("--hash=sha256:abc", "--hash"),
        ],
    )
    def test_per_requirement_options(self, line: str, name: str) -> None:
        err = fails(f"\n{line}\n")
        assert (err.path, err.lineno) == ("r.txt", 2)
        assert err.reason == f"per-requirement options are not supported yet: {name}"

    def test_hash_on_continuation_line(self) -> None:
        err = fails("foo==1.0 \\\n    --hash=sha256:abc\n")
        assert err.lineno == 1
        assert err.reason.startswith("per-requirement options")


class TestRedaction:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("https://user:pw@h.example/x", "https://****@h.example/x"),
            ("https://token@h.example/x", "https://****@h.example/x"),
            ("https://u:p@ss@h.example/a@b", "https://****@h.example/a@b"),
            ("git+ssh://git@g.example/o/p.git", "git+ssh://****@g.example/o/p.git"),
            ("a http://u:p@x/ b https://v:q@y/", "a http://****@x/ b https://****@y/"),
            ("https://h.example/path@v1", "https://h.example/path@v1"),
            ("foo @ https://h.example/x", "foo @ https://h.example/x"),
            ("no url here", "no url here"),
        ],
    )
    def test_redact_url(self, text: str, expected: str) -> None:
        assert redact_url(text) == expected

    @pytest.mark.parametrize(
        "line",
        [
            "foo @ https://user:s3cret@files.example/foo-1.0.whl",
            "git+https://user:s3cret@g.example/o/foo.git#egg=foo",
            "-e git+https://user:s3cret@g.example/o/foo.git#egg=foo",
            "foo @ https://${TOKEN}@files.example/foo.whl",
            "https://user:s3cret@files.example/foo==1",
        ],
    )
    def test_messages_never_carry_credentials(self, line: str) -> None:
        err = fails(f"{line}\n", environ={"TOKEN": "user:s3cret"})
        assert "s3cret" not in str(err)
        assert "****@" in str(err)

    def test_include_from_url(self) -> None:
        err = fails("-r https://user:s3cret@h.example/r.txt\n")
        assert err.reason == (
            "requirements files at URLs are not supported yet: "
            "https://****@h.example/r.txt"
        )


class TestFormatControl:
    @pytest.mark.parametrize(
        ("lines", "only", "no"),
        [
            (["--only-binary :all:"], {":all:"}, set()),
            (["--no-binary :all:", "--only-binary :all:"], {":all:"}, set()),
            (["--no-binary foo,bar", "--only-binary :all:"], {":all:"}, set()),
            (["--only-binary :all:", "--no-binary foo"], {":all:"}, {"foo"}),
            (
                ["--only-binary Foo_Bar,baz", "--no-binary foo-bar"],
                {"baz"},
                {"foo-bar"},
            ),
            (["--only-binary foo", "--only-binary :none:"], set(), set()),
            (["--no-binary foo", "--only-binary :none:"], set(), {"foo"}),
            (["--only-binary :all:,:none:,foo"], {"foo"}, set()),
            (["--only-binary foo,:all:"], {":all:"}, set()),
            (["--no-binary foo", "--only-binary :all:,bar"], {":all:"}, set()),
            (["--only-binary :none:,foo"], {"foo"}, set()),
            (["--no-binary=a", "--only-binary=b", "--no-binary=:none:"], {"b"}, set()),
        ],
    )
    def test_mutual_excludes(
        self, lines: list[str], only: AbstractSet[str], no: AbstractSet[str]
    ) -> None:
        control = parse("\n".join(lines)).format_control
        assert (control.only_binary, control.no_binary) == (only, no)
        pip_fc = pytest.importorskip("pip._internal.models.format_control")
        theirs = pip_fc.FormatControl()
        for line in lines:
            option, value = line.replace("=", " ").split()
            target, other = (
                (theirs.only_binary, theirs.no_binary)
                if option == "--only-binary"
                else (theirs.no_binary, theirs.only_binary)
            )
            theirs.handle_mutual_excludes(value, target, other)
        assert (theirs.only_binary, theirs.no_binary) == (only, no)

    def test_value_starting_with_dash(self) -> None:
        assert "requires 1 argument" in fails("--no-binary -foo\n").reason

    @pytest.mark.parametrize(
        ("only", "no", "name", "wheel", "sdist"),
        [
            (set(), set(), "foo", True, True),
            ({":all:"}, set(), "foo", True, False),
            (set(), {":all:"}, "foo", False, True),
            ({":all:"}, {"foo"}, "foo", False, True),
            ({"foo"}, {":all:"}, "foo", True, False),
            ({":all:"}, {"foo"}, "bar", True, False),
            ({"foo-bar"}, set(), "Foo_Bar", True, False),
            (set(), {"foo-bar"}, "FOO.bar", False, True),
        ],
    )
    def test_allows(
        self, only: set[str], no: set[str], name: str, wheel: bool, sdist: bool
    ) -> None:
        control = FormatControl(only_binary=frozenset(only), no_binary=frozenset(no))
        assert (control.allows_wheel(name), control.allows_sdist(name)) == (
            wheel,
            sdist,
        )
        pip_fc = pytest.importorskip("pip._internal.models.format_control")
        theirs = pip_fc.FormatControl(set(no), set(only))
        allowed = theirs.get_allowed_formats(canonicalize_name(name))
        assert ("binary" in allowed, "source" in allowed) == (wheel, sdist)
