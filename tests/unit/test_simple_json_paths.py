"""The one-pass reader of PEP 691 file entries agrees with the key-by-key checks.

A big page is read in one pass per entry (issue 10: it halved the parse), and
lazily, a version at a time, from its compact form (entries cut out by msgspec, or
by the standard library for what msgspec refuses); anything unusual goes to
``_checked_file``, which names the offending key. This test generates entries where
every key may be missing, of the wrong type or invalid, and asserts that reading a
page, directly or through its compact form as the cache keeps it, gives exactly what
the key-by-key checks alone give: the same record, or the same error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgen.core.compact_page import CompactPage
from lockgen.core.errors import IndexPageError
from lockgen.core.file_groups import FileGroups, version_text
from lockgen.core.json_entries import _checked_file, _Obj
from lockgen.core.simple_json import json_groups, parse_json
from lockgen.core.simple_page import Page

PAGE = Page(
    "https://example.invalid/simple/a/",
    "example.invalid",
    "https://example.invalid/simple/",
)
SHA = "ab" * 32
ODD: st.SearchStrategy[object] = st.sampled_from(
    [None, 0, -1, 1.5, True, False, "", [], {}, "x", "abc"]
)
KEYS = [
    "filename",
    "url",
    "hashes",
    "size",
    "upload-time",
    "requires-python",
    "yanked",
    "core-metadata",
    "dist-info-metadata",
]
METADATA = st.sampled_from([True, False, {}, {"sha256": SHA}, {"sha256": SHA.upper()}])
VALID = st.fixed_dictionaries(
    {
        "filename": st.sampled_from(["a-1.0.tar.gz", "a-1.0-py3-none-any.whl"]),
        "url": st.sampled_from(
            [
                "https://example.invalid/a.tgz",
                "../a.tgz",
                " https://u:p@example.invalid/a ",
                "http://[::1",
            ]
        ),
    },
    optional={
        "hashes": st.sampled_from([{}, {"sha256": SHA}, {"sha256": SHA.upper()}]),
        "size": st.sampled_from([0, 10, 2**40]),
        "upload-time": st.sampled_from(
            [
                "2023-04-05T12:13:14Z",
                "2023-04-05T12:13:14.123456Z",
                "2023-04-05T12:13:14.12Z",
                "2023-04-05T12:13:14.1234567Z",
                "2023-13-05T12:13:14Z",
            ]
        ),
        "requires-python": st.sampled_from(["", ">=3.8", "junk"]),
        "yanked": st.sampled_from([True, False, "", "reason"]),
        "core-metadata": METADATA,
        "dist-info-metadata": METADATA,
    },
)
#: A usual entry with up to two keys made odd (missing values stay missing).
ENTRY = st.tuples(VALID, st.dictionaries(st.sampled_from(KEYS), ODD, max_size=2)).map(
    lambda pair: {**pair[0], **pair[1]}
)


def _through_the_cache(page: str) -> FileGroups:
    """The page's files as a lazy listing, after a round trip through the cache's
    form of it."""
    compact = CompactPage.of(json_groups(page, PAGE))
    stored = CompactPage.checked(compact.span_list(), compact.blob)
    assert stored is not None
    return stored.files(PAGE, list)


def _outcome(read: Any) -> object:
    try:
        return read()
    except IndexPageError as exc:
        return str(exc)


@settings(max_examples=500, deadline=None)
@given(ENTRY)
def test_both_readers_agree(entry: dict[str, Any]) -> None:
    page = json.dumps({"meta": {"api-version": "1.1"}, "files": [entry]})
    fast = _outcome(lambda: parse_json(page, PAGE)[0])
    checked = _outcome(lambda: _checked_file(_Obj(entry, "files[0]", PAGE)))
    assert fast == checked
    lazy = _outcome(lambda: list(_through_the_cache(page)))
    filename = entry.get("filename")
    if isinstance(filename, str) and version_text(filename) is None:
        assert lazy == []  # no version: never a candidate, so never read
    else:
        assert lazy == (checked if isinstance(checked, str) else [checked])


@pytest.mark.parametrize("yanked", ["", "reason", True])
def test_a_yanked_entry_is_yanked_either_way(yanked: object) -> None:
    entry = {
        "filename": "a-1.0.tar.gz",
        "url": "https://example.invalid/a.tgz",
        "yanked": yanked,
    }
    (dist,) = parse_json(
        json.dumps({"meta": {"api-version": "1.0"}, "files": [entry]}), PAGE
    )
    assert dist.yanked
