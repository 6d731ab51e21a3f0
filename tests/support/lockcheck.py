"""One check for every lock the tests see: packaging's PEP 751 model plus lockgen's own schema.

packaging.pylock proves a lock is valid PEP 751; ``schemas/pylock.schema.json`` proves
it is what lockgen promises to write (sha256 only, no credentials, a tool.lockgen table,
...). A test that only asserts the pins it cares about still fails on a malformed lock.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli
from jsonschema import Draft202012Validator, FormatChecker
from packaging.pylock import Pylock, PylockValidationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "SCHEMA_PATH",
    "LockCheckError",
    "check_lock",
    "format_checker",
    "jsonable",
    "load_schema",
    "schema_errors",
]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "pylock.schema.json"

# RFC 3339 date-time (the JSON Schema "date-time" format), checked here so the format
# is enforced without jsonschema's optional rfc3339-validator dependency.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


class LockCheckError(AssertionError):
    """A lock that packaging or the schema rejects; the message lists every problem."""


@functools.cache
def load_schema() -> dict[str, Any]:
    """The schema, read once per test session."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _is_rfc3339(value: object) -> bool:
    """Strict RFC 3339: the right shape, and a date and time that exist."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    dt.datetime.fromisoformat(value.upper())  # raises ValueError
    return True


def format_checker() -> FormatChecker:
    """A checker for the one format the schema relies on, with no extra dependencies."""
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_rfc3339)
    return checker


def jsonable(value: Any) -> Any:
    """The TOML value with datetimes (and dates, times) as ISO 8601 strings."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def schema_errors(data: Mapping[str, Any]) -> list[str]:
    """Every schema violation of a parsed lock, as ``"$.path.to[0].key: message"`` lines."""
    validator = Draft202012Validator(load_schema(), format_checker=format_checker())
    errors = [
        f"{_where(error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(jsonable(data))
    ]
    return sorted(errors)


def _where(path: Iterable[str | int]) -> str:
    """``$.packages[0].tool.lockgen.metadata-sha256``: dotted, dashes left readable."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def check_lock(text_or_path: str | PathLike[str]) -> dict[str, Any]:
    """Parse and validate a lock; return what tomli parsed (datetimes kept as datetimes).

    A ``str`` is TOML text; a path (``pathlib.Path`` or any ``os.PathLike``) is read.
    """
    if isinstance(text_or_path, PathLike):
        text = Path(text_or_path).read_text(encoding="utf-8")
    else:
        text = text_or_path
    data = tomli.loads(text)
    try:
        Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise LockCheckError(f"packaging.pylock rejects the lock: {exc}") from exc
    problems = schema_errors(data)
    if problems:
        listing = "\n  ".join(problems)
        raise LockCheckError(f"lock does not match {SCHEMA_PATH.name}:\n  {listing}")
    return data
