"""An all-ASCII JSON page in UTF-8 is read from its bytes, never decoded into a copy
(issue 10: decoding the pages of a big lock cost more than grouping them). The bytes
must read exactly as the decoded text does: the same compact page and records, or
the same error. ``charset=us-ascii`` takes the decoding path for the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockgen.core.compact_page import CompactPage
from lockgen.core.errors import IndexPageError
from lockgen.core.models import DistFile
from lockgen.core.simple_api import compact_project_page, parse_project_page

JSON = "application/vnd.pypi.simple.v1+json"
URL = "https://example.invalid/simple/a/"
INDEX = "https://example.invalid/simple/"

_ENTRY = st.fixed_dictionaries(
    {
        "filename": st.sampled_from(
            ["a-1.0.tar.gz", "a-1.0-py3-none-any.whl", "a-2.0.zip", "a.exe", 7]
        ),
        "url": st.sampled_from(["../a.tgz", "https://example.invalid/a", ""]),
    },
    optional={
        "hashes": st.sampled_from([{}, {"sha256": "ab" * 32}, []]),
        "yanked": st.sampled_from([True, "r\u00e9ason", None]),
    },
)
_PAGES = st.one_of(
    st.lists(_ENTRY, max_size=5).map(
        lambda files: json.dumps({"meta": {"api-version": "1.1"}, "files": files})
    ),
    st.text(st.characters(max_codepoint=127), max_size=40),
).map(str.encode)


def _outcome(parse: Callable[..., object], content: bytes, content_type: str) -> object:
    """What reading ``content`` gives: its compact form or records, or its error."""
    try:
        result = parse(content, content_type, URL, index_url=INDEX)
    except IndexPageError as exc:
        return ("error", str(exc))
    if isinstance(result, CompactPage):
        return (dict(result.spans), result.blob)
    assert isinstance(result, list)
    return [repr(d) for d in result if isinstance(d, DistFile)]


@settings(max_examples=300, deadline=None)
@given(_PAGES)
@example(b'\x00\x00{"files": []}')
@example(b'{"files": []\x00}')
@example(b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "a\\u00e9"}]}')
@example(b"  ")
def test_ascii_bytes_read_as_the_decoded_text_does(content: bytes) -> None:
    assert content.isascii()
    for parse in (compact_project_page, parse_project_page):
        as_bytes = _outcome(parse, content, JSON)
        decoded = _outcome(parse, content, f"{JSON}; charset=us-ascii")
        assert as_bytes == decoded
