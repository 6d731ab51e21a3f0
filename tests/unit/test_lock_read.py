"""The one lock reader: TOML, then PEP 751 through packaging, then lockgen's tables.

What ``lock`` and ``hydrate`` take from an existing lock is decided here, once: text
that is not TOML is an error naming the file; TOML that is not PEP 751 reads (``--check``
still names the first difference) but has no ``lock``, and only a valid lock gives
preferences, known hashes and metadata records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.pylock import is_valid_pylock_path
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from lockgen.core.environment import make_target
from lockgen.core.errors import LockFileError
from lockgen.core.models import CoreMetadata, DistFile, MetadataRecord, MetadataSource
from lockgen.lockfile.read import is_lock_file_name, metadata_record, read_lock
from lockgen.lockfile.relock import known_hashes, pinned_versions, seal, stale_reason
from lockgen.lockfile.write import lock_tables, render
from lockgen.resolver.resolve import Pin

SHA = "a" * 64
INPUTS = "sha256:" + "c" * 64
FILES = "https://example.invalid/files"


def _pin(name: str, *files: DistFile) -> Pin:
    metadata = CoreMetadata(
        name=canonicalize_name(name),
        version=Version("1.0"),
        requires_dist=(Requirement("dep>=1"),),
        requires_python=SpecifierSet(">=3.8"),
        source=MetadataSource.PEP658,
        sha256="b" * 64,
        filename=files[0].filename,
    )
    return Pin(
        name=canonicalize_name(name),
        version=Version("1.0"),
        files=files,
        metadata=metadata,
        dependencies=(),
    )


def _dist(filename: str, url: str, size: int | None = 10) -> DistFile:
    return DistFile(
        filename=filename,
        url=url,
        index="https://example.invalid/simple/",
        sha256=SHA,
        size=size,
        upload_time=datetime(2025, 1, 2, tzinfo=UTC),
    )


def _written() -> str:
    """A lock as ``lockgen lock`` writes it: an index wheel and sdist, a local file."""
    app = _pin(
        "app",
        _dist("app-1.0-py3-none-any.whl", f"{FILES}/app-1.0-py3-none-any.whl"),
        _dist("app-1.0.tar.gz", f"{FILES}/app-1.0.tar.gz", size=None),
    )
    lib = _pin(
        "lib",
        _dist("lib-1.0-py3-none-any.whl", "file:///srv/lib-1.0-py3-none-any.whl"),
    )
    target = make_target("3.11", "linux_x86_64")
    tables = lock_tables([app, lib], target, _no_download, tool={"inputs": INPUTS})
    return seal(render(tables).replace(f'inputs = "{INPUTS}"\n', _BODY_AND_INPUTS))


_BODY_AND_INPUTS = f'inputs = "{INPUTS}"\nbody = ""\n'


def _no_download(dist: DistFile) -> tuple[str, int]:
    raise AssertionError(f"{dist.filename} has a sha256")


WRITTEN = _written()


def test_a_written_lock_reads_back_typed() -> None:
    document = read_lock(WRITTEN, "pylock.toml")
    lock = document.validated()
    assert document.inputs == INPUTS
    assert document.body is not None and document.body.startswith("sha256:")
    assert stale_reason(document, INPUTS, "pylock.toml") is None
    assert [p.name for p in lock.packages] == ["app", "lib"]
    assert metadata_record(lock.packages[0]) == MetadataRecord(
        filename="app-1.0-py3-none-any.whl",
        sha256="b" * 64,
        requires_dist=("dep>=1",),
        requires_python=">=3.8",
    )


def test_preferences_and_known_hashes_come_from_the_validated_lock() -> None:
    lock = read_lock(WRITTEN, "pylock.toml").validated()
    assert pinned_versions(lock) == {"app": Version("1.0"), "lib": Version("1.0")}
    # the local file's hash is not reused: it may be replaced under the same name
    assert known_hashes(lock) == {
        f"{FILES}/app-1.0-py3-none-any.whl": (SHA, 10),
        f"{FILES}/app-1.0.tar.gz": (SHA, None),
    }


def test_a_negative_size_or_no_sha256_gives_no_known_hash() -> None:
    text = WRITTEN.replace("size = 10", "size = -1").replace(
        "[packages.sdist.hashes]\nsha256", "[packages.sdist.hashes]\nsha512"
    )
    assert known_hashes(read_lock(text, "pylock.toml").validated()) == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("lock-version = [", "not valid TOML: "),
        ("a = " + "[" * 100_000, "not valid TOML: "),  # a nesting bomb
    ],
    ids=["cut", "nesting-bomb"],
)
def test_text_that_is_not_toml_is_an_error_naming_the_file(
    text: str, reason: str
) -> None:
    with pytest.raises(LockFileError) as caught:
        read_lock(text, "locks/pylock.toml")
    assert str(caught.value).startswith(f"locks/pylock.toml: {reason}")
    assert "\n" not in str(caught.value)


def test_toml_that_is_not_pep751_reads_with_its_reason() -> None:
    head = WRITTEN[: WRITTEN.index("[[packages]]")]
    tail = WRITTEN[WRITTEN.index("[tool.lockgen]") :]
    text = head.replace("created-by", 'packages = "x"\ncreated-by') + tail
    document = read_lock(text, "pylock.toml")
    assert document.lock is None
    assert document.inputs == INPUTS  # --check still compares it with a new lock
    assert document.data["packages"] == "x"
    with pytest.raises(LockFileError) as caught:
        document.validated()
    assert str(caught.value) == (
        "pylock.toml: not a valid PEP 751 lock: "
        "Unexpected type str (expected Sequence) in 'packages'"
    )


@pytest.mark.parametrize(
    "table",
    ['[tool.lockgen]\ninputs = 3\nbody = ""\n', '[tool]\nlockgen = "x"\n'],
    ids=["inputs-number", "lockgen-string"],
)
def test_a_wrong_lockgen_table_reads_as_absent(table: str) -> None:
    text = WRITTEN[: WRITTEN.index("[tool.lockgen]")] + table
    document = read_lock(text, "pylock.toml")
    assert document.validated().packages  # still a lock hydrate can use
    assert document.inputs is None
    assert stale_reason(document, INPUTS, "pylock.toml") == (
        "it records no lockgen input digest"
    )


def test_a_sealed_lock_is_up_to_date_without_parsing_its_toml() -> None:
    """An up-to-date re-lock reads the two digests from lockgen's own closing table
    and trusts the seal: the TOML (70 ms of a 100-package lock) is never parsed."""
    document = read_lock(WRITTEN, "pylock.toml")
    assert document.parsed is None
    assert stale_reason(document, INPUTS, "pylock.toml") is None
    assert document.packages == 2
    assert "data" not in vars(document)  # nothing parsed it
    assert document.data == tomli.loads(WRITTEN)  # and it parses on demand


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("app-1.0.tar.gz", "app-1.1.tar.gz"),
        lambda text: text + "\n",
        lambda text: text.replace("\n[tool.lockgen]\n", "\n[tool.lockgen]\nx = 1\n"),
        lambda text: "# hi\n" + text,
    ],
)
def test_an_edited_lock_is_parsed_and_found_edited(edit: Callable[[str], str]) -> None:
    document = read_lock(edit(WRITTEN), "pylock.toml")
    assert document.parsed is not None
    assert stale_reason(document, INPUTS, "pylock.toml") is not None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(st.characters(blacklist_characters="/\x00"), max_size=30),
        st.from_regex(r"pylock\.[^/\x00]{0,8}\.toml", fullmatch=True),
        st.sampled_from(
            ["pylock.toml", "pylock..toml", "pylock.a.b.toml", "pylock.toml.toml"]
        ),
    )
)
def test_lock_file_names_are_packagings(name: str) -> None:
    assert is_lock_file_name(name) == is_valid_pylock_path(Path("x") / name)
