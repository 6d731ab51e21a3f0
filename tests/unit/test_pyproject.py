"""pyproject.toml as a lock's input: what it asks for, tagged by who needs it."""

from __future__ import annotations

import pytest

from lockgen.core.errors import LockgenError
from lockgen.core.pyproject import is_pyproject, read_pyproject

PYPROJECT = """
[project]
name = "Demo_App"
version = "1.0"
dependencies = ["core-dep>=1"]

[project.optional-dependencies]
Fast = ["speedy; os_name != 'nt'"]
all = ["demo-app[fast]", "extra-only"]

[dependency-groups]
test = ["pytest"]
dev = ["ruff", {include-group = "test"}, "demo-app[all]"]
"""


def _tags(text: str = PYPROJECT, **kw: object) -> set[tuple[str | None, str]]:
    project = read_pyproject(text, "pyproject.toml", **kw)  # type: ignore[arg-type]
    return {(r.needed_by, str(r.requirement)) for r in project.requirements}


def test_every_extra_and_group_by_default() -> None:
    project = read_pyproject(PYPROJECT, "pyproject.toml")
    assert project.extras == ("all", "fast")
    assert project.groups == ("dev", "test")
    assert project.default_groups == ("dev",)
    assert _tags() == {
        (None, "core-dep>=1"),
        ("extra:fast", 'speedy; os_name != "nt"'),
        # a requirement on the project itself stands for its extras' requirements
        ("extra:all", 'speedy; os_name != "nt"'),
        ("extra:all", "extra-only"),
        ("group:test", "pytest"),
        ("group:dev", "ruff"),
        ("group:dev", "pytest"),  # include-group
        ("group:dev", 'speedy; os_name != "nt"'),
        ("group:dev", "extra-only"),
    }


def test_named_extras_and_groups_narrow_the_lock() -> None:
    assert _tags(extras=["FAST"], groups=["test"]) == {
        (None, "core-dep>=1"),
        ("extra:fast", 'speedy; os_name != "nt"'),
        ("group:test", "pytest"),
    }
    project = read_pyproject(PYPROJECT, "pyproject.toml", extras=[], groups=["test"])
    assert (project.extras, project.groups, project.default_groups) == (
        (),
        ("test",),
        (),
    )


def test_no_default_groups_leaves_dev_out() -> None:
    project = read_pyproject(PYPROJECT, "pyproject.toml", default_groups=False)
    assert (project.groups, project.default_groups) == (("test",), ())


def test_groups_alone_are_enough() -> None:
    assert _tags('[dependency-groups]\ndocs = ["sphinx"]\n') == {
        ("group:docs", "sphinx")
    }


@pytest.mark.parametrize(
    ("text", "kw", "reason"),
    [
        ("[project\n", {}, "not TOML"),
        (
            "[project]\nname='a'\ndynamic=['dependencies']\n",
            {},
            "dependencies are dynamic",
        ),
        ("[project]\ndependencies = 'a'\n", {}, "not a list of requirement strings"),
        ("[project]\ndependencies = ['a >']\n", {}, "invalid requirement 'a >'"),
        (PYPROJECT, {"extras": ["nope"]}, "no extra named nope (it has: all, fast)"),
        (PYPROJECT, {"groups": ["nope"]}, "no group named nope (it has: dev, test)"),
        (
            "[dependency-groups]\na = [{include-group = 'b'}]\nb = [{include-group = 'a'}]\n",
            {},
            "[dependency-groups] a:",
        ),
        (
            "[project]\nname='a'\ndependencies=['a[x]']\n",
            {},
            "the project has no extra 'x'",
        ),
        ("[project]\nname='a'\ndependencies=['a>1']\n", {}, "may only name extras"),
    ],
)
def test_bad_input_is_one_line(text: str, kw: dict[str, object], reason: str) -> None:
    with pytest.raises(LockgenError) as info:
        read_pyproject(text, "pyproject.toml", **kw)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("pyproject.toml: ") and reason in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pyproject.toml", True),
        ("sub/pyproject.toml", True),
        ("x/pyproject.toml.in", False),
        ("requirements.in", False),
    ],
)
def test_is_pyproject(path: str, expected: bool) -> None:
    assert is_pyproject(path) is expected
