"""TOML text for a lock's tables, byte for byte what ``tomli_w.dumps`` writes.

tomli-w escapes strings one character at a time in Python: 88 ms of a 106-package,
1621-wheel lock here, the biggest part of rendering it. This writer follows its
layout rules exactly (tables and arrays of tables, inline tables that fit in 100
columns, four-space array indents, basic strings) but escapes a string with one
``str.translate`` (most need none, which a regex search finds), measures whether a
table fits inline only until it cannot, and tests ``dict`` before the ``Mapping``
ABC: 57-100 ms to 28-46 ms here. ``tests/unit/test_toml_text.py`` holds it equal to
tomli-w (now a test dependency only) on generated tables, so locks written before
and after it are the same bytes and ``--check`` compares like with like.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

__all__ = ["dumps"]

_INDENT = "    "
_MAX_LINE = 100
#: Every character a basic string cannot hold raw (C0 but tab, and DEL), escaped as
#: tomli-w escapes it: a short escape where TOML has one, else ``\\uXXXX``.
_ESCAPES = {code: f"\\u{code:04x}" for code in (*range(0x20), 0x7F)}
_ESCAPES.update({0x08: "\\b", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})
del _ESCAPES[0x09]
_NEEDS_ESCAPE = re.compile(f"[{re.escape(''.join(map(chr, _ESCAPES)))}]")
_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def dumps(table: Mapping[str, Any]) -> str:
    """``table`` as a TOML document."""
    return "".join(_table(table, {}, name=""))


def _table(
    table: Mapping[str, Any],
    inline: dict[int, str],
    *,
    name: str,
    in_array: bool = False,
) -> list[str]:
    """One table's lines, then its sub-tables' (``[[name]]`` inside an array)."""
    literals: list[tuple[str, Any]] = []
    tables: list[tuple[str, Mapping[str, Any], bool]] = []
    for key, value in table.items():
        if _is_mapping(value):
            tables.append((key, value, False))
        elif _is_array_of_tables(value) and not all(
            _fits_inline(item, inline) for item in value
        ):
            tables.extend((key, item, True) for item in value)
        else:
            literals.append((key, value))
    chunks: list[str] = []
    if in_array or (name and (literals or not tables)):
        chunks.append(f"[[{name}]]\n" if in_array else f"[{name}]\n")
    chunks.extend(f"{_key(k)} = {_literal(v, inline, 0)}\n" for k, v in literals)
    for key, value, item in tables:
        if chunks:
            chunks.append("\n")
        part = _key(key)
        chunks.extend(
            _table(
                value, inline, name=f"{name}.{part}" if name else part, in_array=item
            )
        )
    return chunks


def _literal(value: object, inline: dict[int, str], nest: int) -> str:
    if type(value) is str:  # the common case first: no other test can match a str
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, date, datetime)):
        return str(value)
    if isinstance(value, time):
        if value.tzinfo:
            raise ValueError("TOML does not support offset times")
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        indent = _INDENT * (1 + nest)
        items = ",\n".join(indent + _literal(v, inline, nest + 1) for v in value)
        return f"[\n{items},\n{_INDENT * nest}]"
    if isinstance(value, Mapping):
        return _inline_table(value, inline)
    raise TypeError(
        f"Object of type '{type(value).__qualname__}' is not TOML serializable"
    )


def _inline_table(value: Mapping[str, Any], inline: dict[int, str]) -> str:
    """``{ k = v, ... }``, rendered once per object (the fit test renders it too)."""
    known = inline.get(id(value))
    if known is None:
        if not value:
            known = "{}"
        else:
            pairs = ", ".join(
                f"{_key(k)} = {_literal(v, inline, 0)}" for k, v in value.items()
            )
            known = f"{{ {pairs} }}"
        inline[id(value)] = known
    return known


def _string(text: str) -> str:
    """A basic string; most need no escape, and a search finds that at C speed."""
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return f'"{text.translate(_ESCAPES)}"'


@functools.lru_cache(maxsize=256)  # a lock's keys are a few dozen field names
def _key(part: str) -> str:
    if not isinstance(part, str):
        raise TypeError(
            f"Invalid mapping key '{part}' of type '{type(part).__qualname__}'."
        )
    if part and _BARE.issuperset(part):
        return part
    return _string(part)


def _is_array_of_tables(value: object) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(_is_mapping(v) for v in value)
    )


def _is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def _fits_inline(value: Mapping[str, Any], inline: dict[int, str]) -> bool:
    """Whether tomli-w writes ``value`` inline in an array: its ``{ ... }`` text,
    indented and with its comma, is one line of at most 100 columns. tomli-w renders
    the whole text to measure it (for a package: the whole package); this gives up
    as soon as the text cannot fit."""
    return _within(value, inline, _MAX_LINE - len(_INDENT) - 1) is not None


def _within(
    value: Mapping[str, Any], inline: dict[int, str], budget: int
) -> str | None:
    """:func:`_inline_table` of ``value`` if it is one line of at most ``budget``
    characters, else ``None`` (found out without rendering the rest)."""
    known = inline.get(id(value))
    if known is not None:
        return known if len(known) <= budget and "\n" not in known else None
    if not value:
        return _inline_table(value, inline)
    pieces = []
    size = 2  # "{ " and " }", less the ", " the first piece does not have
    for key, item in value.items():
        if _is_mapping(item):
            text = _within(item, inline, budget - size)
            if text is None:
                return None
        elif isinstance(item, (list, tuple)) and item:
            return None  # a non-empty array is written over several lines
        else:
            text = _literal(item, inline, 0)
        piece = f"{_key(key)} = {text}"
        size += len(piece) + 2
        if size > budget:
            return None
        pieces.append(piece)
    known = f"{{ {', '.join(pieces)} }}"
    inline[id(value)] = known
    return known
