"""METADATA is parsed from its headers only (:func:`_headers` cuts the long
description off first): every field packaging reads from the headers, and which
ones it could not read, must be what parsing the whole file gives."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.metadata import parse_email

from lockgen.core.wheel_metadata import _headers

_LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
_HEADER = st.tuples(
    st.sampled_from(
        ["Name", "Version", "Requires-Dist", "Requires-Python", "Summary", "Dynamic"]
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12),
    st.sampled_from(["", " continued", "\tmore"]),
)


@st.composite
def _messages(draw: st.DrawFn) -> bytes:
    parts = []
    for name, value, continuation in draw(st.lists(_HEADER, max_size=6)):
        parts.append(f"{name}: {value}{draw(_LINE_ENDS)}")
        if continuation:
            parts.append(f"{continuation}{draw(_LINE_ENDS)}")
    parts.append(draw(st.sampled_from(["", "\n", "\r\n", "\r", "not a header\n"])))
    body = draw(st.lists(st.sampled_from(["Name: x", "", "text", "Version: 9"])))
    parts.extend(line + draw(_LINE_ENDS) for line in body)
    return "".join(parts).encode("utf-8", "surrogatepass")


def _fields(data: bytes) -> tuple[object, object]:
    raw, unparsed = parse_email(data)
    raw.pop("description", None)  # the body: what the cut leaves out
    unparsed.pop("description", None)
    return raw, unparsed


@settings(max_examples=400, deadline=None)
@given(_messages())
@example(b"Name: a\r\n\r\nVersion: 2\n\nbody")
@example(b"Name: a\n\r\nVersion: 2\n\nbody")
@example(b"\n\nName: a\n")
@example(b"Name: a\r\rVersion: 2\r\n")
def test_the_headers_parse_as_the_whole_file_does(data: bytes) -> None:
    assert _fields(_headers(data)) == _fields(data)
    assert len(_headers(data)) <= len(data)
