"""FileGroups: a page's files by version text, each group read once, on demand."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgen.core.compact_page import CompactPage
from lockgen.core.errors import IndexPageError
from lockgen.core.file_groups import FileGroups, version_text
from lockgen.core.models import DistFile
from lockgen.core.simple_json import (
    _groups_read_whole,
    group_entries,
    json_groups,
    parse_json,
)
from lockgen.core.simple_page import Page

PAGE = Page(
    "https://example.invalid/simple/app/", "app page", "https://example.invalid/simple/"
)


def _dist(filename: str, url: str = "") -> DistFile:
    return DistFile(
        filename=filename,
        url=url or f"https://example.invalid/{filename}",
        index=PAGE.index,
    )


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("app-1.0-py3-none-any.whl", "1.0"),
        ("app-1.0-1-py3-none-any.whl", "1.0"),
        ("my_app-2.0rc1.tar.gz", "2.0rc1"),
        ("my-app-2.0.zip", "2.0"),
        ("app-1.0.egg", None),
        ("app.tar.gz", None),
        ("-1.0.tar.gz", None),
        ("app-1.0-py3-any.whl", None),
    ],
)
def test_version_text_is_cut_where_packaging_cuts_it(
    filename: str, text: str | None
) -> None:
    assert version_text(filename) == text


_NAME_PARTS = st.sampled_from(["app", "1.0", "2", "", "py3", "none", "any", "x.y"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_NAME_PARTS, min_size=1, max_size=8),
            st.sampled_from([".whl", ".tar.gz", ".zip", ".egg", ""]),
        ),
        max_size=8,
    )
)
def test_grouping_cuts_each_name_as_version_text_does(
    names: list[tuple[list[str], str]],
) -> None:
    """group_entries inlines version_text's wheel case (per-name calls were most of
    grouping a big page): every name lands in exactly version_text's group."""
    filenames = ["-".join(parts) + suffix for parts, suffix in names]
    raws = [msgspec.Raw(b"{}") for _ in filenames]
    groups = group_entries(zip(filenames, raws, strict=True))
    expected: dict[str, list[int]] = {}
    for i, filename in enumerate(filenames):
        text = version_text(filename)
        if text is not None:
            expected.setdefault(text, []).append(i)
    assert {text: indexes for text, (indexes, _) in groups.items()} == expected
    assert list(groups) == list(expected)  # in the order the page names them


def test_of_groups_in_page_order_and_drops_names_without_a_version() -> None:
    files = [
        _dist("app-1.0.tar.gz"),
        _dist("app-2.0-py3-none-any.whl"),
        _dist("app-1.0-py3-none-any.whl"),
        _dist("app-1.0.egg"),
    ]
    groups = FileGroups.of(files)
    assert groups.texts == ("1.0", "2.0")
    assert groups.group("1.0") == (files[0], files[2])
    assert groups.group("9.9") == ()
    assert list(groups) == [files[0], files[2], files[1]]
    assert not FileGroups.of([])


def test_before_keeps_the_first_file_of_a_name() -> None:
    linked = FileGroups.of([_dist("app-1.0.tar.gz", "file:///mirror/app-1.0.tar.gz")])
    indexed = FileGroups.of(
        [
            _dist("app-1.0.tar.gz"),
            _dist("app-1.0-py3-none-any.whl"),
            _dist("app-2.0.zip"),
        ]
    )
    merged = linked.before(indexed)
    assert merged.texts == ("1.0", "2.0")
    assert [d.url for d in merged.group("1.0")] == [
        "file:///mirror/app-1.0.tar.gz",
        "https://example.invalid/app-1.0-py3-none-any.whl",
    ]


