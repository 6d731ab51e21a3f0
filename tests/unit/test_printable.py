"""Control characters in messages are shown as escapes, never sent to the terminal."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from lockgen.core.printable import printable


def test_escape_sequences_are_shown_not_obeyed() -> None:
    text = "app\x1b[2J\x1b]0;title\x07\r\b\x9b\x7f\x00\tend"
    assert printable(text) == (r"app\x1b[2J\x1b]0;title\x07\x0d\x08\x9b\x7f\x00\x09end")


def test_newlines_and_printable_text_are_kept() -> None:
    text = "1 of 2 files failed\n  café-1.0 ✓ \\x1b (a backslash stays)"
    assert printable(text) == text


@given(st.text())
def test_no_control_character_but_newline_survives(text: str) -> None:
    shown = printable(text)
    assert all(c == "\n" or unicodedata.category(c) != "Cc" for c in shown), ascii(
        shown
    )
    assert printable(shown) == shown  # nothing left to escape
