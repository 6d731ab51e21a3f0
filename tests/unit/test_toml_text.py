"""lockgen's TOML writer writes exactly what tomli-w writes
(:mod:`lockgen.lockfile.toml_text`): locks written before and after it are the same
bytes, so ``--check`` and the no-op keep comparing like with like."""

from __future__ import annotations

import datetime
from typing import Any

import tomli
import tomli_w
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lockgen.lockfile.toml_text import dumps

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
) | st.sampled_from(["", "a", "a-b_C9", "x y", "\t", "\x7f", "\x9b[2J", '"\\'])
_LEAVES = (
    _TEXT
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.datetimes(timezones=st.just(datetime.UTC))
    | st.text(st.sampled_from("ab"), min_size=80, max_size=120)  # past 100 columns
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4)
    ),
    max_leaves=20,
)


def _agree(table: dict[str, Any]) -> None:
    expected = tomli_w.dumps(table)
    assert dumps(table) == expected
    assert tomli.loads(dumps(table)) == tomli.loads(expected)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _VALUES, max_size=6))
@example({"packages": [{"name": "a", "wheels": [{"hashes": {"sha256": "ab"}}]}]})
@example({"a": [{"b": 1}, {"c": "x" * 95}], "t": {}, "e": [[]], "n": {"": {"x": []}}})
@example({"tool": {"lockgen": {"inputs": "x"}}, "\x9b": "\x85\x1b\u2028"})
def test_it_writes_what_tomli_w_writes(table: dict[str, Any]) -> None:
    _agree(table)
