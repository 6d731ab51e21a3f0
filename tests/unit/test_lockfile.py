"""The lock writer: what goes into pylock.toml, from plain pins (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import tomli
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockgen.core.environment import make_target
from lockgen.core.models import CoreMetadata, DistFile, MetadataSource
from lockgen.lockfile.selections import Selections
from lockgen.lockfile.write import dumps, lock_tables, render
from lockgen.resolver.resolve import Pin

INDEX = "https://example.invalid/simple/"
TARGET = make_target("3.11", "linux_x86_64")


def _file(
    filename: str, *, sha256: str | None = "a" * 64, url: str | None = None
) -> DistFile:
    return DistFile(
        filename=filename,
        url=url or f"https://example.invalid/files/{filename}",
        index=INDEX,
        sha256=sha256,
        size=None if sha256 is None else 10,
        upload_time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def _pin(
    name: str,
    version: str,
    files: tuple[DistFile, ...],
    deps: tuple[str, ...] = (),
    artifact_size: int | None = None,
) -> Pin:
    return Pin(
        name=canonicalize_name(name),
        version=Version(version),
        files=files,
        metadata=CoreMetadata(
            name=canonicalize_name(name),
            version=Version(version),
            requires_dist=tuple(Requirement(d) for d in deps),
            requires_python=SpecifierSet(">=3.8"),
            source=MetadataSource.RANGE,
            sha256="b" * 64,
            filename=files[0].filename,
            artifact_size=artifact_size,
        ),
        dependencies=tuple(canonicalize_name(d) for d in deps),
    )


def _never(dist: DistFile) -> tuple[str, int]:
    raise AssertionError(f"{dist.filename} has a hash already")


def test_lock_fields() -> None:
    pins = [
        _pin(
            "a", "1.0", (_file("a-1.0-py3-none-any.whl"), _file("a-1.0.tar.gz")), ("b",)
        ),
        _pin("b", "2.0", (_file("b-2.0-py3-none-any.whl"),)),
    ]
    data = tomli.loads(render(lock_tables(pins, TARGET, _never)))
    Pylock.from_dict(data)
    assert data["lock-version"] == "1.0" and data["created-by"] == "lockgen"
    assert data["requires-python"] == "==3.11.*"
    assert data["extras"] == data["dependency-groups"] == data["default-groups"] == []
    a = data["packages"][0]
    assert a["name"] == "a" and a["version"] == "1.0" and a["index"] == INDEX
    assert a["requires-python"] == ">=3.8"
    assert a["dependencies"] == [{"name": "b"}]
    assert a["sdist"]["url"].endswith("a-1.0.tar.gz")
    assert "name" not in a["wheels"][0]  # the URL's basename already says it
    assert a["wheels"][0]["upload-time"] == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert a["tool"]["lockgen"] == {
        "metadata-file": "a-1.0-py3-none-any.whl",
        "metadata-sha256": "b" * 64,
        "requires-dist": ["b"],
    }


def test_name_is_written_when_url_basename_differs() -> None:
    wheel = _file(
        "c-1.0+local-py3-none-any.whl",
        url="https://example.invalid/f/c-1.0%2Blocal-py3-none-any.whl",
    )
    data = tomli.loads(
        render(lock_tables([_pin("c", "1.0+local", (wheel,))], TARGET, _never))
    )
    assert data["packages"][0]["wheels"][0]["name"] == "c-1.0+local-py3-none-any.whl"


def test_missing_hashes_are_looked_up_once_per_file() -> None:
    asked: list[str] = []

    def sha256_of(dist: DistFile) -> tuple[str, int]:
        asked.append(dist.filename)
        return ("c" * 64, 99)

    files = (_file("d-1.0-py3-none-any.whl", sha256=None), _file("d-1.0.tar.gz"))
    data = tomli.loads(
        render(lock_tables([_pin("d", "1.0", files)], TARGET, sha256_of))
    )
    assert asked == ["d-1.0-py3-none-any.whl"]
    wheel = data["packages"][0]["wheels"][0]
    assert wheel["hashes"] == {"sha256": "c" * 64} and wheel["size"] == 99


def test_same_pins_give_same_text() -> None:
    pins = [_pin("a", "1.0", (_file("a-1.0-py3-none-any.whl"),))]
    first = render(lock_tables(pins, TARGET, _never))
    assert render(lock_tables(pins, TARGET, _never)) == first


def test_size_is_written_only_when_known_for_free() -> None:
    """No listed size: the metadata file's size (learnt by reading it) is written, the
    other files get none, and nothing is looked up for them."""
    files = tuple(
        replace(_file(name), size=None)
        for name in (
            "e-1.0-py3-none-any.whl",
            "e-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "e-1.0.tar.gz",
        )
    )
    data = tomli.loads(
        render(
            lock_tables([_pin("e", "1.0", files, artifact_size=1234)], TARGET, _never)
        )
    )
    Pylock.from_dict(data)
    package = data["packages"][0]
    sizes = {w["url"].rsplit("/", 1)[1]: w.get("size") for w in package["wheels"]}
    assert sizes == {
        "e-1.0-py3-none-any.whl": 1234,
        "e-1.0-cp311-cp311-manylinux_2_17_x86_64.whl": None,
    }
    assert "size" not in package["sdist"]
    assert "metadata-source" not in package["tool"]["lockgen"]


def test_listed_size_wins_over_a_learnt_one() -> None:
    files = (_file("f-1.0-py3-none-any.whl"),)  # listed with size 10
    data = tomli.loads(
        render(
            lock_tables([_pin("f", "1.0", files, artifact_size=999)], TARGET, _never)
        )
    )
    assert data["packages"][0]["wheels"][0]["size"] == 10


def test_known_hash_without_size_is_written_without_size() -> None:
    """A previous lock's sha256 may come without a size (PEP 751 makes it optional)."""
    files = (_file("g-1.0-py3-none-any.whl", sha256=None),)
    data = tomli.loads(
        render(
            lock_tables([_pin("g", "1.0", files)], TARGET, lambda d: ("d" * 64, None))
        )
    )
    wheel = data["packages"][0]["wheels"][0]
    assert wheel["hashes"] == {"sha256": "d" * 64} and "size" not in wheel


