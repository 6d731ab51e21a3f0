"""Any METADATA, any requirements file: lockgen's own one-line errors or a sound result.

A METADATA file comes from an index (untrusted, like a page), a requirements file
from the user or a repository. Either may hold anything: non-UTF-8 bytes, repeated or
folded headers, markers nested to the parser's limit, unbalanced quotes, NUL bytes in
an included file's name. The parsers answer with ``MetadataError`` or
``UnsupportedError``, and ``RequirementsFileError``, each on one line, or with a
result the resolver can use as it is; never with another exception.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lockgen.core.errors import LockgenError, MetadataError
from lockgen.core.models import MetadataSource
from lockgen.core.requirements import parse_requirements
from lockgen.core.wheel_metadata import (
    MAX_REQUIREMENTS,
    dynamic_reason,
    parse_core_metadata,
)

if TYPE_CHECKING:
    from lockgen.core.requirements import RequirementsInput

#: Files per test: about a second per test in all, most of it spent drawing files.
EXAMPLES = 150

SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

# --- core metadata ------------------------------------------------------------------

FILENAMES = st.sampled_from(
    [
        "demo-1.0-py3-none-any.whl",
        "Demo-1.0-1-py3-none-any.whl",
        "demo-1.0.tar.gz",
        "demo-1.0.zip",
        "demo-1.0.whl",
        "demo.tar.gz",
        "x",
    ]
)
#: Values a hostile METADATA would try in a field lockgen reads.
HOSTILE_VALUES = st.sampled_from(
    [
        "",
        "demo",
        "1.0",
        "1.0.0",
        "1!1.0+local",
        "not a version",
        "a",
        "a[x,y]>=1; extra == 'x'",
        "a; " + "(" * 300 + "python_version > '3'" + ")" * 300,
        "a; python_version ~= 'x'",
        "a @ https://example.invalid/a.whl",
        "a[",
        "a (>=1",
        ">=3.8",
        ">=3.8,<",
        "===",
        "2.2",
        "requires-dist",
        "Requires-Python",
        "\x00",
        "\x1b[31m",
    ]
) | st.text(max_size=16)
FIELDS = st.sampled_from(
    [
        "Metadata-Version",
        "Name",
        "Version",
        "Requires-Dist",
        "Requires-Python",
        "Dynamic",
        "Provides-Extra",
        "Summary",
        "NAME",
        "Requires-Dist ",
        "X-Other",
    ]
)
_HEADER = st.builds(lambda field, value: f"{field}: {value}", FIELDS, HOSTILE_VALUES)
_ODD_LINES = st.sampled_from(
    ["", " folded continuation", "no colon here", ":", "Name:", "\tName: demo"]
)


def _metadata(
    head: list[str],
    extra: list[str],
    newline: str,
    encoding: str,
    body: bytes,
) -> bytes:
    """A realistic header block with ``extra`` lines mixed in, as bytes."""
    text = newline.join([*head, *extra]) + newline + newline
    return (
        text.encode(encoding, "surrogateescape" if encoding == "utf-8" else "replace")
        + body
    )


METADATA_FILES = st.builds(
    _metadata,
    st.permutations(
        ["Metadata-Version: 2.2", "Name: demo", "Version: 1.0", "Requires-Dist: a>=1"]
    ).flatmap(lambda lines: st.integers(0, len(lines)).map(lambda n: lines[n:])),
    st.lists(_HEADER | _ODD_LINES, max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    st.sampled_from([b"", b"A description.\n", b"\xff\xfe\x00", b"Name: other\n"]),
) | st.binary(max_size=200)


def check_metadata(data: bytes, filename: str) -> None:
    """parse_core_metadata and the sdist check: lockgen's errors or sound answers."""
    try:
        parsed = parse_core_metadata(data, filename, MetadataSource.RANGE)
    except MetadataError as exc:
        assert "\n" not in str(exc), str(exc)
        event("refused")
    else:
        event("parsed")
        name = filename.split("-", 1)[0]
        assert parsed.name == canonicalize_name(name)
        assert all(isinstance(r, Requirement) for r in parsed.requires_dist)
        assert len(parsed.requires_dist) <= MAX_REQUIREMENTS
        assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    if filename.endswith((".tar.gz", ".zip")):
        try:
            reason = dynamic_reason(data, filename)
        except MetadataError as exc:
            assert "\n" not in str(exc), str(exc)
        else:
            assert reason is None or "\n" not in reason, reason