def test_a_group_is_read_once_however_many_threads_ask() -> None:
    reads: list[int] = []
    gate = threading.Barrier(8)

    def reader() -> list[DistFile]:
        reads.append(1)
        return [_dist("app-1.0.tar.gz")]

    groups = FileGroups({"1.0": reader})
    results: list[tuple[DistFile, ...]] = []

    def ask() -> None:
        gate.wait()
        results.append(groups.group("1.0"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1
    assert len(results) == 8 and len(set(results)) == 1


_PAGE_JSON = """{"meta": {"api-version": "1.1"}, "files": [
  {"filename": "app-1.0.tar.gz", "url": "../../files/app-1.0.tar.gz",
   "hashes": {"sha256": "nope"}},
  {"filename": "app-2.0-py3-none-any.whl", "url": "../../files/app-2.0-py3-none-any.whl",
   "hashes": {}},
  {"filename": "app-2.0.tar.gz", "url": "../../files/app-2.0.tar.gz", "hashes": {}}
]}"""


def _lazy(
    text: str, keep: Callable[[Sequence[DistFile]], Iterable[DistFile]] = list
) -> FileGroups:
    return CompactPage.of(json_groups(text, PAGE)).files(PAGE, keep)


def test_the_compact_page_gives_the_records_parse_json_gives() -> None:
    groups = _lazy(_PAGE_JSON)
    assert groups.texts == ("1.0", "2.0")
    parsed = parse_json(_PAGE_JSON.replace('"nope"', "null"), PAGE)
    assert list(groups.group("2.0")) == parsed[1:]


def test_a_broken_entry_is_an_error_only_when_its_version_is_read() -> None:
    groups = _lazy(_PAGE_JSON)
    assert len(groups.group("2.0")) == 2
    with pytest.raises(IndexPageError, match=r"files\[0\]: invalid sha256 'nope'"):
        groups.group("1.0")
    with pytest.raises(IndexPageError):  # every asker gets the same error
        groups.group("1.0")


def test_keep_filters_a_group_only_when_it_is_read() -> None:
    seen: list[str] = []

    def keep(files: Sequence[DistFile]) -> Iterable[DistFile]:
        seen.extend(d.filename for d in files)
        return [d for d in files if d.filename.endswith(".whl")]

    groups = _lazy(_PAGE_JSON, keep)
    assert seen == []
    assert [d.filename for d in groups.group("2.0")] == ["app-2.0-py3-none-any.whl"]
    assert groups.group("2.0") and seen == [
        "app-2.0-py3-none-any.whl",
        "app-2.0.tar.gz",
    ]


@pytest.mark.parametrize("entry", ['"app-1.0.tar.gz"', '{"filename": 7, "url": "x"}'])
def test_an_entry_that_cannot_be_grouped_is_an_error_at_once(entry: str) -> None:
    page = '{"meta": {"api-version": "1.1"}, "files": [' + entry + "]}"
    with pytest.raises(IndexPageError) as lazy:
        json_groups(page, PAGE)
    with pytest.raises(IndexPageError) as eager:
        parse_json(page, PAGE)
    assert str(lazy.value) == str(eager.value)


@pytest.mark.parametrize(
    "spans",
    [
        None,
        {},
        [["1.0", 0]],
        [["1.0", -1, 2]],
        [["1.0", 0, 999]],
        [[1, 0, 1]],
        [["1.0", 0, True]],
    ],
)
def test_spans_from_the_cache_must_lie_inside_the_rows(spans: object) -> None:
    assert CompactPage.checked(spans, b"[[]]") is None


def test_a_corrupt_cached_group_is_the_pages_error() -> None:
    for blob in (
        b"[[",
        b"{}",
        b"[[0]]",
        b"[7]",
        b"[[0],[]]",
        b'[["0"],[{}]]',
        b"[[0],7]",
    ):
        stored = CompactPage.checked([["1.0", 0, len(blob)]], blob)
        assert stored is not None
        with pytest.raises(IndexPageError, match="app page"):
            stored.files(PAGE, list).group("1.0")


_ENTRY = st.fixed_dictionaries(
    {
        "filename": st.sampled_from(
            ["app-1.0.tar.gz", "app-1.0-py3-none-any.whl", "app-2.0.zip", "app.egg", ""]
        ),
        "url": st.sampled_from(["../../f/app.tgz", "https://example.invalid/a"]),
    },
    optional={
        "hashes": st.sampled_from([{}, {"sha256": "ab" * 32}, {"sha256": 1}]),
        "size": st.sampled_from([1, -1, 1.5, None]),
        "yanked": st.sampled_from([True, "why", "\u00e9\ud800"]),
        "junk": st.recursive(
            st.none() | st.booleans() | st.floats(allow_nan=True) | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=3), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ENTRY, max_size=6))
def test_msgspec_and_the_standard_library_cut_a_page_alike(
    entries: list[object],
) -> None:
    """msgspec only finds where entries begin and end; the standard library's way
    (used for what msgspec refuses) must give the same groups of the same entries."""
    page = json.dumps({"meta": {"api-version": "1.1"}, "files": entries})
    fast = {
        text: (indexes, [json.loads(bytes(e)) for e in texts])
        for text, (indexes, texts) in json_groups(page, PAGE).items()
    }
    whole = {
        text: (indexes, [json.loads(bytes(e)) for e in texts])
        for text, (indexes, texts) in _groups_read_whole(page, PAGE).items()
    }
    assert repr(fast) == repr(whole)  # repr: NaN is not equal to itself