def test_control_characters_from_an_index_are_escaped_in_the_text() -> None:
    url = "https://example.invalid/files/\x9b2J\x1b]0;t\x07/a-1.0-py3-none-any.whl"
    pin = _pin("a", "1.0", (_file("a-1.0-py3-none-any.whl", url=url),))
    text = render(lock_tables([pin], TARGET, _never))
    assert not {c for c in text if c not in "\t\n" and ord(c) < 0x20}
    assert not {c for c in text if 0x7F <= ord(c) < 0xA0}
    assert "\\u009b2J\\u001b]0;t\\u0007" in text
    assert tomli.loads(text)["packages"][0]["wheels"][0]["url"] == url


_NAMES = st.sampled_from(["a", "b-c", "Zed_lib"])
_FILES = st.builds(
    lambda suffix, hashed, size, uploaded, index, url, yanked: DistFile(
        filename=f"a-1.0{suffix}",
        url=url.format(f"a-1.0{suffix}"),
        index=index,
        sha256="c" * 64 if hashed else None,
        size=size,
        upload_time=datetime(2025, 1, 2, tzinfo=UTC) if uploaded else None,
        yanked=yanked,
    ),
    st.sampled_from(["-py3-none-any.whl", "-cp311-cp311-win_amd64.whl", ".tar.gz"]),
    st.booleans(),
    st.sampled_from([None, 0, 123]),
    st.booleans(),
    st.sampled_from([INDEX, ""]),
    st.sampled_from(
        [
            "https://example.invalid/f/{}",
            "https://example.invalid/f/renamed.whl",
            "https://example.invalid/f/{}#sha256=" + "d" * 64,
            "file:///srv/wheels/{}",
        ]
    ),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    files=st.lists(_FILES, min_size=1, max_size=4, unique_by=lambda d: d.filename),
    deps=st.lists(_NAMES, max_size=3, unique=True),
    requires_python=st.sampled_from([None, ">=3.8", ""]),
    artifact_size=st.sampled_from([None, 77]),
    tool=st.sampled_from([None, {}, {"inputs": "x", "body": ""}]),
    selections=st.sampled_from(
        [
            None,
            Selections(
                extras=("fast",),
                groups=("dev", "test"),
                default_groups=("dev",),
                markers={
                    NormalizedName(
                        "a"
                    ): "'dev' in dependency_groups or 'fast' in extras"
                },
            ),
            Selections(
                groups=("docs",),
                markers={NormalizedName("b"): "'docs' in dependency_groups"},
            ),
        ]
    ),
)
def test_the_tables_are_what_packagings_model_writes(
    files: list[DistFile],
    deps: list[str],
    requires_python: str | None,
    artifact_size: int | None,
    tool: dict[str, str] | None,
    selections: Selections | None,
) -> None:
    """lock_tables() builds the tables straight from the pins; packaging's model of
    the same lock must read them and write the same text, key for key."""
    pin = _pin("a", "1.0", tuple(files), tuple(deps), artifact_size=artifact_size)
    metadata = replace(
        pin.metadata,
        requires_python=None
        if requires_python is None
        else SpecifierSet(requires_python),
    )
    pin = replace(pin, metadata=metadata)
    tables = lock_tables(
        [pin], TARGET, lambda d: ("e" * 64, 5), tool=tool, selections=selections
    )
    assert render(tables) == dumps(Pylock.from_dict(tables))