@SETTINGS
@given(data=METADATA_FILES, filename=FILENAMES)
@example(data=b"Name: demo\nVersion: 1.0\n" * 2, filename="demo-1.0.tar.gz")
@example(
    data=b"Name: demo\nVersion: 1.0\n" + b"Requires-Dist: a\n" * (MAX_REQUIREMENTS + 1),
    filename="demo-1.0-py3-none-any.whl",
)
def test_core_metadata_parses_soundly_or_refuses(data: bytes, filename: str) -> None:
    check_metadata(data, filename)


# --- requirements files -------------------------------------------------------------

_REQUIREMENT_LINES = st.sampled_from(
    [
        "demo",
        "demo==1.0",
        "Demo[x]>=1; python_version < '3'",
        "demo ; (((python_version > '3')))",
        "demo; " + "(" * 300 + "python_version > '3'" + ")" * 300,
        "./local/path",
        "local/demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        "demo @ https://example.invalid/demo-1.0.tar.gz",
        "demo @ file:///tmp/demo",
        "git+https://example.invalid/demo.git",
        "https://example.invalid/demo-1.0.tar.gz",
        "demo=1.0",
        "demo[",
        "${DEMO_REQ}",
        "\ufeffdemo",
    ]
)
_OPTIONS = ["-r", "-c", "--requirement", "--constraint=", "-i", "--index-url",
            "--extra-index-url", "-f", "--find-links", "--no-binary", "--only-binary",
            "--pre", "--no-index", "-e", "--hash", "-C", "--ind", "--no-", "-x", "-",
            "--", "--pre=1"]  # fmt: skip
_OPTION_VALUES = ["", "other.txt", "requirements.txt", "missing.txt", "a\x00b.txt",
                  "../x.txt", "/", ".", "http://127.0.0.1:1/simple/",
                  "http://[::1/simple/", "sha256:" + "a" * 64, ":all:", ":none:",
                  "demo,:all:,x", "'unbalanced", '"a b"', "${DEMO_PATH}",
                  "-r"]  # fmt: skip
_OPTION_LINES = st.builds(
    lambda option, value: f"{option} {value}".strip(),
    st.sampled_from(_OPTIONS),
    st.sampled_from(_OPTION_VALUES),
)
_LINE_ENDS = st.sampled_from(["", " # comment", " \\", "\\", " #", "\t"])
LINES = st.builds(
    lambda line, end: line + end,
    _REQUIREMENT_LINES | _OPTION_LINES | st.text(max_size=16),
    _LINE_ENDS,
)
FILES = st.lists(LINES, max_size=6).map("\n".join)
ENVIRON = st.dictionaries(
    st.sampled_from(["DEMO_REQ", "DEMO_PATH"]),
    st.sampled_from(["demo>=1", "other.txt", "", "-r other.txt", "${DEMO_REQ}"]),
)


def check_requirements(
    folder: Path, main: str, other: str, environ: dict[str, str]
) -> RequirementsInput | None:
    """Parse ``main`` (which may include ``other``) from files on disk, as the CLI
    reads them; the result, or ``None`` for a one-line RequirementsFileError."""
    for name, text in (("requirements.txt", main), ("other.txt", other)):
        (folder / name).write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        return parse_requirements(
            [str(folder / "requirements.txt")],
            read_text=lambda path: Path(path).read_text(encoding="utf-8"),
            environ=environ,
        )
    except LockgenError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


@SETTINGS
@given(main=FILES, other=FILES, environ=ENVIRON)
@example(main="-r a\x00b.txt", other="", environ={})
def test_requirements_files_parse_soundly_or_refuse(
    main: str, other: str, environ: dict[str, str], tmp_path: Path
) -> None:
    parsed = check_requirements(tmp_path, main, other, environ)
    event("refused" if parsed is None else "parsed")
    if parsed is not None:
        for found in (*parsed.requirements, *parsed.constraints):
            assert isinstance(found.requirement, Requirement)
            assert found.requirement.url is None  # direct references are refused
